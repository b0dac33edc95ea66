"""How good are topics? Coherence, diversity and a classical baseline.

Used by the benchmarks (``benchmarks/topic_quality.py``) to compare the toolkit's
topic model with BERTopic's default pipeline and with LDA on the same texts:

* :func:`npmi_coherence`: do a topic's top words occur in the same documents?
  Normalised pointwise mutual information over document-level co-occurrence
  (Bouma 2009), averaged over the pairs of each topic's top words: the C_NPMI
  measure of Röder, Both and Hinneburg (2015) with a boolean-document window.
  1 means the words always occur together, 0 independently, -1 never together.
* :func:`topic_diversity`: how many of the topics' top words are distinct
  (Dieng, Ruiz and Blei 2020); 1 means no word is shared between topics.
* :func:`lda_baseline`: scikit-learn's LatentDirichletAllocation on word counts,
  for a "does the embedding model beat bag-of-words?" row.

All three tokenise the same way (:func:`tokenise`): lower-case words of three letters
or more, spaCy's English stop words removed (read from ``spacy.lang.en.stop_words``,
no model is loaded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse

OUTLIER_TOPIC = -1
"""Topic id of outliers: never scored."""

_CLITIC = re.compile(r"['’](?:s|d|ll|re|ve|m)\b", re.IGNORECASE)
_WORD = re.compile(r"(?<![\w'’])[^\W\d_]{3,}(?![\w'’])")


def english_stop_words() -> frozenset[str]:
    """spaCy's English stop words (no model needed)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.lower() for w in STOP_WORDS)


def _words(text: str, stop: frozenset[str] | set[str]) -> list[str]:
    text = _CLITIC.sub(" ", text.lower())
    return [w for w in _WORD.findall(text) if w not in stop]


def tokenise(texts: Iterable[str], *, stop_words: Iterable[str] | None = None, nlp=None) -> list[list[str]]:
    """Lower-case word tokens of three letters or more, stop words removed.

    Clitics are dropped with their apostrophe ("people's" -> "people"); contractions
    with "n't" ("don't") and tokens with digits are not words here.

    Parameters
    ----------
    texts : the documents.
    stop_words : words to drop (default: spaCy's English ``STOP_WORDS``).
    nlp : optional spaCy pipeline with a lemmatizer; each document then also holds the
        lemmas of its words, so topic words given as lemmas ("share") are found in
        documents that say "sharing".

    Examples
    --------
    >>> tokenise(["The GP's systems don't talk to ours, 2 years on!"])
    [['systems', 'talk', 'years']]
    """
    stop = english_stop_words() if stop_words is None else frozenset(w.lower() for w in stop_words)
    texts = list(texts)
    out = [_words(text, stop) for text in texts]
    if nlp is not None:
        for tokens, doc in zip(out, nlp.pipe(texts, batch_size=256)):
            lemmas = [t.lemma_.lower() for t in doc if t.is_alpha and len(t.lemma_) >= 3]
            tokens.extend(dict.fromkeys(w for w in lemmas if w not in stop and w not in tokens))
    return out


def _topics(topic_words: Mapping[int, Sequence[str]], top_n: int) -> dict[int, list[str]]:
    return {
        int(t): [w for w in list(words)[:top_n] if w]
        for t, words in topic_words.items()
        if int(t) != OUTLIER_TOPIC
    }


