"""The write model: one door for human work, the same checks whichever way it comes in."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.cli import main
from toolkit.codebook import load_codebook
from toolkit.config import load_config
from toolkit.errors import InputDataError
from toolkit.pipeline import run_study
from toolkit.review import ReviewContext, add_comment, add_summary, import_codings, record_decisions
from toolkit.review.context import context_for
from toolkit.store import Store

from tests.test_pipeline import make_study

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_study(tmp_path_factory.mktemp("review") / "study", "[pseudonymisation]\nknown_names = ['Asha Patel']\n")
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest", "segment"))
    return root, config, store


def context(store) -> ReviewContext:
    return ReviewContext(store=store, codebook=load_codebook(check_patterns=False))


def keys(store) -> list[str]:
    return store.segments_frame(evidence_only=True)[s.SEGMENT_KEY].tolist()


def test_a_misspelt_theme_is_refused_by_every_door(built, tmp_path, capsys):
    root, config, store = built
    before = len(store.table(s.HUMAN_CODINGS))
    with pytest.raises(InputDataError, match="theme 'trust_relatinships' is not in the codebook.*Did you mean "
                                             "'trust_relationships'"):
        record_decisions(context(store), keys(store)[:1], decision="add", coder="ana", theme="trust_relatinships",
                         polarity="barrier")
    text = store.segments_frame(evidence_only=True)[s.TEXT].iloc[0]
    pd.DataFrame({"text": [text], "theme": ["trust_relatinships"], "polarity": ["barrier"]}).to_csv(
        tmp_path / "ana.csv", index=False)
    assert main(["import-codings", str(tmp_path / "ana.csv"), str(root), "--coder", "ana"]) == 2
    assert "Did you mean 'trust_relationships'" in capsys.readouterr().err
    frame = pd.DataFrame({"segment_keys": [keys(store)[:1]], "theme": ["trust_relatinships"], "polarity": ["barrier"]})
    with pytest.raises(InputDataError, match="not in the codebook"):
        import_codings(context(store), frame, coder="nvivo", origin="project.qdpx", require_polarity=False)
    assert len(store.table(s.HUMAN_CODINGS)) == before


def test_a_capitalised_polarity_is_refused_with_its_fix(built):
    root, config, store = built
    with pytest.raises(InputDataError, match="unknown polarity 'Barrier'.*Write it as 'barrier'"):
        record_decisions(context(store), keys(store)[:1], decision="recode", coder="ana",
                         theme="trust_relationships", polarity="Barrier")


def test_one_bad_row_stores_nothing(built):
    root, config, store = built
    before = len(store.table(s.HUMAN_CODINGS))
    frame = pd.DataFrame({"segment_keys": [keys(store)[:1], keys(store)[1:2]],
                          "theme": ["trust_relationships", "nonsense_theme"], "polarity": ["barrier", "enabler"]})
    with pytest.raises(InputDataError):
        import_codings(context(store), frame, coder="ana", origin="ana.csv")
    assert len(store.table(s.HUMAN_CODINGS)) == before


def test_a_passage_longer_than_a_sentence_codes_every_segment_inside_it(built, tmp_path, capsys):
    root, config, store = built
    passage = "The two systems still do not talk to each other. Every match is done by hand."
    pd.DataFrame({"file": ["Northfold/n1.txt"], "text": [passage], "theme": ["data_quality_matching"],
                  "polarity": ["barrier"]}).to_csv(tmp_path / "bo.csv", index=False)
    assert main(["import-codings", str(tmp_path / "bo.csv"), str(root), "--coder", "bo"]) == 0
    assert "stored 2 coding(s) from 1 passage(s)" in capsys.readouterr().out
    human = store.table(s.HUMAN_CODINGS)
    assert sorted(human.loc[human[s.CODER] == "bo", s.TEXT]) == [
        "Every match is done by hand.", "The two systems still do not talk to each other."]


def test_a_passage_that_matches_nothing_is_reported(built, tmp_path, capsys):
    root, config, store = built
    pd.DataFrame({"text": ["Nobody said this anywhere."], "theme": ["leadership_commitment"],
                  "polarity": ["enabler"]}).to_csv(tmp_path / "cy.csv", index=False)
    assert main(["import-codings", str(tmp_path / "cy.csv"), str(root), "--coder", "cy"]) == 0
    out = capsys.readouterr().out
    assert "1 passage(s) matched no segment of the study and were not stored" in out
    assert "not placed: row 2: 'Nobody said this anywhere.'" in out


def test_free_text_is_pseudonymised_on_the_way_in(built, tmp_path, capsys):
    root, config, store = built
    note = "Asha Patel (asha.patel@example.org, 07700 900123) said this at the meeting."
    text = store.segments_frame(evidence_only=True)[s.TEXT].iloc[0]
    pd.DataFrame({"text": [text], "theme": ["trust_relationships"], "polarity": ["barrier"], "note": [note]}).to_csv(
        tmp_path / "notes.csv", index=False)
    assert main(["import-codings", str(tmp_path / "notes.csv"), str(root), "--coder", "di"]) == 0
    ctx = context_for(config, store)
    add_summary(ctx, row_dimension="place", row_value="Northfold", theme="trust_relationships",
                text="Asha Patel leads the hub; ring 07700 900123.", author="di", dimensions=("place",))
    add_comment(ctx, "Ask asha.patel@example.org", author="di", author_role="researcher")
    stored = " ".join(store.table(s.HUMAN_CODINGS)[s.NOTE].dropna()) + " ".join(store.table(s.SUMMARIES)[s.TEXT]) \
        + " ".join(store.table(s.COMMENTS)[s.TEXT])
    for value in ("Asha", "Patel", "asha.patel@example.org", "07700 900123"):
        assert value not in stored
    assert "[EMAIL" in stored and "[PHONE" in stored
