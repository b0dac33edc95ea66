"""Inductive themes: BERTopic over the coded segments, set beside the codebook.

``model`` holds the modeller (pure: texts and embeddings in, topics out), ``stage`` the
topics stage as a pure function (:func:`fit_topics`; the pipeline stores what it returns),
``quality`` the coherence and diversity measures used by the benchmarks. Researchers' edits
(rename, merge, split) are human work: they go through :mod:`toolkit.review` (see
:meth:`toolkit.api.Study.rename_topic`).
"""

from toolkit.topics.model import TopicModeller
from toolkit.topics.stage import (
    NoSegmentsError,
    TopicReport,
    fit_topics,
    load_topic_model,
    model_dir,
    model_topics,
    topics_are_stale,
)

__all__ = [
    "NoSegmentsError",
    "TopicModeller",
    "TopicReport",
    "fit_topics",
    "load_topic_model",
    "model_dir",
    "model_topics",
    "topics_are_stale",
]
