"""Deductive coding: give each segment a theme and a polarity, and say why.

The package is the coding stage's pure parts and the stage itself:

* :mod:`~toolkit.coding.polarity`: polarity cues and their negation (rules kept as data);
* :mod:`~toolkit.coding.coder`: :class:`ThemeCoder`, which combines pattern, similarity and model evidence;
* :mod:`~toolkit.coding.human`: human decisions, what teaches the coder, what a reader sees;
* :mod:`~toolkit.coding.evaluate`: scores against a gold standard;
* :mod:`~toolkit.coding.stage`: :func:`build_coder` and :func:`code_segments` (pure; the pipeline
  reads the store, calls them and writes what they return).

Agreement between coders lives in :mod:`toolkit.agreement`; ``compare_coders`` and
``agreement_codings`` are re-exported here for old callers.
"""

from toolkit.agreement.coders import CoderComparison, agreement_codings, compare_coders
from toolkit.coding.coder import ThemeCoder, definition_text
from toolkit.coding.evaluate import NO_THEME, evaluate_coder
from toolkit.coding.human import latest_human, match_segments, resolve_codings, training_frame
from toolkit.coding.polarity import PolarityRules, load_polarity_rules, polarity_cues
from toolkit.coding.stage import (
    CODING_COLUMNS,
    build_coder,
    code_segments,
    code_texts,
    codebook_changes,
    recode_affected,
    study_codebook,
    study_coder,
)

__all__ = [
    "CODING_COLUMNS",
    "NO_THEME",
    "CoderComparison",
    "PolarityRules",
    "ThemeCoder",
    "agreement_codings",
    "build_coder",
    "code_segments",
    "code_texts",
    "codebook_changes",
    "compare_coders",
    "definition_text",
    "evaluate_coder",
    "latest_human",
    "load_polarity_rules",
    "match_segments",
    "polarity_cues",
    "recode_affected",
    "resolve_codings",
    "study_codebook",
    "study_coder",
    "training_frame",
]
