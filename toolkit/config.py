"""The study configuration: ``study.toml`` read once into frozen dataclasses.

A study is a folder holding ``study.toml``, one sub-folder of raw material per
place, an optional ``manifest.csv`` and, once ingested, the project store. Paths in
``study.toml`` are relative to the folder that holds it. Unknown keys and wrong
types are refused at load time with a message that names the key and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.schema import IDENTIFIER_KINDS

CONFIG_NAME = "study.toml"
KEY_LOCATION = "store/key-location"
"""Where a study records the path of its pseudonymisation key (the key itself lives elsewhere)."""
DEFAULT_STUDY = "interviews"


@dataclass(frozen=True)
class IngestOptions:
    """``[ingest]``: which files are read and how speakers are recognised."""

    exclude: tuple[str, ...] = ("store/*", "private/*", "exports/*", "*.md", "*.toml", "~$*", ".*")
    """Glob patterns (relative to the study folder) of files never ingested."""
    encoding: str = ""
    """Force one text encoding for every transcript; empty means detect per file."""
    interviewer_labels: tuple[str, ...] = ()
    """Extra speaker labels that mean 'interviewer' (added to the built-in ones)."""
    interviewers: tuple[str, ...] = ()
    """Names of the study's interviewers, as they appear as speakers."""


@dataclass(frozen=True)
class SurveyOptions:
    """``[surveys]``: overrides for how survey columns are read.

    Column names are matched case-insensitively against the header text; with
    multi-row headers (Qualtrics, SurveyMonkey) any header row may be named.
    """

    sheet: str = ""
    header_rows: int = 0
    """Number of header rows; 0 means detect (Qualtrics 3, SurveyMonkey 2, others 1)."""
    id_column: str = ""
    place_column: str = ""
    role_column: str = ""
    organisation_column: str = ""
    likert_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()
    metadata_columns: tuple[str, ...] = ()
    ignore_columns: tuple[str, ...] = ()
    personal_columns: tuple[str, ...] = ()
    """Columns that identify a person (beyond detected email/name columns): never stored."""


@dataclass(frozen=True)
class PseudonymisationOptions:
    """``[pseudonymisation]``: what is replaced, how, and where the key lives."""

    enabled: bool = True
    style: str = "tag"
    """``tag`` gives ``[PERSON_07]``; ``alias`` gives readable aliases (``Person 7``)."""
    key_path: str = ""
    """Where the key (original -> pseudonym) is written. Empty (the default): a private folder of
    yours outside the study (``~/.local/share/toolkit/keys/...``), recorded in ``store/key-location``
    on the first run so the study finds it again wherever it moves. Keep it apart from the data."""
    known_names: tuple[str, ...] = ()
    """Names of people in the study, always replaced (speakers, staff, families)."""
    allow: tuple[str, ...] = ()
    """Words never replaced, even when they look like names (e.g. 'Caldicott')."""
    deny: tuple[str, ...] = ()
    """Words always replaced wherever they appear."""
    replace_organisations: bool = False
    """Replace names of organisations and places (kept by default: the analysis is by place)."""
    organisations: tuple[str, ...] = ()
    """Organisation and place names of the study, replaced only if replace_organisations."""
    entities: tuple[str, ...] = IDENTIFIER_KINDS
    ner_model: str = ""
    """spaCy pipeline for names; empty picks en_core_web_sm, else its packaged re-upload."""


@dataclass(frozen=True)
class CodingOptions:
    """``[coding]``: the codebook and the machine coder's settings."""

    codebook: str = ""
    """Path of the study's codebook (YAML); empty uses the toolkit's default codebook."""
    embedder: str = "minilm-int8"
    """Sentence embedder: ``minilm`` (all-MiniLM-L6-v2), ``minilm-int8`` (the same, ONNX int8: ~2.5x faster, about
    the same coding), ``static`` (distilled from it: ~100x faster, clearly weaker coding) or ``e5``
    (multilingual-e5-small: better on polarity and on text that is not English, 2-3x slower). See toolkit/embed.py."""
    min_confidence: float = 0.35
    """Calibrated probability a theme needs before the machine codes it; below it, the coder abstains."""
    max_themes: int = 2
    """At most this many themes per segment."""
    second_ratio: float = 0.6
    """A second theme is coded when its probability is at least this share of the first's."""
    context_weight: float = 0.3
    """How much the sentence before a unit counts when a unit is read in context."""
    prompt_weight: float = 1.0
    """How much the question a unit answers ("What gets in the way?") leans its polarity."""
    cue_weight: float = 1.0
    """How strongly each polarity cue shifts the polarity model's odds."""
    similarity_weight: float = 0.5
    """How much similarity to a theme's definition and examples counts beside the trained model."""
    follow_on_weight: float = 0.8
    """How much a short follow-on ("That makes it easy.") takes from the claim it completes."""
    pattern_weight: float = 0.15
    """How much a codebook pattern supports a theme the model already ranks among its first three."""
    min_words: int = 4
    """Sentences shorter than this are joined to a neighbour when segmenting."""


