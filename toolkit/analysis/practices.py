"""Curated practices: good-practice passages grouped into the practices a researcher hands on.

The coder flags enabler passages that describe something a place did as good practice. Read as
a list they repeat themselves ("the data clinic" in twenty passages) and mix in passages that are
not practices at all. This module turns them into practices in three steps, all pure:

1. :func:`screen_practice` sets aside hypotheticals ("might have got more practices on board"),
   barriers told on the way to a remedy ("we had a wobble when the backfill took four months") and
   asides ("please say the template came from the ICB"), with the cue lists of
   ``rules/practices.yaml`` (rules are data). A researcher's own choice always wins.
2. :func:`propose_practices` groups near-duplicate candidates of one place: average-linkage
   clustering on sentence embeddings (cosine; TF-IDF when no embeddings are given), then clusters
   that share the same distinctive phrase (``data clinic``, ``template``) are merged, and each
   group gets that phrase as its proposed title.
3. :func:`practice_table` lays the researchers' curated practices (``practice_groups`` and the
   passages linked to them in ``practices``) beside the machine's proposals for passages nobody has
   curated yet: title, what it is, where, who runs it, the evidence (linked passages), status and
   transferability.

Why our own clustering: scikit-learn's and SciPy's clustering do the grouping; what is ours is
the small merge by shared phrase, which is what keeps twenty ways of saying "the data clinic"
in one practice, and which no library offers.

Examples
--------
>>> screen_practice("Making the template opt-out might have got more practices on board.")
'hypothetical'
>>> screen_practice("The data clinic. Quarterly, both sides' IG leads in the room, bring a real case.") is None
True
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, ensure, flag, none, plain
from toolkit.analysis.columns import (
    CURATED,
    N_PASSAGES,
    ORIGIN,
    PARTICIPANT,
    PARTICIPANTS,
    PASSAGES,
    PRACTICE_GROUP_COLUMNS,
    PROPOSAL,
    PROPOSED,
    REFERENCE,
    REFERENCES,
    SCREEN,
    THEME_NAME,
)
from toolkit.errors import ConfigError
from toolkit.rules import read_yaml

__all__ = [
    "DEFAULT_THRESHOLD",
    "PracticeRules",
    "load_practice_rules",
    "practice_candidates",
    "practice_table",
    "propose_practices",
    "screen_practice",
]

DEFAULT_THRESHOLD = 0.6
"""Cosine distance under which two candidates of one place join (average linkage). Chosen on the sample
study (its 70 practice passages, read and grouped by hand into 16 practices); see benchmarks/practices.py."""
MIN_ANCHOR = 3
"""A phrase names a practice when at least this many candidates of one place use it."""
SCREENS = ("hypothetical", "barrier", "aside", "taken out")
"""Why a candidate is not a practice; ``taken out`` is a researcher's own decision."""
PROPOSED_TITLE = "proposed_title"
THEME_SHARE = 0.15
"""A practice answers a theme when at least this share of its passages are coded with it (or it is its theme)."""

_TAG = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*(?:_\d+)?\]|\[[A-Z]{2}\d{2}\]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_FILLER = frozenset((
    "yeah", "um", "er", "erm", "uh", "like", "really", "just", "actually", "think", "know", "got", "get", "thing",
    "things", "did", "does", "said", "say", "sort", "lot", "bit", "quite", "way", "laughs", "one", "two", "three",
    "also", "well", "right", "okay", "ok", "so", "mean", "kind", "basically", "obviously",
))


# --------------------------------------------------------------------------- screening
@dataclass(frozen=True)
class PracticeRules:
    """Cue phrases that say a candidate is not a practice (``rules/practices.yaml``)."""

    hypothetical: tuple[str, ...] = ()
    barrier: tuple[str, ...] = ()
    aside: tuple[str, ...] = ()
    aside_openings: tuple[str, ...] = ()
    min_content_words: int = 1