def occurrence_matrix(docs_tokens: Sequence[Iterable[str]], words: Sequence[str]) -> sparse.csc_matrix:
    """Boolean document x word matrix (sparse): does document ``i`` contain word ``j``?

    A phrase ("data sharing") occurs in a document that holds all of its words.
    """
    parts = {w: w.split() for w in words}
    vocab = {tok: k for k, tok in enumerate(dict.fromkeys(tok for w in words for tok in parts[w]))}
    rows: list[int] = []
    cols: list[int] = []
    for i, tokens in enumerate(docs_tokens):
        for tok in set(tokens):
            k = vocab.get(tok)
            if k is not None:
                rows.append(i)
                cols.append(k)
    n_docs = len(docs_tokens)
    base = sparse.csc_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_docs, len(vocab)), dtype=np.int32
    )
    columns = []
    for w in words:
        col = base[:, vocab[parts[w][0]]] if parts[w] else sparse.csc_matrix((n_docs, 1), dtype=np.int32)
        for tok in parts[w][1:]:
            col = col.multiply(base[:, vocab[tok]])
        columns.append(sparse.csc_matrix(col))
    if not columns:
        return sparse.csc_matrix((n_docs, 0), dtype=np.int32)
    return sparse.hstack(columns, format="csc").astype(np.int32)


def npmi(p_i: float, p_j: float, p_ij: float) -> float:
    """Normalised PMI of two words from their document probabilities.

    -1 when they never occur together (also when one never occurs), 1 when they always do.

    Examples
    --------
    >>> npmi(0.5, 0.5, 0.25)
    0.0
    >>> npmi(0.5, 0.5, 0.0), npmi(0.5, 0.5, 0.5)
    (-1.0, 1.0)
    """
    if p_ij <= 0.0:
        return -1.0
    if p_ij >= 1.0:
        return 1.0
    log_ij = math.log(p_ij)
    value = (log_ij - math.log(p_i) - math.log(p_j)) / -log_ij
    return float(min(1.0, max(-1.0, value)))


def npmi_coherence(
    topic_words: Mapping[int, Sequence[str]], docs_tokens: Sequence[Iterable[str]], *, top_n: int = 10
) -> dict:
    """Mean NPMI of each topic's top-word pairs over document co-occurrence (C_NPMI).

    Parameters
    ----------
    topic_words : topic id -> its words, best first; topic -1 (outliers) is ignored.
    docs_tokens : the reference documents as token lists (see :func:`tokenise`); usually
        the documents the topics were fitted on.
    top_n : how many top words of each topic are paired.

    Returns
    -------
    ``{"per_topic": {topic: score}, "mean": float, "top_n": int, "n_docs": int}``; a topic
    with fewer than two words scores NaN and is left out of the mean (NaN if no topic scores).
    Word pairs that never occur in the same document score -1.

    Examples
    --------
    >>> docs = [["consent", "form"], ["consent", "form"], ["server"]]
    >>> npmi_coherence({0: ["consent", "form"], 1: ["consent", "server"], -1: ["form"]}, docs)["per_topic"]
    {0: 1.0, 1: -1.0}
    """
    topics = _topics(topic_words, top_n)
    words = list(dict.fromkeys(w for ws in topics.values() for w in ws))
    n_docs = len(docs_tokens)
    per_topic: dict[int, float] = {}
    if n_docs == 0:
        raise ValueError("npmi_coherence needs at least one reference document.")
    index = {w: k for k, w in enumerate(words)}
    matrix = occurrence_matrix(docs_tokens, words)
    co = (matrix.T @ matrix).toarray().astype(np.float64) / n_docs
    p = np.diag(co).copy()
    for topic, ws in topics.items():
        ids = [index[w] for w in dict.fromkeys(ws)]
        if len(ids) < 2:
            per_topic[topic] = float("nan")
            continue
        scores = [npmi(p[a], p[b], co[a, b]) for k, a in enumerate(ids) for b in ids[k + 1 :]]
        per_topic[topic] = float(np.mean(scores))
    valid = [v for v in per_topic.values() if not math.isnan(v)]
    return {
        "per_topic": per_topic,
        "mean": float(np.mean(valid)) if valid else float("nan"),
        "top_n": top_n,
        "n_docs": n_docs,
    }