@dataclass(frozen=True)
class TopicOptions:
    """``[topics]``: the inductive topic model (BERTopic's pipeline), set beside the codebook."""

    enabled: bool = True
    """Run the topics stage in ``toolkit run``."""
    seed_with_codebook: bool = False
    """Seed segments close to a codebook theme into that theme's topic. Off by default: the topics are
    inductive and the codebook is shown beside them (nearest theme, the theme a topic restates)."""
    theme_min_similarity: float = 0.6
    """With ``seed_with_codebook``: how close (cosine) a segment must be to a theme's prototype to be seeded."""
    new_theme_threshold: float = 0.5
    """No longer used (an absolute cosine almost never fires within one domain); candidate new themes are
    judged relative to the study: see the ``candidate_*`` settings. Kept so older study files load."""
    candidate_uncoded_share: float = 0.5
    """A topic whose segments are mostly uncoded (at least this share) ..."""
    candidate_uncoded_z: float = 2.0
    """... and clearly more so than the study's segments (a z-score of proportions) is a candidate new theme."""
    candidate_max_affinity: float = 0.5
    """So is a topic no theme stands out for: its best theme's affinity (its segments' mean similarity to the
    theme, in standard deviations above the study's average) is under this."""
    restate_share: float = 0.5
    """A topic whose segments are coded with one theme at least this often restates that theme."""
    structure_rules: str = ""
    """A file of structure rules (introductions, logistics, times, ...: never topics or keywords); empty uses
    the toolkit's ``toolkit/rules/topic_structure.yaml``."""
    stability_seeds: int = 3
    """Fit the clustering again with this many other seeds to report each topic's stability (0: off)."""
    stability_sample: int = 2500
    """At most this many segments are clustered again per stability seed (a random subset; keeps big studies fast)."""
    reducer: str = "umap"
    """``umap``, ``pca`` or ``none``."""
    n_components: int = 5
    n_neighbors: int = 15
    clusterer: str = "hdbscan"
    """``hdbscan`` (finds the number of topics) or ``kmeans`` (``n_clusters`` topics)."""
    min_cluster_size: int = 0
    """Smallest topic; 0 picks about one segment in 100 (at least 8, at most 30)."""
    n_clusters: int = 0
    """For ``kmeans``; 0 picks one from the corpus size."""
    outliers: str = "reduce"
    """``reduce``: segments left out join a topic they are close to; ``keep``: they stay in topic -1."""
    outlier_threshold: float = 0.35
    top_n_words: int = 10
    phrases: str = "nouns"
    """Keyphrase candidates: ``nouns`` (noun phrases of the text, spaCy's tagger) or ``words`` (runs of
    content words between stop words; no model)."""
    representation: str = "keybert"
    """Keyphrase ranking: ``keybert`` (c-TF-IDF candidates re-ranked by similarity to the topic's embedding,
    diverse) or ``ctfidf`` (c-TF-IDF order)."""
    stopwords: str = ""
    """A file of words left out of topic keywords (one per line); empty uses the toolkit's list."""
    edit_match: float = 0.5
    """Overlap (Jaccard) a researcher's topic edit needs with a new topic to be replayed on it."""
    refit_growth: float = 0.2
    """New segments join the fitted topics until this share of the study (added + removed segments over the
    segments of the last full fit) changed; then the topics are fitted again (``toolkit topics --refit``: now)."""
    refit_outlier_share: float = 0.4
    """... or until more than this share of a run's new content segments is close to no topic."""


@dataclass(frozen=True)
class PerformanceOptions:
    """``[performance]``: how the work is spread over the machine. It never changes a result, so no stage
    runs again when it changes."""

    workers: int | str = "auto"
    """Worker processes for the spaCy passes of pseudonymisation and segmentation: ``"auto"`` (one per usable
    CPU, at most 4, for studies of more than about 200,000 characters) or a number; 1 does everything in one
    process (see :mod:`toolkit.nlp_workers`)."""


