"""Memos on the project, a case, a theme, a matrix cell, a source and a passage: validated, searchable, anchored."""

from __future__ import annotations

import pytest

from tests.test_pipeline import INTERVIEW, NO_PSEUDO, make_study
from toolkit import schema as s
from toolkit.analysis.memos import memo_notes
from toolkit.api import open_study
from toolkit.errors import InputDataError


def write_every_kind(study) -> None:
    study.add_memo(scope="project", title="Reading order", text="Read the programme leads first.", author="ana")
    study.add_memo(scope="case", participant="FM01", text="Key informant on the template.", author="bo")
    study.add_memo(scope="theme", theme="trust_relationships", text="Trust grows in the clinic.", author="ana")
    study.add_memo(scope="cell", row_dimension="participant", row_value="BK01", theme="trust_relationships",
                   text="Check against BK02.", author="ana")
    study.add_memo(scope="source", path="Fernmouth/FM01_icb.vtt", text="Audio poor in the middle.", author="bo")
    study.add_memo(scope="passage", segment_key="k5", title="Same day", text="Ask how they manage it.", author="ana")


def test_every_kind_of_memo_is_kept_with_author_time_and_what_it_is_about(study):
    write_every_kind(study)
    memos = study.memos()
    assert list(memos[s.SCOPE]) == list(s.MEMO_SCOPES)
    about = dict(zip(memos[s.SCOPE], memos["about"]))
    assert about["case"] == "Case FM01"
    assert about["theme"] == "Theme: Trust and relationships between partners"
    assert about["cell"] == "Cell: participant BK01 \u00d7 Trust and relationships between partners"
    assert about["source"] == "Source: Fernmouth/FM01_icb.vtt"
    assert about["passage"].startswith("Passage: FM01, Fernmouth")
    assert memos[s.CREATED_AT].notna().all() and set(memos[s.AUTHOR]) == {"ana", "bo"}
    passage = memos[memos[s.SCOPE] == "passage"].iloc[0]
    assert passage[s.ANCHOR] == "attached" and passage[s.SEGMENT_KEY] == "k5"


def test_memos_are_searchable_by_text_scope_author_and_theme(study):
    write_every_kind(study)
    assert study.memos("CLINIC")[s.SCOPE].tolist() == ["theme"]
    assert study.memos("same day")[s.SCOPE].tolist() == ["passage"]  # the title counts
    assert study.memos("FM01")[s.SCOPE].tolist() == ["case", "source", "passage"]  # so does what it is about
    assert len(study.memos(author="BO")) == 2
    assert study.memos(theme="trust_relationships")[s.SCOPE].tolist() == ["theme", "cell"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scope": "chapter"}, "unknown memo scope 'chapter'"),
    ({"scope": "case", "participant": "ZZ99"}, "no case 'ZZ99' in the study.*BK01"),
    ({"scope": "theme", "theme": "trust"}, "theme 'trust' is not in the codebook.*trust_relationships"),
    ({"scope": "cell", "row_dimension": "colour", "row_value": "x", "theme": "trust_relationships"},
     "row_dimension is one of"),
    ({"scope": "source", "path": "Nowhere/x.txt"}, "no source 'Nowhere/x.txt'"),
    ({"scope": "passage", "segment_key": "nope"}, "no segment with key 'nope'"),
    ({"scope": "project", "text": "   "}, "A memo needs some text"),
    ({"scope": "project", "author": ""}, "needs the name of the person"),
])
def test_bad_memos_are_refused_and_nothing_is_stored(study, kwargs, message):
    memo = {"text": "A memo.", "author": "ana", **kwargs}
    with pytest.raises(InputDataError, match=message):
        study.add_memo(**memo)
    assert study.memos().empty


def test_memos_become_notes_on_what_they_are_about(study):
    write_every_kind(study)
    notes = memo_notes(study.memos()).set_index("note_id")
    targets = dict(zip(notes.index, notes["target"]))
    assert sorted(targets.values()) == ["code", "code", "project", "project", "selection", "source"]
    case = notes[notes[s.TEXT] == "Key informant on the template."].iloc[0]
    assert (case["target"], case[s.TITLE]) == ("project", "Memo on case FM01")
    assert notes[notes[s.TEXT] == "Ask how they manage it."].iloc[0][s.TITLE].startswith(
        "Memo: Same day (passage: FM01, Fernmouth, Integrated care board (IG lead)")


def test_a_passage_memo_follows_its_passage_when_the_source_is_edited(tmp_path):
    root = make_study(tmp_path / "s", NO_PSEUDO)
    study = open_study(root)
    study.run(stages=("ingest", "segment"))
    key = study.quotes(search="still do not talk")["segment_key"].iloc[0]
    study.add_memo(scope="passage", segment_key=key, text="The systems barrier, in one line.", author="ana")
    edited = INTERVIEW.replace("Interviewer: What has helped", "Interviewer: Thank you for coming. What has helped")
    (root / "Northfold" / "n1.txt").write_text(edited, encoding="utf-8")
    study.run(stages=("ingest", "segment"))
    memo = study.memos().iloc[0]
    now = study.quotes(search="still do not talk")["segment_key"].iloc[0]
    assert memo[s.ANCHOR] in ("attached", "moved") and memo[s.SEGMENT_KEY] == now
    assert memo["about"].startswith("Passage:")
