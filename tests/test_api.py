"""The public API on a tiny hand-built study: resolved codings, traceable numbers, decisions, empty stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BOTH_STORES, new_store_url, store_setting
from tests.dashboard.conftest import SURVEY_TEXT, build_tiny_study
from toolkit import api
from toolkit import schema as s
from toolkit.errors import ConfigError, InputDataError, ToolkitError


@pytest.fixture(scope="module", params=BOTH_STORES)
def study(tmp_path_factory, request) -> api.Study:
    return api.open_study(build_tiny_study(tmp_path_factory.mktemp("api") / "study", url=new_store_url(request)))


@pytest.fixture
def fresh(tmp_path, request) -> api.Study:
    return api.open_study(build_tiny_study(tmp_path / "study", url=new_store_url(request)))


@pytest.fixture
def empty(tmp_path, request) -> api.Study:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "study.toml").write_text(store_setting(new_store_url(request)), encoding="utf-8")
    return api.open_study(folder)


def test_segments_hold_the_primary_coding_and_leave_out_interviewer_turns(study):
    seg = study.segments().set_index(s.SEGMENT_KEY)
    assert list(seg.index) == ["k1", "k2", "k3", "k4", "k5", "k6"]  # q0 is the interviewer's, not evidence
    assert seg.at["k5", s.THEME] == "ig_capacity_advice"  # rank 1 wins over the rank-2 coding
    assert seg.at["k5", api.THEME_NAME] != "ig_capacity_advice"  # a readable name from the codebook
    assert set(seg[s.STATUS]) == {"machine"} and set(seg[api.REVIEW_STATUS]) == {api.UNREVIEWED}
    assert seg.at["k3", s.TOPIC] == 0 and seg.at["k3", s.TOPIC_LABEL] == "Trust and meetings"
    assert seg.at["k6", api.PARTICIPANT] == "Fernmouth_R001"


def test_references_say_who_where_and_when(study):
    assert study.reference("k3") == "BK01, Brackenford, Local authority (Programme lead), interview 12:34"
    assert study.reference("k6").startswith("survey respondent Fernmouth_R001, Fernmouth, GP practice (GP), survey")
    assert "characters" in study.reference("k4")  # no timestamps in that transcript: character offsets


def test_context_marks_the_segments_turn(study):
    ctx = study.context("k2", window=1)
    assert ctx[s.TEXT].tolist() == ["And the systems?", "But the systems don't talk to each other.", "And trust?"]
    assert ctx[api.IS_SEGMENT].tolist() == [False, True, False]
    survey = study.context("k6")
    assert survey[s.TEXT].tolist() == [SURVEY_TEXT] and survey[api.IS_SEGMENT].all()
    with pytest.raises(InputDataError, match="no evidence segment with key 'nope'"):
        study.context("nope")


@pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
def test_decisions_resolve_latest_first_and_across_coders(fresh):
    fresh.record_decision("k2", decision="reject", coder="ana")
    fresh.record_decision("k3", decision="recode", coder="ana", theme="colocation_joint_teams", polarity=s.ENABLER, note="weekly")
    fresh.record_decision("k1", decision="accept", coder="ana")
    fresh.record_decision("k1", decision="reject", coder="carl")  # a second person, later: the latest decision wins
    seg = fresh.segments().set_index(s.SEGMENT_KEY)
    assert seg.at["k2", s.STATUS] == api.REJECTED and pd.isna(seg.at["k2", s.THEME])
    assert (seg.at["k3", s.STATUS], seg.at["k3", s.THEME]) == ("recoded", "colocation_joint_teams")
    assert (seg.at["k1", s.STATUS], seg.at["k1", api.REVIEWED_BY]) == (api.REJECTED, "carl")
    assert seg.at["k4", api.REVIEW_STATUS] == api.UNREVIEWED
    history = fresh.decisions("k1")
    assert history[[s.CODER, s.DECISION]].values.tolist() == [["ana", "accept"], ["carl", "reject"]]
    assert history[s.THEME].iloc[0] == "agreements_protocols"  # an accept stores what was accepted
    codings = fresh.codings()
    assert "k2" not in set(codings[s.SEGMENT_KEY]) and "k1" not in set(codings[s.SEGMENT_KEY])
    assert fresh.review_progress().iloc[0][[api.REVIEWED, api.UNREVIEWED]].tolist() == [3, 3]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"decision": "approve"}, InputDataError, "unknown decision 'approve'"),
        ({"decision": "recode", "theme": "trust"}, InputDataError,
         "theme 'trust' is not in the codebook.*Did you mean 'trust_relationships'"),
        ({"decision": "recode", "theme": "trust_relationships"}, InputDataError, "'recode' needs a polarity"),
        ({"decision": "add", "theme": "trust_relationships", "polarity": "good"}, InputDataError, "unknown polarity"),
        ({"decision": "accept", "coder": " "}, InputDataError, "name of the person"),
        ({"decision": "accept", "segment_key": "zzz"}, InputDataError, "unknown segment key"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_written(fresh, kwargs, error, match):
    args = {"segment_key": "k1", "coder": "ana", **kwargs}
    with pytest.raises(error, match=match):
        fresh.record_decision(**args)
    assert fresh.decisions().empty


def test_quotes_filter_on_any_coding_and_text(study):
    keys = lambda frame: sorted(frame[s.SEGMENT_KEY])  # noqa: E731
    assert keys(study.quotes(theme="trust_relationships")) == ["k3", "k5", "k6"]  # k5's second coding counts
    assert keys(study.quotes(theme="trust_relationships", polarity=s.BARRIER)) == ["k6"]
    assert keys(study.quotes(place=["Fernmouth"], search="gmc")) == ["k4"]
    assert keys(study.quotes(topic=1)) == ["k1", "k2"]
    assert keys(study.quotes(status="unreviewed", organisation_type="Local authority")) == ["k1", "k2", "k3"]
    assert study.quotes(source="nowhere.docx").empty


@pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
def test_framework_matrix_counts_people_and_keeps_the_segments_behind_each_cell(fresh):
    matrix = fresh.framework_matrix(rows="place")
    assert len(matrix) == 2 * len(fresh.codebook.themes)  # every place × every theme, zero cells included
    cell = matrix[(matrix[s.PLACE] == "Fernmouth") & (matrix[s.THEME] == "trust_relationships")].iloc[0]
    assert (cell[api.PARTICIPANTS], cell[s.BARRIER], cell[s.ENABLER]) == (2, 1, 1)  # FM01 and a survey respondent
    assert (cell[api.INTERVIEWEES], cell[api.SURVEY_RESPONDENTS]) == (1, 1)  # counted apart as well
    assert cell[api.SEGMENT_KEYS] == ["k5", "k6"]
    empty_cell = matrix[(matrix[s.PLACE] == "Brackenford") & (matrix[s.THEME] == "ig_capacity_advice")].iloc[0]
    assert (empty_cell[api.PARTICIPANTS], empty_cell[api.SEGMENT_KEYS]) == (0, [])
    fresh.add_summary(row_dimension="place", row_value="Fernmouth", theme="trust_relationships", text="first", author="ana")
    fresh.add_summary(row_dimension="place", row_value="Fernmouth", theme="trust_relationships", text="second", author="carl")
    matrix = fresh.framework_matrix(rows="place")
    assert matrix.loc[(matrix[s.PLACE] == "Fernmouth") & (matrix[s.THEME] == "trust_relationships"),
                      s.SUMMARY].item() == "second"
    wide = api.matrix_cells(matrix)
    assert list(wide.index) == ["Brackenford", "Fernmouth"]
    assert "1 interviewee, 1 survey respondent · 1 barrier / 1 enabler" in wide.loc["Fernmouth"].tolist()
    with pytest.raises(ConfigError, match="rows are one of"):
        fresh.framework_matrix(rows="speaker")


def test_theme_counts_and_cooccurrence(study):
    counts = study.theme_counts(by="organisation_type")
    row = counts[(counts[s.ORGANISATION_TYPE] == "Integrated care board") & (counts[s.THEME] == "trust_relationships")]
    assert row[[api.SEGMENTS_COL, api.PARTICIPANTS]].values.tolist() == [[1, 1]]
    co = study.cooccurrence()
    assert co.loc["ig_capacity_advice", "trust_relationships"] == co.loc["trust_relationships", "ig_capacity_advice"] == 1
    assert co.loc["trust_relationships", "trust_relationships"] == 3
    people = study.cooccurrence(unit="participant")
    assert people.loc["agreements_protocols", "it_systems_access"] == 1  # BK01 raised both, in different segments
    assert study.cooccurring_segments("ig_capacity_advice", "trust_relationships") == ["k5"]


def test_surveys(study):
    pct = study.likert_percentages()
    assert pct[["Disagree", "Neutral", "Agree", "n"]].round(1).values.tolist() == [[33.3, 33.3, 33.3, 3]]
    answers = study.text_answers()
    assert answers[[s.SEGMENT_KEY, s.THEME, s.TEXT]].values.tolist() == [["k6", "trust_relationships", SURVEY_TEXT]]


def test_topics_and_their_distribution(study):
    topics = study.topics()
    assert topics[s.TOPIC].tolist() == [-1, 0, 1]
    assert topics.loc[topics[s.TOPIC] == 0, s.KEYWORDS].item() == ["trust", "meet"]
    dist = study.topic_distribution(by="place")
    assert dist.groupby(s.PLACE)[api.SHARE].sum().round(6).tolist() == [1.0, 1.0]
    fern = dist[(dist[s.PLACE] == "Fernmouth") & (dist[s.TOPIC] == 0)].iloc[0]
    assert (fern[api.SEGMENTS_COL], sorted(fern[api.SEGMENT_KEYS])) == (2, ["k5", "k6"])
    assert set(study.topic_distribution(by="polarity")[s.POLARITY]) == {s.BARRIER, s.ENABLER}


@pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
def test_good_practice_library_and_curation(fresh):
    assert sorted(fresh.good_practice()[s.SEGMENT_KEY]) == ["k1", "k5"]  # enablers the coder flagged
    fresh.curate_practice("k3", included=True, author="ana", title="Weekly meeting")
    fresh.curate_practice("k5", included=False, author="ana")
    fresh.curate_practice("k5", included=True, author="carl", title="Same-day IG answers")  # the latest choice wins
    fresh.curate_practice("k1", included=False, author="carl")
    library = fresh.good_practice().set_index(s.SEGMENT_KEY)
    assert sorted(library.index) == ["k3", "k5"]
    assert (library.at["k5", s.TITLE], library.at["k5", s.AUTHOR], library.at["k5", api.ORIGIN]) == (
        "Same-day IG answers", "carl", "curated")
    assert "k1" in set(fresh.good_practice(include_excluded=True)[s.SEGMENT_KEY])
    with pytest.raises(InputDataError, match="theme 'nonsense' is not in the codebook"):
        fresh.curate_practice("k3", included=True, author="ana", theme="nonsense")


@pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
def test_comments_and_the_stamp_that_tells_caches_to_reload(fresh):
    before = fresh.stamp()
    seg = fresh.segments()
    fresh.add_comment("Is this consent?", author="bo", author_role="reviewer", segment_key="k1")
    assert fresh.stamp() != before
    assert fresh.comments(segment_key="k1")[[s.AUTHOR, s.AUTHOR_ROLE]].values.tolist() == [["bo", "reviewer"]]
    fresh.record_decision("k4", decision="accept", coder="ana")
    assert fresh.segments().set_index(s.SEGMENT_KEY).at["k4", s.STATUS] == "accepted"  # not a stale memo
    assert seg.set_index(s.SEGMENT_KEY).at["k4", s.STATUS] == "machine"  # frames handed out are copies


@pytest.mark.parametrize("empty", BOTH_STORES, indirect=True)
def test_an_empty_store_gives_empty_frames_with_their_columns(empty):
    assert list(empty.segments().columns) == api.SEGMENT_COLUMNS and empty.segments().empty
    assert list(empty.codings().columns) == api.CODING_COLUMNS
    assert empty.quotes(place="x", theme="trust_relationships", search="y").empty
    for frame in (empty.framework_matrix(), empty.theme_counts(), empty.cooccurrence(), empty.likert(),
                  empty.likert_percentages(), empty.text_answers(), empty.topics(), empty.topic_distribution(),
                  empty.review_queue(), empty.good_practice(), empty.summaries(), empty.comments(), empty.decisions()):
        assert frame.empty
    assert list(empty.topics().columns) == api.TOPIC_COLUMNS
    assert empty.review_progress()[api.SEGMENTS_COL].tolist() == [0]
    assert empty.status().next_command.startswith("toolkit ingest")


def test_an_ingested_but_uncoded_study(tmp_path):
    half = api.open_study(build_tiny_study(tmp_path / "half", coded=False))
    assert half.segments().empty
    assert half.status().next_command.startswith("toolkit code")
    answers = half.text_answers()
    assert answers[[s.TEXT, s.STATUS]].values.tolist() == [[SURVEY_TEXT, api.UNCODED]]
    assert len(half.likert()) == 3
    assert (half.framework_matrix()[api.PARTICIPANTS] == 0).all()


def test_status_says_topics_come_next_when_there_are_none(tmp_path):
    study = api.open_study(build_tiny_study(tmp_path / "notopics", topics=False))
    assert study.status().next_command.startswith("toolkit topics")
    assert study.topic_distribution().empty and study.segments()[s.TOPIC].isna().all()


def test_run_rejects_unknown_stages(study):
    with pytest.raises(ConfigError, match="Unknown stage"):
        study.run(stages=["transmogrify"])


def _resolve_one_by_one(machine, human):
    """The obvious, slow resolution (one segment at a time): the oracle for the vectorised one."""
    import json

    from toolkit.coding import latest_human

    machine = machine[machine[s.THEME].notna()].copy()
    machine["status"], machine["reviewed_by"] = "machine", None
    latest = latest_human(human)
    if latest.empty:
        return machine.reset_index(drop=True)
    last = latest.sort_values([s.CREATED_AT, s.CODING_ID]).groupby(s.SEGMENT_KEY).tail(1).set_index(s.SEGMENT_KEY)
    frames = [machine[~machine[s.SEGMENT_KEY].isin(last.index)]]
    for key, decision in last.iterrows():
        if decision[s.DECISION] == "reject":
            continue
        if decision[s.DECISION] == "accept":
            rows = machine[machine[s.SEGMENT_KEY] == key].copy()
            rows["status"], rows["reviewed_by"] = "accepted", decision[s.CODER]
            frames.append(rows)
            continue
        frames.append(pd.DataFrame([{
            s.SEGMENT_KEY: key, s.THEME: decision[s.THEME], s.POLARITY: decision[s.POLARITY], s.CONFIDENCE: 1.0,
            s.RANK: 1, s.GOOD_PRACTICE: bool(decision.get(s.GOOD_PRACTICE) or False),
            s.EVIDENCE: json.dumps({"fired": ["human"], "note": decision.get(s.NOTE)}), s.CODER: decision[s.CODER],
            "status": "recoded", "reviewed_by": decision[s.CODER]}]))
    return pd.concat(frames, ignore_index=True)


def test_resolution_equals_the_one_by_one_oracle(tmp_path):
    import random

    from toolkit.coding import resolve_codings

    study = api.open_study(build_tiny_study(tmp_path / "resolve"))
    rng = random.Random(7)
    for i in range(40):
        key = rng.choice(["k1", "k2", "k3", "k4", "k5", "k6"])
        decision = rng.choice(s.DECISIONS)
        theme = "trust_relationships" if decision in ("recode", "add") else None
        try:
            study.record_decision(key, decision=decision, coder=rng.choice(["ana", "carl"]), theme=theme,
                                  polarity=s.BARRIER if theme else None, note=rng.choice([None, f"note {i}"]),
                                  good_practice=rng.choice([None, True, False]))
        except InputDataError:  # accepting a segment whose coding was rejected: refused, as it should be
            continue
    machine, human = study.store.table(s.CODINGS), study.store.table(s.HUMAN_CODINGS)
    expected = _resolve_one_by_one(machine, human)
    got = resolve_codings(machine, human)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert resolve_codings(machine, human.iloc[0:0]).shape[0] == len(machine)


def test_a_copy_has_the_store_but_not_the_key_and_leaves_the_study_alone(tmp_path):
    study = api.open_study(build_tiny_study(tmp_path / "orig"))
    (study.root / "private").mkdir(exist_ok=True)
    (study.root / "private" / "pseudonymisation_key.json").write_text("{}", encoding="utf-8")
    before = study.store.table(s.HUMAN_CODINGS).shape[0]
    work = study.copy(tmp_path / "work")
    assert len(work.segments()) == len(study.segments())
    assert not (work.root / "private").exists()
    work.record_decision("k1", decision="reject", coder="second coder")
    assert study.store.table(s.HUMAN_CODINGS).shape[0] == before
    with pytest.raises(InputDataError, match="not empty"):
        study.copy(tmp_path / "work")


def test_agreement_compares_two_coders_on_the_segments_both_coded(tmp_path):
    study = api.open_study(build_tiny_study(tmp_path / "agree"))
    machine = study.codings()
    first = machine[machine[s.RANK] == 1].set_index(s.SEGMENT_KEY)
    keys = list(first.index[:3])
    study.record_decision(keys[0], decision="accept", coder="gold")
    other = next(t for t in study.codebook.themes if t.id != first.loc[keys[1], s.THEME]).id
    study.record_decision(keys[1], decision="recode", coder="gold", theme=other, polarity=s.BARRIER)
    comparison = study.agreement("machine", "gold")
    assert len(comparison.primary) == 2  # only the segments both coded
    assert list(comparison.disagreements.index) == [keys[1]]
    shown = study.disagreements("machine", "gold")
    assert shown.loc[keys[1], "gold"] == other and shown.loc[keys[1], s.TEXT]
    with pytest.raises(ToolkitError, match="No codings by 'nobody'"):
        study.agreement("machine", "nobody")


def test_open_study_needs_an_explicit_folder_and_the_environment_is_asked_for_explicitly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # even beside a folder called interviews/, nothing is guessed
    (tmp_path / "interviews").mkdir()
    with pytest.raises(TypeError):
        api.open_study()  # type: ignore[call-arg]
    for missing in (None, "", "  "):
        with pytest.raises(ConfigError, match="open_study\\(\\) needs the study folder"):
            api.open_study(missing)
    with pytest.raises(ConfigError, match="does not exist"):
        api.open_study(tmp_path / "nowhere")
    monkeypatch.delenv(api.STUDY_ENV, raising=False)
    with pytest.raises(ConfigError, match="TOOLKIT_STUDY is not set"):
        api.study_from_env()
    assert api.study_from_env(default="interviews") == Path("interviews")
    monkeypatch.setenv(api.STUDY_ENV, str(tmp_path / "elsewhere"))
    assert api.study_from_env(default="interviews") == tmp_path / "elsewhere"


def test_options_that_are_easy_to_swap_are_keyword_only_and_checked(study):
    with pytest.raises(TypeError):
        study.quotes("Fernmouth")  # type: ignore[misc]
    with pytest.raises(TypeError):
        study.framework_matrix("place")  # type: ignore[misc]
    with pytest.raises(ConfigError, match="A polarity is one of barrier, enabler, neutral; not 'Barrier'"):
        study.quotes(polarity="Barrier")  # used to match nothing, silently
    with pytest.raises(ConfigError, match="A status is one of"):
        study.quotes(status="done")
    with pytest.raises(ConfigError, match="review_queue"):
        study.review_queue(status="done")


def test_framework_matrix_by_case_has_one_row_per_participant(study):
    matrix = study.framework_matrix(rows=api.PARTICIPANT)
    assert list(dict.fromkeys(matrix[api.PARTICIPANT])) == ["BK01", "FM01", "Fernmouth_R001"]
    survey = matrix[(matrix[api.PARTICIPANT] == "Fernmouth_R001") & (matrix[s.THEME] == "trust_relationships")].iloc[0]
    assert (survey[api.INTERVIEWEES], survey[api.SURVEY_RESPONDENTS], survey[s.BARRIER]) == (0, 1, 1)
    assert survey[api.SEGMENT_KEYS] == ["k6"]


def test_status_counts_people_with_interviewees_and_survey_respondents_apart(study):
    status = study.status()
    corpus = status.corpus
    assert (corpus.interviews, corpus.interviewees, corpus.surveys, corpus.survey_respondents) == (2, 2, 1, 3)
    assert corpus.people == "2 interviewees, 3 survey respondents"
    assert (corpus.evidence_segments, corpus.coded_segments, corpus.reviewed_segments) == (6, 6, 0)
    places = status.places.set_index(s.PLACE)
    assert places.loc["Fernmouth", ["interviews", "surveys", "survey_respondents", "evidence_segments"]].tolist() == [
        1, 1, 3, 3]


@pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
def test_human_work_that_could_not_be_re_attached_is_reported_and_not_counted(fresh):
    import sqlalchemy as sa

    fresh.record_decision("k2", decision="reject", coder="ana")
    fresh.record_decision("k4", decision="accept", coder="ana")
    assert fresh.status().corpus.reviewed_segments == 2
    run_id = fresh.store.start_run("segment")  # what a run does when k4's text has left the study
    with fresh.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE human_codings SET segment_key = 'gone', anchor = 'orphaned' "
                             "WHERE segment_key = 'k4'"))
    fresh.store.finish_run(run_id, "ok", {})
    status = fresh.status()
    assert status.orphaned == 1 and "could not be re-attached" in status.next_step
    assert status.anchors.set_index("work").loc["decision", ["attached", "orphaned"]].tolist() == [1, 1]
    assert status.corpus.reviewed_segments == 1  # the orphaned decision no longer counts as a review
    orphans = fresh.orphaned_work()
    assert orphans[["work", s.SEGMENT_KEY, "by"]].values.tolist() == [["decision", "gone", "ana"]]
    assert orphans["anchor_text"].item() == "GPs are scared of the GMC."


def test_a_read_and_a_write_model_sharing_a_memo_build_each_frame_once_and_see_each_others_writes(fresh, monkeypatch):
    from toolkit.store import Store

    memo: dict = {}
    reader = api.Study(fresh.config, Store(fresh.config.store_url, read_only=True, study=fresh.config.root), memo=memo)
    writer = api.Study(fresh.config, fresh.store, memo=memo)
    built = []
    segments_frame = type(fresh.store).segments_frame
    monkeypatch.setattr(type(fresh.store), "segments_frame",
                        lambda self, **kw: built.append(1) or segments_frame(self, **kw))
    first = reader.segments()
    assert writer.segments().equals(first) and len(built) == 1  # the writer found it built
    writer.record_decision("k2", decision="reject", coder="ana")
    assert reader.segments().set_index(s.SEGMENT_KEY).at["k2", s.STATUS] == api.REJECTED  # the stamp moved