@dataclass(frozen=True)
class StoreOptions:
    """``[store]``: where the project store lives."""

    path: str = "store/study.sqlite"
    url: str = ""
    """An SQLAlchemy URL (e.g. ``postgresql://host/db``) used instead of ``path``."""


@dataclass(frozen=True)
class StudyConfig:
    """A study's configuration, validated.

    Load it with :func:`load_config`; build one in code with :meth:`default`.
    """

    root: Path
    name: str = "Untitled study"
    description: str = ""
    places: tuple[str, ...] = ()
    """Place folders to read; empty means every sub-folder holding raw files."""
    manifest: str = "manifest.csv"
    seed: int = 42
    ingest: IngestOptions = field(default_factory=IngestOptions)
    surveys: SurveyOptions = field(default_factory=SurveyOptions)
    pseudonymisation: PseudonymisationOptions = field(default_factory=PseudonymisationOptions)
    store: StoreOptions = field(default_factory=StoreOptions)
    coding: CodingOptions = field(default_factory=CodingOptions)
    topics: TopicOptions = field(default_factory=TopicOptions)
    performance: PerformanceOptions = field(default_factory=PerformanceOptions)

    @classmethod
    def default(cls, root: str | Path) -> StudyConfig:
        """A configuration with every default, for a folder without ``study.toml``."""
        return cls(root=Path(root).resolve())

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def resolve(self, relative: str) -> Path:
        """A path from the config, resolved against the study folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def store_url(self) -> str:
        if self.store.url:
            return self.store.url
        return f"sqlite:///{self.resolve(self.store.path)}"

    @property
    def key_path(self) -> Path:
        """Where the pseudonymisation key is: the setting, else where the study recorded it, else the default home."""
        if self.pseudonymisation.key_path:
            return self.resolve(self.pseudonymisation.key_path)
        recorded = self.root / KEY_LOCATION
        if recorded.is_file():
            text = recorded.read_text(encoding="utf-8").strip()
            if text:
                return Path(text)
        from toolkit.pseudonymise.keyfile import default_key_path

        return default_key_path(self.root, self.name)

    @property
    def key_location_file(self) -> Path:
        """The file where a study records where its key lives (when ``key_path`` is not set)."""
        return self.root / KEY_LOCATION

    def fingerprint(self, *, exclude: tuple[str, ...] = ()) -> str:
        """A short hash of every setting (but the sections in ``exclude``)."""
        data = dataclasses.asdict(self)
        data.pop("root")
        data.pop("extra", None)
        for name in exclude:
            data.pop(name, None)
        return _digest(data)

    def settings_fingerprint(self, stage: str, *extra: object) -> str:
        """A short hash of exactly the settings one stage reads (:data:`STAGE_SETTINGS`), plus ``extra``.

        Recorded with each of the stage's runs, so the stage runs again when, and only when,
        something it reads changed: adding a name to ``[pseudonymisation] known_names``
        re-pseudonymises every source; moving the store or changing a topic setting does not.

        Examples
        --------
        >>> a = StudyConfig.default(".")
        >>> b = dataclasses.replace(a, topics=dataclasses.replace(a.topics, top_n_words=5))
        >>> a.settings_fingerprint("code") == b.settings_fingerprint("code")
        True
        >>> a.settings_fingerprint("topics") == b.settings_fingerprint("topics")
        False
        """
        data = dataclasses.asdict(self)
        picked: dict[str, Any] = {}
        for key in STAGE_SETTINGS[stage]:
            section, _, name = key.partition(".")
            value = data[section]
            picked[key] = value[name] if name else value
        for key in STAGE_IGNORES.get(stage, ()):
            section, _, name = key.partition(".")
            if isinstance(picked.get(section), dict):
                picked[section] = {k: v for k, v in picked[section].items() if k != name}
        return _digest({"stage": stage, "settings": picked, "extra": [str(x) for x in extra]})


STAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": ("places", "manifest", "ingest", "surveys"),
    "pseudonymise": ("pseudonymisation", "ingest.interviewers"),
    "segment": ("coding.min_words",),
    "code": ("seed", "coding"),
    "topics": ("seed", "topics"),
}
"""The settings each stage reads: its fingerprint covers these and nothing else."""
STAGE_IGNORES: dict[str, tuple[str, ...]] = {
    "pseudonymise": ("pseudonymisation.key_path",),
    "code": ("coding.min_words",),
    "topics": ("topics.refit_growth", "topics.refit_outlier_share"),  # when to refit, not what a fit gives
}
"""Settings inside those sections that do not change the stage's output (where the key file lives)."""


