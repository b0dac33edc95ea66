"""The topics stage as a pure function (:func:`fit_topics`): segments in, topics out; the pipeline stores them.

A run either fits the model on every segment or lets new segments join the stored model (cheap:
no clustering, no tagger), until the study drifts from its last full fit (:class:`Drift`).

Also the researchers' topic edits (rename, merge, split): each is stored as a decision with the
segments of the topics it names, and replayed on every run.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.errors import ToolkitError
from toolkit.schema import PROMPT
from toolkit.topics.beside import CandidateRule
from toolkit.topics.edits import TopicEdit
from toolkit.topics.model import NeighbourUMAP, ThemePrototype, TopicModeller, build_backends
from toolkit.topics.structure import structure_counts

log = logging.getLogger(__name__)

STAGE = "topics"
MODEL_DIR = "topic_model"


class NoSegmentsError(ToolkitError):
    """The topics stage has nothing to work on yet."""


@dataclass
class TopicReport:
    """What a topics run did."""

    run_id: str
    segments: int
    topics: int
    seeded_topics: int
    candidate_new: int
    outliers: int
    outliers_reduced: int
    edits_applied: int
    edits_not_found: int
    embeddings_computed: int
    embeddings_cached: int
    seconds: float
    model_path: str = ""
    notes: list[str] = field(default_factory=list)
    structure: dict[str, int] = field(default_factory=dict)
    """Segments set aside as structure, by kind (introduction, logistics, time_date, ...)."""
    short: int = 0
    """Segments too short to form or join a topic."""
    restating_topics: int = 0
    """Topics that restate a codebook theme (most of their segments coded with it)."""
    candidates: list[int] = field(default_factory=list)
    """The topic numbers of candidate new themes."""
    stability: dict = field(default_factory=dict)
    """Seed stability: seeds, adjusted Rand index per seed and its mean, stable and dissolving topics."""
    mode: str = "refit"
    """``refit`` (the model fitted on every segment) or ``joined`` (new segments joined the stored model)."""
    reason: str = ""
    """Why this mode: the first fit, asked for, settings/codebook/edits changed, or the drift figures."""
    drift: dict = field(default_factory=dict)
    """See :class:`Drift`: segments at the last full fit, added and removed since, new outlier share."""
    joined: int = 0
    """Segments that were new in this run (with ``mode = "joined"``)."""

    def summary(self) -> dict:
        return asdict(self)


def model_dir(config) -> Path:
    """Where the fitted model is saved: beside the store (safetensors + JSON, never pickle)."""
    if config.store.url:
        return config.root / "store" / MODEL_DIR
    return config.resolve(config.store.path).parent / MODEL_DIR


TOPICS_STAGE = STAGE


def topics_settings_hash(config, codebook, edits: pd.DataFrame) -> str:
    """The fingerprint of a topics run: topic settings, the codebook (set beside every topic), the edits."""
    return config.settings_fingerprint(STAGE, codebook.fingerprint(), len(edits),
                                       int(edits[s.EDIT_ID].max()) if len(edits) else 0)


@dataclass
class Drift:
    """How far a study has moved from its last full topic fit; the topics stage refits when it is too far.

    Measured at every run that joins new segments to the stored model (``[topics]`` settings):

    * **growth** = (segments added + segments removed since the last full fit) / segments at that fit.
      Over ``refit_growth`` (default 0.2: a fifth of the study is new or gone), the model is fitted again:
      topics the new material would form cannot appear by joining.
    * **new outlier share** = of this run's new *content* segments (not structure, not too short), the
      share that is close to no topic (less close to every centroid than ``outlier_threshold`` and than
      the least typical 5 % of that topic's members) and stays in topic -1.
      Over ``refit_outlier_share`` (default 0.4), with at least ``min_cluster_size`` new content
      segments, the model is fitted again: the new segments talk about something the topics do not hold.

    Both figures, the thresholds and the decision are recorded in the topics run's summary (``drift``).
    """

    fitted_segments: int = 0
    added: int = 0
    removed: int = 0
    new_content: int = 0
    new_outliers: int = 0

    @property
    def growth(self) -> float:
        return (self.added + self.removed) / max(1, self.fitted_segments)

    @property
    def new_outlier_share(self) -> float:
        return self.new_outliers / self.new_content if self.new_content else 0.0

    def too_far(self, options, min_content: int) -> str:
        """Why the model has drifted too far to join (``""``: it has not)."""
        if self.growth > options.refit_growth:
            return (f"drift: {self.added + self.removed} segments added or removed since the last full fit of "
                    f"{self.fitted_segments} ({self.growth:.0%} > refit_growth {options.refit_growth:.0%})")
        if self.new_content >= min_content and self.new_outlier_share > options.refit_outlier_share:
            return (f"drift: {self.new_outliers} of {self.new_content} new content segments near no topic "
                    f"({self.new_outlier_share:.0%} > refit_outlier_share {options.refit_outlier_share:.0%})")
        return ""

    def summary(self) -> dict:
        return {**asdict(self), "growth": round(self.growth, 4), "new_outlier_share": round(self.new_outlier_share, 4)}


@dataclass
class PreviousFit:
    """What the last topics run left, for new segments to join: its assignments, topic table, vocabulary, summary."""

    assignments: pd.DataFrame
    topics: pd.DataFrame
    phrases: object
    summary: dict

    def drift(self, keys: list[str]) -> Drift:
        """Growth since the last full fit (the new outlier share is filled in once the new segments joined)."""
        before = self.summary.get("drift") or {}
        fitted = int(before.get("fitted_segments") or self.summary.get("segments") or len(self.assignments))
        stored, now = set(self.assignments[s.SEGMENT_KEY]), set(keys)
        return Drift(fitted_segments=fitted, added=int(before.get("added", 0)) + len(now - stored),
                     removed=int(before.get("removed", 0)) + len(stored - now))


PHRASES_FILE = "toolkit_phrases.json"
"""The keyphrase vocabulary of the saved model (names, how each is shown and written): new segments' phrases."""


def load_previous_phrases(folder: Path):
    """The keyphrase vocabulary saved with the model in ``folder``, or None when there is none."""
    from toolkit.topics.phrases import Phrases

    path = Path(folder) / PHRASES_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    from scipy import sparse

    return Phrases(data["names"], data["display"], sparse.csr_matrix((0, len(data["names"])), dtype=np.int32),
                   data["surfaces"])


@dataclass
class TopicFit:
    """A fitted topic model and what the store keeps of it (see :func:`fit_topics`)."""

    topics: pd.DataFrame
    assignments: pd.DataFrame
    model: object
    report: TopicReport
    phrases: object = None

    def save_model(self, folder: Path) -> Path:
        """Write the model into ``folder`` (safetensors + JSON, no pickle); the pipeline swaps it into place."""
        from toolkit.models import embedder_path

        self.model.set_topic_labels(dict(zip(self.topics[s.TOPIC], self.topics[s.TOPIC_LABEL])))
        self.model.save(folder, serialization="safetensors", save_ctfidf=True,
                        save_embedding_model=str(embedder_path()))
        if self.phrases is not None:
            vocabulary = {"names": self.phrases.names, "display": self.phrases.display,
                          "surfaces": self.phrases.surfaces or {}}
            (Path(folder) / PHRASES_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
        return folder


def fit_topics(segments: pd.DataFrame, *, config, codebook, embedder, edits: pd.DataFrame,
               codings: pd.DataFrame, previous: PreviousFit | None = None, reason: str = "") -> TopicFit:
    """The topics stage: fit topics on evidence segments (no store, no files).

    With ``previous`` (the last run's output, same settings, codebook and edits), new segments
    join the stored model (:meth:`TopicModeller.join`) unless the study has drifted too far from
    its last full fit (:class:`Drift`); then, or without ``previous``, the model is fitted on every
    segment. ``report.mode``, ``report.reason`` and ``report.drift`` say which and why.

    Parameters
    ----------
    segments : evidence segments with ``segment_key`` and ``text`` (and, when known, ``place``,
        ``source_uid``, ``source_kind`` and ``prompt``: the structure rules and the place view use them).
    config : the study (its ``[topics]`` settings and seed).
    codebook : themes to set beside the topics (and to seed them with, when ``seed_with_codebook``).
    embedder : texts -> unit vectors (cached by the caller); any model the coder uses.
    edits : the researchers' topic edits (the ``topic_edits`` table).
    codings : resolved codings (human decisions over machine): each topic's coded themes and uncoded share.
    """
    started = time.perf_counter()
    if segments.empty:
        raise NoSegmentsError(
            f"No coded segments in the store of '{config.root.name}' yet. Run 'toolkit run {config.root}' first."
        )
    texts = segments[s.TEXT].tolist()
    keys = segments[s.SEGMENT_KEY].tolist()
    vectors = embedder(texts)
    themes = theme_prototypes(codebook, embedder)
    replayed = edits_from_frame(edits)
    modeller, backends = build_modeller(config, len(texts), embedder=embedder,
                                        tagger=previous is None or previous.phrases is None)
    column = lambda name: segments[name].tolist() if name in segments else None
    kinds = column(s.SOURCE_KIND)
    prompts = segments[PROMPT].dropna().unique().tolist() if PROMPT in segments else None
    common = {"themes": themes, "keys": keys, "sources": column(s.SOURCE_UID),
              "repeatable": [k != "survey" for k in kinds] if kinds else None, "prompts": prompts,
              "places": column(s.PLACE), "coded": primary_themes(keys, codings)}
    mode, drift = "refit", Drift(fitted_segments=len(texts))
    if previous is not None and previous.phrases is not None:
        drift = previous.drift(keys)
        reason = drift.too_far(config.topics, backends.min_cluster_size)
        if not reason:
            modeller.join(texts, vectors, previous=previous.assignments, topics=previous.topics,
                          phrases=previous.phrases, stability=_stored_stability(previous), **common)
            new = modeller.joined_ & np.isin(modeller.assigned_by_, ["joined", "outlier", "theme"])
            drift.new_content = int(new.sum())
            drift.new_outliers = int((new & (modeller.assigned_by_ == "outlier")).sum())
            reason = drift.too_far(config.topics, backends.min_cluster_size)
            mode = "joined"
        if reason:  # drifted too far: fit again on every segment
            log.info("topics: %s; fitting again", reason)
            mode, drift = "refit", Drift(fitted_segments=len(texts))
            if modeller.tagger is None:
                modeller, backends = build_modeller(config, len(texts), embedder=embedder)
    elif previous is not None:
        reason = reason or "no keyphrase vocabulary saved with the model"
    if mode == "refit":
        if isinstance(backends.reducer, NeighbourUMAP):
            from toolkit.topics.compiled import cache_umap_compilations

            cache_umap_compilations()  # a new process reuses UMAP's compiled code instead of compiling it again
        modeller.fit(texts, vectors, edits=replayed, **common)
    else:
        reason = (f"{int(modeller.joined_.sum())} new segments joined the model (growth {drift.growth:.0%}, "
                  f"new outlier share {drift.new_outlier_share:.0%})")
    assignments = modeller.assignments(keys)
    topics = modeller.topic_info_
    not_found = [o for o in modeller.edit_outcomes_ if not o.applied]
    for outcome in not_found:
        log.warning("topic edit %s (%s) not replayed: %s", outcome.edit_id, outcome.action, outcome.detail)
    real = topics[topics[s.TOPIC] != s.OUTLIER_TOPIC]
    how = assignments[s.ASSIGNED_BY]
    report = TopicReport(
        run_id="",
        segments=len(texts),
        topics=len(real),
        seeded_topics=int(real[s.SEEDED_THEME].notna().sum()),
        candidate_new=int(real[s.CANDIDATE_NEW].sum()),
        outliers=int((how == "outlier").sum()),
        outliers_reduced=int((how == "outlier_reduced").sum()),
        edits_applied=len(replayed) - len(not_found),
        edits_not_found=len(not_found),
        embeddings_computed=getattr(embedder, "computed", 0),
        embeddings_cached=getattr(embedder, "cached", 0),
        seconds=round(time.perf_counter() - started, 2),
        notes=backends.notes,
        structure=structure_counts(assignments[s.STRUCTURE].tolist()),
        short=int((how == "short").sum()),
        restating_topics=int(real[s.RESTATES_THEME].notna().sum()),
        candidates=[int(t) for t in real.loc[real[s.CANDIDATE_NEW], s.TOPIC]],
        stability=modeller.stability_.summary(),
        mode=mode,
        reason=reason or ("first fit" if previous is None else ""),
        drift=drift.summary(),
        joined=int(modeller.joined_.sum()),
    )
    return TopicFit(topics, assignments, modeller.model_, report, modeller.phrases_)


def _stored_stability(previous: PreviousFit):
    """The last fit's seed stability, carried over a join (the clustering did not run again)."""
    from toolkit.topics.stability import Stability

    summary = previous.summary.get("stability") or {}
    per_topic = {}
    if s.STABILITY in previous.topics:
        per_topic = {int(t): float(v) for t, v in zip(previous.topics[s.TOPIC], previous.topics[s.STABILITY])
                     if v is not None and not np.isnan(v)}
    return Stability(seeds=list(summary.get("seeds", [])), ari=list(summary.get("ari", [])), per_topic=per_topic,
                     segments=int(summary.get("segments", 0)))


def primary_themes(keys: list[str], codings: pd.DataFrame) -> list[str | None] | None:
    """Each segment's primary resolved theme (None: uncoded), or None when the study has no codings at all."""
    if codings is None or codings.empty:
        return None
    primary = codings[(codings[s.RANK] == 1) & codings[s.THEME].notna()]
    theme_of = dict(zip(primary[s.SEGMENT_KEY], primary[s.THEME]))
    return [theme_of.get(k) for k in keys]


def model_topics(config, store, *, embedder=None, codebook=None, save_model: bool = True) -> TopicReport:
    """Fit topics now and store them: the pipeline's topics stage, forced (takes the run lock).

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> from toolkit.store import Store
    >>> config = load_config("interviews")  # doctest: +SKIP
    >>> model_topics(config, Store(config.store_url)).topics  # doctest: +SKIP
    14
    """
    from toolkit.pipeline import fit_and_store_topics

    return fit_and_store_topics(config, store, embedder=embedder, codebook=codebook, save_model=save_model)


def topics_are_stale(config, store) -> bool:
    """True when the topics stage has something to do (see :func:`toolkit.pipeline.topics_are_stale`)."""
    from toolkit.pipeline import topics_are_stale as stale

    return stale(config, store)


# --------------------------------------------------------------------------- pieces
def build_modeller(config, n_segments: int, *, embedder=None, options=None, tagger: bool = True):
    """An unfitted :class:`TopicModeller` with a study's ``[topics]`` settings (or ``options``), and its backends.

    The topics stage uses it; so can a notebook that tries other settings without storing anything.

    Examples
    --------
    >>> options = dataclasses.replace(config.topics, reducer="pca", clusterer="kmeans", n_clusters=12)  # doctest: +SKIP
    >>> modeller, _ = build_modeller(config, len(texts), options=options)  # doctest: +SKIP
    >>> modeller.fit(texts, vectors).topic_info_  # doctest: +SKIP
    """
    from toolkit.topics.structure import load_structure_rules

    options = options or config.topics
    backends = build_backends(options, n_segments, config.seed)
    rules = load_structure_rules(config.resolve(options.structure_rules) if options.structure_rules else None)
    stop = load_topic_stopwords(config.resolve(options.stopwords) if options.stopwords else None)
    places = {w.lower() for place in config.places for w in str(place).split()}
    nlp = None
    if options.phrases == "nouns" and tagger:  # a join counts the saved vocabulary: no tagger to load
        from toolkit.models import load_segmenter

        nlp = load_segmenter()
    modeller = TopicModeller(
        reducer=backends.reducer,
        clusterer=backends.clusterer,
        embed=embedder,
        tagger=nlp,
        structure_rules=rules,
        keyword_stop=stop | frozenset(places),
        seed_with_themes=options.seed_with_codebook,
        theme_min_similarity=options.theme_min_similarity,
        outliers=options.outliers,
        outlier_threshold=options.outlier_threshold,
        min_cluster_size=backends.min_cluster_size,
        edit_match=options.edit_match,
        top_n_words=options.top_n_words,
        representation=options.representation,
        candidate_rule=CandidateRule(min_uncoded_share=options.candidate_uncoded_share,
                                     min_uncoded_z=options.candidate_uncoded_z,
                                     max_affinity=options.candidate_max_affinity, restate_share=options.restate_share),
        stability_seeds=[config.seed + k for k in range(1, options.stability_seeds + 1)],
        stability_sample=options.stability_sample,
        seed=config.seed,
    )
    return modeller, backends


def theme_prototypes(codebook, embedder) -> list[ThemePrototype]:
    """One unit vector per theme: the mean embedding of its name + definition and its example sentences."""
    from toolkit.coding import definition_text

    out = []
    for theme in codebook.themes:
        texts = [definition_text(theme)]
        for polarity in s.POLARITIES:
            texts.extend(theme.examples.get(polarity, ()))
        vectors = np.asarray(embedder(texts), dtype=np.float32)
        mean = vectors.mean(axis=0)
        out.append(ThemePrototype(theme.id, theme.name, mean / (np.linalg.norm(mean) or 1.0)))
    return out


def edits_from_frame(frame: pd.DataFrame) -> list[TopicEdit]:
    """Researchers' topic edits (rows of the ``topic_edits`` table), oldest first."""
    if frame.empty:
        return []
    frame = frame.sort_values(s.EDIT_ID)
    return [
        TopicEdit(
            action=row[s.ACTION],
            members=json.loads(row[s.MEMBERS]),
            label=row[s.TOPIC_LABEL] if isinstance(row[s.TOPIC_LABEL], str) else None,
            parts=int(row[s.PARTS]) if pd.notna(row[s.PARTS]) else None,
            edit_id=int(row[s.EDIT_ID]),
        )
        for row in frame.to_dict("records")
    ]


def stored_edits(store) -> list[TopicEdit]:
    """Researchers' topic edits in a store, oldest first."""
    return edits_from_frame(store.table(s.TOPIC_EDITS))


def load_topic_model(config):
    """The study's fitted BERTopic model, loaded from its safe format with the packaged embedder.

    Examples
    --------
    >>> model = load_topic_model(load_config("interviews"))  # doctest: +SKIP
    >>> model.get_topic_info().head()  # doctest: +SKIP
    """
    from bertopic import BERTopic

    from toolkit.models import load_embedder

    folder = model_dir(config)
    if not (folder / "topics.json").exists():
        raise NoSegmentsError(f"No fitted topic model in {folder}. Run 'toolkit topics {config.root}' first.")
    return BERTopic.load(str(folder), embedding_model=load_embedder())


def load_topic_stopwords(path: Path | None = None) -> frozenset[str]:
    """Words left out of topic keywords: the toolkit's list, or a study's own file."""
    from importlib import resources

    from toolkit.errors import ConfigError

    if path is None:
        text = resources.files("toolkit.rules").joinpath("topic_stopwords.txt").read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"topics.stopwords: cannot read {path} ({exc.strerror}). Fix the path in study.toml.") from None
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


def _codebook(config):
    from toolkit.codebook import load_codebook

    return load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
