"""The coder's error patterns (issue 13), pinned with sentences written for these tests.

Fast: a small codebook, ``spacy.blank``, and a hashing bag-of-words embedder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import spacy
from sklearn.feature_extraction.text import HashingVectorizer

from toolkit import schema as s
from toolkit.codebook import codebook_from_dict
from toolkit.coding import ThemeCoder, code_segments, code_texts, codebook_changes, recode_affected

MINI = {
    "name": "Mini",
    "themes": [
        {
            "id": "colocation",
            "name": "Working in the same place",
            "definition": "Teams sitting together in one office, building or base; co-located staff who see each other.",
            "examples": {
                "barrier": ["We sit in different buildings so we never see each other.",
                            "The health visitors are based miles away from our office."],
                "enabler": ["We all sit together in the same office now.",
                            "Being in one building means we just walk over and ask."],
            },
            "patterns": {"phrases": ["hub", "same office"]},
        },
        {
            "id": "data_linking",
            "name": "Linking records",
            "definition": "Matching and linking records in the data warehouse: GP records linked with council records overnight.",
            "examples": {
                "barrier": ["The records don't match so families get missed.",
                            "The warehouse load failed and the records were a month old."],
                "enabler": ["Records are matched every night automatically.",
                            "Linking GP records and council records found families we had missed."],
            },
        },
        {
            "id": "consent",
            "name": "Consent and legal basis",
            "definition": "Asking families for consent or permission; consent forms; the lawful basis for sharing.",
            "exclude": "Fear of the regulator with no legal question asked: caution.",
            "examples": {
                "barrier": ["Practices insist on a signed consent form for every request.",
                            "Nobody knows the lawful basis so the request stalls."],
                "enabler": ["Once the lawful basis was agreed the consent forms stopped.",
                            "Families give consent straight away when we explain why."],
            },
        },
        {
            "id": "caution",
            "name": "Caution and fear",
            "definition": "Staff afraid of the regulator, worried about getting into trouble, reluctant to share.",
            "examples": {
                "barrier": ["Staff are frightened of the regulator and hold back.",
                            "People worry they will get into trouble for sharing."],
                "enabler": ["Nobody is afraid of the regulator any more.",
                            "Staff feel safe to share now."],
            },
        },
    ],
}


class HashEmbedder:
    """Deterministic bag-of-words vectors: no model, any text."""

    def __init__(self):
        self.vectorizer = HashingVectorizer(n_features=512, alternate_sign=False, stop_words="english", norm="l2")

    def __call__(self, texts):
        return self.vectorizer.transform(list(texts)).toarray().astype(np.float32)


@pytest.fixture(scope="module")
def book():
    return codebook_from_dict(MINI)


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def coder(book, nlp):
    return ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp, min_confidence=0.0, prompt_weight=3.0).fit()


def primary(out: pd.DataFrame) -> dict:
    return out[out[s.RANK] == 1].iloc[0].to_dict()


# --------------------------------------------------------------------------- not every unit is evidence
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Thanks so much for having me today.", "pleasantry"),
        ("Can you hear me now?", "logistics"),
        ("I'm the health visiting lead for the north of the county, so I manage the team.", "introduction"),
        ("Yeah, definitely.", "backchannel"),
    ],
)
def test_greetings_logistics_and_introductions_are_not_coded(coder, text, reason):
    row = primary(coder.predict([text]))
    assert row[s.THEME] is None and row[s.POLARITY] is None
    assert row[s.EVIDENCE]["uncoded"] == reason


def test_an_introduction_that_names_a_barrier_is_coded(coder):
    row = primary(coder.predict(["I'm the IG lead and the records don't match, which is a nightmare."]))
    assert row[s.THEME] is not None


# --------------------------------------------------------------------------- abstention, no polarity without a theme
def test_off_topic_units_are_left_uncoded_not_given_a_catch_all_theme(book, nlp):
    coder = ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp).fit()
    texts = ["I had pasta for lunch on Tuesday.", "The weather was lovely by the river.",
             "My daughter starts school in September.", "The football season starts again next weekend."]
    out = coder.predict(texts)
    assert out[s.THEME].isna().all(), out[[s.THEME, s.CONFIDENCE]]
    assert out[s.POLARITY].isna().all()
    assert all("uncoded" in e for e in out[s.EVIDENCE])


def test_code_texts_gives_no_polarity_to_a_row_without_a_theme(book, nlp):
    coder = ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp).fit()
    coded = code_texts(["I had pasta for lunch on Tuesday.", "Staff are frightened of the regulator and hold back."], coder)
    assert coded.loc[0, s.THEME] is None and coded.loc[0, s.POLARITY] is None
    assert coded.loc[1, s.THEME] == "caution" and coded.loc[1, s.POLARITY] in s.POLARITIES


def test_confidence_below_the_threshold_abstains(book, nlp):
    strict = ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp, min_confidence=0.999).fit()
    row = primary(strict.predict(["Staff are frightened of the regulator and hold back."]))
    assert row[s.THEME] is None and row[s.EVIDENCE]["uncoded"].startswith("abstained")


# --------------------------------------------------------------------------- context
def test_the_question_asked_moves_polarity(coder):
    text = "The shared office with the health visitors."
    barrier = primary(code_frame(coder, text, prompt="What gets in the way of sharing?"))
    enabler = primary(code_frame(coder, text, prompt="What has helped you share information?"))
    assert barrier[s.THEME] == enabler[s.THEME] == "colocation"
    assert barrier[s.POLARITY] == s.BARRIER and enabler[s.POLARITY] == s.ENABLER


def code_frame(coder, text, prompt="", previous=""):
    return coder.predict(pd.DataFrame({s.TEXT: [text], "prompt": [prompt], "previous": [previous]}))


def test_a_follow_on_sentence_is_coded_with_the_claim_it_completes(coder):
    row = primary(code_frame(coder, "That makes it so easy.", previous="We all sit together in the same office now."))
    assert row[s.THEME] == "colocation" and row[s.POLARITY] == s.ENABLER


def test_a_sentence_that_is_not_a_follow_on_ignores_the_previous_one(coder):
    alone = primary(code_frame(coder, "Staff are frightened of the regulator and hold back."))
    after = primary(code_frame(coder, "Staff are frightened of the regulator and hold back.",
                               previous="We all sit together in the same office now."))
    assert alone[s.THEME] == after[s.THEME] == "caution"


def test_one_word_two_meanings_is_resolved_by_context(coder):
    """'hub' is a colocation phrase; a hub that links records is about linking, not about sitting together."""
    office = primary(coder.predict(["We all sit together in the hub on Tuesdays."]))
    warehouse = primary(coder.predict(["The hub links GP records with council records every night."]))
    assert office[s.THEME] == "colocation" and "pattern" in office[s.EVIDENCE]["fired"]
    assert warehouse[s.THEME] == "data_linking"


def test_several_codes_on_one_passage(book, nlp):
    coder = ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp, min_confidence=0.0, second_ratio=0.3).fit()
    out = coder.predict(["We sit together in one office and the records are matched every night."])
    assert set(out[s.THEME]) == {"colocation", "data_linking"}
    assert sorted(out[s.RANK]) == [1, 2]


# --------------------------------------------------------------------------- the codebook's own words
def test_exclusion_notes_move_a_unit_to_the_theme_they_name(book, nlp):
    """consent excludes 'Fear of the regulator with no legal question asked: caution'."""
    note = "Fear of the regulator with no legal question asked"
    vectors = {
        # the consent definition, the caution definition, the note, and a unit near the note
        "consent": np.array([1, 0, 0, 0], np.float32),
        "caution": np.array([0, 1, 0, 0], np.float32),
        note: np.array([0.43, 0, 0.9, 0], np.float32),
        "unit": np.array([0.6, 0, 0.8, 0], np.float32),
    }

    def embed(texts):
        out = []
        for t in texts:
            if t.startswith(book.theme("consent").name):
                v = vectors["consent"]
            elif t.startswith(book.theme("caution").name):
                v = vectors["caution"]
            elif t == note:
                v = vectors[note]
            elif t.startswith("UNIT"):
                v = vectors["unit"]
            else:
                v = np.array([0, 0, 0, 1], np.float32)
            out.append(v / np.linalg.norm(v))
        return np.vstack(out)

    small = codebook_from_dict({"name": "x", "themes": [
        {k: v for k, v in t.items() if k in ("id", "name", "definition", "exclude")}
        for t in MINI["themes"] if t["id"] in ("consent", "caution")]})
    coder = ThemeCoder(codebook=small, embedder=embed, nlp=None, min_confidence=0.0, similarity_weight=0.0).fit()
    row = primary(coder.predict(["UNIT: they hold back in case the regulator comes down on them"]))
    assert row[s.THEME] == "caution" and "exclusion" in row[s.EVIDENCE]["fired"]


# --------------------------------------------------------------------------- any codebook
OWN = {
    "name": "A team's own",
    "polarity": False,
    "themes": [
        {"id": "access", "name": "Access to care", "definition": "Getting an appointment, travelling to the surgery."},
        {"id": "waiting", "name": "Waiting times", "definition": "How long people wait to be seen.", "parent": "access"},
        {"id": "cost", "name": "Cost of care", "definition": "Money people spend on care."},
    ],
}


def test_a_codebook_of_names_and_definitions_codes_and_learns_from_review(nlp):
    book = codebook_from_dict(OWN)
    embedder = HashEmbedder()
    before = ThemeCoder(codebook=book, embedder=embedder, nlp=nlp, min_confidence=0.0).fit()
    row = primary(before.predict(["We wait weeks to be seen by anyone."]))
    assert row[s.THEME] == "waiting" and row[s.POLARITY] is None  # polarity switched off
    unseen = "Prescription charges add up for pensioners."
    reviewed = pd.DataFrame({
        s.TEXT: ["Prescription charges are too much for us.", "The charges for prescriptions keep rising.",
                 "Pensioners struggle with prescription charges.", "I had pasta for lunch."],
        s.THEME: ["cost", "cost", "cost", None],
        s.POLARITY: [None] * 4,
    })
    after = ThemeCoder(codebook=book, embedder=embedder, nlp=nlp, min_confidence=0.0).fit(reviewed)
    assert after.n_training_["human"] == 4
    assert primary(after.predict([unseen]))[s.THEME] == "cost"


def test_a_codebook_edit_recodes_only_what_it_affects(book, nlp):
    embedder = HashEmbedder()
    old = ThemeCoder(codebook=book, embedder=embedder, nlp=nlp, min_confidence=0.0).fit()
    segments = pd.DataFrame({
        s.SEGMENT_KEY: ["a", "b", "c"],
        s.TEXT: ["We all sit together in the same office now.", "Records are matched every night automatically.",
                 "Staff are frightened of the regulator and hold back."],
    })
    before = code_segments(segments, coder=old)
    edited = book.to_dict()
    edited["themes"][3]["definition"] = "Fear of sanctions: staff afraid the regulator will fine them."
    new_book = codebook_from_dict(edited)
    assert codebook_changes(book, new_book) == {"caution"}
    new = ThemeCoder(codebook=new_book, embedder=embedder, nlp=nlp, min_confidence=0.0).fit()
    after, recoded = recode_affected(segments, before, coder=new, old_codebook=book)
    assert "c" in recoded and not {"a", "b"} & recoded
    kept = after[after[s.SEGMENT_KEY].isin(["a", "b"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before[before[s.SEGMENT_KEY].isin(["a", "b"])].reset_index(drop=True))


@pytest.mark.parametrize(
    "text",
    ["People should be given a choice about who sees their record.",
     "I'd rather opt in than have it shared by default.",
     "You should be able to set your preference once and be done."],
)
def test_consent_in_patients_words_is_a_consent_pattern(nlp, text):
    from toolkit.codebook import load_codebook

    book = load_codebook()
    coder = ThemeCoder(codebook=book, embedder=HashEmbedder(), nlp=nlp)
    coder.matchers_ = coder._build_matchers()
    assert "legal_basis_consent" in coder._pattern_hits([text])[0]
