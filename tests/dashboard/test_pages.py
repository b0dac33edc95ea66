"""Every dashboard page, driven with Streamlit's AppTest on a tiny hand-built study (no models)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.access import SESSION_KEY
from tests.conftest import BOTH_STORES
from tests.dashboard.conftest import APP, PAGES, SEGMENTS, build_tiny_study
from toolkit import schema as s
from toolkit.config import load_config
from toolkit.store import Store


def open_page(page: str, study, monkeypatch, user=None, timeout: float = 60) -> AppTest:
    monkeypatch.setenv("TOOLKIT_STUDY", str(study))
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:
        at.session_state[SESSION_KEY] = user
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success", "code",
                                  "metric") for e in getattr(at, kind) if isinstance(getattr(e, "value", None), str)]
    parts += [e.label for e in at.metric]
    return "\n".join(parts)


def elements(at: AppTest) -> int:
    """How many elements and blocks the page's main area draws (every node under it)."""
    def count(node) -> int:
        children = getattr(node, "children", None)
        return 1 + (sum(count(child) for child in children.values()) if isinstance(children, dict) else 0)

    return count(at.main)


def shown_key(at: AppTest) -> str:
    """The key of the segment the Review page's queue shows (its order is learnt, not fixed)."""
    import re

    for caption in at.caption:
        found = re.search(r"segment key (\w+)", caption.value)
        if found:
            return found.group(1)
    raise AssertionError("the Review page shows no segment")


def human_codings(study) -> pd.DataFrame:
    return Store(load_config(study).store_url).table(s.HUMAN_CODINGS)


EXPECTED = {
    "overview": "Tiny study",
    "themes": "Framework matrix",
    "quotes": "6 of 6 quotes",
    "topics": "Trust and meetings",
    "surveys": "Agreement by place",
    "review": "segments reviewed",
    "good_practice": "Our IG lead answers the same day.",
    "remedies": "From barrier to remedy",
    "memos": "No memos yet",
    "export": "pseudonymised text only",
}


