"""A tiny, hand-made study snapshot for fast export tests (no models, no store)."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.codebook import load_codebook
from toolkit.export.data import ExportData

TEXT_A = "I01: What helped?\n\nBK01: The charter helped us a lot. But the systems don't talk to each other.\n\nI01: And trust?\n\nBK01: We trust [PERSON_03] now, café and all."
TEXT_B = "FM01: GPs are scared of the GMC. Our IG lead answers the same day."


def _offsets(text: str, sentence: str) -> tuple[int, int]:
    start = text.index(sentence)
    return start, start + len(sentence)


@pytest.fixture
def tiny_export() -> ExportData:
    sources = pd.DataFrame(
        [
            {"source_id": 1, "path": "Brackenford/BK01_programme_lead.docx", "place": "Brackenford", "kind": "transcript",
             "format": "docx", "participant_id": "BK01", "organisation_type": "Local authority", "sector": "Local authority",
             "role": "Programme lead", "interview_date": "2026-02-09", "text": TEXT_A, "content_hash": "a" * 64},
            {"source_id": 2, "path": "Fernmouth/FM01_icb.vtt", "place": "Fernmouth", "kind": "transcript",
             "format": "vtt", "participant_id": "FM01", "organisation_type": "Integrated care board", "sector": "Health",
             "role": "IG lead", "interview_date": "2026-02-24", "text": TEXT_B, "content_hash": "b" * 64},
            {"source_id": 3, "path": "Fernmouth/survey.xlsx", "place": "Fernmouth", "kind": "survey", "format": "xlsx",
             "participant_id": None, "organisation_type": None, "sector": None, "role": None, "interview_date": None,
             "text": None, "content_hash": "c" * 64},
        ]
    )
    seg_rows = []
    for key, source_id, text, sentence, speaker in [
        ("k1", 1, TEXT_A, "The charter helped us a lot.", "BK01"),
        ("k2", 1, TEXT_A, "But the systems don't talk to each other.", "BK01"),
        ("k3", 1, TEXT_A, "We trust [PERSON_03] now, café and all.", "BK01"),
        ("k4", 2, TEXT_B, "GPs are scared of the GMC.", "FM01"),
        ("k5", 2, TEXT_B, "Our IG lead answers the same day.", "FM01"),
    ]:
        start, end = _offsets(text, sentence)
        src = sources.set_index("source_id").loc[source_id]
        seg_rows.append(
            {"segment_key": key, "source_id": source_id, "path": src["path"], "place": src["place"],
             "organisation_type": src["organisation_type"], "role": src["role"], "participant_id": src["participant_id"],
             "speaker": speaker, "respondent_key": None, "question_text": None, "text_answer_id": None,
             "start_char": start, "end_char": end, "text": sentence}
        )
    seg_rows.append(
        {"segment_key": "k6", "source_id": 3, "path": "Fernmouth/survey.xlsx", "place": "Fernmouth",
         "organisation_type": "GP practice", "role": "GP", "participant_id": None, "speaker": None,
         "respondent_key": "Fernmouth_R001", "question_text": "What gets in the way?", "text_answer_id": 1,
         "start_char": 0, "end_char": 24, "text": "Nobody trusts the forms."}
    )
    segments = pd.DataFrame(seg_rows)
    codings = pd.DataFrame(
        [
            {"segment_key": "k1", "theme": "agreements_protocols", "polarity": "enabler", "confidence": 0.9, "rank": 1,
             "good_practice": True, "status": "accepted", "coder": "machine", "reviewed_by": "ana",
             "evidence": {"fired": ["similarity", "pattern"]}},
            {"segment_key": "k2", "theme": "it_systems_access", "polarity": "barrier", "confidence": 0.8, "rank": 1,
             "good_practice": False, "status": "machine", "coder": "machine", "reviewed_by": None, "evidence": {"fired": ["similarity"]}},
            {"segment_key": "k3", "theme": "trust_relationships", "polarity": "enabler", "confidence": 0.7, "rank": 1,
             "good_practice": False, "status": "recoded", "coder": "ana", "reviewed_by": "ana", "evidence": {"fired": ["human"]}},
            {"segment_key": "k4", "theme": "confidentiality_caution", "polarity": "barrier", "confidence": 0.95, "rank": 1,
             "good_practice": False, "status": "machine", "coder": "machine", "reviewed_by": None, "evidence": {"fired": ["pattern"]}},
            {"segment_key": "k5", "theme": "ig_capacity_advice", "polarity": "enabler", "confidence": 0.85, "rank": 1,
             "good_practice": True, "status": "machine", "coder": "machine", "reviewed_by": None, "evidence": {"fired": ["model"]}},
            {"segment_key": "k5", "theme": "trust_relationships", "polarity": "enabler", "confidence": 0.6, "rank": 2,
             "good_practice": True, "status": "machine", "coder": "machine", "reviewed_by": None, "evidence": {"fired": ["similarity"]}},
            {"segment_key": "k6", "theme": "trust_relationships", "polarity": "barrier", "confidence": 0.7, "rank": 1,
             "good_practice": False, "status": "machine", "coder": "machine", "reviewed_by": None, "evidence": {"fired": ["similarity"]}},
        ]
    )
    human = pd.DataFrame(
        [{"coding_id": 1, "segment_key": "k3", "coder": "ana", "decision": "recode", "theme": "trust_relationships",
          "polarity": "enabler", "good_practice": False, "note": "trust rebuilt", "text": "We trust [PERSON_03] now, café and all.",
          "created_at": "2026-03-01T10:00:00+00:00"}]
    )
    likert = pd.DataFrame(
        [
            {"place": p, "organisation_type": "GP practice", "role": "GP", "respondent_key": f"{p}_R{i:03d}",
             "question_text": "Partners in my area trust each other", "label": lab, "value": v}
            for p, answers in {"Brackenford": [(4, "Agree"), (5, "Strongly agree")], "Fernmouth": [(2, "Disagree"), (1, "Strongly disagree")]}.items()
            for i, (v, lab) in enumerate(answers, start=1)
        ]
    )
    answers = pd.DataFrame(
        [{"text_answer_id": 1, "source_id": 3, "path": "Fernmouth/survey.xlsx", "place": "Fernmouth",
          "respondent_key": "Fernmouth_R001", "question_text": "What gets in the way?", "text": "Nobody trusts the forms."}]
    )
    runs = pd.DataFrame([{"run_id": "r1", "stage": "code", "status": "ok", "started_at": "2026-03-01T09:00:00+00:00",
                          "summary": "{}", "config_hash": "x", "toolkit_version": "0.1.0", "finished_at": None}])
    return ExportData("Tiny study", sources, segments, codings, human, load_codebook(), likert, answers, runs)
