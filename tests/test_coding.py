"""The machine coder and the coding stage: evidence stated, human decisions kept and learnt from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import spacy
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.ingest.test_study import make_study
from toolkit import schema as s
from toolkit.codebook import load_codebook
from toolkit.coding import ThemeCoder, agreement_codings, resolve_codings
from toolkit.pipeline import code_study
from toolkit.config import load_config
from toolkit.errors import NotFittedError
from toolkit.ingest.study import ingest_study
from toolkit.store import Store


class TfidfEmbedder:
    """A fast, offline stand-in for the sentence embedder (fit on the codebook's own text)."""

    def __init__(self, codebook):
        texts = codebook.examples_frame()[s.TEXT].tolist() + [t.definition for t in codebook.themes]
        self.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(texts)

    def __call__(self, texts):
        matrix = self.vectorizer.transform(list(texts)).toarray().astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return matrix / norms


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.fixture(scope="module")
def coder(codebook, nlp):
    return ThemeCoder(codebook=codebook, embedder=TfidfEmbedder(codebook), nlp=nlp, min_confidence=0.0).fit()


def test_predict_before_fit_raises(codebook):
    with pytest.raises(NotFittedError):
        ThemeCoder(codebook=codebook, embedder=TfidfEmbedder(codebook)).predict(["x"])


def test_codings_state_their_evidence(coder):
    out = coder.predict(["Without NHS numbers we are matching families on name and date of birth and getting it wrong."])
    first = out[out[s.RANK] == 1].iloc[0]
    assert first[s.THEME] == "data_quality_matching"
    assert first[s.POLARITY] == s.BARRIER
    evidence = first[s.EVIDENCE]
    assert "similarity" in evidence["fired"] and "pattern" in evidence["fired"]
    assert "nhs numbers" in evidence["patterns"]
    assert 0 <= first[s.CONFIDENCE] <= 1


def test_unrelated_text_is_left_uncoded(coder):
    out = coder.predict(["Penguins waddle across the frozen beach."])
    assert out[s.THEME].isna().all()


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("Matching NHS numbers is no longer a barrier for us.", s.ENABLER),
        ("We couldn't have done it without the IG lead.", s.ENABLER),
        ("They just don't trust us with anything about their patients.", s.BARRIER),
        ("Our IT systems don't talk to the GP systems at all.", s.BARRIER),
    ],
)
def test_polarity_of_clear_cases(coder, text, polarity):
    out = coder.predict([text])
    assert out.iloc[0][s.POLARITY] == polarity


def test_good_practice_flags_concrete_enablers(coder):
    out = coder.predict(["We set up a quarterly data clinic where both IG leads resolve cases, and it really helped."])
    row = out[out[s.RANK] == 1].iloc[0]
    assert row[s.POLARITY] == s.ENABLER and row[s.GOOD_PRACTICE]


def coded_study(tmp_path, codebook, nlp):
    root = make_study(tmp_path)
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    embedder = TfidfEmbedder(codebook)
    report = code_study(config, store, embedder=embedder, nlp=nlp, codebook=codebook)
    return config, store, embedder, report


def test_code_study_stores_segments_and_codings_with_versions(tmp_path, codebook, nlp):
    _, store, _, report = coded_study(tmp_path, codebook, nlp)
    segments = store.table(s.SEGMENTS)
    assert int(segments[s.IS_EVIDENCE].sum()) == report.segments > 0
    assert set(segments.loc[~segments[s.IS_EVIDENCE], s.SPEAKER_ROLE]) == {s.INTERVIEWER}
    codings = store.table(s.CODINGS)
    assert not codings.empty
    assert set(codings[s.CODEBOOK_VERSION]) == {codebook.fingerprint()}
    assert set(codings[s.RUN_ID]) == {report.run_id}
    assert set(codings[s.SEGMENT_KEY]) <= set(segments.loc[segments[s.IS_EVIDENCE], s.SEGMENT_KEY])
    themed = codings[codings[s.THEME].notna()]
    assert all("fired" in json.loads(e) for e in themed[s.EVIDENCE])
    abstained = codings[codings[s.THEME].isna()]  # seen and left without a theme: never a polarity
    assert abstained[s.POLARITY].isna().all()


def test_human_decisions_survive_a_rerun_and_teach_the_coder(tmp_path, codebook, nlp):
    config, store, embedder, _ = coded_study(tmp_path, codebook, nlp)
    segments = store.table(s.SEGMENTS)
    target = segments[segments[s.TEXT] == "The systems don't talk."].iloc[0]
    store.add_human_codings(
        pd.DataFrame(
            [
                {
                    s.SEGMENT_KEY: target[s.SEGMENT_KEY],
                    s.CODER: "ana",
                    s.DECISION: "recode",
                    s.THEME: "leadership_commitment",
                    s.POLARITY: s.NEUTRAL,
                    s.TEXT: target[s.TEXT],
                    s.NOTE: "odd, but deliberate",
                }
            ]
        )
    )
    before = store.table(s.HUMAN_CODINGS)
    report = code_study(config, store, embedder=embedder, nlp=nlp, codebook=codebook)
    assert report.human_codings_used == 1
    pd.testing.assert_frame_equal(before, store.table(s.HUMAN_CODINGS))
    resolved = resolve_codings(store.table(s.CODINGS), store.table(s.HUMAN_CODINGS))
    mine = resolved[resolved[s.SEGMENT_KEY] == target[s.SEGMENT_KEY]]
    assert mine[[s.THEME, s.POLARITY, "status"]].values.tolist() == [["leadership_commitment", s.NEUTRAL, "recoded"]]


def test_reject_removes_and_latest_decision_wins(tmp_path, codebook, nlp):
    _, store, _, _ = coded_study(tmp_path, codebook, nlp)
    codings = store.table(s.CODINGS)
    key = codings.iloc[0][s.SEGMENT_KEY]
    store.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: key, s.CODER: "bo", s.DECISION: "accept", s.CREATED_AT: "2026-01-01T00:00:00"}]))
    store.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: key, s.CODER: "bo", s.DECISION: "reject", s.CREATED_AT: "2026-01-02T00:00:00"}]))
    resolved = resolve_codings(store.table(s.CODINGS), store.table(s.HUMAN_CODINGS))
    assert key not in set(resolved[s.SEGMENT_KEY])
    long = agreement_codings(store)
    assert long[(long["coder"] == "bo")][s.THEME].isna().all()
    assert len(store.table(s.HUMAN_CODINGS)) == 2  # history is kept


def test_unknown_decision_is_refused(tmp_path, codebook, nlp):
    from toolkit.errors import InputDataError

    _, store, _, _ = coded_study(tmp_path, codebook, nlp)
    with pytest.raises(InputDataError, match=r"Unknown decision 'maybe'"):
        store.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: "x", s.CODER: "bo", s.DECISION: "maybe"}]))