@pytest.mark.parametrize("tiny_study", BOTH_STORES, indirect=True)
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_the_tiny_study(page, tiny_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page(page, tiny_study, monkeypatch, user)
    assert not at.exception, at.exception
    assert EXPECTED[page] in texts(at) + "\n".join(p.proto.text for p in at.progress)


@pytest.mark.parametrize("page", PAGES)
def test_page_on_an_empty_store_says_what_to_run(page, empty_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page(page, empty_study, monkeypatch, user)
    assert not at.exception, at.exception
    assert "toolkit ingest" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_on_an_ingested_but_uncoded_study(page, tmp_path, monkeypatch, as_user):
    study = build_tiny_study(tmp_path / "half", coded=False)
    user = as_user("ana", "researcher")
    at = open_page(page, study, monkeypatch, user)
    assert not at.exception, at.exception
    if page in ("themes", "quotes", "topics", "review", "good_practice", "remedies", "memos"):
        assert "toolkit code" in texts(at)


def test_topics_page_without_topics_says_what_to_run(tmp_path, monkeypatch, as_user):
    study = build_tiny_study(tmp_path / "notopics", topics=False)
    user = as_user()
    at = open_page("topics", study, monkeypatch, user)
    assert not at.exception
    assert "No topics yet: run `toolkit topics" in texts(at)


def test_quote_filters_narrow_the_list(tiny_study, monkeypatch, as_user):
    user = as_user()
    at = open_page("quotes", tiny_study, monkeypatch, user)
    at.multiselect(key="q-place").set_value(["Fernmouth"]).run()
    assert "3 of 6 quotes" in texts(at)
    at.multiselect(key="q-theme").set_value(["trust_relationships"]).run()  # k5 (second coding) and k6
    assert "2 of 6 quotes" in texts(at)
    at.multiselect(key="q-polarity").set_value([s.BARRIER]).run()
    assert "1 of 6 quotes" in texts(at)
    assert "Nobody trusts the forms." in texts(at)
    at.text_input(key="q-search").set_value("GMC").run()
    assert "0 of 6 quotes" in texts(at)
    assert not at.exception


def test_quote_shows_its_context_and_reference(tiny_study, monkeypatch, as_user):
    user = as_user()
    at = open_page("quotes", tiny_study, monkeypatch, user)
    at.text_input(key="q-search").set_value("trust [PERSON_03]").run()
    assert "1 of 6 quotes" in texts(at)
    assert any("interview 12:34" in c.value for c in at.code)
    # the quote and its coding are one element (the coding line small and grey)
    assert any("We trust" in m.value and "**Trust and relationships between partners**" in m.value and "status: " in m.value
               for m in at.markdown), [m.value for m in at.markdown]
    at.toggle(key="ctx-quotes-k3").set_value(True).run()
    assert "And trust?" in texts(at)  # the interviewer's question before it


def test_topic_filter_on_quotes(tiny_study, monkeypatch, as_user):
    user = as_user()
    at = open_page("quotes", tiny_study, monkeypatch, user)
    at.multiselect(key="q-topic").set_value([1]).run()
    assert "2 of 6 quotes" in texts(at)


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_accept_on_review_lands_in_human_codings_with_the_reviewers_name(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page("review", fresh_study, monkeypatch, user)
    assert human_codings(fresh_study).empty
    key = shown_key(at)
    at.button(key="review-accept").click().run()
    assert not at.exception
    saved = human_codings(fresh_study)
    assert saved[[s.SEGMENT_KEY, s.CODER, s.DECISION]].values.tolist() == [[key, "ana", "accept"]]
    assert saved[s.THEME].iloc[0] == {row[0]: row[3] for row in SEGMENTS}[key]
    assert at.progress[0].proto.text == "1 of 6 segments reviewed"
    # the queue moved on, and says that the coder learnt from the decision
    assert shown_key(at) != key
    assert "retrained on 1 decision(s)" in texts(at)


def test_recode_with_a_note(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page("review", fresh_study, monkeypatch, user)
    key = shown_key(at)
    at.selectbox(key=f"review-theme-{key}").set_value("trust_relationships")
    at.selectbox(key=f"review-polarity-{key}").set_value(s.BARRIER)
    at.text_input(key=f"review-note-{key}").set_value("about trust, not the charter")
    at.button(key="review-recode").click().run()
    saved = human_codings(fresh_study).iloc[-1]
    assert (saved[s.DECISION], saved[s.THEME], saved[s.POLARITY], saved[s.NOTE]) == (
        "recode", "trust_relationships", s.BARRIER, "about trust, not the charter")


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_two_reviewers_never_overwrite_each_other(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    first = open_page("review", fresh_study, monkeypatch, user)
    user = as_user("carl", "researcher")
    second = open_page("review", fresh_study, monkeypatch, user)
    first.button(key="review-accept").click().run()
    second.button(key="review-reject").click().run()  # same segment, opened before ana's decision
    saved = human_codings(fresh_study)
    assert saved[[s.CODER, s.DECISION]].values.tolist() == [["ana", "accept"], ["carl", "reject"]]
    second.switch_page("views/review.py").run()
    history = second.tabs[2]
    assert not second.exception
    assert history is not None


def test_bulk_accept_of_a_whole_page(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page("review", fresh_study, monkeypatch, user)
    at.checkbox(key="review-bulk-all").check().run()
    at.button(key="review-bulk-accept").click().run()
    saved = human_codings(fresh_study)
    assert sorted(saved[s.SEGMENT_KEY]) == ["k1", "k2", "k3", "k4", "k5", "k6"]
    assert set(saved[s.CODER]) == {"ana"}
    assert "Nothing left to review" in texts(at)


def test_a_reviewer_sees_no_decision_buttons_and_can_comment(fresh_study, monkeypatch, as_user):
    user = as_user("bo", "reviewer")
    at = open_page("review", fresh_study, monkeypatch, user)
    assert not at.exception
    keys = {b.key for b in at.button}
    assert not keys & {"review-accept", "review-reject", "review-recode", "review-bulk-accept", "review-bulk-reject"}
    assert "reviewer" in texts(at)
    key = shown_key(at)
    at.text_area(key=f"comment-text-review-{key}").set_value("Is this about consent?")
    at.button[[b.label for b in at.button].index("Save comment")].click().run()
    comments = Store(f"sqlite:///{fresh_study / 'store' / 'study.sqlite'}").table(s.COMMENTS)
    assert comments[[s.AUTHOR, s.AUTHOR_ROLE, s.SEGMENT_KEY]].values.tolist() == [["bo", "reviewer", key]]
    assert human_codings(fresh_study).empty


def test_reviewer_cannot_edit_summaries_curate_or_export_full_data(tiny_study, monkeypatch, as_user):
    user = as_user("bo", "reviewer")
    themes = open_page("themes", tiny_study, monkeypatch, user)
    assert "Save summary" not in [b.label for b in themes.button]
    practice = open_page("good_practice", tiny_study, monkeypatch, user)
    assert "Curate the library" not in texts(practice)
    assert "Save practice" not in [b.label for b in practice.button]
    export = open_page("export", tiny_study, monkeypatch, user)
    labels = [b.label for b in export.get("download_button")]
    assert labels and all("Findings report" in label for label in labels)


def test_themes_cell_lists_its_quotes_and_saves_a_summary(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page("themes", fresh_study, monkeypatch, user)
    at.radio(key="themes-rows").set_value("place").run()
    at.selectbox(key="themes-cell-row").set_value("Fernmouth")
    at.selectbox(key="themes-cell-theme").set_value("trust_relationships").run()
    assert "Quotes behind this cell** (2)" in texts(at)
    assert "Nobody trusts the forms." in texts(at)
    at.text_area(key="summary-text-place-Fernmouth-trust_relationships").set_value("Trust is low in surveys.")
    at.button[[b.label for b in at.button].index("Save summary")].click().run()
    assert not at.exception
    summaries = Store(f"sqlite:///{fresh_study / 'store' / 'study.sqlite'}").table(s.SUMMARIES)
    assert summaries[[s.ROW_VALUE, s.THEME, s.TEXT, s.AUTHOR]].values.tolist() == [
        ["Fernmouth", "trust_relationships", "Trust is low in surveys.", "ana"]]


def test_renaming_a_topic_in_the_dashboard_is_recorded_and_shown(tiny_study, monkeypatch, as_user):
    from toolkit.api import open_study

    user = as_user("ana", "researcher")
    at = open_page("topics", tiny_study, monkeypatch, user)
    at.text_input(key="topic-rename-label").set_value("Trust in the hub")
    at.button(key="topic-rename").click().run()
    assert not at.exception
    study = open_study(tiny_study)
    edits = study.store.table(s.TOPIC_EDITS)
    assert edits[[s.ACTION, s.TOPIC_LABEL, s.AUTHOR]].values.tolist() == [["rename", "Trust in the hub", "ana"]]
    assert "Trust in the hub" in study.topics()[s.TOPIC_LABEL].tolist()


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_good_practice_curation(fresh_study, monkeypatch, as_user):
    user = as_user("ana", "researcher")
    at = open_page("good_practice", fresh_study, monkeypatch, user)
    assert "2 passages" in texts(at)
    at.selectbox(key="gp-key").set_value("k5").run()
    at.checkbox[[c.label for c in at.checkbox].index("In the library")].uncheck()
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    assert "1 passages" in texts(at)


def test_no_pages_folder_that_streamlit_would_list_around_the_login():
    # Streamlit lists every file in a pages/ folder beside the entry script as a page of its own whenever a
    # run stops before st.navigation (while the login form shows); the app's pages live in views/ instead.
    assert not (APP.parent / "pages").exists()
    assert (APP.parent / "views" / "review.py").exists()


USER_PROBE = """
import sys
import streamlit as st
sys.path.insert(0, {folder!r})
import loaders
st.write("role=" + loaders.user().role)
"""


def test_loaders_never_default_to_a_researcher_when_login_is_required(monkeypatch):
    probe = USER_PROBE.format(folder=str(APP.parent))
    monkeypatch.setenv("TOOLKIT_AUTH", "required")
    at = AppTest.from_string(probe, default_timeout=30).run()
    assert not at.exception
    assert "role=" not in texts(at)
    monkeypatch.delenv("TOOLKIT_AUTH")
    at = AppTest.from_string(probe, default_timeout=30).run()
    assert "role=researcher" in texts(at)


def test_survey_answers_have_no_turns_toggle(tiny_study, monkeypatch, as_user):
    at = open_page("quotes", tiny_study, monkeypatch, as_user())
    keys = {t.key for t in at.toggle}
    assert "ctx-quotes-k1" in keys  # a transcript segment
    assert "ctx-quotes-k6" not in keys  # a survey answer
    assert all(c.proto.wrap_lines for c in at.code)  # references wrap instead of being cut off


def test_surveys_open_on_the_largest_coded_theme(tiny_study, monkeypatch, as_user):
    at = open_page("surveys", tiny_study, monkeypatch, as_user())
    assert at.selectbox(key="surveys-theme").value == "trust_relationships"


def test_review_says_in_words_when_a_coding_was_rejected(fresh_study, monkeypatch, as_user):
    at = open_page("review", fresh_study, monkeypatch, as_user("ana", "researcher"))
    confidence = {row[0]: row[5] for row in SEGMENTS}[shown_key(at)]
    assert f"suggested by the machine (confidence {confidence:.2f})" in texts(at)
    at.button(key="review-reject").click().run()
    at.selectbox(key="review-status").set_value("reviewed").run()
    assert "No theme: the machine's coding was rejected by ana." in texts(at)
    assert "status uncoded" not in texts(at)


def test_without_a_study_the_dashboard_says_how_to_choose_one(monkeypatch, as_user):
    monkeypatch.delenv("TOOLKIT_STUDY", raising=False)  # no --study either: never the sample study in silence
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[SESSION_KEY] = as_user()
    at.run()
    assert not at.exception, at.exception
    assert any("No study chosen" in e.value for e in at.error)


def test_themes_matrix_by_case_counts_interviewees_and_survey_respondents_apart(tiny_study, monkeypatch, as_user):
    at = open_page("themes", tiny_study, monkeypatch, as_user())
    at.radio(key="themes-rows").set_value("participant").run()
    assert not at.exception, at.exception
    at.selectbox(key="themes-cell-row").set_value("Fernmouth_R001").run()
    at.selectbox(key="themes-cell-theme").set_value("trust_relationships").run()
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Interviewees"], metrics["Survey respondents"], metrics["Barrier segments"]) == ("0", "1", "1")
    assert "Nobody trusts the forms." in texts(at)


def test_overview_reports_human_work_that_could_not_be_re_attached(fresh_study, monkeypatch, as_user):
    import sqlalchemy as sa

    store = Store(f"sqlite:///{fresh_study / 'store' / 'study.sqlite'}")
    store.add_comment("check the date", author="ana", author_role="researcher", segment_key="k1",
                      anchor_text="The charter helped us a lot.")
    run_id = store.start_run("segment")
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE comments SET segment_key = 'gone', anchor = 'orphaned'"))
    store.finish_run(run_id, "ok", {})
    at = open_page("overview", fresh_study, monkeypatch, as_user())
    assert not at.exception, at.exception
    assert any("1 piece(s) of human work could not be re-attached" in w.value for w in at.warning)


def test_remedies_page_sets_another_places_curated_practice_beside_a_barrier(fresh_study, monkeypatch, as_user):
    from toolkit import api

    api.open_study(fresh_study).save_practice(title="Weekly meeting", author="ana", place="Brackenford",
                                              theme="trust_relationships", status="reviewed", passages=["k3"])
    at = open_page("remedies", fresh_study, monkeypatch, as_user("ana", "researcher"))
    at.selectbox(key="rem-place").set_value("Fernmouth").run()
    assert not at.exception
    assert "Practices: **Weekly meeting**" in texts(at)


def test_a_framework_matrix_download_is_built_when_pressed_not_on_the_page(tiny_study, monkeypatch, as_user):
    import io

    from toolkit.api import open_study

    monkeypatch.syspath_prepend(str(APP.parent))
    import loaders

    built = []
    real = loaders.matrix_csv
    monkeypatch.setattr(loaders, "matrix_csv", lambda *a: built.append(a) or b"")
    export = open_page("export", tiny_study, monkeypatch, as_user("ana", "researcher"))
    labels = [b.label for b in export.get("download_button")]
    assert any(label.startswith("Framework matrix by place") for label in labels)
    assert not built  # one matrix per row dimension: none is built for the page's first paint
    csv = pd.read_csv(io.BytesIO(real(str(tiny_study), "place")), encoding="utf-8-sig")
    matrix = open_study(tiny_study).framework_matrix(rows="place")
    assert csv.columns[0] == "place" and len(csv) == len(matrix)
    assert csv["segment_keys"].fillna("").str.split().map(len).sum() == matrix["segment_keys"].map(len).sum()


def test_background_work_waits_while_a_page_is_drawn_but_never_for_ever(monkeypatch):
    import threading

    monkeypatch.syspath_prepend(str(APP.parent))
    from background import PageActivity

    pages = PageActivity()
    assert pages.wait_until_idle(longest=0.0) is True  # nothing drawn: no wait
    inside, leave = threading.Event(), threading.Event()

    def draw():
        with pages.drawing():
            inside.set()
            leave.wait(30)

    page = threading.Thread(target=draw)
    page.start()
    assert inside.wait(30)
    assert pages.wait_until_idle(longest=0.05) is False  # still drawing: gives up after its longest wait
    threading.Timer(0.1, leave.set).start()
    assert pages.wait_until_idle(longest=30) is True  # woken when the page is drawn
    page.join(30)


def test_every_page_run_is_counted_while_it_draws(tiny_study, monkeypatch, as_user):
    monkeypatch.syspath_prepend(str(APP.parent))
    import background
    import loaders

    seen = []
    real = loaders.theme_names
    monkeypatch.setattr(loaders, "theme_names", lambda: seen.append(background.ACTIVITY._drawing) or real())
    at = open_page("themes", tiny_study, monkeypatch, as_user("ana", "researcher"))
    assert not at.exception and seen and all(n == 1 for n in seen)
    assert background.ACTIVITY._drawing == 0


def test_a_heat_map_of_many_columns_is_drawn_when_asked_for(tiny_study, monkeypatch, as_user):
    monkeypatch.syspath_prepend(str(APP.parent))
    import charts

    def heat_maps(at) -> int:
        return sum(1 for c in at.get("vega_lite_chart") if "per theme and" in c.proto.spec)

    at = open_page("themes", tiny_study, monkeypatch, as_user())
    at.radio(key="themes-rows").set_value("participant").run()
    assert heat_maps(at) == 1  # a few cases: drawn with the page
    monkeypatch.setattr(charts, "HEAT_MAP_AT_ONCE", 2)
    at.run()
    assert heat_maps(at) == 0 and not at.exception
    at.toggle(key="themes-heat-all-participant").set_value(True).run()
    assert heat_maps(at) == 1


def test_a_few_candidate_themes_are_shown_whole(tiny_study, monkeypatch, as_user):
    at = open_page("topics", tiny_study, monkeypatch, as_user("ana", "researcher"))
    (card,) = at.expander
    assert card.label.startswith("1: Systems and charters") and card.proto.expanded
    assert "name-1" in {t.key for t in at.text_input}  # its add-to-the-codebook form


def test_many_candidate_themes_are_one_table_and_the_one_opened(tmp_path, monkeypatch, as_user):
    from toolkit.codebook import load_codebook
    from toolkit.topics.candidates import STUDY_CODEBOOK

    user = as_user("ana", "researcher")
    some = open_page("topics", build_tiny_study(tmp_path / "some", extra_candidates=3), monkeypatch, user)
    study = build_tiny_study(tmp_path / "many", extra_candidates=40)
    at = open_page("topics", study, monkeypatch, user)
    assert not at.exception, at.exception
    drawn, drawn_for_four = elements(at), elements(some)
    assert drawn == drawn_for_four  # the page draws as much for 41 candidates as for 4
    assert not at.expander
    assert {t.key for t in at.text_input if t.key.startswith("name-")} == {"name-1"}  # the first one is open
    at.selectbox(key="topics-candidate").set_value(30).run()
    assert {t.key for t in at.text_input if t.key.startswith("name-")} == {"name-30"}
    assert "word30" in texts(at)  # its keyphrases
    at.text_input(key="name-30").set_value("Waiting lists")
    at.button[[b.label for b in at.button].index("Add to the codebook as a draft")].click().run()
    assert not at.exception, at.exception
    assert any("Added" in m.value for m in at.success), texts(at)
    assert load_codebook(study / STUDY_CODEBOOK).themes[-1].name == "Waiting lists"


def test_all_the_segments_of_a_topic_are_drawn_only_when_asked_for(tiny_study, monkeypatch, as_user):
    at = open_page("topics", tiny_study, monkeypatch, as_user())
    assert at.selectbox(key="topics-open").value == 0
    assert not [t.key for t in at.toggle if t.key.startswith("ctx-topic-all-")]
    at.toggle(key="topic-all-show-0").set_value(True).run()
    # k3, k5 and k6 are in topic 0; k6, a survey answer, has no turns to show
    assert {t.key for t in at.toggle if t.key.startswith("ctx-topic-all-")} == {"ctx-topic-all-0-k3",
                                                                                   "ctx-topic-all-0-k5"}


def test_many_barrier_themes_are_one_table_and_the_theme_opened(tmp_path, monkeypatch, as_user):
    extra = ("legal_basis_consent", "ig_capacity_advice", "leadership_commitment", "resources_capacity")
    at = open_page("remedies", build_tiny_study(tmp_path / "study", extra_barriers=extra), monkeypatch, as_user())
    at.selectbox(key="rem-place").set_value("Fernmouth").run()
    assert not at.exception, at.exception

    def opened() -> set[str]:
        return {t.key.removeprefix("rem-b-") for t in at.toggle if t.key.startswith("rem-b-")}

    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 6  # confidentiality, trust and the four
    assert opened() == {"legal_basis_consent"}  # one theme at a time, the first in codebook order
    at.selectbox(key="rem-open-Fernmouth").set_value("trust_relationships").run()
    assert opened() == {"trust_relationships"}
    assert "**Brackenford**: 1 reporting enablers" in texts(at)
    # up to three themes chosen above are shown whole, side by side
    at.multiselect(key="rem-themes").set_value(["trust_relationships", "resources_capacity"]).run()
    assert opened() == {"trust_relationships", "resources_capacity"} and not at.dataframe


def test_the_costliest_frames_are_read_ahead_into_the_studys_memo_and_a_failure_only_ends_it(tiny_study, monkeypatch):
    from toolkit.api import open_study

    monkeypatch.syspath_prepend(str(APP.parent))
    import background

    ahead = ("segments", "codings", "practices", "barrier_remedies")  # what a server reads (AppTest pages: nothing)
    monkeypatch.setattr(background, "READ_AHEAD", ahead)
    study = open_study(tiny_study)
    waits = []
    assert background.read_ahead_of(study, wait=lambda: waits.append(1)) == list(ahead)
    assert len(waits) == len(ahead)
    expected = open_study(tiny_study).barrier_remedies()
    built = []
    monkeypatch.setattr(type(study.store), "latest", lambda *a, **k: built.append(1) or 1 / 0)  # practices read it
    assert study.barrier_remedies().equals(expected) and built == []  # from the memo: nothing read again
    assert background.read_ahead_of(open_study(tiny_study)) == ["segments", "codings"]  # practices failed: it stopped


def test_after_the_frames_the_server_builds_the_review_queue_ahead(fresh_study, monkeypatch):
    from toolkit.api import open_study

    monkeypatch.syspath_prepend(str(APP.parent))
    import background
    import loaders

    monkeypatch.setattr(background, "READ_AHEAD", ("segments", "codings"))
    built = []
    real = loaders.review_session_of
    monkeypatch.setattr(loaders, "review_session_of", lambda path: built.append(path) or real(path))
    background._read_ahead_then_queue(str(fresh_study), open_study(fresh_study))
    assert built == [str(fresh_study)]
    session = real(str(fresh_study))
    assert session._read_at is not None  # refreshed: the Review page's first visit only ranks
    monkeypatch.setattr(background, "READ_AHEAD", ("no_such_frame",))
    background._read_ahead_then_queue(str(fresh_study), open_study(fresh_study))
    assert built == [str(fresh_study)]  # a frame failed: the queue is not built ahead either
