"""Curated practices: screening out what is not a practice, grouping near-duplicates, curating, and barrier to remedy.

The grouping and screening are measured on the sample study's good-practice candidates as a person read
them (``data/practice_labels.csv``: the practice each passage describes, or why it is not one). These
tests use TF-IDF vectors (no model); benchmarks/practices.py gives the figures with the cached embeddings.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from toolkit import schema as s
from toolkit.analysis.practices import load_practice_rules, propose_practices, screen_practice
from toolkit.errors import ConfigError, InputDataError


def test_screens_set_aside_hypotheticals_barriers_and_asides_and_keep_practices(labels):
    screens = [screen_practice(t) for t in labels["text"]]
    not_practice = labels["practice"] == "not"
    flagged = pd.Series([x is not None for x in screens])
    caught = int((flagged & not_practice).sum())
    assert caught / not_practice.sum() >= 0.8  # recall of "not a practice" (10 of 11 on the sample)
    assert caught / flagged.sum() >= 0.9  # a practice is almost never set aside
    by_reason = {(w.split(" ")[0]): r for w, r in zip(labels["why_not"], screens) if w}
    assert by_reason["hypothetical"] == "hypothetical" and by_reason["aside"] == "aside"


def test_near_duplicates_of_one_place_group_into_practices(labels):
    practices = labels[labels["practice"] != "not"].reset_index(drop=True)
    frame = practices.assign(segment_key=[f"k{i}" for i in range(len(practices))])
    out = propose_practices(frame).set_index("segment_key").loc[frame["segment_key"]]
    truth, found = list(practices["practice"]), list(out["proposal"])
    assert adjusted_rand_score(truth, found) > 0.6
    clinic = Counter(f for t, f in zip(truth, found) if t == "clinic")
    group, size = clinic.most_common(1)[0]
    assert size >= 20  # "the data clinic", said some 24 ways, is one practice
    assert out[out["proposal"] == group]["proposed_title"].iloc[0] == "Data clinic"
    assert set(out[out["proposal"] == group]["place"]) == {"Hollowmere"}  # a practice is one place's
    assert 8 <= len(set(found)) <= 24  # about the 16 practices read by hand, neither one lump nor one per passage


def test_the_same_passages_give_the_same_proposal_id(labels):
    frame = labels[labels["practice"] == "clinic"].assign(segment_key=lambda f: [f"c{i}" for i in range(len(f))])
    first = propose_practices(frame)
    again = propose_practices(frame.iloc[::-1])
    assert dict(zip(first["segment_key"], first["proposal"])) == dict(zip(again["segment_key"], again["proposal"]))


def test_screen_rules_are_data_and_bad_ones_are_refused(tmp_path):
    path = tmp_path / "practices.yaml"
    path.write_text("hypothetical: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hypothetical entry '\(unclosed' is not a valid pattern"):
        load_practice_rules(str(path))
    path.write_text("barrier: ['tea break']\n", encoding="utf-8")
    assert screen_practice("We sorted it over a tea break.", load_practice_rules(str(path))) == "barrier"


def test_a_researcher_adopts_a_proposal_and_it_leaves_the_proposals(study):
    proposals = study.practices()
    assert set(proposals["origin"]) == {"proposed"}
    ig = proposals[proposals["passages"].map(lambda p: "k5" in p)].iloc[0]
    group = study.save_practice(title="Same-day IG answers", author="ana", place="Fernmouth",
                                description="The ICB's IG lead answers practitioners' questions the same day.",
                                who_runs="ICB IG team", evidence="Practitioners stop waiting weeks.",
                                transferability="Needs an IG lead with protected time.", status="reviewed",
                                theme="ig_capacity_advice", passages=list(ig["passages"]))
    table = study.practices().set_index("group_id")
    curated = table.loc[group]
    assert (curated["origin"], curated["status"], curated["passages"]) == ("curated", "reviewed", ["k5"])
    assert curated["references"][0].startswith("FM01, Fernmouth")
    assert not any("k5" in p for p in table[table["origin"] == "proposed"]["passages"])
    study.save_practice(group_id=group, title="Same-day IG answers", author="bo", status="confirmed",
                        unlink=["k5"])
    again = study.practices().set_index("group_id").loc[group]
    assert (again["status"], again["author"], again["passages"]) == ("confirmed", "bo", [])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"title": " "}, "a practice needs a title"),
    ({"status": "great"}, "unknown practice status 'great'"),
    ({"theme": "trust"}, "theme 'trust' is not in the codebook"),
    ({"passages": ["nope"]}, "1 unknown segment key"),
    ({"passages": ["k1"], "unlink": ["k1"]}, "both linked and unlinked"),
    ({"place": "Brackenford, Atlantis"}, "'Atlantis' is not a place of the study.*Brackenford, Fernmouth"),
])
def test_bad_practices_are_refused_and_nothing_is_stored(study, kwargs, message):
    with pytest.raises(InputDataError, match=message):
        study.save_practice(**{"title": "A practice", "author": "ana", **kwargs})
    assert study.store.table(s.PRACTICE_GROUPS).empty and study.store.table(s.PRACTICES).empty


def test_a_barrier_in_one_place_sits_beside_the_other_places_remedies(study):
    study.save_practice(title="Weekly meeting", author="ana", place="Brackenford", theme="trust_relationships",
                        status="reviewed", passages=["k3"])
    table = study.barrier_remedies()
    trust = table[(table["theme"] == "trust_relationships") & (table["barrier_place"] == "Fernmouth")]
    row = trust.set_index("other_place").loc["Brackenford"]
    assert (row["barrier_people"], row["enabler_people"]) == (1, 1)
    assert row["practices"] == ["Weekly meeting"]
    assert row["enabler_quote"] == "We trust [PERSON_03] now, and we meet every week."
    assert trust["barrier_quote"].iloc[0] == "Nobody trusts the forms."
    systems = table[table["theme"] == "it_systems_access"]  # Brackenford's barrier: nobody else has an enabler
    assert systems["other_place"].isna().all() and systems["barrier_place"].tolist() == ["Brackenford"]


def test_a_place_with_practices_on_other_themes_offers_none_for_this_one():
    """Found by the privacy benchmark: a place whose practices were all on other themes broke every export
    (a list of no booleans selected no columns, then 'title' was missing)."""
    from toolkit.analysis.remedies import _practices

    practices = pd.DataFrame({s.GROUP_ID: ["g1", "g2"], s.TITLE: ["Data clinic", "Charter"],
                              s.PLACE: ["Ashgrove", "Bramcote"], "themes": [["ig_capacity_advice"], ["trust"]]})
    none_here = _practices(practices, "Cranley", {"ig_capacity_advice"})
    assert none_here.empty and list(none_here.columns) == list(practices.columns)
    assert _practices(practices, "Ashgrove", {"ig_capacity_advice"})[s.TITLE].tolist() == ["Data clinic"]
    assert _practices(practices, "Ashgrove", {"trust"}).empty
