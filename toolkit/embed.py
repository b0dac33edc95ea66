"""Sentence embeddings, cached in the store by text hash and model.

Embedding dominates the cost of coding and topic modelling, so every vector is
computed once per (text, model) and kept in the store's ``embeddings`` table:
re-runs and setting changes never re-embed an unchanged segment. Texts are
embedded in batches sorted by length (less padding), and vectors are L2-normalised
so a dot product is a cosine similarity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from toolkit.models import INT8_NAME, STATIC_NAME
from toolkit.segment import text_hash

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
E5_MODEL = "multilingual-e5-small-q4"
"""Cache names of the transformer embedders: MiniLM (torch) and e5 (4-bit, C engine; better polarity on real
text, multilingual, slower). The static embedder's cache name is :data:`toolkit.models.STATIC_NAME`.
See :func:`make_encoder`."""

Encoder = Callable[[list[str]], np.ndarray]
"""The embedder interface shared by coding and topics: a list of texts -> a float32 array (n, d),
rows L2-normalised (a dot product is a cosine). :class:`CachedEmbedder` wraps any encoder with the
store's cache, keyed by text hash and model name."""

ENCODERS = {"minilm": DEFAULT_MODEL, "minilm-int8": INT8_NAME, "static": STATIC_NAME, "e5": E5_MODEL}
"""Embedder names a study may choose, and the cache name of each (the cache is keyed by it, so switching
embedder never mixes vectors). ``minilm-int8`` and ``static`` are built from the packaged MiniLM by the set-up
(:mod:`toolkit.distil`)."""


def minilm_encoder(batch_size: int = 64) -> Encoder:
    """The packaged all-MiniLM-L6-v2 (loaded once per process, offline)."""
    from toolkit.models import load_embedder

    model = load_embedder()

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(
            texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
        )

    return encode


def e5_encoder(batch_size: int = 64) -> Encoder:
    """multilingual-e5-small (4-bit, C engine), weights verified at load; texts embedded as ``query:``
    (symmetric similarity between sentences, as the model card advises for classification)."""
    from toolkit.models import load_e5

    model = load_e5()

    def encode(texts: list[str]) -> np.ndarray:
        out = [model.query(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack([np.atleast_2d(o) for o in out]).astype(np.float32)

    return encode


def static_encoder(folder=None) -> Encoder:
    """The static embedder distilled from MiniLM: a text's vector is the mean of its wordpiece tokens' vectors.

    About a hundred times faster than MiniLM on a CPU (no transformer at all); files verified at load.
    A text without any token gets a zero vector (normalised to zero by :class:`CachedEmbedder`).
    """
    from toolkit.models import load_static

    tokenizer, table = load_static(folder)

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for row, encoding in enumerate(tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            if encoding.ids:
                out[row] = table[encoding.ids].mean(axis=0)
        return _normalise(out)

    return encode


def int8_encoder(batch_size: int = 1, folder=None) -> Encoder:
    """MiniLM exported to ONNX with int8 weights (onnxruntime, no torch at run time), files verified at load.

    Vectors keep a cosine of about 0.99 to torch MiniLM's; texts are cut at MiniLM's 256 tokens as
    sentence-transformers does. One text per call by default: dynamic quantisation scales the activations
    of a whole batch together, so in a batch a text's vector would depend on its neighbours (and a re-run
    with other segments would give it another vector); alone, it is the same every time, with no padding,
    at about 25% less speed than batches of 32.

    Texts are spread over one thread per core, each running the one-threaded session on its share (onnxruntime
    lets go of the GIL): on 2 cores twice the texts per second of one two-threaded call at a time, with
    bit-identical vectors (``tests/test_embed.py``).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from toolkit.models import load_int8

    session, tokenizer = load_int8(folder, threads=1)
    workers = max(1, min(4, os.cpu_count() or 1))

    def encode(texts: list[str]) -> np.ndarray:
        texts = list(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)

        def run(share: np.ndarray) -> None:
            for start in range(0, len(share), batch_size):
                rows = share[start : start + batch_size]
                encodings = tokenizer.encode_batch([texts[i] for i in rows])
                width = max(len(e.ids) for e in encodings)
                ids = np.zeros((len(rows), width), dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for j, encoding in enumerate(encodings):
                    ids[j, : len(encoding.ids)] = encoding.ids
                    mask[j, : len(encoding.ids)] = 1
                out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

        if workers == 1 or len(texts) < 4 * workers:
            run(order)
        else:  # every worker gets short and long texts alike (the order is by length)
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, [order[k::workers] for k in range(workers)]))
        return out

    return encode


def make_encoder(name: str = "e5") -> tuple[str, Encoder]:
    """``(cache name, encoder)`` for an embedder name (a key of :data:`ENCODERS`); models load lazily.

    Examples
    --------
    >>> make_encoder("minilm")[0]
    'all-MiniLM-L6-v2'
    """
    from toolkit.errors import ConfigError

    if name not in ENCODERS:
        raise ConfigError(f"Unknown embedder '{name}'. Choose one of: {', '.join(ENCODERS)} (coding.embedder in study.toml).")
    loaders = {"minilm": minilm_encoder, "minilm-int8": int8_encoder, "static": static_encoder, "e5": e5_encoder}
    state: dict = {}

    def encode(texts: list[str]) -> np.ndarray:
        if "f" not in state:
            state["f"] = loaders[name]()
        return state["f"](texts)

    return ENCODERS[name], encode


class CachedEmbedder:
    """Embed texts, reading and writing the store's embedding cache.

    Parameters
    ----------
    store : a :class:`toolkit.store.Store`, or ``None`` for no cache.
    model : the model's name, part of the cache key.
    encoder : texts -> 2-D array; default the packaged MiniLM (loaded on first use).

    Examples
    --------
    >>> fake = lambda texts: np.ones((len(texts), 3))
    >>> embed = CachedEmbedder(None, model="fake", encoder=fake)
    >>> embed(["a", "b"]).shape
    (2, 3)
    """

    def __init__(self, store=None, *, model: str = DEFAULT_MODEL, encoder: Encoder | None = None):
        self.store = store
        self.model = model
        self.encoder = encoder
        self.computed = 0
        self.cached = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        unique = list(dict.fromkeys(hashes))
        found = self.store.get_embeddings(unique, self.model) if self.store is not None else {}
        vectors: dict[str, np.ndarray] = {h: np.frombuffer(v, dtype=np.float32) for h, v in found.items()}
        missing = [h for h in unique if h not in vectors]
        self.cached += len(unique) - len(missing)
        if missing:
            by_hash = dict(zip(hashes, texts))
            todo = sorted(missing, key=lambda h: len(by_hash[h]))
            if self.encoder is None:
                self.encoder = minilm_encoder()
            new = np.asarray(self.encoder([by_hash[h] for h in todo]), dtype=np.float32)
            new = _normalise(new)
            self.computed += len(todo)
            for h, v in zip(todo, new):
                vectors[h] = v
            if self.store is not None:
                self.store.put_embeddings([(h, v.tobytes()) for h, v in zip(todo, new)], self.model, new.shape[1])
        return np.vstack([vectors[h] for h in hashes])


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)
