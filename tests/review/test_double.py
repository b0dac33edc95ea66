"""Double coding: a batch for two people, their agreement (kappa, alpha), disagreements and their resolution."""

from __future__ import annotations

import pytest

from toolkit import schema as s
from toolkit.agreement import cohen_kappa
from toolkit.analysis.validation import double_coding_results
from toolkit.errors import InputDataError
from toolkit.review.double import assign_double_coding, record_double_coding, resolve_disagreement

KEYS = ["a1", "b1", "c1", "d1", "e1", "f1"]
ANA = ["agreements_protocols", "it_systems_access", "trust_relationships", "confidentiality_caution", None, None]
BO = ["agreements_protocols", "it_systems_access", "leadership_commitment", "confidentiality_caution", None,
      "trust_relationships"]


def _code(study, batch: str) -> None:
    context = study.review_context()
    for coder, themes in (("ana", ANA), ("bo", BO)):
        for key, theme in zip(KEYS, themes):
            polarity = None if theme is None else (s.ENABLER if key == "a1" and coder == "bo" else s.BARRIER)
            record_double_coding(context, batch, key, coder=coder, theme=theme, polarity=polarity)


def test_a_batch_is_assigned_to_two_coders_anchored(loop_study):
    batch = assign_double_coding(loop_study.review_context(), loop_study.segments(), coders=("ana", "bo"), size=5,
                                 seed=2, author="ana")
    rows = loop_study.store.table(s.ASSIGNMENTS)
    assert set(rows[s.BATCH_ID]) == {batch} and len(rows) == 10
    assert all(sorted(coders) == ["ana", "bo"] for _, coders in rows.groupby(s.SEGMENT_KEY)[s.CODER])
    assert rows[s.SOURCE_UID].notna().all() and rows[s.ANCHOR_TEXT].notna().all()
    # waiting segments stay out of the review queue until both have coded them
    queue = loop_study.review_session().queue(k=0)
    assert not set(rows[s.SEGMENT_KEY]) & set(queue[s.SEGMENT_KEY])


def test_bad_batches_are_refused(loop_study):
    context = loop_study.review_context()
    with pytest.raises(InputDataError, match="two different coders"):
        assign_double_coding(context, loop_study.segments(), coders=("ana", "ana"), author="ana")
    with pytest.raises(InputDataError, match="unknown segment key"):
        assign_double_coding(context, loop_study.segments(), coders=("ana", "bo"), author="ana", keys=["zz"])
    batch = assign_double_coding(context, loop_study.segments(), coders=("ana", "bo"), author="ana", keys=["a1"])
    with pytest.raises(InputDataError, match="not assigned to cy"):
        record_double_coding(context, batch, "a1", coder="cy", theme=None)
    with pytest.raises(InputDataError, match="already assigned"):
        assign_double_coding(context, loop_study.segments(), coders=("ana", "bo"), author="ana", keys=["a1"])


def test_agreement_disagreements_and_resolution(loop_study):
    context = loop_study.review_context()
    batch = assign_double_coding(context, loop_study.segments(), coders=("ana", "bo"), author="ana", keys=KEYS)
    _code(loop_study, batch)
    saved = loop_study.store.table(s.HUMAN_CODINGS)
    assert set(saved[s.CONTEXT]) == {f"double:{batch}"} and saved[s.BLIND].all()
    (result,) = double_coding_results(loop_study.store.table(s.ASSIGNMENTS), saved)
    assert (result.coders, result.assigned, result.coded_by_both) == (["ana", "bo"], 6, 6)
    labels = lambda themes: [t or "(uncoded)" for t in themes]
    assert result.theme_kappa == pytest.approx(cohen_kappa(labels(ANA), labels(BO)))
    assert 0 < result.theme_kappa < 1 and result.theme_alpha == result.theme_alpha
    # c1 and f1 differ in theme, a1 in polarity
    assert sorted(result.disagreements[s.SEGMENT_KEY]) == ["a1", "c1", "f1"]
    assert result.resolved == 0

    resolve_disagreement(context, batch, "c1", coder="cy", theme="trust_relationships", polarity=s.BARRIER)
    (result,) = double_coding_results(loop_study.store.table(s.ASSIGNMENTS), loop_study.store.table(s.HUMAN_CODINGS))
    assert result.resolved == 1
    settled = result.disagreements.set_index(s.SEGMENT_KEY).loc["c1"]
    assert (settled["resolved_theme"], settled["resolved_by"]) == ("trust_relationships", "cy")
    # the resolution is the coding every output uses
    segment = loop_study.segment("c1")
    assert (segment[s.THEME], segment["reviewed_by"]) == ("trust_relationships", "cy")
    summary = loop_study.validation()
    assert summary.double[0].resolved == 1
    with pytest.raises(InputDataError, match="not in double-coding batch"):
        resolve_disagreement(context, batch, "b2", coder="cy", theme=None)
