"""The topic modeller: inductive topics over the segments, set beside the codebook.

How a segment gets its topic, in order (each step a small function, each backend injectable):

1. **Structure is set aside** (:mod:`toolkit.topics.structure`, rules as data): introductions,
   logistics, times and dates, read-out contact details, prompts and scripted boilerplate never
   form a topic; segments with fewer than ``min_content_words`` content words are too short to.
   Both stay in topic -1, counted (``assigned_by`` says why), never hidden.
2. **Seeding**, only when asked (``seed_with_themes``; BERTopic's zero-shot idea with the codebook
   as the topic list): a segment close enough to a theme's prototype goes to that theme's topic.
   By default the codebook is shown beside the topics, not seeded into them.
3. **Clustering** the content: a reducer (UMAP by default) and a clusterer (HDBSCAN by default).
   A cluster whose segments mostly carry one structure signal (durations, contact details, role
   introductions) is set aside as structure too.
4. **Outliers**, deliberately: a content segment left out by the clusterer joins the topic whose
   centroid it is close to (``outlier_threshold``); the rest stay in topic -1.
5. **Researchers' edits** (rename, merge, split) are replayed (:mod:`toolkit.topics.edits`).
6. **Keyphrases and labels** (:mod:`toolkit.topics.phrases`): noun phrases of the text ranked by
   c-TF-IDF and re-ranked KeyBERT-style; a label from the most representative passage.
7. **Beside the codebook** (:mod:`toolkit.topics.beside`): nearest theme by within-study affinity,
   the theme a topic restates, candidate new themes with their evidence.
8. **Stability** (:mod:`toolkit.topics.stability`): the clustering again with other seeds.

New segments can also **join** a fitted model (:meth:`TopicModeller.join`, BERTopic's ``transform``
idea: the nearest topic centroid) instead of a new fit; the topics stage decides which
(:class:`toolkit.topics.stage.Drift`).

BERTopic holds the result (clusters given, c-TF-IDF over the keyphrases) so it can be saved in its
safe format and reloaded for BERTopic's own methods.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.errors import ConfigError, NotFittedError
from toolkit.topics.beside import CandidateRule, beside_codebook, theme_affinities
from toolkit.topics.edits import EditOutcome, TopicEdit, replay_edits
from toolkit.topics.phrases import KeyphraseRanker, Phrases, count_phrases, extract_phrases, passage_label
from toolkit.topics.stability import Stability, seed_stability
from toolkit.topics.structure import find_structure, load_structure_rules, structure_topic

log = logging.getLogger(__name__)

__all__ = ["EditOutcome", "ThemePrototype", "TopicEdit", "TopicModeller", "build_backends"]

THEME_GROUP = "theme:"
CLUSTER_GROUP = "cluster:"
TOPIC_GROUP = "topic:"
OUTLIER_LABEL = "Not in a topic: structure, short and outlying segments"


@dataclass(frozen=True)
class ThemePrototype:
    """A codebook theme as the topic modeller sees it: an id, a name and a unit vector."""

    id: str
    name: str
    vector: np.ndarray


class TopicModeller:
    """Find topics in segments and set them beside the codebook.

    Parameters (keyword-only; no work happens here)
    ----------
    reducer : an object with ``fit_transform(X)`` (UMAP, PCA, ...), or None for none.
    clusterer : an object with ``fit(X)`` setting ``labels_`` (HDBSCAN, KMeans, ...); -1 means outlier.
    embed : texts -> unit vectors, for re-ranking keyphrases (KeyBERT-style); None keeps the c-TF-IDF order.
    tagger : a spaCy pipeline with a tagger, for noun-phrase keyphrases; None uses runs of content words.
    structure_rules : :func:`toolkit.topics.structure.load_structure_rules` (default: the toolkit's).
    keyword_stop : more words no keyphrase starts or ends with (the study's topic stop words, place names).
    seed_with_themes : seed segments close to a theme into that theme's topic (off: inductive).
    theme_min_similarity : how close (cosine) a segment must be to a theme to be seeded.
    outliers : ``"reduce"`` (outliers join a close topic) or ``"keep"``.
    outlier_threshold : the similarity an outlier needs to a topic centroid to join it.
    min_cluster_size : smallest topic; also the least number of segments worth clustering.
    min_content_words : segments with fewer content words are too short to form or join a topic.
    representation : ``"keybert"`` (c-TF-IDF candidates re-ranked by meaning; needs ``embed``) or ``"ctfidf"``.
    candidate_rule : :class:`toolkit.topics.beside.CandidateRule`.
    stability_seeds : other seeds to fit the clustering with, to report each topic's stability (empty: none).
    stability_sample : at most this many segments are clustered per stability seed (a random subset).
    max_tagged : at most this many segments are tagged for keyphrase candidates.
    seed : the random seed for every random step.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 0.05, (20, 4)) for c in np.eye(4)[:2]])
    >>> texts = ["consent forms slow every referral down"] * 20 + ["shared record systems help the teams"] * 20
    >>> m = TopicModeller(clusterer=KMeans(2, n_init=4, random_state=0), min_cluster_size=5).fit(texts, X)
    >>> sorted(m.topic_info_[s.SIZE].tolist())
    [20, 20]
    """

    def __init__(
        self,
        *,
        reducer=None,
        clusterer=None,
        embed: Callable[[list[str]], np.ndarray] | None = None,
        tagger=None,
        structure_rules=None,
        keyword_stop: frozenset[str] = frozenset(),
        seed_with_themes: bool = False,
        theme_min_similarity: float = 0.6,
        outliers: str = "reduce",
        outlier_threshold: float = 0.35,
        min_cluster_size: int = 10,
        min_content_words: int = 3,
        representation: str = "keybert",
        candidate_rule: CandidateRule | None = None,
        edit_match: float = 0.5,
        top_n_words: int = 10,
        n_representative: int = 3,
        stability_seeds: Sequence[int] = (),
        stability_sample: int = 2500,
        max_tagged: int = 2000,
        seed: int = 42,
    ):
        self.reducer = reducer
        self.clusterer = clusterer
        self.embed = embed
        self.tagger = tagger
        self.structure_rules = structure_rules
        self.keyword_stop = keyword_stop
        self.seed_with_themes = seed_with_themes
        self.theme_min_similarity = theme_min_similarity
        self.outliers = outliers
        self.outlier_threshold = outlier_threshold
        self.min_cluster_size = min_cluster_size
        self.min_content_words = min_content_words
        self.representation = representation
        self.candidate_rule = candidate_rule
        self.edit_match = edit_match
        self.top_n_words = top_n_words
        self.n_representative = n_representative
        self.stability_seeds = stability_seeds
        self.stability_sample = stability_sample
        self.max_tagged = max_tagged
        self.seed = seed

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        *,
        themes: Sequence[ThemePrototype] = (),
        keys: Sequence[str] | None = None,
        edits: Sequence[TopicEdit] = (),
        sources: Sequence[object] | None = None,
        repeatable: Sequence[bool] | None = None,
        prompts: Sequence[str] | None = None,
        places: Sequence[str | None] | None = None,
        coded: Sequence[str | None] | None = None,
    ) -> TopicModeller:
        """Fit topics on ``texts`` with their ``embeddings`` (one row per text).

        Parameters
        ----------
        themes : the codebook's themes: shown beside the topics (and seeded, with ``seed_with_themes``).
        keys : segment keys, so researchers' ``edits`` find their topics again.
        sources, repeatable, prompts : each segment's source, whether scripted repeats may be caught in
            it (transcripts: yes; survey answers: no), and the study's interviewer prompts; for the
            structure rules.
        places : each segment's place (the places a topic is distinctive of).
        coded : each segment's primary coded theme or None (the share the codebook leaves uncoded).
        """
        if self.outliers not in ("reduce", "keep"):
            raise ConfigError(f"topics.outliers is '{self.outliers}'; expected 'reduce' or 'keep'.")
        if self.representation not in ("ctfidf", "keybert"):
            raise ConfigError(f"topics.representation is '{self.representation}'; expected 'ctfidf' or 'keybert'.")
        texts = list(texts)
        n = len(texts)
        if n != len(embeddings):
            raise ValueError(f"{n} texts but {len(embeddings)} embeddings.")
        keys = list(keys) if keys is not None else [str(i) for i in range(n)]
        vectors = _unit(np.asarray(embeddings, dtype=np.float32))
        prototypes = _unit(np.vstack([t.vector for t in themes]).astype(np.float32)) if themes else None
        rules = self.structure_rules or load_structure_rules()

        kinds = find_structure(texts, rules=rules, sources=sources, repeatable=repeatable, prompts=prompts)
        n_words = [len(rules.content_words(t)) for t in texts]
        groups = [""] * n
        how = ["cluster"] * n
        for i in range(n):
            if kinds[i]:
                how[i] = "structure"
            elif n_words[i] < self.min_content_words:
                how[i] = "short"
        if self.seed_with_themes and prototypes is not None:
            self._seed(vectors, prototypes, themes, groups, how)
        clustered = [i for i in range(n) if how[i] == "cluster"]
        self._assign_clusters(vectors, clustered, groups, how)
        self._set_aside_structure_topics(texts, groups, how, kinds, rules)
        if self.outliers == "reduce":
            _reduce_outliers(vectors, groups, how, self.outlier_threshold)
        labels: dict[str, str] = {}
        self.edit_outcomes_ = replay_edits(edits, keys, vectors, groups, how, labels, min_overlap=self.edit_match,
                                           seed=self.seed)
        topic_of_group = _number_groups(groups)
        topics = np.array([topic_of_group[g] for g in groups], dtype=int)
        self.centroids_ = _centroids(vectors, topics)
        self.stability_ = self._stability(vectors, clustered, topics)
        phrases = extract_phrases(texts, nlp=self.tagger, sample=self._tag_sample(vectors, topics),
                                  stop=rules.keyword_stop | frozenset(self.keyword_stop))
        self.joined_ = np.zeros(n, dtype=bool)
        return self._describe(texts, keys, vectors, topics, how, kinds, n_words, phrases,
                              {t: g for g, t in topic_of_group.items()}, labels, themes, prototypes, places, coded)

    def join(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        *,
        previous: pd.DataFrame,
        topics: pd.DataFrame,
        phrases: Phrases,
        stability: Stability | None = None,
        themes: Sequence[ThemePrototype] = (),
        keys: Sequence[str],
        sources: Sequence[object] | None = None,
        repeatable: Sequence[bool] | None = None,
        prompts: Sequence[str] | None = None,
        places: Sequence[str | None] | None = None,
        coded: Sequence[str | None] | None = None,
    ) -> TopicModeller:
        """New segments join a fitted model's topics, BERTopic ``transform``-style; the old ones keep theirs.

        A segment of ``keys`` found in ``previous`` (the stored assignments: ``segment_key``, ``topic``,
        ``assigned_by``, ``structure``, ``phrases``) keeps its topic and why; a new one goes through the
        same rules as in :meth:`fit`: structure and short segments stay in topic -1, a segment close
        to a theme is seeded (with ``seed_with_themes``), and a content segment joins the topic whose
        centroid is nearest when it is about as close as the topic's own members (``assigned_by =
        "joined"``; see :meth:`_join_thresholds`), else it is an outlier. Topic numbers, labels (researchers'
        renames included: ``topics`` is the stored topic table) and merged or split topics stay as
        they are; centroids, sizes, keyphrases (``phrases``: the fitted vocabulary, counted in the
        new texts), representatives and the codebook comparison are computed again over all segments.
        The clustering is not run, so ``stability`` (the last fit's) is carried over.
        """
        texts = list(texts)
        keys = list(keys)
        n = len(texts)
        if n != len(embeddings) or n != len(keys):
            raise ValueError(f"{n} texts but {len(embeddings)} embeddings and {len(keys)} keys.")
        vectors = _unit(np.asarray(embeddings, dtype=np.float32))
        prototypes = _unit(np.vstack([t.vector for t in themes]).astype(np.float32)) if themes else None
        rules = self.structure_rules or load_structure_rules()
        stored = previous.set_index(s.SEGMENT_KEY)
        old = np.array([k in stored.index for k in keys], dtype=bool)
        topic_list = np.array(stored[s.TOPIC].reindex(keys).fillna(s.OUTLIER_TOPIC).astype(int).tolist(), dtype=int)
        how = [str(h) for h in stored[s.ASSIGNED_BY].reindex(keys).fillna("").tolist()]
        kinds = [k if isinstance(k, str) and k else None for k in stored[s.STRUCTURE].reindex(keys).tolist()]
        new = np.flatnonzero(~old)
        if len(new):
            found = find_structure(texts, rules=rules, sources=sources, repeatable=repeatable, prompts=prompts)
            for i in new:
                kinds[i] = found[i]
        n_words = [len(rules.content_words(t)) for t in texts]
        centroids = _centroids(vectors[old], topic_list[old])
        seeded = {}
        if s.SEEDED_THEME in topics:
            seeded = {str(th): int(tp) for tp, th in zip(topics[s.TOPIC], topics[s.SEEDED_THEME]) if isinstance(th, str)}
        ids = sorted(centroids)
        matrix = np.vstack([centroids[t] for t in ids]) if ids else np.zeros((0, vectors.shape[1]), np.float32)
        needed = self._join_thresholds(vectors, topic_list, old, how, centroids, ids)
        for i in new:
            topic_list[i], how[i] = s.OUTLIER_TOPIC, "outlier"
            if kinds[i]:
                how[i] = "structure"
                continue
            if n_words[i] < self.min_content_words:
                how[i] = "short"
                continue
            if self.seed_with_themes and prototypes is not None:
                sims = prototypes @ vectors[i]
                best = int(sims.argmax())
                if sims[best] >= self.theme_min_similarity and themes[best].id in seeded:
                    topic_list[i], how[i] = seeded[themes[best].id], "theme"
                    continue
            if ids:
                sims = matrix @ vectors[i]
                best = int(sims.argmax())
                if sims[best] >= needed[best]:
                    topic_list[i], how[i] = ids[best], "joined"
        self.centroids_ = _centroids(vectors, topic_list)
        self.stability_ = stability or Stability()
        self.edit_outcomes_ = []
        self.joined_ = ~old
        theme_of = {int(tp): th for th, tp in seeded.items()}
        group_of_topic = {int(t): "" if t == s.OUTLIER_TOPIC else
                          (THEME_GROUP + theme_of[t] if t in theme_of else f"{TOPIC_GROUP}{int(t)}")
                          for t in set(topic_list.tolist())}
        labels = {}  # a researcher's name (a rename, a named merge) is kept; the automatic label is made again
        for row in topics.itertuples(index=False):
            topic, label, auto = int(getattr(row, s.TOPIC)), getattr(row, s.TOPIC_LABEL), getattr(row, s.AUTO_LABEL)
            if topic in group_of_topic and isinstance(label, str) and label != auto:
                labels[group_of_topic[topic]] = label
        counts = _stored_phrase_counts(previous, keys, old, phrases)
        if len(new):
            counts = counts.tolil()
            counts[new] = count_phrases([texts[i] for i in new], phrases).tolil()
            counts = counts.tocsr()
        phrases = Phrases(phrases.names, phrases.display, counts.astype(np.int32), phrases.surfaces)
        return self._describe(texts, keys, vectors, topic_list, how, kinds, n_words, phrases, group_of_topic, labels,
                              themes, prototypes, places, coded)

    def _join_thresholds(self, vectors, topics, old, how, centroids, ids) -> np.ndarray:
        """How close a new segment must be to a topic's centroid to join it.

        ``outlier_threshold``, or less for a broad topic: as close as the 5 % least typical of the
        segments the clustering put in it. A new segment like the topic's own members joins it, as
        it would have in a fit; one further from every topic than that stays an outlier.
        """
        out = np.full(len(ids), self.outlier_threshold, dtype=np.float32)
        member = old & np.array([h not in ("structure", "short", "outlier") for h in how])
        for k, topic in enumerate(ids):
            rows = np.flatnonzero(member & (topics == topic))
            if len(rows):
                out[k] = min(self.outlier_threshold, float(np.quantile(vectors[rows] @ centroids[topic], 0.05)))
        return out

    def _describe(self, texts, keys, vectors, topics, how, kinds, n_words, phrases, group_of_topic, labels, themes,
                  prototypes, places, coded) -> TopicModeller:
        """Everything after the topics are known: keyphrases, the topic table and the BERTopic model."""
        self.labels_ = topics
        self.assigned_by_ = np.array(how, dtype=object)
        self.structure_ = np.array(kinds, dtype=object)
        self.content_words_ = np.array(n_words)
        self.centroids_ = _centroids(vectors, topics)
        self.probabilities_ = np.array(
            [float(vectors[i] @ self.centroids_[t]) if t in self.centroids_ else 0.0 for i, t in enumerate(topics)],
            dtype=float,
        )
        self.phrases_ = phrases
        ranker = KeyphraseRanker(embed=self.embed if self.representation == "keybert" else None, top_n=self.top_n_words)
        self.topic_words_ = ranker.rank(self.phrases_, topics, self.centroids_)
        content = np.array([h not in ("structure", "short") for h in how])
        self.topic_info_ = self._topic_table(texts, keys, vectors, topics, group_of_topic, themes, prototypes, labels,
                                             places, coded, content)
        self.model_ = self._represent(topics, vectors)
        return self

    def _seed(self, vectors, prototypes, themes, groups, how) -> None:
        candidates = [i for i, h in enumerate(how) if h == "cluster"]
        if not candidates:
            return
        sims = vectors[candidates] @ prototypes.T
        best = sims.argmax(axis=1)
        for row, i in enumerate(candidates):
            if sims[row, best[row]] >= self.theme_min_similarity:
                groups[i] = THEME_GROUP + themes[best[row]].id
                how[i] = "theme"

    def _cluster_labels(self, X: np.ndarray, seed: int | None = None, scale: float = 1.0,
                        neighbours=None) -> np.ndarray:
        """Cluster labels of the rows of ``X`` (-1: outlier).

        With ``seed``, copies of the reducer and clusterer are re-seeded (and, for a subsample of
        ``scale`` times the rows, their minimum cluster sizes scaled): the stability refits.
        """
        from sklearn.base import clone

        if self.clusterer is None:
            return np.full(len(X), -1)
        reducer, clusterer = self.reducer, self.clusterer
        if seed is not None:
            reducer = clone(reducer, safe=False) if reducer is not None else None
            clusterer = clone(clusterer, safe=False)
            for model in (reducer, clusterer):
                if model is not None and hasattr(model, "get_params") and "random_state" in model.get_params():
                    model.set_params(random_state=seed)
            params = clusterer.get_params() if hasattr(clusterer, "get_params") else {}
            for name in ("min_cluster_size", "min_samples") if scale != 1.0 else ():
                if params.get(name):
                    clusterer.set_params(**{name: max(2, int(round(params[name] * scale)))})
        if reducer is not None:
            with warnings.catch_warnings():  # UMAP warns that a seed means one thread: we want the seed
                warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
                X = reducer.fit_transform(X, neighbours=neighbours) if neighbours is not None else reducer.fit_transform(X)
        clusterer.fit(X)
        return np.asarray(clusterer.labels_).astype(int)

    def _assign_clusters(self, vectors, rows: list[int], groups, how) -> None:
        if not rows:
            return
        if self.clusterer is None or len(rows) < max(2 * self.min_cluster_size, 3):
            for i in rows:
                how[i] = "outlier"
            return
        for i, label in zip(rows, self._cluster_labels(vectors[rows])):
            if label < 0:
                how[i] = "outlier"
            else:
                groups[i] = f"{CLUSTER_GROUP}{int(label)}"

    def _set_aside_structure_topics(self, texts, groups, how, kinds, rules) -> None:
        """A cluster made mostly of one structure signal (durations, contact details, introductions) is no topic."""
        members: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            if g.startswith(CLUSTER_GROUP):
                members.setdefault(g, []).append(i)
        for group, rows in members.items():
            kind = structure_topic([texts[i] for i in rows], rules)
            if kind:
                log.info("a cluster of %d segments is %s, not a topic: set aside", len(rows), kind)
                for i in rows:
                    groups[i], how[i], kinds[i] = "", "structure", kind

    def _stability(self, vectors, clustered: list[int], topics: np.ndarray) -> Stability:
        seeds = [int(x) for x in self.stability_seeds if int(x) != self.seed]
        if not seeds or self.clusterer is None or len(clustered) < max(2 * self.min_cluster_size, 3):
            return Stability()
        rows = np.array(clustered)
        if len(rows) > self.stability_sample:
            rows = np.sort(np.random.default_rng(self.seed).choice(rows, self.stability_sample, replace=False))
        scale = len(rows) / len(clustered)
        X = vectors[rows]
        graph = self.reducer.neighbours(X) if hasattr(self.reducer, "neighbours") else None

        def relabel(seed: int) -> np.ndarray:
            labels = self._cluster_labels(X, seed, scale, neighbours=graph)
            groups = ["" if lab < 0 else str(lab) for lab in labels]
            how = ["outlier" if lab < 0 else "cluster" for lab in labels]
            if self.outliers == "reduce":
                _reduce_outliers(X, groups, how, self.outlier_threshold)
            return np.array([int(g) if g else -1 for g in groups])

        return seed_stability(topics[rows], relabel, seeds)

    def _tag_sample(self, vectors, topics: np.ndarray) -> list[int] | None:
        """The segments tagged for keyphrase candidates: all, or each topic's most central ones."""
        n = len(topics)
        if self.tagger is None or n <= self.max_tagged:
            return None
        ids = [t for t in sorted(set(topics.tolist())) if t != s.OUTLIER_TOPIC]
        quota = max(5, self.max_tagged // max(1, len(ids)))
        chosen: list[int] = []
        for topic in ids:
            members = np.flatnonzero(topics == topic)
            order = members[np.argsort(-(vectors[members] @ self.centroids_[topic]), kind="stable")]
            chosen.extend(order[:quota].tolist())
        return chosen[: self.max_tagged]

    def _representatives(self, members: np.ndarray, vectors, centroid) -> np.ndarray:
        """Members closest to the centroid, those with more to say first."""
        if centroid is None:
            return members
        full = np.array([self.content_words_[i] >= 2 * self.min_content_words for i in members])
        closeness = vectors[members] @ centroid
        return members[np.lexsort((-closeness, ~full))]

    def _topic_table(self, texts, keys, vectors, topics, group_of_topic, themes, prototypes, labels, places, coded,
                     content) -> pd.DataFrame:
        theme_names = {t.id: t.name for t in themes}
        if prototypes is not None:
            S, Z = theme_affinities(vectors, prototypes, content)
        else:
            S = Z = np.zeros((len(topics), 0))
        beside = beside_codebook(topics, S, Z, [t.id for t in themes], coded, places, content,
                                 self.candidate_rule or CandidateRule())
        rows = []
        ids = sorted(set(topics.tolist()))
        for topic in ids:
            members = np.flatnonzero(topics == topic)
            words = self.topic_words_.get(topic, [])
            group = group_of_topic.get(topic, "")
            seeded = group[len(THEME_GROUP):] if group.startswith(THEME_GROUP) else None
            order = self._representatives(members, vectors, self.centroids_.get(topic))
            passage = None
            if topic == s.OUTLIER_TOPIC:
                auto = OUTLIER_LABEL
            elif seeded:
                auto = f"{theme_names.get(seeded, seeded)} (codebook)"
            else:
                passage = _label_passage(order[:5], texts, words)
                auto = passage_label(texts[passage], words) if passage is not None else ""
                auto = auto or " · ".join(words[:3]) or f"Topic {topic}"
            info = beside.get(topic, {})
            rows.append(
                {
                    s.TOPIC: int(topic),
                    s.AUTO_LABEL: auto[:300],
                    s.TOPIC_LABEL: labels.get(group, auto)[:300],
                    s.KEYWORDS: words,
                    s.SIZE: len(members),
                    s.REPRESENTATIVE: [keys[i] for i in order[: self.n_representative]],
                    s.LABEL_PASSAGE: keys[passage] if passage is not None else None,
                    s.SEEDED_THEME: seeded,
                    s.NEAREST_THEME: info.get("nearest_theme"),
                    s.THEME_SIMILARITY: info.get("theme_similarity"),
                    s.THEME_AFFINITY: info.get("theme_affinity"),
                    s.CODED_THEME: info.get("coded_theme"),
                    s.CODED_SHARE: info.get("coded_share", 0.0),
                    s.UNCODED_SHARE: info.get("uncoded_share"),
                    s.RESTATES_THEME: info.get("restates_theme"),
                    s.CANDIDATE_NEW: bool(info.get("candidate_new", False)) and not seeded,
                    s.CANDIDATE_KIND: info.get("candidate_kind") if not seeded else None,
                    s.CANDIDATE_PARENT: info.get("candidate_parent") if not seeded else None,
                    s.EVIDENCE: info.get("evidence", {}),
                    s.STABILITY: self.stability_.per_topic.get(int(topic)),
                }
            )
        frame = pd.DataFrame(rows)
        xy = _map_coordinates(self.centroids_, ids, self.seed)
        frame[s.MAP_X] = [xy.get(t, (np.nan, np.nan))[0] for t in ids]
        frame[s.MAP_Y] = [xy.get(t, (np.nan, np.nan))[1] for t in ids]
        return frame

    def _represent(self, topics: np.ndarray, vectors: np.ndarray):
        """A BERTopic model holding these topics (clusters given; c-TF-IDF over the keyphrases), to save and reload."""
        from bertopic import BERTopic
        from bertopic.cluster import BaseCluster
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.representation import BaseRepresentation
        from bertopic.vectorizers import ClassTfidfTransformer
        from sklearn.feature_extraction.text import CountVectorizer

        chosen = self.topic_words_

        class Chosen(BaseRepresentation):
            """The toolkit's keyphrases, best first (scored by rank)."""

            def extract_topics(self, topic_model, documents, c_tf_idf, topics):
                return {t: [(w, round(1.0 - k / 100, 2)) for k, w in enumerate(chosen.get(t, []))] or [("", 0.0)]
                        for t in topics}

        names = self.phrases_.names
        documents = [" ".join(names[j].replace(" ", "_") for j in row) or "_" for row in _rows(self.phrases_.counts)]
        model = BERTopic(
            embedding_model=None,
            umap_model=BaseDimensionalityReduction(),
            hdbscan_model=BaseCluster(),
            vectorizer_model=CountVectorizer(token_pattern=r"\S+", lowercase=False, min_df=1),
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            representation_model=Chosen(),
            top_n_words=self.top_n_words,
            calculate_probabilities=False,
            nr_topics=len(set(topics.tolist())),  # as many topics as we found: BERTopic keeps our numbers
        )
        model.fit(documents, embeddings=vectors, y=topics)
        if not np.array_equal(np.asarray(model.topics_), topics):
            raise RuntimeError("BERTopic renumbered the topics; the toolkit's topic numbers would not match its keywords.")
        return model

    # ------------------------------------------------------------------ use
    def assignments(self, keys: Sequence[str]) -> pd.DataFrame:
        """One row per segment: ``segment_key``, ``topic``, ``probability``, ``assigned_by``, ``structure``, ``phrases``."""
        self._check_fitted()
        display = self.phrases_.display
        return pd.DataFrame(
            {
                s.SEGMENT_KEY: list(keys),
                s.TOPIC: self.labels_.astype(int),
                s.PROBABILITY: np.round(self.probabilities_, 4),
                s.ASSIGNED_BY: self.assigned_by_,
                s.STRUCTURE: self.structure_,
                s.PHRASES: [[display[j] for j in row] for row in _rows(self.phrases_.counts)],
            }
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise NotFittedError("This TopicModeller is not fitted yet: call fit(texts, embeddings) first.")


# --------------------------------------------------------------------------- steps
def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def _reduce_outliers(vectors: np.ndarray, groups: list[str], how: list[str], threshold: float) -> None:
    """Content outliers join the topic whose centroid is closest, if close enough (structure and short ones never)."""
    named = sorted({g for g in groups if g})
    outliers = [i for i, g in enumerate(groups) if not g and how[i] == "outlier"]
    if not named or not outliers:
        return
    index = {g: np.flatnonzero(np.array(groups, dtype=object) == g) for g in named}
    centroids = _unit(np.vstack([vectors[index[g]].mean(axis=0) for g in named]))
    sims = vectors[outliers] @ centroids.T
    best = sims.argmax(axis=1)
    for row, i in enumerate(outliers):
        if sims[row, best[row]] >= threshold:
            groups[i] = named[best[row]]
            how[i] = "outlier_reduced"


def _rows(matrix) -> list[np.ndarray]:
    """The column indices of each row of a CSR matrix (``getrow`` costs a matrix per row)."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    return [matrix.indices[a:b] for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:])]


def _stored_phrase_counts(previous: pd.DataFrame, keys: list[str], old: np.ndarray, phrases: Phrases):
    """The phrase counts (presence) of stored segments, from the phrases stored with their assignments."""
    column = {d: j for j, d in enumerate(phrases.display)}
    stored = dict(zip(previous[s.SEGMENT_KEY], previous[s.PHRASES])) if s.PHRASES in previous else {}
    rows, cols = [], []
    for i in np.flatnonzero(old):
        found = stored.get(keys[i])
        if isinstance(found, str):
            import json

            found = json.loads(found)
        for d in found if isinstance(found, (list, tuple, np.ndarray)) else ():
            j = column.get(d)
            if j is not None:
                rows.append(i)
                cols.append(j)
    from scipy import sparse

    return sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(keys), len(phrases.names)))


def _label_passage(candidates: np.ndarray, texts: list[str], words: list[str]) -> int | None:
    """Of a topic's most representative passages, the first that holds the most of its top keyphrases."""
    if len(candidates) == 0:
        return None
    top = [w.lower() for w in words[:3]]
    scores = [sum(w in texts[i].lower() for w in top) for i in candidates]
    return int(candidates[int(np.argmax(scores))])


def _number_groups(groups: list[str]) -> dict[str, int]:
    """Topic numbers by size, largest first (ties by name): the same input gives the same numbers."""
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    named = sorted((g for g in sizes if g), key=lambda g: (-sizes[g], g))
    mapping = {g: i for i, g in enumerate(named)}
    if "" in sizes:
        mapping[""] = s.OUTLIER_TOPIC
    return mapping


def _centroids(vectors: np.ndarray, topics: np.ndarray) -> dict[int, np.ndarray]:
    out = {}
    for topic in sorted(set(topics.tolist())):
        if topic == s.OUTLIER_TOPIC:
            continue
        out[topic] = _unit(vectors[topics == topic].mean(axis=0, keepdims=True))[0]
    return out


def _map_coordinates(centroids: dict[int, np.ndarray], ids: list[int], seed: int) -> dict[int, tuple[float, float]]:
    """2-D positions of topics for the topic map (PCA of their centroids)."""
    topics = [t for t in ids if t in centroids]
    if not topics:
        return {}
    X = np.vstack([centroids[t] for t in topics])
    if len(topics) < 3:
        return {t: (float(i), 0.0) for i, t in enumerate(topics)}
    from sklearn.decomposition import PCA

    xy = PCA(n_components=2, random_state=seed).fit_transform(X)
    xy = np.round(xy, 5) + 0.0  # no negative zeros
    return {t: (float(a), float(b)) for t, (a, b) in zip(topics, xy)}


# --------------------------------------------------------------------------- backends
EXACT_NEIGHBOURS_UP_TO = 40_000
"""Up to this many segments the nearest neighbours are found exactly with numpy; above, by pynndescent.

At 26,228 real segments (int8 MiniLM vectors) the exact graph took 18.8 s against pynndescent's 27.4 s
(its JIT compile included), and pynndescent found 90% of the true 15 neighbours. The exact search
grows with the square of the segments, so far beyond this size pynndescent wins."""


def exact_neighbours(X: np.ndarray, k: int, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of each row of ``X`` (unit vectors; itself included): indices and euclidean distances.

    Block by block matrix products: no numba to compile (pynndescent's first call costs 15-20 s of JIT
    in every new process) and no pair-by-pair Python (UMAP's exact path for small data).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    >>> exact_neighbours(X, 2)[0].tolist()
    [[0, 1], [1, 0], [2, 1]]
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    k = min(k, n)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        sims = X[start:start + block] @ X.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(sims), 1))
        top = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        indices[start:start + block] = np.take_along_axis(part, order, axis=1)
        distances[start:start + block] = np.sqrt(np.maximum(2.0 - 2.0 * np.take_along_axis(top, order, axis=1), 0.0))
    return indices, distances


class NeighbourUMAP:
    """UMAP (euclidean on unit vectors, PCA initialisation, 200 epochs) given its nearest-neighbour graph.

    Embeddings are unit vectors, so euclidean neighbours are the cosine neighbours. Up to
    :data:`EXACT_NEIGHBOURS_UP_TO` rows the graph is exact (:func:`exact_neighbours`), which spares
    pynndescent's compile time and UMAP's slow exact path under 4,096 rows; above, UMAP's own
    pynndescent search. ``fit_transform(X, neighbours=...)`` takes a graph already computed: the
    stability refits reuse one graph and pay only a layout each. PCA initialisation and 200
    epochs: 4x faster than spectral at 25,000 segments.
    """

    def __init__(self, *, n_neighbors: int = 15, n_components: int = 5, n_epochs: int = 200, random_state=None):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict:
        return {"n_neighbors": self.n_neighbors, "n_components": self.n_components, "n_epochs": self.n_epochs,
                "random_state": self.random_state}

    def set_params(self, **params) -> NeighbourUMAP:
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def neighbours(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The exact graph of ``X``, or None when it is too big (UMAP searches it approximately)."""
        if len(X) > EXACT_NEIGHBOURS_UP_TO:
            return None
        return exact_neighbours(X, self.n_neighbors)

    def fit_transform(self, X: np.ndarray, neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        from umap import UMAP

        k = min(self.n_neighbors, len(X) - 1)
        graph = neighbours if neighbours is not None else self.neighbours(X)
        umap = UMAP(n_neighbors=k, n_components=self.n_components, min_dist=0.0, metric="euclidean", init="pca",
                    n_epochs=self.n_epochs, random_state=self.random_state, low_memory=True,
                    precomputed_knn=(graph[0][:, :k], graph[1][:, :k], None) if graph is not None else (None, None, None))
        with warnings.catch_warnings():  # no search index: we never transform with UMAP
            warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
            return umap.fit_transform(X)


@dataclass
class Backends:
    """What :func:`build_backends` made from the settings (for reports)."""

    reducer: object = None
    clusterer: object = None
    min_cluster_size: int = 10
    notes: list[str] = field(default_factory=list)


MAX_AUTO_CLUSTER_SIZE = 30
"""The largest automatic ``min_cluster_size``. At 60 (half of it as ``min_samples``), HDBSCAN merged the
5,000- and 25,000-segment scale studies into 2 topics; at 30 it finds 14 and 84 (``benchmarks/pipeline_scale.py``)."""


def build_backends(options, n_segments: int, seed: int) -> Backends:
    """The reducer and clusterer named in ``[topics]``, sized for the corpus.

    ``min_cluster_size = 0`` means automatic: about one segment in 100, at least 8 and at most 30
    (a small study still gets topics of a handful of interviews' worth; 25,000 segments tens of topics).
    """
    size = options.min_cluster_size or max(8, min(MAX_AUTO_CLUSTER_SIZE, n_segments // 100))
    notes = [f"min_cluster_size={size}"]
    if options.reducer == "umap":
        reducer = NeighbourUMAP(n_neighbors=options.n_neighbors, n_components=options.n_components, random_state=seed)
    elif options.reducer == "pca":
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=options.n_components, random_state=seed)
    elif options.reducer == "none":
        reducer = None
    else:
        raise ConfigError(f"topics.reducer is '{options.reducer}'; expected 'umap', 'pca' or 'none'.")
    if options.clusterer == "hdbscan":
        from hdbscan import HDBSCAN

        clusterer = HDBSCAN(min_cluster_size=size, min_samples=max(2, size // 2), metric="euclidean",
                            cluster_selection_method="eom", core_dist_n_jobs=1)
    elif options.clusterer == "kmeans":
        from sklearn.cluster import KMeans

        k = options.n_clusters or max(2, int(round(np.sqrt(n_segments / 10))))
        clusterer = KMeans(n_clusters=k, n_init=4, random_state=seed)
        notes.append(f"n_clusters={k}")
    else:
        raise ConfigError(f"topics.clusterer is '{options.clusterer}'; expected 'hdbscan' or 'kmeans'.")
    return Backends(reducer=reducer, clusterer=clusterer, min_cluster_size=size, notes=notes)