def _digest(data: Any) -> str:
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


_SECTIONS: dict[str, type] = {
    "ingest": IngestOptions,
    "surveys": SurveyOptions,
    "pseudonymisation": PseudonymisationOptions,
    "store": StoreOptions,
    "coding": CodingOptions,
    "topics": TopicOptions,
    "performance": PerformanceOptions,
}
_STUDY_KEYS = ("name", "description", "places", "manifest", "seed")


MANIFEST_HEADER = "file,participant_id,place,organisation_type,sector,role,interview_date,interviewer\n"


def init_study(folder: str | Path) -> Path:
    """Create a study folder: a commented ``study.toml``, an empty ``manifest.csv`` and a ``.gitignore``.

    Returns the path of ``study.toml``. Refuses a folder that already has one.

    Examples
    --------
    >>> init_study(tmp_path / "my_study")  # doctest: +SKIP
    PosixPath('.../my_study/study.toml')
    """
    from importlib import resources

    target = Path(folder)
    config = target / CONFIG_NAME
    if config.exists():
        raise ConfigError(f"{config} already exists. Edit it, or choose another folder.")
    target.mkdir(parents=True, exist_ok=True)
    template = resources.files("toolkit.templates").joinpath("study.toml").read_text(encoding="utf-8")
    config.write_text(template.replace("{name}", target.resolve().name), encoding="utf-8")
    manifest = target / "manifest.csv"
    if not manifest.exists():
        manifest.write_text(MANIFEST_HEADER, encoding="utf-8")
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# never commit the store or the pseudonymisation key\nstore/\nprivate/\n", encoding="utf-8")
    return config


def find_study(path: str | Path | None = None) -> Path:
    """The study folder for ``path``: the folder itself, or the folder of a ``study.toml``.

    ``None`` means the study named by the ``TOOLKIT_STUDY`` environment variable, else
    the current folder when it holds a ``study.toml``. There is no silent fallback to the
    sample study: a researcher who forgets to name their study is told so, rather than
    given the sample's figures.
    """
    if path is None:
        import os

        if os.environ.get("TOOLKIT_STUDY"):
            return find_study(os.environ["TOOLKIT_STUDY"])
        here = Path.cwd()
        if (here / CONFIG_NAME).is_file():
            return here.resolve()
        raise ConfigError(
            f"No study given, and the current folder ({here}) holds no {CONFIG_NAME}. Name the study folder "
            f"(e.g. 'toolkit run {DEFAULT_STUDY}' for the sample study), set TOOLKIT_STUDY, or create a study "
            "with 'toolkit init PATH'."
        )
    path = Path(path).expanduser()
    if path.is_file() and path.name == CONFIG_NAME:
        return path.parent.resolve()
    if not path.exists():
        raise ConfigError(f"Study folder '{path}' does not exist. Create it with 'toolkit init {path}'.")
    if not path.is_dir():
        raise ConfigError(f"'{path}' is a file, not a study folder. Pass the folder that holds {CONFIG_NAME}.")
    return path.resolve()


def load_config(study: str | Path | None = None) -> StudyConfig:
    """Read and validate a study's ``study.toml``.

    A folder without ``study.toml`` gets the defaults, so a folder of transcripts
    can be ingested as it is.

    Examples
    --------
    >>> cfg = load_config("interviews")  # doctest: +SKIP
    >>> cfg.store_url  # doctest: +SKIP
    'sqlite:////.../interviews/store/study.sqlite'
    """
    root = find_study(study)
    path = root / CONFIG_NAME
    if not path.exists():
        return StudyConfig.default(root)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the line it names.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text. Save it again as UTF-8.") from None
    return config_from_dict(data, root=root, source=path)


