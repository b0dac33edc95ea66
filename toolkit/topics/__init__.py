"""Inductive themes: BERTopic over the coded segments, set beside the codebook.

``model`` holds the modeller (pure: texts and embeddings in, topics out),
``stage`` the store-facing stage and researchers' edits, ``quality`` the
coherence and diversity measures used by the benchmarks.
"""

from toolkit.topics.model import TopicModeller
from toolkit.topics.stage import (
    NoSegmentsError,
    TopicReport,
    load_topic_model,
    merge_topics,
    model_dir,
    model_topics,
    rename_topic,
    split_topic,
    topic_distribution,
    topics_are_stale,
)

__all__ = [
    "NoSegmentsError",
    "TopicModeller",
    "TopicReport",
    "load_topic_model",
    "merge_topics",
    "model_dir",
    "model_topics",
    "rename_topic",
    "split_topic",
    "topic_distribution",
    "topics_are_stale",
]
