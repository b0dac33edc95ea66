"""Case attributes: any extra manifest column, typed, stored with its source, as matrix rows and filters."""

from __future__ import annotations

import json

import pytest

from tests.test_pipeline import NO_PSEUDO, make_study
from toolkit import schema as s
from toolkit.analysis.cases import case_attributes, row_dimensions
from toolkit.config import load_config
from toolkit.errors import ConfigError, InputDataError
from toolkit.ingest.manifest import read_manifest
from toolkit.pipeline import run_study
from toolkit.store import Store


def _manifest(tmp_path, text: str):
    path = tmp_path / "manifest.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_columns_become_typed_case_attributes(tmp_path):
    path = _manifest(tmp_path, "file,place,setting,years_in_post,started,band:text\n"
                               "a.txt,North,rural,4,2019-04-01,7\n"
                               "b.txt,South,urban,12.5,01/09/2021,\n"
                               "c.txt,South,,,,8a\n")
    meta = read_manifest(path)
    assert meta["a.txt"].extra == {"setting": {"type": "text", "value": "rural"},
                                   "years_in_post": {"type": "number", "value": 4},
                                   "started": {"type": "date", "value": "2019-04-01"},
                                   "band": {"type": "text", "value": "7"}}  # declared text: a number stays text
    assert meta["b.txt"].extra["years_in_post"]["value"] == 12.5
    assert meta["b.txt"].extra["started"]["value"] == "2021-09-01"  # day first, stored as an ISO date
    assert "setting" not in meta["c.txt"].extra  # an empty cell is no value


@pytest.mark.parametrize(("manifest", "message"), [
    ("file,years:number\nx.txt,four\n", r"column 'years:number' is declared a number, but this cell is not one"),
    ("file,start:date\nx.txt,31/02/2024\n", r"column 'start:date' is declared a date"),
    ("file,size:colour\nx.txt,red\n", r"declares the unknown type 'colour'.*text, number, date"),
    ("file,1st visit\nx.txt,yes\n", r"column '1st visit' is not a usable attribute name"),
    ("file,role:text\nx.txt,lead\n", r"repeats the built-in column 'role'"),
    ("file,Area,area:text\nx.txt,a,b\n", r"two columns for the attribute 'area'"),
])
def test_bad_attribute_columns_are_refused_with_the_fix(tmp_path, manifest, message):
    with pytest.raises(InputDataError, match=message):
        read_manifest(_manifest(tmp_path, manifest))


def test_a_bad_cell_message_names_the_line_but_not_the_value(tmp_path):
    with pytest.raises(InputDataError) as caught:
        read_manifest(_manifest(tmp_path, "file,years:number\nx.txt,Asha Patel\n"))
    assert "line 2" in str(caught.value) and "Asha" not in str(caught.value)


def test_the_pipeline_stores_attributes_and_a_manifest_edit_reaches_the_store(tmp_path):
    root = make_study(tmp_path / "s", NO_PSEUDO)
    (root / "manifest.csv").write_text("file,participant_id,setting\nNorthfold/n1.txt,NF01,rural\n", encoding="utf-8")
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest",))
    row = store.table(s.SOURCES).set_index(s.PARTICIPANT_ID).loc["NF01"]
    assert case_attributes(row[s.ATTRIBUTES]) == {"setting": ("text", "rural")}
    (root / "manifest.csv").write_text("file,participant_id,setting,years:number\nNorthfold/n1.txt,NF01,urban,7\n",
                                       encoding="utf-8")
    report = run_study(load_config(root), store=store, stages=("ingest",))
    assert report.ingest.updated  # the file did not change; its manifest row did
    row = store.table(s.SOURCES).set_index(s.PARTICIPANT_ID).loc["NF01"]
    assert json.loads(row[s.ATTRIBUTES]) == {"setting": {"type": "text", "value": "urban"},
                                            "years": {"type": "number", "value": 7}}


def test_cases_carry_attributes_and_filter_by_them(study):
    cases = study.cases().set_index("participant")
    assert cases.at["BK01", "setting"] == "urban" and cases.at["FM01", "years_in_post"] == 12.5
    assert study.attribute_types() == {"setting": "text", "years_in_post": "number", "started": "date"}
    assert list(cases.loc["Fernmouth_R001", ["source_kind", "place"]]) == ["survey", "Fernmouth"]
    assert study.cases(setting="rural")["participant"].tolist() == ["FM01"]
    assert study.cases(years_in_post=(10, None))["participant"].tolist() == ["FM01"]
    assert study.row_dimensions()[-3:] == ("setting", "years_in_post", "started")
    with pytest.raises(ConfigError, match="No case attribute 'colour'"):
        study.cases(colour="red")


def test_an_attribute_is_a_matrix_row_and_narrows_the_cases(study):
    matrix = study.framework_matrix(rows="setting").set_index(["setting", "theme"])
    assert matrix.at[("urban", "agreements_protocols"), "interviewees"] == 1
    assert matrix.at[("rural", "ig_capacity_advice"), "enabler"] == 1
    assert matrix.at[("(not recorded)", "trust_relationships"), "survey_respondents"] == 1  # no attribute: kept
    by_years = study.framework_matrix(rows="years_in_post")
    assert list(dict.fromkeys(by_years["years_in_post"]))[:2] == ["3", "12.5"]  # numbers sort as numbers
    rural = study.framework_matrix(rows="participant", cases={"setting": "rural"})
    assert set(rural["participant"]) == {"FM01"}
    assert row_dimensions(None)[:3] == ("place", "organisation_type", "participant")


@pytest.mark.model
def test_manifest_values_are_pseudonymised_like_the_text(tmp_path):
    root = make_study(tmp_path / "s", "[pseudonymisation]\nknown_names = ['Asha Patel']\n")
    (root / "manifest.csv").write_text(
        "file,participant_id,role,organisation_type,team\n"
        "Northfold/n1.txt,NF01,Deputy to Asha Patel,GP practice,Asha Patel's team\n", encoding="utf-8")
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest",))
    row = store.table(s.SOURCES).set_index(s.PARTICIPANT_ID).loc["NF01"]
    assert "Asha" not in row[s.ROLE] and "[PERSON" in row[s.ROLE]
    assert row[s.ORGANISATION_TYPE] == "GP practice"  # nothing to replace: left as written
    team = case_attributes(row[s.ATTRIBUTES])["team"][1]
    assert "Asha" not in team and row[s.ROLE].split("to ")[1] in team  # the same person, the same pseudonym
