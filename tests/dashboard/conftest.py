"""A tiny study built by hand in a temporary folder (no models): two places, two interviews, one survey.

``build_tiny_study(folder, topics=True)`` writes ``study.toml`` and fills ``store/study.sqlite``
through the store's own methods, so the API and the dashboard read it as they would a real study.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import new_store_url, store_setting
from toolkit import schema as s
from toolkit.store import Store

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
PAGES = ("overview", "themes", "remedies", "quotes", "topics", "surveys", "review", "good_practice", "memos", "export")

STUDY_TOML = """[study]
name = "Tiny study"
places = ["Brackenford", "Fernmouth"]
"""

BK01 = [
    ("I01", s.INTERVIEWER, "What helped?", 10.0),
    ("BK01", s.PARTICIPANT, "The charter helped us a lot.", 15.0),
    ("I01", s.INTERVIEWER, "And the systems?", 40.0),
    ("BK01", s.PARTICIPANT, "But the systems don't talk to each other.", 45.0),
    ("I01", s.INTERVIEWER, "And trust?", 80.0),
    ("BK01", s.PARTICIPANT, "We trust [PERSON_03] now, and we meet every week.", 754.0),
]
FM01 = [
    ("I02", s.INTERVIEWER, "What gets in the way?", None),
    ("FM01", s.PARTICIPANT, "GPs are scared of the GMC.", None),
    ("FM01", s.PARTICIPANT, "Our IG lead answers the same day.", None),
]
# segment key, source (BK01/FM01), turn index, theme, polarity, confidence, good practice
SEGMENTS = [
    ("k1", "BK01", 1, "agreements_protocols", s.ENABLER, 0.9, True),
    ("k2", "BK01", 3, "it_systems_access", s.BARRIER, 0.8, False),
    ("k3", "BK01", 5, "trust_relationships", s.ENABLER, 0.7, False),
    ("k4", "FM01", 1, "confidentiality_caution", s.BARRIER, 0.95, False),
    ("k5", "FM01", 2, "ig_capacity_advice", s.ENABLER, 0.85, True),
]
SURVEY_TEXT = "Nobody trusts the forms."


def _transcript(turns) -> tuple[str, pd.DataFrame]:
    text, rows, at = "", [], 0
    for index, (speaker, role, said, start) in enumerate(turns):
        line = f"{speaker}: {said}"
        rows.append({s.TURN_INDEX: index, s.SPEAKER: speaker, s.SPEAKER_ROLE: role, s.START_CHAR: at + len(speaker) + 2,
                     s.END_CHAR: at + len(line), s.START_TIME: start, s.END_TIME: None, s.TEXT: said})
        text += line + "\n"
        at = len(text)
    return text, pd.DataFrame(rows)


def build_tiny_study(folder: Path, *, topics: bool = True, coded: bool = True, url: str | None = None,
                     extra_candidates: int = 0, extra_barriers: tuple[str, ...] = ()) -> Path:
    """Write a tiny study into ``folder`` (created) and return it (``url``: its store on a server).

    ``extra_candidates`` adds that many more candidate new themes (topics 2, 3, ..., no segments of
    their own); ``extra_barriers`` codes FM01's barrier passage (k4) with these themes too, as barriers
    (ranks 2, 3, ...), so Fernmouth reports that many more barriers.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(STUDY_TOML + store_setting(url), encoding="utf-8")
    store = Store(url or f"sqlite:///{folder / 'store' / 'study.sqlite'}")
    meta = {
        "BK01": {s.PATH: "Brackenford/BK01_programme_lead.txt", s.PLACE: "Brackenford",
                 s.ORGANISATION_TYPE: "Local authority", s.ROLE: "Programme lead", s.SECTOR: "Local authority"},
        "FM01": {s.PATH: "Fernmouth/FM01_icb.vtt", s.PLACE: "Fernmouth", s.ORGANISATION_TYPE: "Integrated care board",
                 s.ROLE: "IG lead", s.SECTOR: "Health"},
    }
    ids: dict[str, int] = {}
    with store.transaction() as conn:
        for pid, turns in (("BK01", BK01), ("FM01", FM01)):
            text, frame = _transcript(turns)
            ids[pid] = store.insert_source(conn, {**meta[pid], s.KIND: "transcript", s.FORMAT: "txt",
                                                  s.CONTENT_HASH: pid * 8, s.TEXT: text, s.PARTICIPANT_ID: pid})
            store.insert_turns(conn, ids[pid], frame)
        survey_id = store.insert_source(conn, {s.PATH: "Fernmouth/survey.xlsx", s.PLACE: "Fernmouth", s.KIND: "survey",
                                               s.FORMAT: "xlsx", s.CONTENT_HASH: "survey"})
        questions = pd.DataFrame([
            {s.QUESTION_KEY: "q1", s.POSITION: 1, s.QUESTION_TEXT: "Partners in my area trust each other",
             s.KIND: s.Q_LIKERT},
            {s.QUESTION_KEY: "q2", s.POSITION: 2, s.QUESTION_TEXT: "What gets in the way?", s.KIND: s.Q_FREE_TEXT},
        ])
        respondents = pd.DataFrame([
            {s.RESPONDENT_KEY: f"Fernmouth_R00{i}", s.ROW_NUMBER: i + 1, s.PLACE: "Fernmouth",
             s.ORGANISATION_TYPE: "GP practice", s.ROLE: "GP"} for i in (1, 2, 3)
        ])
        likert = pd.DataFrame([
            {s.RESPONDENT_KEY: "Fernmouth_R001", s.QUESTION_KEY: "q1", s.LABEL: "Agree", s.VALUE: 4},
            {s.RESPONDENT_KEY: "Fernmouth_R002", s.QUESTION_KEY: "q1", s.LABEL: "Strongly disagree", s.VALUE: 1},
            {s.RESPONDENT_KEY: "Fernmouth_R003", s.QUESTION_KEY: "q1", s.LABEL: "Neither agree nor disagree",
             s.VALUE: 3},
        ])
        texts = pd.DataFrame([{s.RESPONDENT_KEY: "Fernmouth_R001", s.QUESTION_KEY: "q2", s.TEXT: SURVEY_TEXT}])
        store.insert_survey(conn, survey_id, questions, respondents, likert, texts)
    if not coded:
        return folder
    turns = store.table(s.TURNS)
    answer_id = int(store.table(s.TEXT_ANSWERS)[s.TEXT_ANSWER_ID].iloc[0])
    seg_rows, coding_rows = [], []
    for index, (key, pid, turn_index, theme, polarity, confidence, good) in enumerate(SEGMENTS):
        turn = turns[(turns[s.SOURCE_ID] == ids[pid]) & (turns[s.TURN_INDEX] == turn_index)].iloc[0]
        seg_rows.append({s.SEGMENT_KEY: key, s.SOURCE_ID: ids[pid], s.TURN_ID: int(turn[s.TURN_ID]),
                         s.SEGMENT_INDEX: index, s.START_CHAR: int(turn[s.START_CHAR]), s.END_CHAR: int(turn[s.END_CHAR]),
                         s.TEXT: turn[s.TEXT], s.SPEAKER_ROLE: s.PARTICIPANT, s.IS_EVIDENCE: True})
        coding_rows.append({s.SEGMENT_KEY: key, s.THEME: theme, s.POLARITY: polarity, s.CONFIDENCE: confidence,
                            s.RANK: 1, s.GOOD_PRACTICE: good, s.EVIDENCE: {"fired": ["test"]}})
    # an interviewer segment (not evidence) and an uncoded participant segment
    first = turns[(turns[s.SOURCE_ID] == ids["BK01"]) & (turns[s.TURN_INDEX] == 0)].iloc[0]
    seg_rows.append({s.SEGMENT_KEY: "q0", s.SOURCE_ID: ids["BK01"], s.TURN_ID: int(first[s.TURN_ID]), s.SEGMENT_INDEX: 9,
                     s.START_CHAR: int(first[s.START_CHAR]), s.END_CHAR: int(first[s.END_CHAR]), s.TEXT: first[s.TEXT],
                     s.SPEAKER_ROLE: s.INTERVIEWER, s.IS_EVIDENCE: False})
    seg_rows.append({s.SEGMENT_KEY: "k6", s.SOURCE_ID: survey_id, s.TEXT_ANSWER_ID: answer_id, s.SEGMENT_INDEX: 0,
                     s.START_CHAR: 0, s.END_CHAR: len(SURVEY_TEXT), s.TEXT: SURVEY_TEXT, s.SPEAKER_ROLE: s.PARTICIPANT,
                     s.IS_EVIDENCE: True})
    coding_rows.append({s.SEGMENT_KEY: "k5", s.THEME: "trust_relationships", s.POLARITY: s.ENABLER, s.CONFIDENCE: 0.6,
                        s.RANK: 2, s.GOOD_PRACTICE: True, s.EVIDENCE: {"fired": ["test"]}})
    coding_rows.append({s.SEGMENT_KEY: "k6", s.THEME: "trust_relationships", s.POLARITY: s.BARRIER, s.CONFIDENCE: 0.7,
                        s.RANK: 1, s.GOOD_PRACTICE: False, s.EVIDENCE: {"fired": ["test"]}})
    for rank, theme in enumerate(extra_barriers, start=2):
        coding_rows.append({s.SEGMENT_KEY: "k4", s.THEME: theme, s.POLARITY: s.BARRIER, s.CONFIDENCE: 0.5,
                            s.RANK: rank, s.GOOD_PRACTICE: False, s.EVIDENCE: {"fired": ["test"]}})
    run_id = store.start_run("code")
    with store.transaction() as conn:
        store.replace_segments(conn, pd.DataFrame(seg_rows), run_id)
        store.replace_machine_codings(conn, pd.DataFrame(coding_rows), s.MACHINE_CODER, run_id)
        if topics:
            topic_rows = pd.DataFrame([
                {s.TOPIC: -1, s.TOPIC_LABEL: "Outliers", s.AUTO_LABEL: "Outliers", s.KEYWORDS: [], s.SIZE: 1,
                 s.REPRESENTATIVE: [], s.CANDIDATE_NEW: False, s.MAP_X: None, s.MAP_Y: None},
                {s.TOPIC: 0, s.TOPIC_LABEL: "Trust and meetings", s.AUTO_LABEL: "trust_meet", s.KEYWORDS: ["trust", "meet"],
                 s.SIZE: 3, s.REPRESENTATIVE: ["k3", "k6"], s.SEEDED_THEME: "trust_relationships",
                 s.NEAREST_THEME: "trust_relationships", s.THEME_SIMILARITY: 0.81, s.CODED_THEME: "trust_relationships",
                 s.CODED_SHARE: 0.66, s.CANDIDATE_NEW: False, s.MAP_X: 0.1, s.MAP_Y: 0.2},
                {s.TOPIC: 1, s.TOPIC_LABEL: "Systems and charters", s.AUTO_LABEL: "systems_charter",
                 s.KEYWORDS: ["systems", "charter"], s.SIZE: 2, s.REPRESENTATIVE: ["k2"], s.NEAREST_THEME: "it_systems_access",
                 s.THEME_SIMILARITY: 0.32, s.CANDIDATE_NEW: True, s.MAP_X: 0.9, s.MAP_Y: 0.5},
            ])
            extra = pd.DataFrame([
                {s.TOPIC: topic, s.TOPIC_LABEL: f"Candidate {topic}", s.AUTO_LABEL: f"candidate_{topic}",
                 s.KEYWORDS: [f"word{topic}", "forms"], s.SIZE: 1, s.REPRESENTATIVE: ["k1"],
                 s.NEAREST_THEME: "agreements_protocols", s.THEME_SIMILARITY: 0.2, s.CANDIDATE_NEW: True,
                 s.MAP_X: 0.5, s.MAP_Y: 0.1 * topic} for topic in range(2, 2 + extra_candidates)
            ])
            topic_rows = pd.concat([topic_rows, extra], ignore_index=True) if extra_candidates else topic_rows
            assignments = pd.DataFrame([
                {s.SEGMENT_KEY: k, s.TOPIC: t, s.PROBABILITY: 0.9, s.ASSIGNED_BY: "cluster"}
                for k, t in (("k3", 0), ("k5", 0), ("k6", 0), ("k1", 1), ("k2", 1), ("k4", -1))
            ])
            store.replace_topics(conn, topic_rows, assignments, run_id)
    store.finish_run(run_id, "ok", {})
    store.close()
    return folder