def load_practice_rules(path: str | None = None) -> PracticeRules:
    """Read the screens (default: the packaged ``rules/practices.yaml``).

    Raises
    ------
    ConfigError
        A list holds something that is not text, or an entry is not a valid pattern.
    """

    where, raw = read_yaml("practices.yaml", path)
    lists = {}
    for key in ("hypothetical", "barrier", "aside", "aside_openings"):
        values = raw.get(key) or []
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            raise ConfigError(f"{where}: {key} holds {bad!r}, which YAML did not read as text. Put such entries "
                              "in quotes.")
        for value in values:
            try:
                re.compile(value)
            except re.error as exc:
                raise ConfigError(f"{where}: {key} entry {value!r} is not a valid pattern ({exc}).") from exc
        lists[key] = tuple(values)
    minimum = raw.get("min_content_words", 1)
    if not isinstance(minimum, int) or minimum < 0:
        raise ConfigError(f"{where}: min_content_words must be a whole number, found {minimum!r}.")
    return PracticeRules(**lists, min_content_words=minimum)


@functools.lru_cache(maxsize=8)
def _compiled(rules: PracticeRules) -> dict[str, re.Pattern | None]:
    def pattern(phrases: tuple[str, ...], opening: bool = False) -> re.Pattern | None:
        if not phrases:
            return None
        body = "|".join(p.replace(" ", r"\s+").replace("'", "['’]") for p in sorted(phrases, key=len, reverse=True))
        if opening:
            return re.compile(rf"^\W*(?:{body})\b", re.IGNORECASE)
        return re.compile(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", re.IGNORECASE)

    return {"hypothetical": pattern(rules.hypothetical), "barrier": pattern(rules.barrier),
            "aside": pattern(rules.aside), "opening": pattern(rules.aside_openings, opening=True)}


def content_words(text: str) -> list[str]:
    """The words of a passage that carry content: no pseudonym tags, stop words or filler.

    >>> content_words("Well, [PERSON_02]. She's one of our seconded health visitors.")
    ['seconded', 'health', 'visitors']
    """
    unwanted = _unwanted()
    words = [w.lower().strip("'’-") for w in _WORD.findall(_TAG.sub(" ", text or ""))]
    return [w for w in words if len(w) > 2 and w not in unwanted and not re.search(r"['’]", w) and not w.isdigit()]


def screen_practice(text: str, rules: PracticeRules | None = None) -> str | None:
    """Why a good-practice candidate is not a practice (``hypothetical``, ``barrier``, ``aside``), else None.

    >>> screen_practice("And we had a wobble last year when the backfill took four months.")
    'barrier'
    >>> screen_practice("Thank you. [laughs] See, this is why we need the data clinic.")
    'aside'
    >>> screen_practice("The template, obviously") is None
    True
    """
    rules = rules or load_practice_rules()
    patterns = _compiled(rules)
    text = text or ""
    for reason in ("hypothetical", "barrier", "aside"):
        found = patterns[reason]
        if found is not None and found.search(text):
            return reason
    opening = patterns["opening"]
    if opening is not None and opening.search(text):
        return "aside"
    if len(content_words(text)) < rules.min_content_words:
        return "aside"
    return None


def practice_candidates(library: pd.DataFrame, *, rules: PracticeRules | None = None) -> pd.DataFrame:
    """The good-practice library (:func:`toolkit.analysis.quotes.good_practice` with ``include_excluded``),
    each passage with why it is not a practice (``screen``), or None.

    A passage a researcher took out of the library is ``taken out``; one a researcher added or
    linked to a practice is never screened out (their choice wins over the cue lists).
    """
    if library is None or library.empty:
        return ensure(library.copy() if library is not None else empty([s.SEGMENT_KEY]), [SCREEN, s.GROUP_ID])
    rules = rules or load_practice_rules()
    frame = ensure(library.copy(), [s.INCLUDED, ORIGIN, s.GROUP_ID])
    included = flag(frame[s.INCLUDED].where(frame[s.INCLUDED].notna(), True))
    chosen = (frame[ORIGIN] == CURATED) & included
    screens = []
    for text, keep, by_person in zip(frame[s.TEXT], included, chosen):
        if not keep:
            screens.append("taken out")
        elif by_person:
            screens.append(None)
        else:
            screens.append(screen_practice(plain(text), rules))
    frame[SCREEN] = screens
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- grouping
@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    for suffix in ("ments", "ment", "ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


_GENERIC = frozenset((
    "help", "share", "shar", "information", "work", "people", "time", "good", "better", "make", "made", "use",
    "used", "need", "new", "difference",
))
"""Stemmed words every enabler uses ("it helped", "sharing information"): they never name a practice on their own."""


@functools.cache
def _unwanted() -> frozenset[str]:
    """Words that never carry a practice: English stop words (scikit-learn's list) and filler."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _FILLER


def _phrases(text: str, longest: int = 2) -> dict[str, str]:
    """Stemmed runs of 1 to ``longest`` content words of a passage -> their surface form (``data clinic``)."""
    unwanted = _unwanted()
    out: dict[str, str] = {}
    run: list[tuple[str, str]] = []
    for match in _WORD.finditer(_TAG.sub(" . ", text or "")):
        surface = match.group(0).strip("'’-")
        word = surface.lower()
        if len(word) < 3 or word in unwanted or word.isdigit() or "'" in word or "’" in word:
            run = []
            continue
        run.append((_stem(word), surface))
        for n in range(1, min(longest, len(run)) + 1):
            part = run[-n:]
            out.setdefault(" ".join(p[0] for p in part), " ".join(p[1] for p in part))
    return out


def _idf(corpus: Sequence[str]) -> dict[str, float]:
    """Inverse document frequency of every phrase of the study's segments (read only by callers)."""
    return _idf_of(tuple(corpus))


@functools.lru_cache(maxsize=2)
def _idf_of(corpus: tuple[str, ...]) -> dict[str, float]:
    # kept for the next call: the corpus is every segment of the study, which changes only when it is segmented
    # again, while the practices are proposed again after every decision (about 2 s at 25,000 segments)
    counts = Counter(p for text in corpus for p in _phrases(text))
    n = max(len(corpus), 1)
    return {p: math.log(n / (1 + c)) + 1.0 for p, c in counts.items()}


def _similarity(texts: list[str], vectors: np.ndarray | None) -> np.ndarray:
    if vectors is not None:
        matrix = np.asarray(vectors, dtype=float)
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer

        cleaned = [_TAG.sub(" ", t) for t in texts]
        try:
            matrix = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True).fit_transform(
                cleaned).toarray()
        except ValueError:  # nothing but stop words
            matrix = np.eye(len(texts))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix = matrix / norms
    return matrix @ matrix.T


def _clusters(similarity: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(similarity) == 1:
        return np.array([1])
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    distance = (distance + distance.T) / 2.0
    np.fill_diagonal(distance, 0.0)
    return fcluster(linkage(squareform(distance, checks=False), "average"), threshold, "distance")


def _anchor(members: list[dict[str, str]], anchors: Mapping[str, int], idf: Mapping[str, float],
            cover: float) -> str | None:
    """The phrase most of a cluster's members use that names a practice of the place, if any.

    Ranked by the share of members using it, then by how many of the place's candidates use it (so a
    cluster joins the place's main practice rather than splitting off on a rarer word), then by how
    distinctive it is in the study.
    """
    counts = Counter(p for m in members for p in m if p in anchors)
    best: tuple | None = None
    for phrase, n in counts.items():
        share = n / len(members)
        if share < cover:
            continue
        rank = (round(share, 6), anchors[phrase], idf.get(phrase, 1.0), phrase)
        if best is None or rank > best:
            best = rank
    return best[3] if best else None


def _title(texts: list[str], members: list[dict[str, str]], anchor: str | None, cover: float,
           idf: Mapping[str, float] | None = None) -> str:
    """A short proposed title for a group of passages.

    With a naming phrase: that phrase in the longest form most members use ("data clinic", "seconded
    health visitors"). Without one: the most distinctive phrase every member uses, else the opening words
    of its first passage (a passage alone says best what it is).
    """
    if anchor is None and len(texts) > 1:
        shared = set.intersection(*(set(m) for m in members)) if members else set()
        if shared:
            anchor = max(shared, key=lambda p: ((idf or {}).get(p, 1.0) * len(p.split()), p))
    if anchor is None:
        sentences = re.split(r"(?<=[.!?])\s+", _TAG.sub("", texts[0]).strip())
        while len(sentences) > 1 and len(sentences[0].split()) < 4:  # "Hugely." "It does, indirectly."
            sentences.pop(0)
        words = " ".join(sentences).split()
        text = " ".join(words[:9]).strip(" ,;:-")
        text = re.sub(r"^(?:and|so|but|well|yeah|um|er|then|because)\b[\s,]*", "", text, flags=re.IGNORECASE)
        text = text[:1].upper() + text[1:] if text else "Practice"
        return text + ("…" if len(words) > 9 else "")
    longer = [_phrases(t, longest=3) for t in texts]
    options = Counter(p for m in longer for p in m if anchor in p.split(" ") or p == anchor or anchor in p)
    best = anchor
    for phrase, n in options.items():
        if n / len(texts) >= cover and n >= 2 and anchor in phrase and (len(phrase.split()), n) > (
                len(best.split()), options.get(best, 0)):
            best = phrase
    surfaces = Counter(m[best] for m in longer if best in m)
    surface = surfaces.most_common(1)[0][0] if surfaces else best
    words = [w if any(c.isupper() for c in w[1:]) or w.isupper() else w.lower() for w in surface.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def propose_practices(
    candidates: pd.DataFrame,
    *,
    vectors: Mapping[str, np.ndarray] | None = None,
    corpus: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    min_anchor: int = MIN_ANCHOR,
    cover: float = 0.5,
) -> pd.DataFrame:
    """Group near-duplicate practice passages of each place into proposed practices.

    Parameters
    ----------
    candidates : passages that are practices (``segment_key``, ``place``, ``text``; e.g. the rows of
        :func:`practice_candidates` with no ``screen`` and no ``group_id``).
    vectors : ``segment key -> sentence embedding`` (the store's cached embeddings); when any candidate
        lacks one, TF-IDF vectors of the texts are used for all.
    corpus : the study's evidence texts, for how distinctive a phrase is (default: the candidates).
    threshold : cosine distance at which clusters stop joining (average linkage).
    min_anchor : a phrase used by this many candidates of a place can name (and merge) clusters.
    cover : the share of a cluster's members that must use its naming phrase.

    Returns
    -------
    ``candidates`` with ``proposal`` (a stable id: the same passages give the same id) and
    ``proposed_title``; groups are numbered in order of size within each place.

    Examples
    --------
    >>> frame = pd.DataFrame({"segment_key": ["a", "b", "c"], "place": ["H", "H", "H"],
    ...     "text": ["The data clinic!", "The quarterly data clinic.", "A named contact in mental health."]})
    >>> out = propose_practices(frame)
    >>> out["proposed_title"].tolist()[:2], out["proposal"].nunique()
    (['Data clinic', 'Data clinic'], 2)
    """
    columns = [*candidates.columns, PROPOSAL, PROPOSED_TITLE]
    if candidates.empty:
        return empty(columns)
    frame = candidates.reset_index(drop=True).copy()
    texts = [plain(t) for t in frame[s.TEXT]]
    keys = list(frame[s.SEGMENT_KEY])
    use = None
    if vectors is not None and all(k in vectors for k in keys):
        use = np.vstack([np.asarray(vectors[k], dtype=float) for k in keys])
    idf = _idf(list(corpus) or texts)
    phrases = [_phrases(t) for t in texts]
    places = frame[s.PLACE].map(plain) if s.PLACE in frame.columns else pd.Series("", index=frame.index)
    proposal: list[str | None] = [None] * len(frame)
    titles: list[str | None] = [None] * len(frame)
    for place in dict.fromkeys(places):
        idx = [i for i in range(len(frame)) if places[i] == place]
        sub = use[idx] if use is not None else None
        labels = _clusters(_similarity([texts[i] for i in idx], sub), threshold)
        used = Counter(p for i in idx for p in phrases[i])
        anchors = {p: n for p, n in used.items() if n >= min_anchor and p not in _GENERIC}
        groups: dict[str, list[int]] = {}
        names: dict[str, str | None] = {}
        for label in dict.fromkeys(labels):
            members = [idx[k] for k in range(len(idx)) if labels[k] == label]
            anchor = _anchor([phrases[i] for i in members], anchors, idf, cover)
            name = f"phrase:{anchor}" if anchor else f"cluster:{label}"
            groups.setdefault(name, []).extend(members)
            names[name] = anchor
        for name, members in groups.items():
            ident = "p" + hashlib.sha1(("|".join(sorted(keys[i] for i in members))).encode()).hexdigest()[:10]
            anchor = names[name] if len(members) > 1 else None  # one passage: its own words say it best
            title = _title([texts[i] for i in members], [phrases[i] for i in members], anchor, cover, idf)
            for i in members:
                proposal[i], titles[i] = ident, title
    frame[PROPOSAL] = proposal
    frame[PROPOSED_TITLE] = titles
    size = frame.groupby(PROPOSAL)[s.SEGMENT_KEY].transform("size")
    frame = frame.assign(_size=-size, _place=places).sort_values(["_place", "_size", PROPOSAL], kind="stable")
    return frame.drop(columns=["_size", "_place"]).reset_index(drop=True)[columns]


# --------------------------------------------------------------------------- the practices table
def practice_table(
    groups: pd.DataFrame | None,
    members: pd.DataFrame | None,
    segments: pd.DataFrame,
    *,
    theme_names: Mapping[str, str],
    proposals: pd.DataFrame | None = None,
    codings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Curated practices, then the machine's proposals for passages nobody curated yet.

    Parameters
    ----------
    groups : the latest row per ``group_id`` of the ``practice_groups`` table (researchers' practices).
    members : the latest row per segment of the ``practices`` table (a passage is linked to a practice
        by its ``group_id``; ``included`` False unlinks it).
    segments : evidence segments (``segment_key``, ``place``, ``participant``, ``reference``, ``theme``).
    proposals : :func:`propose_practices` output for uncurated candidates.
    codings : resolved codings (``segment_key``, ``theme``): ``themes`` lists the themes coded on at least
        :data:`THEME_SHARE` of a practice's passages, most frequent first, its own theme always included
        (a practice can answer barriers of several themes).

    Returns
    -------
    :data:`~toolkit.analysis.columns.PRACTICE_GROUP_COLUMNS`: one row per practice; ``origin`` is
    ``curated`` or ``proposed``; ``passages`` and ``references`` are the linked passages, in reading
    order; ``participants`` counts the people behind them. A proposal has status ``candidate``, its
    place, its most common theme and a proposed title; the rest is for a researcher to write.
    """
    meta = segments.set_index(s.SEGMENT_KEY) if not segments.empty else empty(
        [s.SEGMENT_KEY, s.PLACE, PARTICIPANT, REFERENCE, s.THEME]).set_index(s.SEGMENT_KEY)
    rows: list[dict] = []
    linked: dict[str, list[str]] = {}
    if members is not None and not members.empty and s.GROUP_ID in members.columns:
        live = members[members[s.GROUP_ID].notna() & flag(members[s.INCLUDED])]
        for key, group in zip(live[s.SEGMENT_KEY], live[s.GROUP_ID]):
            linked.setdefault(str(group), []).append(key)
    if groups is not None and not groups.empty:
        for row in groups.to_dict("records"):
            group_id = str(row[s.GROUP_ID])
            rows.append({**{c: none(row.get(c)) for c in (s.GROUP_ID, s.TITLE, s.DESCRIPTION, s.PLACE, s.WHO_RUNS,
                                                          s.EVIDENCE, s.STATUS, s.TRANSFERABILITY, s.THEME,
                                                          s.AUTHOR, s.CREATED_AT)},
                         ORIGIN: CURATED, PASSAGES: linked.get(group_id, [])})
    if proposals is not None and not proposals.empty:
        for ident, group in proposals.groupby(PROPOSAL, sort=False):
            keys = list(group[s.SEGMENT_KEY])
            themes = group[s.THEME].dropna() if s.THEME in group.columns else pd.Series(dtype=object)
            rows.append({s.GROUP_ID: ident, s.TITLE: group[PROPOSED_TITLE].iloc[0], s.DESCRIPTION: None,
                         s.PLACE: plain(group[s.PLACE].iloc[0]) or None, s.WHO_RUNS: None, s.EVIDENCE: None,
                         s.STATUS: s.PRACTICE_STATUSES[0], s.TRANSFERABILITY: None,
                         s.THEME: themes.mode().iloc[0] if not themes.empty else None, s.AUTHOR: None,
                         s.CREATED_AT: None, ORIGIN: PROPOSED, PASSAGES: keys})
    if not rows:
        return empty(PRACTICE_GROUP_COLUMNS)
    order = {k: i for i, k in enumerate(meta.index)}
    themes_of: dict[str, list[str]] = {}
    if codings is not None and not codings.empty:
        for key, theme in zip(codings[s.SEGMENT_KEY], codings[s.THEME]):
            if isinstance(theme, str):
                themes_of.setdefault(key, []).append(theme)
    for row in rows:
        keys = sorted(dict.fromkeys(row[PASSAGES]), key=lambda k: order.get(k, len(order)))
        row[PASSAGES] = keys
        known = [k for k in keys if k in meta.index]
        row[REFERENCES] = [plain(meta.at[k, REFERENCE]) for k in known] if REFERENCE in meta.columns else []
        row[N_PASSAGES] = len(keys)
        coded = Counter(t for k in keys for t in themes_of.get(k, []))
        enough = max(1, math.ceil(THEME_SHARE * len(keys)))
        themes = [t for t, n in coded.most_common() if n >= enough]
        if row.get(s.THEME) and row[s.THEME] not in themes:
            themes.insert(0, row[s.THEME])
        row["themes"] = themes
        row[PARTICIPANTS] = len({plain(meta.at[k, PARTICIPANT]) for k in known}) if PARTICIPANT in meta.columns else 0
        if not row.get(s.PLACE) and known and s.PLACE in meta.columns:
            row[s.PLACE] = ", ".join(dict.fromkeys(plain(meta.at[k, s.PLACE]) for k in known))
    frame = pd.DataFrame(rows)
    frame[THEME_NAME] = frame[s.THEME].map(dict(theme_names)).fillna(frame[s.THEME])
    rank = {t: i for i, t in enumerate(theme_names)}
    frame = frame.assign(_o=frame[ORIGIN].map({CURATED: 0, PROPOSED: 1}), _t=frame[s.THEME].map(rank).fillna(len(rank)),
                         _n=-frame[N_PASSAGES])
    frame = frame.sort_values(["_o", s.PLACE, "_t", "_n"], kind="stable", na_position="last")
    return ensure(frame, PRACTICE_GROUP_COLUMNS)[PRACTICE_GROUP_COLUMNS].reset_index(drop=True)
