"""The codebook: the default is complete, patterns are checked by spaCy, saving round-trips,
the fingerprint follows the content, and every validation error names file, theme, field and fix."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import pytest
import yaml

from toolkit.codebook import (
    DEFAULT_CODEBOOK,
    Codebook,
    UnknownThemeError,
    codebook_from_dict,
    load_codebook,
    save_codebook,
)
from toolkit.errors import ConfigError

THEMES = (
    "legal_basis_consent",
    "ig_capacity_advice",
    "confidentiality_caution",
    "trust_relationships",
    "leadership_commitment",
    "agreements_protocols",
    "it_systems_access",
    "data_quality_matching",
    "resources_capacity",
    "knowledge_training",
    "colocation_joint_teams",
    "benefit_to_families",
)


@pytest.fixture(scope="module")
def book() -> Codebook:
    return load_codebook()


@pytest.fixture
def raw(book) -> dict:
    """The default codebook as plain data, fresh for each test to change."""
    return book.to_dict()


def write(tmp_path, data, name: str = "codebook.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_changed(tmp_path, raw, change):
    change(raw)
    return load_codebook(write(tmp_path, raw))


# --------------------------------------------------------------------------- the default codebook
def test_default_codebook_has_the_twelve_themes_with_examples_and_patterns(book):
    assert book.ids == THEMES
    assert book.version == "2026.1" and book.name and book.description
    assert set(book.polarities) == {"barrier", "enabler", "neutral"}
    assert book.path is not None and book.path.name == DEFAULT_CODEBOOK
    for theme in book.themes:
        assert theme.name and theme.definition and theme.include and theme.exclude, theme.id
        for polarity in ("barrier", "enabler", "neutral"):
            assert 4 <= len(theme.examples[polarity]) <= 6, (theme.id, polarity)
        assert 8 <= len(theme.phrases) <= 25, theme.id
        assert 3 <= len(theme.token_patterns) <= 10, theme.id
        assert all(p == p.lower() for p in theme.phrases), theme.id


def test_example_sentences_are_unique(book):
    sentences = book.examples_frame()["text"]
    assert not sentences[sentences.duplicated()].tolist()


def test_every_exclusion_points_to_another_existing_theme(book):
    for theme in book.themes:
        named = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", theme.exclude))
        assert named, f"{theme.id}: exclude names no theme to use instead"
        assert named <= set(book.ids) - {theme.id}, (theme.id, named - set(book.ids))


def test_no_phrase_belongs_to_two_themes(book):
    owners: dict[str, str] = {}
    for theme in book.themes:
        for phrase in theme.phrases:
            assert phrase not in owners, f"'{phrase}' is in {owners[phrase]} and {theme.id}"
            owners[phrase] = theme.id


def test_good_practice_cues_include_the_concrete_practices(book):
    for cue in ("we set up", "we introduced", "we created", "template", "protocol", "named lead", "panel",
                "clinic", "flowchart", "single point of contact", "huddle"):
        assert cue in book.good_practice_cues
    assert book.good_practice_definition


def test_frames(book):
    frame = book.to_frame()
    assert frame["theme_id"].tolist() == list(THEMES)
    assert {"name", "definition", "include", "exclude", "n_barrier", "n_enabler", "n_neutral", "phrases"} <= set(frame)
    examples = book.examples_frame()
    assert examples.columns.tolist() == ["theme_id", "polarity", "text"]
    assert len(examples) == sum(len(v) for t in book.themes for v in t.examples.values())
    assert set(examples["polarity"]) == {"barrier", "enabler", "neutral"}


def test_unknown_theme_lists_the_ids_and_is_a_key_error(book):
    with pytest.raises(KeyError):
        book.theme("trust")
    with pytest.raises(UnknownThemeError, match=r"no theme 'trust'\. Did you mean 'trust_relationships'\?.*Themes: legal_basis_consent, "):
        book.theme("trust")
    assert book.theme("trust_relationships").id == "trust_relationships"


# --------------------------------------------------------------------------- patterns
def _blank_matchers(book):
    spacy = pytest.importorskip("spacy")
    from spacy.matcher import Matcher, PhraseMatcher

    nlp = spacy.blank("en")
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    tokens = Matcher(nlp.vocab)
    for theme in book.themes:
        phrases.add(theme.id, [nlp.make_doc(p) for p in theme.phrases])
        usable = [p for p in theme.token_patterns if not any("LEMMA" in t for t in p)]
        if usable:
            tokens.add(theme.id, usable)
    return nlp, phrases, tokens


def test_every_phrase_matches_itself_in_a_sentence(book):
    nlp, phrases, _ = _blank_matchers(book)
    for theme in book.themes:
        for phrase in theme.phrases:
            doc = nlp(f"Well, {phrase.upper()} came up again.")
            found = {nlp.vocab.strings[m] for m, _, _ in phrases(doc)}
            assert theme.id in found, f"{theme.id}: phrase '{phrase}' cannot match (tokenised differently in a sentence)"


def test_no_theme_fires_on_most_sentences(book):
    """Patterns must be specific: no theme's patterns fire on a third of all the example sentences."""
    nlp, phrases, tokens = _blank_matchers(book)
    texts = book.examples_frame()["text"].tolist()
    fired = {t: 0 for t in book.ids}
    for doc in nlp.pipe(texts):
        for theme in {nlp.vocab.strings[m] for m, _, _ in list(phrases(doc)) + list(tokens(doc))}:
            fired[theme] += 1
    too_broad = {t: n for t, n in fired.items() if n > len(texts) / 3}
    assert not too_broad, too_broad
    off_topic = nlp("The weather was lovely on Tuesday and we went for a walk by the river.")
    assert not list(phrases(off_topic)) and not list(tokens(off_topic))