@pytest.fixture(autouse=True)
def _offline_review_learner(monkeypatch):
    """The Review page's learning queue without language models (hashing vectors, no spaCy): see tests/review."""
    from tests.review.conftest import offline_learner
    from toolkit.review.learner import Learner

    monkeypatch.setattr(Learner, "for_study", classmethod(lambda cls, config, store, **kw: offline_learner(
        config, store, codebook=kw.get("codebook"))))


@pytest.fixture(autouse=True)
def _no_reading_ahead(monkeypatch):
    """Pages run by AppTest read nothing in the background: a test's store is its own until it ends (the reading
    ahead has tests of its own, and the browser tests' servers do it)."""
    monkeypatch.syspath_prepend(str(APP.parent))
    import background

    monkeypatch.setattr(background, "READ_AHEAD", ())


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, request) -> Path:
    """A coded tiny study with topics (built once per module; tests that write use ``fresh_study``).

    On SQLite, or on PostgreSQL with ``@pytest.mark.parametrize("tiny_study", BOTH_STORES, indirect=True)``.
    """
    return build_tiny_study(tmp_path_factory.mktemp("tiny") / "study", url=new_store_url(request))


@pytest.fixture
def fresh_study(tmp_path, request) -> Path:
    """A coded tiny study with topics that a test may write to (on both stores as ``tiny_study``)."""
    return build_tiny_study(tmp_path / "study", url=new_store_url(request))


@pytest.fixture
def empty_study(tmp_path) -> Path:
    """A study folder whose store is empty (nothing ingested)."""
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "study.toml").write_text(STUDY_TOML, encoding="utf-8")
    return folder


@pytest.fixture
def as_user(monkeypatch):
    """Sign in as someone, through access.py's test hook (a User in ``st.session_state["toolkit_user"]``).

    ``as_user("bo", "reviewer")`` returns the user; pass it to ``open_page``. Login is switched off.
    """
    from toolkit.auth import User

    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)

    def sign_in(name: str = "ana", role: str = "researcher") -> User:
        return User(name, role)

    return sign_in
