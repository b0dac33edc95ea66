"""Polarity: does a sentence describe a barrier to sharing or an enabler, read clause by clause.

The words are data (``rules/polarity.yaml``); this module finds them and reads them in their
clause, the way a careful reader would:

* **clause scope**: a negator flips only the cues of its own clause ("we would and we wouldn't" is
  two clauses); with a dependency parse the clause is the cue's governing verb and its negation
  (``neg`` children), else clauses are cut at punctuation and conjunctions;
* **contrast**: the clause after "but" / "however" carries the point ("not all of them, but a good
  chunk are duplicates" is a barrier: a negated cue followed by "but" is read as conceded, not denied);
* **names that are not cues**: "Early Help", "Family Help", "Help Desk" never count as "help";
* **advice**: "don't launch something this big with one IG officer" warns against a barrier; "make sure
  you have a named lead" recommends an enabler;
* **stance**: a threat that is denied ("the ICO isn't going to come after you") is an enabler: threats
  are barrier cues, and negation flips them like any other cue;
* **the question asked**: an answer to "What gets in the way?" leans barrier, to "What has helped?"
  enabler (:func:`prompt_lean`); the coder adds the lean as a prior, never as the only evidence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from toolkit.errors import ConfigError
from toolkit.rules import read_yaml

_LIST_KEYS = ("barrier", "enabler", "negators", "not_cues", "advice_against", "advice_for", "contrast",
              "prompt_barrier", "prompt_enabler")


@dataclass(frozen=True)
class PolarityRules:
    """Cue words for polarity, read from ``rules/polarity.yaml``."""

    barrier: tuple[str, ...]
    enabler: tuple[str, ...]
    negators: tuple[str, ...]
    fixed_barrier: tuple[str, ...]
    fixed_enabler: tuple[str, ...]
    not_cues: tuple[str, ...] = ()
    """Names that contain a cue word but are not cues: programme and service names ("Early Help")."""
    advice_against: tuple[str, ...] = ()
    """Openers of advice against something ("don't", "never"): the sentence names a barrier."""
    advice_for: tuple[str, ...] = ()
    """Openers of a recommendation ("make sure", "I'd recommend"): the sentence names an enabler."""
    contrast: tuple[str, ...] = field(default=("but", "however", "although", "though", "yet", "whereas"))
    prompt_barrier: tuple[str, ...] = ()
    """Words of a question that asks for barriers ("get in the way", "difficult")."""
    prompt_enabler: tuple[str, ...] = ()
    """Words of a question that asks for enablers ("helped", "works well")."""


@functools.lru_cache(maxsize=4)
def load_polarity_rules(path: str | None = None) -> PolarityRules:
    """Read polarity cues (default: the packaged ``rules/polarity.yaml``)."""
    where, raw = read_yaml("polarity.yaml", path)
    for key in _LIST_KEYS:
        bad = [v for v in raw.get(key, None) or [] if not isinstance(v, str)]
        if bad:
            raise ConfigError(
                f"{where}: {key} holds {bad!r}, which YAML did not read as text. "
                "Put such words in quotes (YAML reads a bare no/yes/on/off as true or false)."
            )
    fixed = raw.get("fixed", {}) or {}
    optional = {k: tuple(raw[k]) for k in _LIST_KEYS[3:] if raw.get(k)}
    return PolarityRules(
        barrier=tuple(raw.get("barrier", ())),
        enabler=tuple(raw.get("enabler", ())),
        negators=tuple(raw.get("negators", ())),
        fixed_barrier=tuple(fixed.get("barrier", ())),
        fixed_enabler=tuple(fixed.get("enabler", ())),
        **optional,
    )


def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern:
    ordered = sorted(set(phrases), key=len, reverse=True)
    if not ordered:
        return re.compile(r"(?!x)x")  # matches nothing
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in ordered)
    return re.compile(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", re.IGNORECASE)


@dataclass(frozen=True)
class _Compiled:
    fixed_barrier: re.Pattern
    fixed_enabler: re.Pattern
    barrier: re.Pattern
    enabler: re.Pattern
    negator: re.Pattern
    not_cues: re.Pattern
    advice_against: re.Pattern
    advice_for: re.Pattern
    contrast: re.Pattern
    prompt_barrier: re.Pattern
    prompt_enabler: re.Pattern


@functools.lru_cache(maxsize=4)
def _compiled(rules: PolarityRules) -> _Compiled:
    opener = lambda words: re.compile(
        r"^\W*(?:(?:so|and|but|well|honestly|look|yeah|i mean|my advice(?: would be)?(?: is)?|"
        r"if i had one piece of advice|whatever you do)[,:]?\s+){0,3}" + _phrase_regex(words).pattern,
        re.IGNORECASE,
    )
    return _Compiled(
        fixed_barrier=_phrase_regex(rules.fixed_barrier),
        fixed_enabler=_phrase_regex(rules.fixed_enabler),
        barrier=_phrase_regex(rules.barrier),
        enabler=_phrase_regex(rules.enabler),
        negator=_phrase_regex(tuple(n for n in rules.negators if n != "n't")),
        not_cues=_phrase_regex(rules.not_cues),
        advice_against=opener(rules.advice_against) if rules.advice_against else re.compile(r"(?!x)x"),
        advice_for=opener(rules.advice_for) if rules.advice_for else re.compile(r"(?!x)x"),
        contrast=_phrase_regex(rules.contrast),
        prompt_barrier=_phrase_regex(rules.prompt_barrier),
        prompt_enabler=_phrase_regex(rules.prompt_enabler),
    )


# Clause boundaries when there is no parse: punctuation that ends a clause, and conjunctions that start one.
_CLAUSE_BREAK = re.compile(
    r"[;:!?]|,\s|\s[-–—]\s|\.\s|(?<=\s)(?=(?:and|but|or|because|so|although|though|whereas|while|however|"
    r"yet|which|unless|until|since)\b)",
    re.IGNORECASE,
)
_NT = re.compile(r"n['’]t\b", re.IGNORECASE)
_BARE_NEGATED = re.compile(r"(?:can|could|would|will|wo|should|do|does|did|is|are|was|were)n['’]t|cannot", re.IGNORECASE)


def _masked(text: str, pattern: re.Pattern) -> str:
    return pattern.sub(lambda m: " " * (m.end() - m.start()), text)


def _clauses(text: str, doc=None) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text``: from the dependency parse when ``doc`` has one."""
    if doc is not None and doc.has_annotation("DEP") and doc.text == text:
        return _parsed_clauses(doc)
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = max(m.start(), m.end())
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


