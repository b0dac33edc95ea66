"""Which passages could a codebook pattern match at all? A cheap, exact pre-filter for the matchers.

Codebook token patterns match lemmas, so a passage must go through spaCy's tagger and
lemmatizer before the ``Matcher`` can read it: on a whole study that pass cost more than
the rest of the coder together (5,000 passages: 20 s of tagging for 8 s of matching).
Most passages contain none of the words a pattern needs. :class:`PatternGate` reads
each pattern's *required* tokens (not optional, not negated) and asks, from the
tokenizer alone, whether every one of them could be present: a ``LOWER``/``ORTH``/
``NORM`` value is looked up directly; a ``LEMMA`` value is compared with every lemma the
pipeline's own lemmatizer could give the word (the word itself, its suffix rules, its
exception tables and the attribute ruler's lemma assignments). Only passages for which
some pattern or phrase is possible are tagged and matched.

The gate never drops a match: each test is a superset of what the ``Matcher`` checks,
and a requirement the gate cannot read (a regular expression, ``NOT_IN``, a shape, a
lemmatizer it does not know) makes the pattern always possible. ``tests/coding`` checks
that gated and ungated matching give identical hits on real text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

LITERAL = {"LOWER", "ORTH", "TEXT", "NORM"}
OPTIONAL = {"?", "*", "!"}


class PatternGate:
    """Tell which texts could match a set of phrases (LOWER) and token patterns, from the tokenizer alone.

    Parameters
    ----------
    nlp : the spaCy pipeline the matchers run with (its tokenizer and lemmatizer tables are read).
    phrases : phrase strings (matched on LOWER).
    patterns : spaCy ``Matcher`` token patterns (lists of token dicts).

    Examples
    --------
    >>> gate = PatternGate(nlp, ["information governance"], [[{"LEMMA": "share"}, {"LOWER": "data"}]])  # doctest: +SKIP
    >>> gate.possible(["They shared data weekly.", "We met on Tuesday."])  # doctest: +SKIP
    [True, False]
    """

    def __init__(self, nlp, phrases: Iterable[str], patterns: Iterable[Sequence[dict]]):
        self.nlp = nlp
        self.always = False
        self.phrases = [frozenset(t.lower_ for t in nlp.make_doc(p)) for p in phrases]
        self.requirements: list[list[tuple[str, frozenset[str]]]] = []
        for pattern in patterns:
            required = _requirements(pattern)
            if required is None or not required:
                self.always = True  # a pattern the gate cannot read: every text may match
            else:
                self.requirements.append(required)
        self._lemmas = _LemmaCandidates(nlp)
        if not self._lemmas.known and any(attr == "LEMMA" for r in self.requirements for attr, _ in r):
            self.always = True  # lemmas the gate cannot bound: every text may match

    def possible(self, texts: Sequence[str]) -> list[bool]:
        """For each text, whether some phrase or pattern could match it."""
        if self.always:
            return [True] * len(texts)
        out = []
        for doc in self.nlp.tokenizer.pipe(texts, batch_size=1000):
            lower = {t.lower_ for t in doc}
            if any(p <= lower for p in self.phrases if p):
                out.append(True)
                continue
            seen = {"LOWER": lower, "NORM": {t.norm_ for t in doc} | lower,
                    "LEMMA": set().union(*(self._lemmas(word) for word in lower))}
            out.append(any(all(values & seen[attr] for attr, values in r) for r in self.requirements))
        return out


def _requirements(pattern: Sequence[dict]) -> list[tuple[str, frozenset[str]]] | None:
    """The tokens a pattern cannot match without: (attribute, allowed lowercase values) each.

    ``None`` when the pattern is not a list of token dicts the gate understands.
    """
    out = []
    for token in pattern:
        if not isinstance(token, dict):
            return None
        op = str(token.get("OP", ""))
        if op in OPTIONAL or (op.startswith("{") and op[1:].split(",")[0].strip() in ("", "0")):
            continue
        for attr, value in token.items():
            attr = str(attr).upper()
            if attr not in LITERAL | {"LEMMA"}:
                continue
            values = _values(value)
            if values is not None:
                out.append(("LOWER" if attr in ("ORTH", "TEXT") else attr, values))
                break
    return out


def _values(value) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset({value.lower()})
    if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list | tuple):
        if all(isinstance(v, str) for v in value["IN"]):
            return frozenset(v.lower() for v in value["IN"])
    return None


class _LemmaCandidates:
    """Every lemma spaCy's rule lemmatizer (and the attribute ruler) could give a lowercase word."""

    def __init__(self, nlp):
        self.known = False
        self.rules: list[tuple[str, str]] = []
        self.exceptions: dict[str, set[str]] = {}
        self.ruled: dict[str, set[str]] = {}
        self.cache: dict[str, frozenset[str]] = {}
        if "lemmatizer" in nlp.pipe_names:
            lemmatizer = nlp.get_pipe("lemmatizer")
            if getattr(lemmatizer, "mode", "") == "rule":
                tables = lemmatizer.lookups
                rules = tables.get_table("lemma_rules", {})
                exc = tables.get_table("lemma_exc", {})
                for pos in ("noun", "verb", "adj", "adv", "propn", "aux"):
                    for old, new in rules.get(pos, []):
                        self.rules.append((old, new))
                    for form, lemmas in exc.get(pos, {}).items():
                        self.exceptions.setdefault(form.lower(), set()).update(x.lower() for x in lemmas)
                self.known = True
        if "attribute_ruler" in nlp.pipe_names:
            for entry in nlp.get_pipe("attribute_ruler").patterns:
                lemma = (entry.get("attrs") or {}).get("LEMMA")
                if not isinstance(lemma, str):
                    continue
                for pattern in entry.get("patterns", []):
                    for token in pattern:
                        for attr in ("ORTH", "LOWER", "TEXT", "NORM"):
                            for form in _values(token.get(attr)) or ():
                                self.ruled.setdefault(form, set()).add(lemma.lower())
                        if not any(attr in token for attr in ("ORTH", "LOWER", "TEXT", "NORM")):
                            self.known = False  # a lemma set by shape or tag alone: cannot be bounded

    def __call__(self, word: str) -> frozenset[str]:
        found = self.cache.get(word)
        if found is None:
            lemmas = {word}
            lemmas.update(self.exceptions.get(word, ()))
            lemmas.update(self.ruled.get(word, ()))
            for old, new in self.rules:
                if word.endswith(old):
                    lemmas.add(word[: len(word) - len(old)] + new)
            found = self.cache[word] = frozenset(lemmas)
        return found
