"""The topics stage: read segments and embeddings from the store, fit, write topics back.

Also the researchers' topic edits (rename, merge, split): each is stored as a
decision with the segments of the topics it names, and replayed on every run.
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
from toolkit.topics.model import ThemePrototype, TopicEdit, TopicModeller, build_backends

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

    def summary(self) -> dict:
        return asdict(self)


def model_dir(config) -> Path:
    """Where the fitted model is saved: beside the store (safetensors + JSON, never pickle)."""
    if config.store.url:
        return config.root / "store" / MODEL_DIR
    return config.resolve(config.store.path).parent / MODEL_DIR


TOPICS_STAGE = STAGE


def topics_settings_hash(config, codebook, edits: pd.DataFrame) -> str:
    """The fingerprint of a topics run: topic settings, the codebook (when it seeds topics), the edits."""
    seeded = codebook.fingerprint() if config.topics.seed_with_codebook else ""
    return config.settings_fingerprint(STAGE, seeded, len(edits), int(edits[s.EDIT_ID].max()) if len(edits) else 0)


@dataclass
class TopicFit:
    """A fitted topic model and what the store keeps of it (see :func:`fit_topics`)."""

    topics: pd.DataFrame
    assignments: pd.DataFrame
    model: object
    report: TopicReport

    def save_model(self, folder: Path) -> Path:
        """Write the model into ``folder`` (safetensors + JSON, no pickle); the pipeline swaps it into place."""
        from toolkit.models import embedder_path

        self.model.set_topic_labels(dict(zip(self.topics[s.TOPIC], self.topics[s.TOPIC_LABEL])))
        self.model.save(folder, serialization="safetensors", save_ctfidf=True,
                        save_embedding_model=str(embedder_path()))
        return folder


def fit_topics(segments: pd.DataFrame, *, config, codebook, embedder, edits: pd.DataFrame,
               codings: pd.DataFrame) -> TopicFit:
    """The topics stage: fit topics on evidence segments (no store, no files).

    Parameters
    ----------
    segments : evidence segments with ``segment_key``, ``text`` and ``lemmas``.
    config : the study (its ``[topics]`` settings and seed).
    codebook : themes to seed topics with and compare them to.
    embedder : texts -> unit vectors (cached by the caller).
    edits : the researchers' topic edits (the ``topic_edits`` table).
    codings : resolved codings (human decisions over machine), for each topic's coded theme.
    """
    started = time.perf_counter()
    if segments.empty:
        raise NoSegmentsError(
            f"No coded segments in the store of '{config.root.name}' yet. Run 'toolkit run {config.root}' first."
        )
    texts = segments[s.TEXT].tolist()
    keys = segments[s.SEGMENT_KEY].tolist()
    vectors = embedder(texts)
    themes = theme_prototypes(codebook, embedder) if config.topics.seed_with_codebook else []
    replayed = edits_from_frame(edits)
    lemma_of = dict(zip(texts, segments.get(s.LEMMAS, pd.Series([None] * len(texts))).tolist()))
    stop = load_topic_stopwords(config.resolve(config.topics.stopwords) if config.topics.stopwords else None)
    modeller, backends = build_modeller(
        config,
        len(texts),
        embedder=embedder,
        lemmas=lambda ts: [[w for w in _tokens(lemma_of.get(t), t) if w not in stop] for t in ts],
    )
    modeller.fit(texts, vectors, themes=themes, keys=keys, edits=replayed)
    assignments = modeller.assignments(keys)
    topics = with_coded_themes(modeller.topic_info_, assignments, codings)
    not_found = [o for o in modeller.edit_outcomes_ if not o.applied]
    for outcome in not_found:
        log.warning("topic edit %s (%s) not replayed: %s", outcome.edit_id, outcome.action, outcome.detail)
    report = TopicReport(
        run_id="",
        segments=len(texts),
        topics=int((topics[s.TOPIC] != s.OUTLIER_TOPIC).sum()),
        seeded_topics=int(topics[s.SEEDED_THEME].notna().sum()),
        candidate_new=int(topics[s.CANDIDATE_NEW].sum()),
        outliers=int((assignments[s.TOPIC] == s.OUTLIER_TOPIC).sum()),
        outliers_reduced=int((assignments[s.ASSIGNED_BY] == "outlier_reduced").sum()),
        edits_applied=len(replayed) - len(not_found),
        edits_not_found=len(not_found),
        embeddings_computed=getattr(embedder, "computed", 0),
        embeddings_cached=getattr(embedder, "cached", 0),
        seconds=round(time.perf_counter() - started, 2),
        notes=backends.notes,
    )
    return TopicFit(topics, assignments, modeller.model_, report)


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
def build_modeller(config, n_segments: int, *, embedder=None, lemmas=None, options=None):
    """An unfitted :class:`TopicModeller` with a study's ``[topics]`` settings (or ``options``), and its backends.

    The topics stage uses it; so can a notebook that tries other settings without storing anything.

    Examples
    --------
    >>> options = dataclasses.replace(config.topics, reducer="pca", clusterer="kmeans", n_clusters=12)  # doctest: +SKIP
    >>> modeller, _ = build_modeller(config, len(texts), options=options)  # doctest: +SKIP
    >>> modeller.fit(texts, vectors).topic_info_  # doctest: +SKIP
    """
    options = options or config.topics
    backends = build_backends(options, n_segments, config.seed)
    modeller = TopicModeller(
        reducer=backends.reducer,
        clusterer=backends.clusterer,
        embed=embedder,
        lemmas=lemmas,
        theme_min_similarity=options.theme_min_similarity,
        new_theme_threshold=options.new_theme_threshold,
        outliers=options.outliers,
        outlier_threshold=options.outlier_threshold,
        min_cluster_size=backends.min_cluster_size,
        edit_match=options.edit_match,
        top_n_words=options.top_n_words,
        representation=options.representation,
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


def with_coded_themes(topics: pd.DataFrame, assignments: pd.DataFrame, codings: pd.DataFrame) -> pd.DataFrame:
    """Add each topic's most frequent coded theme (from resolved codings: human over machine) and its share."""
    topics = topics.copy()
    topics[s.CODED_THEME] = None
    topics[s.CODED_SHARE] = 0.0
    if codings.empty:
        return topics
    primary = codings[codings[s.RANK] == 1][[s.SEGMENT_KEY, s.THEME]]
    joined = assignments[[s.SEGMENT_KEY, s.TOPIC]].merge(primary, on=s.SEGMENT_KEY, how="inner")
    if joined.empty:
        return topics
    counts = joined.groupby([s.TOPIC, s.THEME]).size().reset_index(name="n")
    counts = counts.sort_values([s.TOPIC, "n", s.THEME], ascending=[True, False, True]).drop_duplicates(s.TOPIC)
    best = counts.set_index(s.TOPIC)
    sizes = topics.set_index(s.TOPIC)[s.SIZE]
    topics[s.CODED_THEME] = topics[s.TOPIC].map(best[s.THEME])
    topics[s.CODED_SHARE] = [
        round(float(best.loc[t, "n"]) / float(sizes[t]), 4) if t in best.index else 0.0 for t in topics[s.TOPIC]
    ]
    return topics


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


def _tokens(lemmas, text: str) -> list[str]:
    from toolkit.topics.model import simple_tokens

    if isinstance(lemmas, str):
        return lemmas.split()
    return simple_tokens(text)


def _codebook(config):
    from toolkit.codebook import load_codebook

    return load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