_CLAUSE_DEPS = {"ROOT", "ccomp", "advcl", "conj", "relcl", "parataxis", "csubj"}


def _parsed_clauses(doc) -> list[tuple[int, int]]:
    """Each token goes to its nearest governing clause head (a verb, or the root); a clause is a contiguous run."""

    def head_of(token):
        while token.dep_ not in _CLAUSE_DEPS and token.head is not token:
            token = token.head
        return token.i

    owner = [head_of(t) for t in doc]
    spans, start = [], 0
    for i in range(1, len(doc) + 1):
        if i == len(doc) or owner[i] != owner[start]:
            spans.append((doc[start].idx, doc[i - 1].idx + len(doc[i - 1])))
            start = i
    return spans


@dataclass
class CueReading:
    """What :func:`read_polarity` found: a score (positive = enabler) and why."""

    score: float = 0.0
    cues: list[str] = field(default_factory=list)
    advice: str | None = None
    """``"against"`` or ``"for"`` when the sentence gives advice."""


def read_polarity(text: str, rules: PolarityRules | None = None, *, doc=None) -> CueReading:
    """Read a sentence's polarity from its cues, clause by clause (see the module's notes).

    Examples
    --------
    >>> read_polarity("Don't launch something this big with one IG officer.").score < 0
    True
    >>> read_polarity("The ICO isn't going to come after you for a reasonable decision.").score > 0
    True
    >>> read_polarity("The Early Help team sits upstairs.").score
    0.0
    """
    rules = rules or load_polarity_rules()
    c = _compiled(rules)
    reading = CueReading()
    masked = _masked(text, c.not_cues)
    if c.advice_against.search(masked):
        reading.advice = "against"
    elif c.advice_for.search(masked):
        reading.advice = "for"
    for pattern, sign in ((c.fixed_enabler, 1.5), (c.fixed_barrier, -1.5)):
        for m in pattern.finditer(masked):
            reading.score += sign
            reading.cues.append(("+" if sign > 0 else "-") + m.group(0).lower())
        masked = _masked(masked, pattern)
    clauses = _clauses(text, doc)
    contrast_at = [m.start() for m in c.contrast.finditer(masked)]
    for a, b in clauses:
        part = masked[a:b]
        # a clause that opens with "but"/"however" carries the point; the one before it concedes
        after_contrast = any(a <= x < a + 12 for x in contrast_at)
        before_contrast = any(x >= b for x in contrast_at) and not after_contrast
        weight = 1.5 if after_contrast else (0.75 if before_contrast else 1.0)
        clause_score = 0.0
        found = [(m, sign) for pattern, sign in ((c.enabler, 1.0), (c.barrier, -1.0)) for m in pattern.finditer(part)]
        # a bare negated modal ("won't") that negates a later cue in its clause is that cue's negator, not a cue
        found = [(m, sign) for m, sign in found
                 if not (_BARE_NEGATED.fullmatch(m.group(0))
                         and any(o.start() > m.end() and len(part[m.end():o.start()].split()) <= 4 for o, _ in found))]
        for m, sign in found:
            before = part[: m.start()]
            window = " ".join(re.findall(r"[\w'’-]+", before)[-4:])
            cue = m.group(0).lower()
            negated = bool(c.negator.search(window)) or bool(_NT.search(window))
            if _NT.search(cue):  # a cue that is itself a negated verb ("can't") is not flipped by its own n't
                negated = bool(c.negator.search(window))
            # "they aren't duplicates, but a good chunk are": conceded, not denied
            if negated and before_contrast and _ellipsis_follows(masked[b:]):
                negated = False
            value = -sign if negated else sign
            clause_score += value
            reading.cues.append(("+" if value > 0 else "-") + ("not " if negated else "") + cue)
        reading.score += weight * clause_score
    if _MIXED.search(masked):  # "some would and some wouldn't": both sides, no net direction
        reading.score = 0.0
        reading.cues.append("=mixed")
    if reading.advice == "against":
        reading.score = min(reading.score, 0.0) - 2.0
        reading.cues.append("-advice against")
    elif reading.advice == "for":
        reading.score = max(reading.score, 0.0) + 1.5
        reading.cues.append("+advice for")
    return reading


