"""Segmenting with spaCy's pass in worker processes gives the same segments as in this process."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from tests.conftest import REALFILES, SAMPLE_STUDY, readable_records
from toolkit import schema as s
from toolkit.models import load_segmenter
from toolkit.nlp_workers import NlpWorkers
from toolkit.schema import Transcript
from toolkit.segment import segment_sources

pytestmark = [pytest.mark.model, pytest.mark.slow]


def frames_of(folders) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turns and free-text answers of every readable file in ``folders``, as the store gives them to the stage."""
    turns, answers = [], []
    for number, record in readable_records(folders):
        if isinstance(record, Transcript):
            frame = record.to_frame()
            frame[s.TURN_ID] = range(len(turns) * 1000, len(turns) * 1000 + len(frame))
            turns.append(frame.assign(**{s.SOURCE_ID: number, s.SOURCE_UID: f"u{number}"}))
        else:
            texts = record.texts[record.texts[s.TEXT].astype(str).str.strip() != ""]
            answers.append(pd.DataFrame({
                s.TEXT_ANSWER_ID: range(len(texts)), s.SOURCE_ID: number, s.SOURCE_UID: f"u{number}",
                s.QUESTION_KEY: texts[s.QUESTION_KEY].astype(str).tolist(),
                s.QUESTION_TEXT: texts[s.QUESTION_KEY].astype(str).tolist(), s.TEXT: texts[s.TEXT].astype(str).tolist(),
            }))
    return (pd.concat(turns, ignore_index=True) if turns else pd.DataFrame(),
            pd.concat(answers, ignore_index=True) if answers else pd.DataFrame())


@pytest.mark.parametrize("corpus", ["sample", "realfiles"])
def test_segments_made_in_workers_are_identical(corpus):
    if corpus == "sample":
        folders = [SAMPLE_STUDY]
    else:
        folders = [REALFILES / sub for sub in ("txt", "vtt", "docx", "xlsx") if (REALFILES / sub).is_dir()]
        if not folders:
            pytest.skip(f"real-world files not available at {REALFILES}")
    turns, answers = frames_of(folders)
    assert not turns.empty
    nlp = load_segmenter("")
    here = segment_sources(turns, answers, nlp)
    workers = NlpWorkers(load=partial(load_segmenter, ""), count=2, min_chars=0, without_torch=True)
    there = segment_sources(turns, answers, nlp, workers=workers)
    assert len(here) > len(turns) // 2 and (here[s.LEMMAS] != "").mean() > 0.5  # not vacuous
    if corpus == "sample":
        assert not answers.empty and here[s.TEXT_ANSWER_ID].notna().any()
    pd.testing.assert_frame_equal(there, here)
