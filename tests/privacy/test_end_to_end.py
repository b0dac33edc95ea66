"""End to end: a small planted study through every path in and every output, and no identifier comes out.

Through every path in: transcripts in every format (docx, txt, Teams and Zoom WebVTT, SRT, ODT,
text PDF), an xlsx and a csv survey (personal and metadata columns), names in file and folder
names, the manifest's fields, and researchers' notes by ``toolkit import-codings``,
``toolkit import-qdpx`` and the write model (comments, summaries, good-practice titles and notes,
decision notes, a topic's name). Every output scanned: each column of the store and its file's
bytes, the embedding cache's keys, the topic model, every command's output (``--debug`` logs
included), every export (zip members read) and every dashboard page. The same machinery as
``benchmarks/privacy_leaks.py``, on one planted value of each kind from the development set.
"""

from __future__ import annotations

import pytest

from tests.privacy.leaks import run_set
from tests.privacy.planted import DEV, PlantedSet, load_planted

pytestmark = [pytest.mark.slow, pytest.mark.model]


def small_set() -> PlantedSet:
    """The first sentence of each kind, and every plant that enters another way (paths, manifest, survey, notes)."""
    planted = load_planted(DEV)
    seen, keep = set(), []
    for plant in planted.plants:
        if plant.channel.startswith("text:"):
            if plant.kind in seen:
                continue
            seen.add(plant.kind)
        keep.append(plant)
    # notes may name people of sentences left out: those stay as plants of their own channel
    return PlantedSet("small", keep, planted.places, planted.interviewer)


def test_no_planted_identifier_reaches_any_output(tmp_path):
    planted = small_set()
    kinds = {p.kind for p in planted.plants}
    assert len(kinds) >= 19 and len({p.channel.split(":")[0] for p in planted.plants}) == 6
    leaks, info = run_set(planted, tmp_path)
    where = {pid: sorted(found) for pid, found in leaks.found.items()}  # plant ids and outputs, never values
    assert where == {}
    scanned = set(leaks.scanned)
    for output in ("store:segments.text", "store:sources.path", "store:human_codings.note", "store:comments.text",
                   "log:run", "log:import-codings", "log:import-qdpx", "dashboard:quotes", "dashboard:themes"):
        assert output in scanned
    assert any(x.startswith("file:store/topic_model/") for x in scanned)
    assert {x.split(":")[1].rsplit(".", 1)[-1] for x in scanned if x.startswith("export:")} >= {
        "xlsx", "csv", "parquet", "qdpx", "qdc", "docx", "html"}
    assert info["dashboard_problems"] == []
    assert info["doctor"] == 0 and info["loose"] == []
