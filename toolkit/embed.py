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

from toolkit.segment import text_hash

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"

Encoder = Callable[[list[str]], np.ndarray]


def minilm_encoder(batch_size: int = 64) -> Encoder:
    """The packaged all-MiniLM-L6-v2 (loaded once per process, offline)."""
    from toolkit.models import load_embedder

    model = load_embedder()

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(
            texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
        )

    return encode


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
