"""The one action on a candidate new theme: add the topic to the study's codebook (theme or sub-theme)."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit import schema as s
from toolkit.api import Study
from toolkit.codebook import load_codebook
from toolkit.errors import ConfigError, InputDataError
from toolkit.topics.candidates import STUDY_CODEBOOK, draft_theme, slug

from .test_stage import _fit


def _garden_topic(store) -> int:
    from toolkit.analysis.topics import topics_frame

    topics = topics_frame(store.table(s.TOPICS))
    for row in topics.itertuples():
        if row.topic != s.OUTLIER_TOPIC and any("garden" in str(k) or "allotment" in str(k) for k in row.keywords):
            return int(row.topic)
    raise AssertionError("no garden topic")


def test_a_topic_is_added_as_a_draft_theme_in_the_studys_own_copy_of_the_codebook(study):
    config, store = study
    _fit(config, store)
    topic = _garden_topic(store)
    before = load_codebook(None)
    added = Study(config, store).add_topic_to_codebook(topic, author="R. Fairweather")
    path = config.root / STUDY_CODEBOOK
    assert added.path == path and added.copied_default and added.parent is None
    assert "set [coding] codebook" in added.message()
    book = load_codebook(path)
    assert book.ids[: len(before.ids)] == before.ids  # nothing else changed
    new = book.themes[-1]
    assert new.id == added.theme_id and new.id not in before.ids
    assert new.definition.startswith("DRAFT by R. Fairweather")
    passages = set(store.segments_frame(evidence_only=True)[s.TEXT])
    examples = new.examples.get(s.NEUTRAL, ()) + new.examples.get(s.BARRIER, ()) + new.examples.get(s.ENABLER, ())
    assert examples and set(examples) <= passages  # the topic's own passages, as stored (pseudonymised)
    assert any(w in new.id for w in ("allotment", "garden", "volunteer", "picnic", "football", "club",
                                     "festival", "choir"))


def test_a_second_topic_goes_into_the_configured_codebook_as_a_sub_theme(study):
    config, store = study
    _fit(config, store)
    Study(config, store).add_topic_to_codebook(_garden_topic(store), author="ana", theme_id="community_life")
    # the study now has its own codebook but study.toml does not use it yet: say so, write nothing
    with pytest.raises(ConfigError, match=r"codebook\.yaml already exists"):
        Study(config, store).add_topic_to_codebook(_garden_topic(store), author="ana")
    config = dataclasses.replace(config, coding=dataclasses.replace(config.coding, codebook=STUDY_CODEBOOK))
    other = next(t for t in store.table(s.TOPICS)[s.TOPIC] if t not in (s.OUTLIER_TOPIC, _garden_topic(store)))
    added = Study(config, store).add_topic_to_codebook(int(other), author="ana", as_="sub_theme",
                                                       parent="community_life", name="Who does what")
    book = load_codebook(config.root / STUDY_CODEBOOK)
    theme = book.themes[-1]
    assert theme.parent == "community_life" and theme.name == "Who does what" and added.parent == "community_life"
    assert theme.id == "who_does_what"  # the id follows the name given
    assert not added.copied_default and "as a sub-theme of community_life" in added.message()


def test_bad_requests_leave_the_codebook_as_it_was(study):
    config, store = study
    _fit(config, store)
    api = Study(config, store)
    path = config.root / STUDY_CODEBOOK
    with pytest.raises(InputDataError, match="no topic 99"):
        api.add_topic_to_codebook(99, author="ana")
    with pytest.raises(InputDataError, match="no topic -1"):
        api.add_topic_to_codebook(s.OUTLIER_TOPIC, author="ana")
    with pytest.raises(InputDataError, match="researcher's name"):
        api.add_topic_to_codebook(_garden_topic(store), author=" ")
    with pytest.raises(ConfigError, match="not a theme of the codebook"):
        api.add_topic_to_codebook(_garden_topic(store), author="ana", as_="sub_theme", parent="no_such_theme")
    with pytest.raises(ConfigError, match="'theme' or 'sub_theme'"):
        api.add_topic_to_codebook(_garden_topic(store), author="ana", as_="code")
    with pytest.raises(ConfigError, match="lower-case letters"):
        api.add_topic_to_codebook(_garden_topic(store), author="ana", theme_id="Community Life")
    assert not path.exists()


def test_draft_theme_ids_are_slugs_and_never_clash():
    row = {s.TOPIC: 3, s.TOPIC_LABEL: "Misdirected email", s.KEYWORDS: ["misdirected email"], s.REPRESENTATIVE: [],
           s.SIZE: 12}
    assert draft_theme(row, {}, existing=["misdirected_email"])["id"] == "misdirected_email_2"
    with pytest.raises(ConfigError, match="already has a theme"):
        draft_theme(row, {}, existing=["misdirected_email"], theme_id="misdirected_email")
    assert slug("Rurality & distance") == "rurality_distance"
