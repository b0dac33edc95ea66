"""The codebook: the default loads; every validation error names the file, the theme and the fix."""

from __future__ import annotations

import copy

import pytest
import yaml

from toolkit.codebook import codebook_from_dict, load_codebook, save_codebook
from toolkit.errors import ConfigError

THEMES = {
    "legal_basis_consent", "ig_capacity_advice", "confidentiality_caution", "trust_relationships",
    "leadership_commitment", "agreements_protocols", "it_systems_access", "data_quality_matching",
    "resources_capacity", "knowledge_training", "colocation_joint_teams", "benefit_to_families",
}


@pytest.fixture(scope="module")
def raw():
    book = load_codebook()
    return book.to_dict()


def test_default_codebook_has_the_domain_themes_with_examples():
    book = load_codebook()
    assert set(book.ids) == THEMES
    for theme in book.themes:
        for polarity in ("barrier", "enabler", "neutral"):
            assert len(theme.examples[polarity]) >= 3, (theme.id, polarity)
        assert theme.phrases and theme.token_patterns
    assert book.good_practice_cues


def test_round_trip(tmp_path):
    book = load_codebook()
    path = save_codebook(book, tmp_path / "codebook.yaml")
    again = load_codebook(path)
    assert again.to_dict() == book.to_dict() and again.fingerprint() == book.fingerprint()


def test_fingerprint_changes_with_a_definition(raw):
    changed = copy.deepcopy(raw)
    changed["themes"][0]["definition"] += " Also this."
    assert codebook_from_dict(changed).fingerprint() != codebook_from_dict(raw).fingerprint()


def mutate(raw, fn):
    data = copy.deepcopy(raw)
    fn(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("themes"), r"missing 'themes'"),
        (lambda d: d.update(themse=[]), r"unknown key 'themse'. Did you mean 'themes'\?"),
        (lambda d: d.update(themes=[]), r"'themes' must be a non-empty list"),
        (lambda d: d["themes"][1].update(id=d["themes"][0]["id"]), r"theme id 'legal_basis_consent' is used twice"),
        (lambda d: d["themes"][0].update(id="Legal Basis"), r"id 'Legal Basis' must be lower case"),
        (lambda d: d["themes"][2].update(definition=""), r"theme 'confidentiality_caution': 'definition' is missing or empty"),
        (lambda d: d["themes"][0].update(defintion="x"), r"unknown key 'defintion'. Did you mean 'definition'\?"),
        (lambda d: d["themes"][0]["examples"].update(barier=["x"]), r"unknown polarity 'barier'.*Did you mean 'barrier'\?"),
        (lambda d: d["themes"][3]["examples"].update(enabler=["only one"]), r"theme 'trust_relationships': examples.enabler has 1 sentence\(s\); give at least 2"),
        (lambda d: d["themes"][0]["patterns"].update(phrases="consent"), r"patterns.phrases must be a list"),
        (lambda d: d["themes"][4]["patterns"].update(tokens=[[{"LEMA": "lead"}]]), r"theme 'leadership_commitment', patterns.tokens\[0\]: not a valid spaCy token pattern"),
        (lambda d: d.update(polarities={"barrier": "", "enabler": ""}), r"'polarities' must define exactly barrier, enabler, neutral"),
    ],
)
def test_validation_errors(raw, change, message):
    with pytest.raises(ConfigError, match=message):
        codebook_from_dict(mutate(raw, change), where="codebook.yaml")


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\nthemes:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"codebook.yaml, line \d+: not valid YAML"):
        load_codebook(path)


def test_missing_codebook_file(tmp_path):
    with pytest.raises(ConfigError, match=r"No codebook at .*coding.codebook"):
        load_codebook(tmp_path / "nope.yaml")


def test_saved_yaml_is_readable_by_people(tmp_path):
    path = save_codebook(load_codebook(), tmp_path / "c.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["themes"][0]["id"] == "legal_basis_consent"
