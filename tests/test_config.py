"""study.toml: defaults, validation errors a researcher can act on."""

from __future__ import annotations

import pytest

from toolkit.config import StudyConfig, config_from_dict, find_study, load_config
from toolkit.errors import ConfigError


def write_config(tmp_path, text: str):
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_folder_without_config_gets_defaults(tmp_path):
    config = load_config(tmp_path)
    assert config == StudyConfig.default(tmp_path)
    assert config.store_url == f"sqlite:///{tmp_path.resolve()}/store/study.sqlite"
    assert config.key_path.name == "pseudonymisation_key.json"
    assert not config.key_path.is_relative_to(tmp_path.resolve())  # the key lives outside the study


def test_the_key_location_a_study_recorded_wins_over_the_default(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "key-location").write_text("/secure/keys/pilot.json\n", encoding="utf-8")
    assert str(load_config(tmp_path).key_path) == "/secure/keys/pilot.json"


def test_settings_are_read_and_paths_resolve_against_the_study(tmp_path):
    write_config(
        tmp_path,
        '[study]\nname = "Pilot"\nplaces = ["A", "B"]\nseed = 7\n'
        '[surveys]\nid_column = "Response ID"\nlikert_columns = ["Q1"]\n'
        '[pseudonymisation]\nkey_path = "../keys/k.json"\nallow = "Caldicott"\n'
        '[store]\npath = "db/x.sqlite"\n',
    )
    config = load_config(tmp_path / "study.toml")
    assert (config.name, config.places, config.seed) == ("Pilot", ("A", "B"), 7)
    assert config.surveys.id_column == "Response ID" and config.surveys.likert_columns == ("Q1",)
    assert config.pseudonymisation.allow == ("Caldicott",)
    assert config.key_path == (tmp_path / "../keys/k.json").resolve() or str(config.key_path).endswith("keys/k.json")
    assert config.store_url.endswith("db/x.sqlite")


def test_sample_study_config_loads():
    config = load_config("interviews")
    assert set(config.places) == {"Brackenford", "Fernmouth", "Hollowmere"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[study\nname = 1", r"study.toml: not valid TOML"),
        ("[stduy]\nname = 'x'", r"unknown section 'stduy'. Did you mean 'study'\?"),
        ("[study]\nnmae = 'x'", r"unknown setting 'study.nmae'. Did you mean 'study.name'\?"),
        ("[surveys]\nid_colum = 'ID'", r"unknown setting 'surveys.id_colum'. Did you mean 'surveys.id_column'\?"),
        ("[study]\nseed = 'forty'", r"study.seed must be a whole number, found 'forty'"),
        ("[study]\nseed = -1", r"study.seed must not be negative"),
        ("[study]\nplaces = [1, 2]", r"study.places must be a list of strings"),
        ("[pseudonymisation]\nenabled = 'yes'", r"pseudonymisation.enabled must be true or false"),
        ("[pseudonymisation]\nstyle = 'fancy'", r"pseudonymisation.style is 'fancy'; expected 'tag' or 'alias'"),
        ("ingest = 3", r"\[ingest\] must be a table of settings"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(tmp_path, text, message):
    write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_missing_study_folder_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError, match=r"does not exist. Create it with 'toolkit init"):
        find_study(tmp_path / "nope")


def test_fingerprint_changes_with_settings(tmp_path):
    a = load_config(tmp_path)
    write_config(tmp_path, "[study]\nseed = 1\n")
    b = load_config(tmp_path)
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == StudyConfig.default(tmp_path).fingerprint()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"reducer": "umapp"}, r"topics.reducer is 'umapp'; expected one of umap, pca, none. Did you mean 'umap'"),
        ({"clusterer": "dbscan"}, r"topics.clusterer is 'dbscan'; expected one of hdbscan, kmeans"),
        ({"theme_min_similarity": 2}, r"topics.theme_min_similarity is 2.0; it is a similarity between 0 and 1"),
        ({"representation": "llm"}, r"topics.representation is 'llm'"),
        ({"min_cluster_size": -3}, r"topics.min_cluster_size must not be negative"),
    ],
)
def test_topic_settings_are_checked_with_a_fix(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"topics": table}, root=tmp_path)


def test_each_stage_fingerprints_only_the_settings_it_reads(tmp_path):
    a = config_from_dict({}, root=tmp_path)
    b = config_from_dict({"topics": {"n_neighbors": 30}, "store": {"path": "elsewhere/x.sqlite"}}, root=tmp_path)
    for stage in ("ingest", "pseudonymise", "segment", "code"):
        assert a.settings_fingerprint(stage) == b.settings_fingerprint(stage), stage
    assert a.settings_fingerprint("topics") != b.settings_fingerprint("topics")
    c = config_from_dict({"pseudonymisation": {"known_names": ["Clem"]}}, root=tmp_path)
    assert a.settings_fingerprint("pseudonymise") != c.settings_fingerprint("pseudonymise")
    d = config_from_dict({"pseudonymisation": {"key_path": "/secure/k.json"}}, root=tmp_path)
    assert a.settings_fingerprint("pseudonymise") == d.settings_fingerprint("pseudonymise")  # where, not what


def test_an_old_setting_that_changed_meaning_says_what_to_write(tmp_path):
    with pytest.raises(ConfigError, match="coding.min_score is now coding.min_confidence"):
        config_from_dict({"coding": {"min_score": 0.45}}, root=tmp_path)


# --------------------------------------------------------------------------- [performance]
@pytest.mark.parametrize(("value", "expected"), [('"auto"', "auto"), ("1", 1), ("2", 2)])
def test_performance_workers_is_auto_or_a_number(tmp_path, value, expected):
    write_config(tmp_path, f"[performance]\nworkers = {value}\n")
    assert load_config(tmp_path).performance.workers == expected
    assert StudyConfig.default(tmp_path).performance.workers == "auto"


@pytest.mark.parametrize("value", ["0", "-1", '"all"', "true", "1.5", "[2]"])
def test_a_wrong_performance_workers_names_the_setting_and_the_choices(tmp_path, value):
    write_config(tmp_path, f"[performance]\nworkers = {value}\n")
    with pytest.raises(ConfigError, match=r'study.toml: performance.workers is .*; expected "auto" .*whole number '
                                          r"of processes from 1 \(1: no worker processes"):
        load_config(tmp_path)


def test_the_number_of_workers_reruns_no_stage(tmp_path):
    from toolkit.config import STAGE_SETTINGS

    one = load_config(write_config(tmp_path, "[performance]\nworkers = 1\n"))
    auto = StudyConfig.default(tmp_path)
    for stage in STAGE_SETTINGS:
        assert one.settings_fingerprint(stage) == auto.settings_fingerprint(stage), stage


def test_the_study_template_documents_the_workers_setting(tmp_path):
    from toolkit.config import init_study

    init_study(tmp_path / "new")
    text = (tmp_path / "new" / "study.toml").read_text(encoding="utf-8")
    assert '[performance]' in text and 'workers = "auto"' in text
    assert load_config(tmp_path / "new").performance.workers == "auto"
