"""The matchers' pre-filter (toolkit.coding.gate): it must never drop a match the Matcher would find."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.coding.gate import PatternGate, _requirements

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"


def test_requirements_skip_optional_and_negated_tokens():
    pattern = [{"LEMMA": {"IN": ["Share", "pass"]}}, {"IS_ALPHA": True, "OP": "{0,3}"},
               {"LOWER": "not", "OP": "!"}, {"LOWER": "consent", "OP": "+"}, {"LOWER": "x", "OP": "?"}]
    assert _requirements(pattern) == [("LEMMA", frozenset({"share", "pass"})), ("LOWER", frozenset({"consent"}))]


def test_unreadable_requirements_count_as_none():
    assert _requirements([{"LOWER": {"REGEX": "^consent"}}]) == []
    assert _requirements([{"TEXT": {"NOT_IN": ["a"]}}, {"ORTH": "Caldicott"}]) == [("LOWER", frozenset({"caldicott"}))]


@pytest.mark.model
def test_gate_keeps_irregular_lemmas_norms_and_phrases():
    from toolkit.models import load_segmenter

    nlp = load_segmenter()
    gate = PatternGate(nlp, ["information governance"],
                       [[{"LEMMA": "get"}, {"LOWER": "it"}, {"LOWER": "wrong"}],
                        [{"NORM": "not"}, {"LEMMA": "trust"}],
                        [{"LEMMA": "seek"}, {"IS_ALPHA": True, "OP": "{0,2}"}, {"LOWER": "consent"}]])
    texts = ["We got it wrong last year.", "They didn't trust the council.", "She sought their consent.",
             "Information Governance said yes.", "We met on Tuesday at the school.", "It was wrong to wait."]
    assert gate.possible(texts) == [True, True, True, True, False, False]


@pytest.mark.model
def test_a_pattern_the_gate_cannot_read_lets_every_text_through():
    from toolkit.models import load_segmenter

    gate = PatternGate(load_segmenter(), [], [[{"LOWER": {"REGEX": "^consen"}}]])
    assert gate.possible(["nothing here", "or here"]) == [True, True]


@pytest.mark.model
@pytest.mark.slow
def test_gated_matching_finds_every_match_on_text_we_did_not_write():
    """Real published quotes and other voices: every text the Matcher matches passes the gate."""
    from spacy.matcher import Matcher, PhraseMatcher

    from toolkit.codebook import load_codebook
    from toolkit.models import load_segmenter

    nlp = load_segmenter()
    codebook = load_codebook(None, check_patterns=True)
    texts = [t for name in ("published_quotes.csv", "shifted_voices.csv", "gold_segments.csv")
             for t in pd.read_csv(GOLD / name)["text"].dropna().astype(str)]
    phrase, token = PhraseMatcher(nlp.vocab, attr="LOWER"), Matcher(nlp.vocab)
    for theme in codebook.themes:
        if theme.phrases:
            phrase.add(theme.id, [nlp.make_doc(p) for p in theme.phrases])
        if theme.token_patterns:
            token.add(theme.id, [list(p) for p in theme.token_patterns])
    gate = PatternGate(nlp, [p for t in codebook.themes for p in t.phrases],
                       [list(p) for t in codebook.themes for p in t.token_patterns])
    possible = gate.possible(texts)
    matched = [bool(phrase(doc) or token(doc)) for doc in nlp.pipe(texts)]
    assert sum(matched) > 50  # the check means something
    assert [i for i, (m, p) in enumerate(zip(matched, possible)) if m and not p] == []
    assert sum(possible) < len(texts)  # and the gate does filter
