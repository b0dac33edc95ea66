"""Keyphrases that are phrases of the text, and labels built from a topic's most representative passage.

1. **Candidates** are noun phrases as spoken: runs of adjectives and nouns ending in a noun
   ("misdirected email", "Early Help Hub", "NHS number"), found by spaCy's tagger on a sample of
   segments (every segment in a small study; the most central ones of each topic in a big one), with
   their head noun lemmatised so "health visitors" and "health visitor" are one phrase. Without a
   tagger (tests, a blank pipeline) runs of content words between stop words stand in.
2. **Counting**: every segment is searched for every phrase as written (sparse counts; tags and
   punctuation break phrases, so no phrase spans two clauses or a pseudonym).
3. **Ranking**: c-TF-IDF over the phrases (BERTopic's ``ClassTfidfTransformer``), then KeyBERT-style:
   the best candidates are re-ranked by their embedding's similarity to the topic's centre, with
   maximal marginal relevance so that near-duplicates ("clinic", "data clinic") do not crowd a topic.
4. **Senses**: a bare word ("hub") is shown as the phrase it is part of in that topic ("early help
   hub", "insight hub"), so one word with two meanings does not read as one thing.

Structure words (fillers, numbers, times; ``toolkit/rules/topic_structure.yaml``), pseudonym tags,
the study's place names and its topic stop words never make a keyphrase.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from toolkit.topics.structure import MARK, TAG

BREAK = "xbrkx"
"""Stands for a tag or a punctuation mark in counted text: no phrase spans one."""
_BREAKS = re.compile(r"[,.;:!?()\[\]\"“”…/]+|\s[-–—]+\s")
_TOKEN = r"(?u)\b[^\W\d_][\w'’-]*[^\W_]\b|\b[^\W\d_]\b"
_NOUNS = {"NOUN", "PROPN"}
_MODIFIERS = {"NOUN", "PROPN", "ADJ"}
_LEMMA_FIXES = {"datum": "data", "medium": "media"}


@dataclass
class Phrases:
    """A corpus's keyphrase vocabulary and where each phrase occurs.

    ``names`` are the canonical phrases (lower case, head noun lemmatised), ``display`` the way each
    is written most often, ``counts`` a segments x phrases sparse matrix of occurrences.
    """

    names: list[str]
    display: list[str]
    counts: sparse.csr_matrix
    surfaces: dict[str, str] | None = None
    """How each phrase may be written (lower case) -> its canonical name: what :func:`count_phrases`
    looks for in new texts."""

    def index(self) -> dict[str, int]:
        return {name: j for j, name in enumerate(self.names)}

    def of_segment(self, i: int) -> list[str]:
        """The canonical phrases found in segment ``i``."""
        row = self.counts.getrow(i)
        return [self.names[j] for j in row.indices]


def clean_text(text: str) -> str:
    """Text as phrases are counted in: tags, transcription marks and punctuation become breaks."""
    text = TAG.sub(f" {BREAK} ", text)
    text = MARK.sub(f" {BREAK} ", text)
    return _BREAKS.sub(f" {BREAK} ", text).lower()


def extract_phrases(texts: Sequence[str], *, nlp=None, sample: Sequence[int] | None = None,
                    stop: frozenset[str] = frozenset(), max_words: int = 4, min_count: int = 2) -> Phrases:
    """Find the keyphrase candidates of ``texts`` and count them in every text.

    Parameters
    ----------
    texts : the segments.
    nlp : a spaCy pipeline with a tagger (and lemmatizer), or None for runs of content words.
    sample : which texts to look for candidates in (default all); every text is counted.
    stop : words a phrase may not start or end with, and single words that are no keyphrase.
    max_words : longest phrase.
    min_count : a phrase must occur in at least this many segments.

    Examples
    --------
    >>> p = extract_phrases(["The data clinic helped.", "A data clinic each month.", "The clinic.", "We met."])
    >>> p.names  # "data" is only ever part of "data clinic": not a phrase of its own
    ['clinic', 'data clinic']
    """
    from sklearn.feature_extraction.text import CountVectorizer

    texts = list(texts)
    sample = range(len(texts)) if sample is None else sorted(set(sample))
    forms: dict[str, Counter] = defaultdict(Counter)  # surface form (lower) -> canonical -> count
    shown: dict[str, Counter] = defaultdict(Counter)  # canonical -> as written
    tagged = nlp is not None
    for tokens in (_tagged_runs if tagged else _plain_runs)([texts[i] for i in sample], nlp, stop):
        # a tagged run ends in its head noun: its phrases are its endings ("health visitors",
        # "seconded health visitors"); an untagged run may hold anything, so every n-gram counts
        spans = ([(start, len(tokens)) for start in range(max(0, len(tokens) - max_words), len(tokens))] if tagged else
                 [(a, b) for a in range(len(tokens)) for b in range(a + 1, min(len(tokens), a + max_words) + 1)])
        for start, end in spans:
            words = tokens[start:end]
            if words[0][1] in stop or words[-1][1] in stop:
                continue
            surface = " ".join(w[0].lower() for w in words)
            canonical = " ".join([w[0].lower() for w in words[:-1]] + [words[-1][1]])
            forms[surface][canonical] += 1
            shown[canonical][" ".join(w[0] for w in words)] += 1
    if not forms:
        return Phrases([], [], sparse.csr_matrix((len(texts), 0), dtype=np.int32))
    surfaces = sorted(forms)
    vectoriser = CountVectorizer(vocabulary=surfaces, ngram_range=(1, max_words), token_pattern=_TOKEN, lowercase=False)
    counted = vectoriser.transform([clean_text(t) for t in texts]).tocsc()
    canonicals = sorted({c for f in forms.values() for c in f})
    position = {c: j for j, c in enumerate(canonicals)}
    rows = list(range(len(surfaces)))
    cols = [position[forms[surface].most_common(1)[0][0]] for surface in surfaces]
    mapping = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(surfaces), len(canonicals)))
    counts = (counted @ mapping).tocsr()
    present = np.asarray((counts > 0).sum(axis=0)).ravel()
    fragments = _fragments(canonicals, present)
    keep = [j for j in np.flatnonzero(present >= min_count) if canonicals[j] not in fragments]
    names = [canonicals[j] for j in keep]
    display = [_display(shown[name]) for name in names]
    kept = set(names)
    surface_of = {surface: forms[surface].most_common(1)[0][0] for surface in surfaces}
    return Phrases(names, display, counts[:, keep].tocsr().astype(np.int32),
                   {surface: name for surface, name in surface_of.items() if name in kept})


def count_phrases(texts: Sequence[str], phrases: Phrases, max_words: int = 4) -> sparse.csr_matrix:
    """Count a fitted vocabulary's phrases in new texts (texts x ``phrases.names``), as :func:`extract_phrases` counts.

    Examples
    --------
    >>> p = extract_phrases(["The data clinic helped.", "A data clinic each month.", "The clinic.", "We met."])
    >>> count_phrases(["Our data clinics and the clinic."], p).toarray().tolist()
    [[1, 0]]
    """
    from sklearn.feature_extraction.text import CountVectorizer

    texts = list(texts)
    if not phrases.names or not phrases.surfaces or not texts:
        return sparse.csr_matrix((len(texts), len(phrases.names)), dtype=np.int32)
    surfaces = sorted(phrases.surfaces)
    position = phrases.index()
    vectoriser = CountVectorizer(vocabulary=surfaces, ngram_range=(1, max_words), token_pattern=_TOKEN, lowercase=False)
    counted = vectoriser.transform([clean_text(t) for t in texts]).tocsc()
    cols = [position[phrases.surfaces[surface]] for surface in surfaces]
    mapping = sparse.csr_matrix((np.ones(len(surfaces), np.int32), (range(len(surfaces)), cols)),
                                shape=(len(surfaces), len(phrases.names)))
    return (counted @ mapping).tocsr().astype(np.int32)


def _fragments(names: list[str], present: np.ndarray, share: float = 0.8) -> set[str]:
    """Phrases almost always part of one longer phrase ("Help Hub" in "Early Help Hub"): not shown alone."""
    longest: dict[str, float] = {}
    for name, n in zip(names, present):
        words = name.split()
        for size in range(1, len(words)):
            for k in range(len(words) - size + 1):
                part = " ".join(words[k : k + size])
                longest[part] = max(longest.get(part, 0), n)
    return {name for name, n in zip(names, present) if longest.get(name, 0) >= share * n > 0}


def _display(variants: Counter) -> str:
    """The most frequent way a phrase is written; lower case unless it is mostly capitalised (a name)."""
    capitalised = sum(n for form, n in variants.items() if any(w[:1].isupper() for w in form.split()))
    best = variants.most_common(1)[0][0]
    if capitalised * 2 > sum(variants.values()):
        capital = [form for form, _ in variants.most_common() if any(w[:1].isupper() for w in form.split())]
        return capital[0]
    return best.lower()


def _tagged_runs(texts: list[str], nlp, stop: frozenset[str]):
    """Runs of (text, lemma) of adjectives and nouns ending in a noun, from spaCy's tags."""
    cleaned = [MARK.sub(" , ", TAG.sub(" , ", t)) for t in texts]
    for doc in nlp.pipe(cleaned, batch_size=256):
        run: list = []
        for token in list(doc) + [None]:
            word_ok = (
                token is not None
                and token.is_alpha | ("-" in token.text and token.text.replace("-", "").isalpha())
                and not token.is_stop
                and len(token.text) > 1
                and (token.pos_ in _MODIFIERS or (token.tag_ == "VBN" and token.i + 1 < len(doc)
                                                  and doc[token.i + 1].pos_ in _NOUNS))
                and token.lower_ not in stop
            )
            if word_ok:
                run.append(token)
                continue
            while run and run[-1].pos_ not in _NOUNS:
                run.pop()
            if run:
                yield [(t.text, _lemma(t) if k == len(run) - 1 else t.lower_) for k, t in enumerate(run)]
            run = []


