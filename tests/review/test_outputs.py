"""Validated accuracy in the outputs: the report's methods section and quote lists, the workbook's read-me sheet."""

from __future__ import annotations

import html
import re

import pandas as pd
from openpyxl import load_workbook

from toolkit import schema as s
from toolkit.analysis.validation import HIGH_CONFIDENCE
from toolkit.review.double import assign_double_coding, record_double_coding
from toolkit.review.qa import draw_qa_sample, record_qa_coding


def _report(study, tmp_path, name="report.html") -> str:
    (path,) = study.export("report", tmp_path / name)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))))


def _qa(study) -> str:
    """A QA sample coded blind: the person agrees with the machine's theme except on the first item."""
    context = study.review_context()
    sample = draw_qa_sample(context, study.segments(), target_width=0.6, seed=5, author="ana", run_id="r")
    items = study.store.table(s.QA_ITEMS).sort_values(s.POSITION)
    machine = study.segments().set_index(s.SEGMENT_KEY)
    for i, row in enumerate(items.itertuples()):
        theme = None if row.stratum == "none" else row.stratum
        if i == 0:
            theme = "leadership_commitment" if theme is None else None
        polarity = machine.loc[row.segment_key, s.POLARITY] if theme == row.stratum else s.BARRIER
        record_qa_coding(context, sample, row.segment_key, coder="ana", theme=theme,
                         polarity=polarity if isinstance(polarity, str) else s.BARRIER)
    return sample


def test_before_any_review_the_report_says_so_and_quotes_only_sure_codings(loop_study, tmp_path):
    text = _report(loop_study, tmp_path)
    assert "People reviewed 0 of 16 passages (0%)" in text
    assert "has not been measured yet" in text
    assert "No passage has been reviewed by a person yet: these are the machine's high-confidence codings" in text
    assert "The charter helped us a lot." in text  # 0.97
    assert "Our information sharing protocol is clear now." not in text  # 0.51: not quoted
    assert "No quality-assurance sample has been coded yet" in text
    assert "read them as estimates, not findings" in text


def test_the_methods_section_states_qa_accuracy_with_intervals(loop_study, tmp_path):
    sample = _qa(loop_study)
    summary = loop_study.validation()
    qa = summary.qa
    assert qa.sample_id == sample and qa.coded == qa.planned
    text = _report(loop_study, tmp_path)
    assert "Review and validation" in text
    assert f"sample {sample}" in text and "coded blind by ana" in text
    assert qa.theme_accuracy.text() in text  # e.g. "92% (95% CI 67–99%, n = 13)"
    assert f"Cohen's kappa, machine vs person, theme {qa.theme_kappa:.2f}" in text
    first = qa.themes.iloc[0]
    assert first["precision"].text() in text or not first["precision"].known
    assert "95% Wilson intervals" in text
    # the people behind the counts, interviewees apart from survey respondents
    assert "Interviewees (reviewed)" in text and "Survey respondents (machine only)" in text
    assert "Limitations" in text and "coded by one person (ana)" in text
    # reviewed passages now lead the quote lists, and only they are quoted where a list has any
    assert "Only passages reviewed by a person are quoted" in text or "reviewed by a person" in text


def test_double_coding_agreement_reaches_the_report_and_the_workbook(loop_study, tmp_path):
    context = loop_study.review_context()
    batch = assign_double_coding(context, loop_study.segments(), coders=("ana", "bo"), author="ana",
                                 keys=["a1", "b1", "c1", "d1"])
    for coder, themes in (("ana", ["agreements_protocols", "it_systems_access", "trust_relationships", None]),
                          ("bo", ["agreements_protocols", "it_systems_access", "leadership_commitment", None])):
        for key, theme in zip(["a1", "b1", "c1", "d1"], themes):
            record_double_coding(context, batch, key, coder=coder, theme=theme, polarity=s.BARRIER if theme else None)
    result = loop_study.validation().double[0]
    text = _report(loop_study, tmp_path)
    assert batch in text and f"{result.theme_kappa:.2f}" in text
    (path,) = loop_study.export("xlsx", tmp_path / "study.xlsx")
    sheet = load_workbook(path)["Read me"]
    rows = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=2) if r[0].value}
    assert f"theme kappa {result.theme_kappa:.2f}" in rows[f"Inter-coder agreement: {batch}"]
    assert rows["Machine accuracy (QA sample)"].startswith("not measured")
    assert rows["Reviewed by people"].startswith("4 of 16 passages (25%)")


def test_the_workbook_read_me_gives_accuracy_per_theme_and_polarity(loop_study, tmp_path):
    _qa(loop_study)
    qa = loop_study.validation().qa
    (path,) = loop_study.export("xlsx", tmp_path / "study.xlsx")
    rows = {r[0].value: r[1].value for r in load_workbook(path)["Read me"].iter_rows(min_row=2) if r[0].value}
    assert rows["Machine accuracy: theme (95% CI)"] == qa.theme_accuracy.text()
    names = loop_study.theme_names()
    for r in qa.themes.to_dict("records"):
        if r["precision"].known:
            assert r["precision"].text() in rows[f"Accuracy: {names[r[s.THEME]]}"]
    assert f"Accuracy: {s.BARRIER}" in rows
    assert any(k.startswith("Limitation") for k in rows)


def test_quote_pool_policy():
    from toolkit.analysis.validation import ValidationSummary
    from toolkit.export.validation import quote_pool

    rows = pd.DataFrame({s.SEGMENT_KEY: ["r", "m1", "m2"], s.STATUS: ["accepted", "machine", "machine"],
                         s.CONFIDENCE: [0.5, 0.99, 0.5]})
    reviewed, note = quote_pool(rows, ValidationSummary(reviewed_segments=1))
    assert reviewed[s.SEGMENT_KEY].tolist() == ["r"] and "2 more machine-coded passages await review" in note
    sure, note = quote_pool(rows.iloc[1:], ValidationSummary(reviewed_segments=0))
    assert sure[s.SEGMENT_KEY].tolist() == ["m1"] and f"at least {HIGH_CONFIDENCE}" in note
    none, note = quote_pool(rows.iloc[2:], ValidationSummary(reviewed_segments=3))
    assert none.empty and "so none is quoted" in note
