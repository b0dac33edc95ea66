"""A small study for the review loop, built by hand (no language models), and an offline learner.

``loop_study`` has 16 participant segments on the tiny study's turns (two places, two interviews,
one survey answer): 12 with a machine coding whose evidence is written out, 4 left uncoded. The
learner's embedder is a character n-gram hashing vectoriser: deterministic, offline, and close
enough in meaning for near-identical sentences to be neighbours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from tests.dashboard.conftest import build_tiny_study
from toolkit import schema as s
from toolkit.store import Store

_HASHER = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 4), n_features=512, alternate_sign=False, norm="l2")


def hashing_embedder(texts) -> np.ndarray:
    """Texts -> L2-normalised vectors, no model."""
    return _HASHER.transform([str(t) for t in texts]).toarray().astype(np.float32)


def offline_learner(config, store, *, codebook=None, nlp=None):
    from toolkit.codebook import load_codebook
    from toolkit.review.learner import Learner

    codebook = codebook or load_codebook(None)
    return Learner(codebook=codebook, embedder=hashing_embedder, nlp=None, options=config.coding, seed=1)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Every review session in these tests learns with the hashing embedder and no spaCy."""
    from toolkit.review.learner import Learner

    monkeypatch.setattr(Learner, "for_study", classmethod(lambda cls, config, store, **kw: offline_learner(
        config, store, codebook=kw.get("codebook"))))


def _evidence(theme_p: float, pol_p: float, cues: list[str], model_pol: dict[str, float], patterns=()) -> dict:
    return {"fired": ["similarity", "model"] + (["pattern"] if patterns else []), "similarity": 0.5, "model": theme_p,
            "patterns": list(patterns), "polarity": {"label": max(model_pol, key=model_pol.get), "probability": pol_p,
                                                     "cues": cues, "model": model_pol}}


SURE = {"barrier": 0.9, "enabler": 0.05, "neutral": 0.05}
SURE_E = {"barrier": 0.05, "enabler": 0.9, "neutral": 0.05}
# key, where (BK01 turn / FM01 turn / survey), text, theme, polarity, confidence, evidence
SEGMENTS = [
    ("a1", ("BK01", 1), "The charter helped us a lot.", "agreements_protocols", s.ENABLER, 0.97,
     _evidence(0.8, 0.95, ["+helped"], SURE_E)),
    ("a2", ("BK01", 1), "Signing the data sharing agreement took months.", "agreements_protocols", s.BARRIER, 0.93,
     _evidence(0.7, 0.9, [], SURE)),
    ("a3", ("BK01", 1), "Our information sharing protocol is clear now.", "agreements_protocols", s.ENABLER, 0.51,
     _evidence(0.3, 0.55, ["+clear"], SURE)),
    ("b1", ("BK01", 3), "But the systems don't talk to each other.", "it_systems_access", s.BARRIER, 0.96,
     _evidence(0.8, 0.95, ["-don't talk"], SURE)),
    ("b2", ("BK01", 3), "We cannot see the health record at all.", "it_systems_access", s.BARRIER, 0.92,
     _evidence(0.7, 0.9, ["-cannot"], SURE)),
    ("b3", ("BK01", 3), "The new portal finally gives us access.", "it_systems_access", s.ENABLER, 0.49,
     _evidence(0.2, 0.4, ["+gives"], SURE, patterns=["portal"])),
    ("c1", ("BK01", 5), "We trust [PERSON_03] now, and we meet every week.", "trust_relationships", s.ENABLER, 0.95,
     _evidence(0.8, 0.95, ["+trust"], SURE_E)),
    ("c2", ("BK01", 5), "Relationships with the GPs are good.", "trust_relationships", s.ENABLER, 0.9,
     _evidence(0.6, 0.85, ["+good"], SURE_E)),
    ("c3", ("BK01", 5), "I was born in Leeds and like football.", None, None, 0.05, None),
    ("d1", ("FM01", 1), "GPs are scared of the GMC.", "confidentiality_caution", s.BARRIER, 0.95,
     _evidence(0.8, 0.95, ["-scared"], SURE)),
    ("d2", ("FM01", 1), "Nobody wants to breach confidentiality.", "confidentiality_caution", s.BARRIER, 0.6,
     _evidence(0.4, 0.5, [], SURE)),
    ("d3", ("FM01", 1), "The weather was lovely that day.", None, None, 0.02, None),
    ("e1", ("FM01", 2), "Our IG lead answers the same day.", "ig_capacity_advice", s.ENABLER, 0.94,
     _evidence(0.8, 0.95, ["+answers"], SURE_E)),
    ("e2", ("FM01", 2), "The IG team is stretched thin.", "ig_capacity_advice", s.BARRIER, 0.55,
     _evidence(0.4, 0.6, [], SURE)),
    ("e3", ("FM01", 2), "We do not have enough IG advice.", None, None, 0.45, None),
    ("f1", ("survey", 0), "Nobody trusts the forms.", None, None, 0.3, None),
]