def test_token_patterns_are_validated_by_spacy(tmp_path, raw):
    change = lambda d: d["themes"][3]["patterns"].update(tokens=[[{"LEMMA": "trust"}], [{"LEMA": "trust"}]])
    with pytest.raises(
        ConfigError,
        match=r"^codebook\.yaml, theme 'trust_relationships', patterns\.tokens\[1\]: token 0: 'LEMA' is not a token "
        r"attribute spaCy knows\. Did you mean 'LEMMA'\?",
    ):
        load_changed(tmp_path, raw, change)


def test_bad_operator_is_explained(tmp_path, raw):
    change = lambda d: d["themes"][0]["patterns"].update(tokens=[[{"LOWER": "consent", "OP": "++"}]])
    with pytest.raises(ConfigError, match=r"theme 'legal_basis_consent', patterns\.tokens\[0\]: token 0, OP: found '\+\+'; use one of \?"):
        load_changed(tmp_path, raw, change)


MINIMAL = """\
version: "0.1"
name: Minimal
polarities: {barrier: Hinders., enabler: Helps., neutral: Neither.}
good_practice: {definition: Something a place did., cues: ["we set up"]}
themes:
  - id: data_quality_matching
    name: Data quality
    definition: Matching families across records.
    examples:
      barrier: ["We can't match the families.", "Half the NHS numbers are missing."]
      enabler: ["Tracing fixed the match rate.", "We match on NHS number first."]
    patterns:
      phrases: ["nhs number"]
      tokens: [[{LOWER: "nhs"}, {LOWER: "number"}]]
"""


def test_minimal_codebook_loads(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    book = load_codebook(path)
    assert book.ids == ("data_quality_matching",)
    assert book.description == "" and book.themes[0].include == ""


def test_bare_no_in_a_token_pattern_gets_the_quotes_hint(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(MINIMAL.replace('{LOWER: "number"}', "{LOWER: no}"), encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"^codebook\.yaml, theme 'data_quality_matching', patterns\.tokens\[0\]: token 1, LOWER: found False, "
        r"expected text\. YAML reads a bare yes/no",
    ):
        load_codebook(path)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ([[]], r"patterns\.tokens\[0\]: the pattern is empty"),
        (["nhs number"], r"patterns\.tokens\[0\]: found the text 'nhs number', not a token pattern\. Put plain terms under patterns\.phrases"),
        ([["nhs"]], r"patterns\.tokens\[0\], token 0: a token is a mapping of attributes"),
        ([[{"OP": "?"}, {"LOWER": "nhs", "OP": "?"}]], r"patterns\.tokens\[0\]: no token is required"),
        ([[{"OP": "*"}, {"LOWER": "consent"}]], r"patterns\.tokens\[0\]: the pattern starts with a bare wildcard"),
        ([[{"LOWER": "consent"}, {"OP": "+"}]], r"patterns\.tokens\[0\]: the pattern ends with a bare wildcard"),
        ("consent", r"patterns\.tokens must be a list of token patterns"),
    ],
)
def test_malformed_token_patterns(tmp_path, raw, tokens, message):
    with pytest.raises(ConfigError, match=r"codebook\.yaml, theme 'legal_basis_consent'(,|:) .*" + message):
        load_changed(tmp_path, raw, lambda d: d["themes"][0]["patterns"].update(tokens=tokens))