def topic_diversity(topic_words: Mapping[int, Sequence[str]], *, top_n: int = 25) -> float:
    """Share of distinct words among all topics' top-``top_n`` words (topic -1 ignored).

    Examples
    --------
    >>> topic_diversity({0: ["consent", "form"], 1: ["server", "cloud"]})
    1.0
    >>> topic_diversity({0: ["consent", "form"], 1: ["consent", "form"], -1: ["noise"]})
    0.5
    """
    lists = _topics(topic_words, top_n).values()
    total = [w for ws in lists for w in ws]
    if not total:
        return float("nan")
    return len(set(total)) / len(total)


def lda_baseline(
    texts: Sequence[str],
    n_topics: int,
    *,
    seed: int = 42,
    top_n: int = 10,
    min_df: int = 2,
    max_iter: int = 20,
    stop_words: Iterable[str] | None = None,
) -> dict[int, list[str]]:
    """Topics from Latent Dirichlet Allocation on word counts, as a classical baseline.

    The vocabulary is :func:`tokenise`'s (same stop words), words in fewer than
    ``min_df`` documents dropped. Deterministic for a given ``seed``.

    Returns
    -------
    topic id (0 .. n_topics-1) -> its ``top_n`` words, most probable first.

    Examples
    --------
    >>> texts = ["consent form signed", "consent form lost", "server cloud outage", "server cloud migration"]
    >>> topics = lda_baseline(texts, 2, min_df=1, top_n=2)
    >>> sorted(sorted(ws) for ws in topics.values())
    [['cloud', 'server'], ['consent', 'form']]
    """
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    stop = english_stop_words() if stop_words is None else frozenset(w.lower() for w in stop_words)
    vectoriser = CountVectorizer(analyzer=_Analyzer(stop), min_df=min_df)
    counts = vectoriser.fit_transform(list(texts))
    lda = LatentDirichletAllocation(
        n_components=n_topics, random_state=seed, learning_method="batch", max_iter=max_iter
    ).fit(counts)
    vocab = vectoriser.get_feature_names_out()
    order = np.argsort(-lda.components_, axis=1, kind="stable")[:, :top_n]
    return {k: [str(vocab[j]) for j in row] for k, row in enumerate(order)}


class _Analyzer:
    """CountVectorizer analyzer doing what :func:`tokenise` does (picklable)."""

    def __init__(self, stop: frozenset[str]):
        self.stop = stop

    def __call__(self, text: str) -> list[str]:
        return _words(text, self.stop)


def topic_quality(topic_words: Mapping[int, Sequence[str]], texts: Sequence[str], *, window: int = 5) -> dict:
    """NPMI (top 10 words) and diversity (top 25) of a topic model's words over the texts it was fitted on.

    One yardstick for any model (the toolkit's keyphrases, plain BERTopic's words): words are
    compared lower case, phrases split into their words (so phrase and word models compare on
    words), and the reference documents are windows of ``window`` consecutive texts (one
    sentence is too short a context: most pairs never meet in one), every way a word is written
    kept (no stop words removed, so a stop word in a topic's words is scored as it co-occurs).

    Examples
    --------
    >>> texts = ["consent form signed", "consent form lost", "server outage", "server cloud outage"]
    >>> q = topic_quality({0: ["consent", "form"], 1: ["server", "outage"]}, texts, window=1)
    >>> round(q["npmi"], 2), q["diversity"], q["topics"]
    (1.0, 1.0, 2)
    """
    texts = list(texts)
    words = {int(t): list(dict.fromkeys(w for phrase in ws for w in str(phrase).lower().split()))
             for t, ws in topic_words.items()}
    tokens = [set(_WORD_RUN.findall(text.lower())) for text in texts]
    if window > 1:
        half = window // 2
        tokens = [set().union(*tokens[max(0, i - half): i + half + 1]) for i in range(len(tokens))]
    real = [t for t in words if t != OUTLIER_TOPIC]
    return {
        "npmi": npmi_coherence(words, tokens, top_n=10)["mean"] if texts else float("nan"),
        "diversity": topic_diversity(words, top_n=25),
        "topics": len(real),
    }


_WORD_RUN = re.compile(r"[\w'’-]+")