def config_from_dict(data: dict[str, Any], *, root: str | Path, source: str | Path = CONFIG_NAME) -> StudyConfig:
    """Validate a parsed ``study.toml`` (a dict) into a :class:`StudyConfig`."""
    root = Path(root).resolve()
    known = ("study", *_SECTIONS)
    for key in data:
        if key not in known:
            raise ConfigError(_unknown(source, key, known, "section"))
    study = data.get("study", {})
    if not isinstance(study, dict):
        raise ConfigError(f"{source}: [study] must be a table of settings.")
    for key in study:
        if key not in _STUDY_KEYS:
            raise ConfigError(_unknown(source, f"study.{key}", [f"study.{k}" for k in _STUDY_KEYS], "setting"))
    defaults = StudyConfig.default(root)
    kwargs: dict[str, Any] = {"root": root}
    for key in _STUDY_KEYS:
        if key in study:
            kwargs[key] = _check(source, f"study.{key}", study[key], getattr(defaults, key))
    for name, cls in _SECTIONS.items():
        kwargs[name] = _build_section(source, name, cls, data.get(name, {}))
    config = StudyConfig(**kwargs)
    _choice(source, "topics.reducer", config.topics.reducer, ("umap", "pca", "none"))
    _choice(source, "topics.clusterer", config.topics.clusterer, ("hdbscan", "kmeans"))
    _choice(source, "topics.outliers", config.topics.outliers, ("reduce", "keep"))
    _choice(source, "topics.representation", config.topics.representation, ("ctfidf", "keybert"))
    _choice(source, "topics.phrases", config.topics.phrases, ("nouns", "words"))
    for key in ("theme_min_similarity", "new_theme_threshold", "outlier_threshold", "edit_match",
                "candidate_uncoded_share", "restate_share", "refit_growth", "refit_outlier_share"):
        value = getattr(config.topics, key)
        if not 0.0 <= value <= 1.0:
            what = "a similarity" if key in ("theme_min_similarity", "new_theme_threshold", "outlier_threshold",
                                             "edit_match") else "a share"
            raise ConfigError(f"{source}: topics.{key} is {value}; it is {what} between 0 and 1.")
    if not 0 <= config.topics.stability_seeds <= 20 or config.topics.stability_sample < 50:
        raise ConfigError(f"{source}: topics.stability_seeds is {config.topics.stability_seeds} and stability_sample "
                          f"{config.topics.stability_sample}; use 0-20 seeds (0: off) and a sample of at least 50.")
    _choice(source, "coding.embedder", config.coding.embedder, ("minilm", "minilm-int8", "static", "e5"))
    if not 0.0 <= config.coding.min_confidence <= 1.0:
        raise ConfigError(f"{source}: coding.min_confidence is {config.coding.min_confidence}; it is a probability "
                          "between 0 and 1.")
    if config.pseudonymisation.style not in ("tag", "alias"):
        raise ConfigError(
            f"{source}: pseudonymisation.style is '{config.pseudonymisation.style}'; expected 'tag' or 'alias'."
        )
    return config


def _choice(source, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"{source}: {key} is '{value}'; expected one of {', '.join(allowed)}.{hint}")


RENAMED = {"coding.min_score": (
    "coding.min_confidence",
    "it is now a calibrated probability (0.35 by default), not a similarity score: replace the line with "
    "min_confidence = 0.35, or delete it to use the default",
)}
"""Settings of earlier releases that changed meaning: refused with what to write instead."""


def _build_section(source: str | Path, name: str, cls: type, table: Any) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table of settings, found {type(table).__name__}.")
    for key in table:
        if f"{name}.{key}" in RENAMED:
            new, why = RENAMED[f"{name}.{key}"]
            raise ConfigError(f"{source}: {name}.{key} is now {new}; {why}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    kwargs = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(_unknown(source, f"{name}.{key}", [f"{name}.{k}" for k in fields], "setting"))
        special = _SPECIAL.get(f"{name}.{key}")
        if special is not None:
            kwargs[key] = special(value, f"{source}: {name}.{key}")
        else:
            kwargs[key] = _check(source, f"{name}.{key}", value, getattr(defaults, key))
    return cls(**kwargs)


def _workers(value: Any, where: str) -> int | str:
    from toolkit.nlp_workers import check_workers

    return check_workers(value, where)


_SPECIAL = {"performance.workers": _workers}
"""Settings of more than one type, checked by their own function (value, where) instead of :func:`_check`."""


def _check(source: str | Path, key: str, value: Any, default: Any) -> Any:
    """Coerce ``value`` to the type of ``default`` or raise a clear error."""
    expected = type(default)
    if expected is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: {key} must be a list of strings, e.g. {key.split('.')[-1]} = [\"...\"].")
        return tuple(value)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be true or false, found {value!r}.")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {key} must be a whole number, found {value!r}.")
        if value < 0:
            raise ConfigError(f"{source}: {key} must not be negative, found {value}.")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {key} must be a number, found {value!r}.")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key} must be a string in quotes, found {value!r}.")
        return value
    return value


def _unknown(source: str | Path, key: str, known: Any, what: str) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else f" Known: {', '.join(known)}."
    return f"{source}: unknown {what} '{key}'.{hint}"