def test_attribute_names_are_read_in_any_case(tmp_path, raw):
    raw["themes"][0]["patterns"]["tokens"] = [[{"lemma": "share"}, {"lower": {"in": ["without"]}}]]
    theme = load_codebook(write(tmp_path, raw)).theme("legal_basis_consent")
    assert theme.token_patterns == ([{"LEMMA": "share"}, {"LOWER": {"IN": ["without"]}}],)


def test_importing_the_module_loads_no_spacy():
    code = "import sys, toolkit.codebook; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- save, load, fingerprint
def test_round_trip(tmp_path, book):
    path = save_codebook(book, tmp_path / "study" / "codebook.yaml")
    again = load_codebook(path)
    assert again == book
    assert again.fingerprint() == book.fingerprint()
    assert again.path == path
    assert [p.name for p in path.parent.iterdir()] == ["codebook.yaml"]  # no temporary file left behind


def test_saved_file_is_readable(tmp_path, book):
    text = save_codebook(book, tmp_path / "codebook.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Codebook ")
    assert book.fingerprint() in text
    assert "- [{LEMMA: {IN: [share, pass, disclose, send]}}, {IS_ALPHA: true, OP: '{0,3}'}, {LOWER: without}" in text
    assert "      phrases:\n        - legal basis\n        - lawful basis\n" in text
    assert max(len(line) for line in text.splitlines() if not line.lstrip().startswith(("- [", "#"))) < 140


def test_fingerprint_follows_content_not_location(tmp_path, raw, book):
    assert book.fingerprint().startswith("2026.1+")
    assert codebook_from_dict(copy.deepcopy(raw), source=tmp_path / "elsewhere.yaml").fingerprint() == book.fingerprint()
    changed = copy.deepcopy(raw)
    changed["themes"][0]["definition"] += " Also this."
    assert codebook_from_dict(changed).fingerprint() != book.fingerprint()
    reordered = copy.deepcopy(raw)
    reordered["themes"][1]["examples"]["enabler"].append("A new example sentence about IG advice.")
    assert codebook_from_dict(reordered).fingerprint() != book.fingerprint()


def test_a_codebook_without_neutral_examples_or_patterns_loads(tmp_path, raw):
    theme = raw["themes"][0]
    theme["examples"].pop("neutral")
    theme.pop("patterns")
    theme.pop("include")
    book = load_codebook(write(tmp_path, raw))
    assert book.themes[0].examples["neutral"] == ()
    assert book.themes[0].phrases == () and book.themes[0].token_patterns == ()
    assert load_codebook(save_codebook(book, tmp_path / "again.yaml")) == book