def build_loop_study(folder):
    """The tiny study's sources and turns with the 16 segments above (12 machine-coded, 4 uncoded)."""
    build_tiny_study(folder, topics=False, coded=False)
    store = Store(f"sqlite:///{folder / 'store' / 'study.sqlite'}")
    with store.transaction() as conn:  # sources recognised by content, as the pipeline gives them
        uids = store.table(s.SOURCES, conn=conn)[[s.SOURCE_ID]].assign(**{s.SOURCE_UID: lambda f: "uid" + f[s.SOURCE_ID].astype(str)})
        store.update_rows(conn, s.SOURCES, uids, [s.SOURCE_UID])
    sources = store.table(s.SOURCES).set_index(s.PARTICIPANT_ID)
    turns = store.table(s.TURNS)
    answer = store.table(s.TEXT_ANSWERS).iloc[0]
    seg_rows, coding_rows = [], []
    for index, (key, (who, turn_index), text, theme, polarity, confidence, evidence) in enumerate(SEGMENTS):
        if who == "survey":
            row = {s.SOURCE_ID: int(answer[s.SOURCE_ID]), s.TEXT_ANSWER_ID: int(answer[s.TEXT_ANSWER_ID]),
                   s.START_CHAR: 0, s.END_CHAR: len(text)}
        else:
            source_id = int(sources.loc[who, s.SOURCE_ID])
            turn = turns[(turns[s.SOURCE_ID] == source_id) & (turns[s.TURN_INDEX] == turn_index)].iloc[0]
            row = {s.SOURCE_ID: source_id, s.TURN_ID: int(turn[s.TURN_ID]), s.START_CHAR: int(turn[s.START_CHAR]),
                   s.END_CHAR: int(turn[s.END_CHAR])}
        seg_rows.append({s.SEGMENT_KEY: key, **row, s.SEGMENT_INDEX: index, s.TEXT: text,
                         s.SPEAKER_ROLE: s.PARTICIPANT, s.IS_EVIDENCE: True})
        if theme is not None:
            coding_rows.append({s.SEGMENT_KEY: key, s.THEME: theme, s.POLARITY: polarity, s.CONFIDENCE: confidence,
                                s.RANK: 1, s.GOOD_PRACTICE: False, s.EVIDENCE: evidence})
    run_id = store.start_run("code")
    with store.transaction() as conn:
        store.replace_segments(conn, pd.DataFrame(seg_rows), run_id)
        store.replace_machine_codings(conn, pd.DataFrame(coding_rows), s.MACHINE_CODER, run_id)
    store.finish_run(run_id, "ok", {})
    store.close()
    return folder


@pytest.fixture
def loop_study(tmp_path):
    """An open :class:`toolkit.api.Study` of the hand-built study (a fresh copy per test)."""
    from toolkit.api import open_study

    return open_study(build_loop_study(tmp_path / "study"))