_MIXED = re.compile(
    r"\b(would|could|can|do|does|did|will|are|is|was|were|have|has|should)\b(?:\s+\w+){0,4}?\s+(?:and|or|but)\s+"
    r"(?:\w+\s+){0,4}?\1n['’]t\b|\b(\w+)n['’]t\b(?:\s+\w+){0,4}?\s+(?:and|or|but)\s+(?:\w+\s+){0,4}?\2\b(?!n)",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\W*(?:but|however|though|yet)\W+(?:\w+\W+){0,5}(?:are|is|do|does|did|was|were|have|has)\b\W*$",
                       re.IGNORECASE)


def _ellipsis_follows(rest: str) -> bool:
    """True when the contrast clause only restates the verb ("but a good chunk are.")."""
    return bool(_ELLIPSIS.match(rest.strip()))


def polarity_cues(text: str, rules: PolarityRules | None = None, *, doc=None) -> tuple[float, list[str]]:
    """Score a text's polarity from cue words: positive = enabler, negative = barrier.

    A negator in a cue's own clause flips it; fixed phrases already carry their negation and
    are never flipped; programme names are not cues (see :func:`read_polarity`).

    Examples
    --------
    >>> polarity_cues("That is no longer a barrier for us.")[0] > 0
    True
    >>> polarity_cues("They just don't trust us.")[0] < 0
    True
    >>> polarity_cues("We couldn't have done it without the IG lead.")[0] > 0
    True
    """
    reading = read_polarity(text, rules, doc=doc)
    return reading.score, reading.cues


def prompt_lean(prompt: str | None, rules: PolarityRules | None = None) -> float:
    """How a question leans: -1 asks for barriers ("What gets in the way?"), +1 for enablers, 0 neither or both.

    Examples
    --------
    >>> prompt_lean("What gets in the way of sharing information about families?")
    -1.0
    >>> prompt_lean("What has helped you share information with partners?")
    1.0
    """
    if not prompt or not isinstance(prompt, str):
        return 0.0
    c = _compiled(rules or load_polarity_rules())
    text = _masked(prompt, c.not_cues)
    barrier = bool(c.prompt_barrier.search(text))
    enabler = bool(c.prompt_enabler.search(text))
    return float(enabler) - float(barrier)