# --------------------------------------------------------------------------- validation errors
def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\nname: x\nthemes:\n  - id: [unclosed\n    name: y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^codebook\.yaml, line \d+, column \d+: not valid YAML"):
        load_codebook(path)


def test_tab_indentation_gets_a_hint(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\nthemes:\n\t- id: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"codebook\.yaml, line 3.*never tabs"):
        load_codebook(path)


def test_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\nname: a\nname: b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"codebook\.yaml, line 3.*duplicate key 'name' \(first given on line 2\)"):
        load_codebook(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^codebook\.yaml: not a codebook; expected a mapping .* found an empty file"),
        ("- a\n- b\n", r"^codebook\.yaml: not a codebook; .* found a list"),
        ("just some words\n", r"^codebook\.yaml: not a codebook; .* found the text 'just some words'"),
    ],
)
def test_not_a_codebook(tmp_path, text, message):
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_codebook(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"No codebook at .*nope\.yaml\. Fix coding\.codebook in study\.toml"):
        load_codebook(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"is a folder, not a codebook"):
        load_codebook(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"codebook\.yaml: not UTF-8 text"):
        load_codebook(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("themes"), r"^codebook\.yaml: missing top-level key themes\. A codebook needs name, themes"),
        (lambda d: [d.pop("themes"), d.pop("name")], r"missing top-level keys name, themes\."),
        (lambda d: d.update(themse=[]), r"^codebook\.yaml: unknown top-level key 'themse'\. Did you mean 'themes'\?"),
        (lambda d: d.update(themes={"a": 1}), r"^codebook\.yaml: themes must be a list of themes.*found a mapping"),
        (lambda d: d.update(themes=[]), r"themes must be a list of themes.*found an empty list"),
        (lambda d: d.update(version=2026.1), r"version must be text, found 2026\.1; put it in quotes"),
        (lambda d: d["polarities"].pop("neutral"), r"polarities lacks neutral\. Define all three"),
        (lambda d: d["polarities"].update(mixed="x"), r"polarities has an unknown polarity 'mixed'"),
        (lambda d: d["good_practice"].update(cues="we set up"), r"good_practice\.cues must be a list, found the text 'we set up'"),
        (lambda d: d["themes"][1].update(id=d["themes"][0]["id"]), r"^codebook\.yaml, theme 2: id 'legal_basis_consent' is already used by theme 1"),
        (lambda d: d["themes"][0].update(id="Legal Basis"), r"theme 'Legal Basis': id 'Legal Basis' must be lower-case .*; try 'legal_basis'"),
        (lambda d: d["themes"][2].pop("id"), r"^codebook\.yaml, theme 3: id is missing\. Every theme needs id, name and definition"),
        (lambda d: d["themes"][2].update(definition=""), r"^codebook\.yaml, theme 'confidentiality_caution': definition is empty"),
        (lambda d: d["themes"][2].update(name=None), r"theme 'confidentiality_caution': name is empty"),
        (lambda d: d["themes"][2].update(include=["a"]), r"theme 'confidentiality_caution': include must be text, found a list"),
        (lambda d: d["themes"][0].update(defintion="x"), r"theme 'legal_basis_consent': unknown key 'defintion'\. Did you mean 'definition'\?"),
        (lambda d: d["themes"][0]["examples"].update(barier=["x"]), r"theme 'legal_basis_consent': examples has an unknown polarity 'barier'\. Did you mean 'barrier'\?"),
        (lambda d: d["themes"][3]["examples"].update(enabler=["only one"]), r"theme 'trust_relationships': examples\.enabler has 1 sentence; give at least 2"),
        (lambda d: d["themes"][3]["examples"].pop("barrier"), r"theme 'trust_relationships': examples\.barrier has 0 sentences"),
        (lambda d: d["themes"][3]["examples"].update(barrier="They don't trust us."), r"examples\.barrier must be a list, found the text"),
        (lambda d: d["themes"][3]["examples"]["neutral"].append(""), r"theme 'trust_relationships', examples\.neutral\[5\]: is empty"),
        (lambda d: d["themes"][0]["patterns"].update(phrases="consent"), r"theme 'legal_basis_consent': patterns\.phrases must be a list, found the text 'consent'"),
        (lambda d: d["themes"][0]["patterns"]["phrases"].append(111), r"patterns\.phrases\[25\]: found 111, expected text\. Put it in quotes"),
        (lambda d: d["themes"][0]["patterns"]["phrases"].append(False), r"patterns\.phrases\[25\]: found False, expected text\. YAML reads a bare"),
        (lambda d: d["themes"][0]["patterns"]["phrases"].append("Consent"), r"patterns\.phrases\[25\]: 'consent' is listed twice"),
        (lambda d: d["themes"][0]["patterns"].update(token=[]), r"patterns has an unknown key 'token'\. Did you mean 'tokens'\?"),
        (lambda d: d["themes"][0].update(patterns=["consent"]), r"patterns must be a mapping with phrases .* found a list"),
    ],
)
def test_validation_errors(tmp_path, raw, change, message):
    with pytest.raises(ConfigError, match=message):
        load_changed(tmp_path, raw, change)