def _lemma(token) -> str:
    lemma = (token.lemma_ or token.text).lower()
    if token.pos_ == "PROPN":
        return token.lower_
    return _LEMMA_FIXES.get(lemma, lemma)


def _plain_runs(texts: list[str], nlp, stop: frozenset[str]):
    """Runs of content words between stop words and punctuation (no tagger)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    for text in texts:
        run: list = []
        for token in clean_text(text).split() + [BREAK]:
            word = token.strip("'’-")
            if word != BREAK and word.isalpha() and len(word) > 2 and word not in STOP_WORDS and word not in stop:
                run.append(word)
                continue
            if run:
                yield [(w, _singular(w) if k == len(run) - 1 else w) for k, w in enumerate(run)]
            run = []


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# --------------------------------------------------------------------------- ranking
def class_tfidf(phrases: Phrases, topics: np.ndarray) -> tuple[list[int], sparse.csr_matrix, sparse.csr_matrix]:
    """c-TF-IDF of the phrases per topic, and the raw class counts (topics x phrases).

    BERTopic's ``ClassTfidfTransformer(reduce_frequent_words=True)``, written out (importing BERTopic
    costs seconds): a topic's phrase frequencies L1-normalised and square-rooted, times
    ``log(1 + A / f)`` with ``A`` the average number of phrases per topic and ``f`` the phrase's
    frequency over all topics. A phrase counts once per segment.

    Examples
    --------
    >>> p = Phrases(["consent", "server"], ["consent", "server"], sparse.csr_matrix(np.array([[1, 0], [1, 0], [0, 1]])))
    >>> ids, weights, counts = class_tfidf(p, np.array([0, 0, 1]))
    >>> counts.toarray().tolist(), bool(weights[0, 0] > weights[0, 1])
    ([[2.0, 0.0], [0.0, 1.0]], True)
    """
    ids = sorted(set(topics.tolist()))
    row_of = {t: k for k, t in enumerate(ids)}
    member = sparse.csr_matrix(
        (np.ones(len(topics)), ([row_of[t] for t in topics.tolist()], np.arange(len(topics)))), shape=(len(ids), len(topics))
    )
    counts = (member @ (phrases.counts > 0).astype(np.float64)).tocsr()
    if counts.shape[1] == 0 or counts.sum() == 0:
        return ids, counts.copy(), counts
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    average = max(1, int(np.asarray(counts.sum(axis=1)).mean()))
    idf = np.log(average / np.maximum(frequency, 1e-12) + 1)
    totals = np.asarray(counts.sum(axis=1)).ravel()
    tf = sparse.diags(1.0 / np.maximum(totals, 1e-12)) @ counts
    tf = tf.tocsr()
    tf.data = np.sqrt(tf.data)
    return ids, (tf @ sparse.diags(idf)).tocsr(), counts


@dataclass
class KeyphraseRanker:
    """Choose a topic's keyphrases: c-TF-IDF candidates re-ranked by meaning, diverse, with senses.

    Parameters
    ----------
    embed : texts -> unit vectors, or None to keep the c-TF-IDF order.
    top_n : keyphrases per topic.
    candidates : how many c-TF-IDF candidates are re-ranked.
    diversity : maximal-marginal-relevance weight (0: relevance only).
    min_count : a keyphrase must occur in this many of the topic's segments (fewer for small topics).
    min_share : ... and in at least this share of them (phrases a topic shares say more than one-offs).
    """

    embed: Callable[[list[str]], np.ndarray] | None = None
    top_n: int = 10
    candidates: int = 30
    diversity: float = 0.3
    min_count: int = 2
    min_share: float = 0.06

    def rank(self, phrases: Phrases, topics: np.ndarray, centroids: dict[int, np.ndarray]) -> dict[int, list[str]]:
        """Each topic's keyphrases (display forms), best first; topic -1 gets c-TF-IDF order only."""
        ids, weights, counts = class_tfidf(phrases, topics)
        chosen: dict[int, list[int]] = {}
        pool: set[int] = set()
        for k, topic in enumerate(ids):
            row = weights.getrow(k).toarray().ravel()
            have = counts.getrow(k).toarray().ravel()
            size = int((topics == topic).sum())
            need = max(min(self.min_count, max(1, size // 5)), int(size * self.min_share))
            order = [j for j in np.argsort(-row, kind="stable") if row[j] > 0 and have[j] >= need]
            chosen[topic] = order[: self.candidates]
            pool.update(chosen[topic])
        vectors = self._phrase_vectors(phrases, sorted(pool))
        out: dict[int, list[str]] = {}
        for k, topic in enumerate(ids):
            cands = chosen[topic]
            if not cands:
                out[topic] = []
                continue
            have = counts.getrow(k).toarray().ravel()
            centre = centroids.get(topic)
            if vectors is None or centre is None:
                picked = cands[: self.top_n * 2]
            else:
                picked = self._mmr(cands, weights.getrow(k).toarray().ravel(), vectors, centre)
            out[topic] = self._senses(picked, have, phrases)[: self.top_n]
        return out

    def _phrase_vectors(self, phrases: Phrases, wanted: list[int]) -> dict[int, np.ndarray] | None:
        if self.embed is None or not wanted:
            return None
        matrix = np.asarray(self.embed([phrases.display[j] for j in wanted]), dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return dict(zip(wanted, matrix))

    def _mmr(self, cands: list[int], weight: np.ndarray, vectors: dict[int, np.ndarray], centre: np.ndarray) -> list[int]:
        """Maximal marginal relevance over relevance = similarity to the topic's centre, nudged by c-TF-IDF."""
        top = max(float(weight[cands[0]]), 1e-12)
        relevance = {j: float(vectors[j] @ centre) + 0.25 * float(weight[j]) / top for j in cands}
        picked: list[int] = []
        left = list(cands)
        while left and len(picked) < self.top_n * 2:
            def score(j: int) -> float:
                overlap = max((float(vectors[j] @ vectors[p]) for p in picked), default=0.0)
                return (1 - self.diversity) * relevance[j] - self.diversity * overlap

            best = max(left, key=score)
            picked.append(best)
            left.remove(best)
        return picked

    def _senses(self, picked: list[int], have: np.ndarray, phrases: Phrases) -> list[str]:
        """Show a bare word as the longer phrase it mostly stands for in this topic; drop overlapping phrases.

        A phrase inside one already shown ("mental health" after "mental health trust"), or holding
        one ("NHS number field" after "NHS number"), says the same thing again and is left out.
        """
        index = phrases.index()
        shown: list[str] = []
        kept: list[list[str]] = []
        for j in picked:
            name = phrases.names[j]
            if " " not in name:
                longer = [(int(have[m]), phrases.names[m]) for n, m in index.items()
                          if n != name and name in n.split() and have[m] >= 2]
                if longer:
                    n_long, best = max(longer)
                    if n_long >= max(2, 0.2 * have[j]):
                        j, name = index[best], best
            words = name.split()
            if any(contains_run(words, other) or contains_run(other, words) for other in kept):
                continue
            kept.append(words)
            shown.append(phrases.display[j])
        return shown


def contains_run(short: list[str], long: list[str]) -> bool:
    """Is ``short`` a contiguous run of ``long`` (or equal to it)?"""
    n = len(short)
    return n <= len(long) and any(long[k : k + n] == short for k in range(len(long) - n + 1))


# --------------------------------------------------------------------------- labels
_CLAUSE = re.compile(r"\s*(?:[;:()]|,|\s[-–—]\s|\bbut\b|\bbecause\b|\bwhich\b|\bso\b(?= [a-z]))\s*", re.IGNORECASE)
_OPENERS = re.compile(r"^(?:(?:and|but|so|um+|uh+|er+|erm|yeah|yes|well|oh|ok|okay|right|like|honestly|actually|"
                      r"i mean|you know|i think|basically|then)\b[\s,.]*)+", re.IGNORECASE)


def passage_label(passage: str, keyphrases: Sequence[str], *, max_words: int = 10) -> str:
    """A short label from a topic's most representative passage: its clause that holds the top keyphrase.

    Pseudonym tags and transcription marks are left out; a long clause is cut around the keyphrase
    (marked with an ellipsis); the first keyphrase leads when the clause does not hold it.

    Examples
    --------
    >>> passage_label("Um, so the data clinic, quarterly, both sides' IG leads in the room, bring a real case.",
    ...               ["data clinic", "IG leads"])
    'The data clinic'
    >>> passage_label("Referrals went back to being emails sat in an inbox.", ["secure email"])
    'Secure email: referrals went back to being emails sat in an inbox'
    >>> passage_label("When the hub laptop wasn't working I ended up texting the health visitor on her own mobile.",
    ...               ["mobile"])
    '… ended up texting the health visitor on her own mobile'
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    text = MARK.sub(" ", TAG.sub(" ", passage))
    text = re.sub(r"\s+", " ", text).strip()
    clauses = [_OPENERS.sub("", c.strip(" ,.;:!?\"'“”")).strip(" ,.;:!?\"'“”") for c in _CLAUSE.split(text)]
    clauses = [re.sub(r"^[^\w]+", "", c) for c in clauses if len(c.split()) >= 2]
    if not clauses:
        return keyphrases[0][:1].upper() + keyphrases[0][1:] if keyphrases else ""
    lowered = [k.lower() for k in keyphrases]

    def hits(clause: str) -> tuple[int, int, int]:
        low = clause.lower()
        first = next((n for n, k in enumerate(lowered) if k in low), len(lowered))
        return (-first, sum(k in low for k in lowered), -len(clause.split()))

    best = max(clauses, key=hits)
    words = best.split()
    if len(words) > max_words:
        low = " ".join(words).lower()
        found = next((k for k in lowered if k in low), None)
        at = len(low[: low.index(found)].split()) if found else 0
        end = min(len(words), max(at + len(found.split()) if found else 0, max_words))
        start = max(0, end - max_words)
        cut = words[start:end]
        while len(cut) > 2 and cut[-1].lower().strip(",.") in STOP_WORDS:
            cut = cut[:-1]
        label = ("… " if start else "") + " ".join(cut).rstrip(",.;:") + (" …" if end < len(words) else "")
    else:
        label = " ".join(words)
    if lowered and not any(k in label.lower() for k in lowered):
        head = keyphrases[0]
        return f"{head[:1].upper()}{head[1:]}: {label[:1].lower()}{label[1:]}"
    return label[:1].upper() + label[1:]