def test_errors_name_the_study_codebook_file(tmp_path, raw):
    raw["themes"][0]["examples"]["barrier"] = ["one"]
    with pytest.raises(ConfigError, match=r"^placeB_codebook\.yaml, theme 'legal_basis_consent'"):
        load_codebook(write(tmp_path, raw, "placeB_codebook.yaml"))


def test_gold_set_is_well_formed():
    import pandas as pd

    from tests.conftest import REPO

    gold = pd.read_csv(REPO / "tests" / "data" / "gold" / "gold_segments.csv", dtype=str, keep_default_na=False)
    assert len(gold) >= 300
    assert set(gold["theme"]) <= set(THEMES) | {"none"}
    assert set(gold["secondary_theme"]) <= set(THEMES) | {""}
    assert set(gold["polarity"]) <= {"barrier", "enabler", "neutral"}
    assert set(gold["place"]) == {"Brackenford", "Fernmouth", "Hollowmere"}
    assert gold["id"].is_unique


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ([[{"LOWER": {"INN": ["share"]}}]], r"token 0, LOWER: 'INN' is not a condition spaCy knows\. Did you mean 'IN'\?"),
        ([[{"LOWER": {"IN": "share"}}]], r"token 0, LOWER: found \{'IN': 'share'\}; IN and NOT_IN need a list"),
        ([[{"LOWER": "nhs"}, {"IS_ALPHA": "yes"}]], r"token 1, IS_ALPHA: found 'yes'; expected true or false"),
        ([[{"LENGTH": "long"}]], r"token 0, LENGTH: found 'long', expected a number"),
        ([[{"LOWER": "consent"}, {"LEMMMA": "share"}]], r"token 1: 'LEMMMA' is not a token attribute spaCy knows\. Did you mean 'LEMMA'\?"),
    ],
)
def test_pattern_errors_come_from_the_schema_structure(tmp_path, raw, tokens, message):
    """Read from pydantic's structured report (location, kind, value), not from spaCy's message text."""
    with pytest.raises(ConfigError, match=r"^codebook\.yaml, theme 'legal_basis_consent', patterns\.tokens\[0\]: " + message):
        load_changed(tmp_path, raw, lambda d: d["themes"][0]["patterns"].update(tokens=tokens))


def test_no_regex_reads_spacy_messages():
    import inspect

    import toolkit.codebook as cb

    assert not hasattr(cb, "_explain_spacy_error")
    assert "MatchPatternError" not in inspect.getsource(cb)


OWN = """\
name: A team's own codebook
polarity: false
themes:
  - id: access
    name: Access to care
    definition: Getting an appointment, travel, waiting.
  - id: waiting
    name: Waiting times
    definition: How long people wait to be seen.
    parent: access
  - id: cost
    name: Cost
    definition: Money spent on care.
"""


def test_a_codebook_of_names_and_definitions_loads(tmp_path):
    """No version, polarities, examples, patterns or good practice: a team's own codebook as it comes."""
    path = tmp_path / "own.yaml"
    path.write_text(OWN, encoding="utf-8")
    book = load_codebook(path)
    assert book.ids == ("access", "waiting", "cost")
    assert book.uses_polarity is False
    assert book.parent_of("waiting") == "access" and book.top_level("waiting") == "access"
    assert book.examples_frame().empty
    assert load_codebook(save_codebook(book, tmp_path / "again.yaml")) == book


def test_a_parent_must_be_a_theme(tmp_path):
    path = tmp_path / "own.yaml"
    path.write_text(OWN.replace("parent: access", "parent: acess"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^own\.yaml, theme 'waiting': parent 'acess' is not another theme.*Did you mean 'access'\?"):
        load_codebook(path)


def test_theme_fingerprints_change_only_for_the_edited_theme(tmp_path):
    path = tmp_path / "own.yaml"
    path.write_text(OWN, encoding="utf-8")
    before = load_codebook(path)
    path.write_text(OWN.replace("Money spent on care.", "Money people spend on care and travel."), encoding="utf-8")
    after = load_codebook(path)
    assert before.theme_fingerprint("cost") != after.theme_fingerprint("cost")
    assert before.theme_fingerprint("access") == after.theme_fingerprint("access")
