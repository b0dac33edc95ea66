"""Structure is not content: find introductions, logistics, times, read-out contact details and prompts.

The rules are data (``toolkit/rules/topic_structure.yaml``, or a study's own file set as
``[topics] structure_rules``): regular expressions, word lists and thresholds, each kind with
sentences it must and must not catch. This module only reads the rules and finds matches;
the topics stage decides what to do with them (set the segments aside, keep their words out
of keywords). Finding is plain Python over the segments' text: no model, linear in the corpus.

Examples
--------
>>> rules = load_structure_rules()
>>> find_structure(["Yes, that's fine.", "The data clinic gave us answers in a week."], rules=rules)
['logistics', None]
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ConfigError

RULES_FILE = "topic_structure.yaml"

TAG = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*_\d+\]")
"""A pseudonymisation tag such as ``[PERSON_07]`` (the segmenter's pattern)."""
MARK = re.compile(r"\[[a-z ]+\]")
"""A transcription mark such as ``[laughs]``."""
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_LEAD = (r"^(?:[\W_]*(?:\[\w+\]|yeah|yes|yep|sure|ok|okay|right|so|well|um+|erm?|uh+|oh|ah|gosh|no|not at all|"
         r"of course|no problem|absolutely|definitely|great|fine|thanks|thank you|hi|hey|hello)\b)*[\W_]*")
KINDS_ORDER = ("prompt", "logistics", "introduction", "contact_details", "time_date", "boilerplate")
"""When a segment matches several kinds, the first in this order names it."""


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern
    requires: str | None = None


@dataclass(frozen=True)
class Thin:
    lexicon: str
    min: int
    max_content: int


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    patterns: tuple[Pattern, ...] = ()
    thin: Thin | None = None
    repeated: tuple[tuple[int, int, int], ...] = ()
    """(min_sources, min_in_source, min_words) thresholds; any one catches a segment."""
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()


@dataclass(frozen=True)
class StructureRules:
    """The structure rules, read and compiled (see :func:`load_structure_rules`)."""

    kinds: tuple[Kind, ...]
    lexicons: dict[str, frozenset[str]]
    keyword_stop: frozenset[str]
    contact_tags: frozenset[str] = frozenset()
    topic_share: float = 0.5
    topic_signals: tuple[Kind, ...] = ()
    source: str = ""
    stop_words: frozenset[str] = field(default_factory=frozenset)

    def kind(self, name: str) -> Kind:
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise KeyError(name)

    def content_words(self, text: str) -> list[str]:
        """Words that say something: not stop words, fillers, numbers, time words or tags."""
        text = MARK.sub(" ", TAG.sub(" ", text))
        skip = self.keyword_stop | self.stop_words
        return [w for w in (bare_word(m.group(0)) for m in WORD.finditer(text)) if len(w) > 2 and w not in skip]

    def is_structure_word(self, word: str) -> bool:
        """True for words that never make a keyword (fillers, numbers, time words)."""
        return word.lower() in self.keyword_stop


_CLITIC = re.compile(r"(?:n['’]t|['’](?:s|d|ll|re|ve|m))$")


def bare_word(word: str) -> str:
    """A word lower-cased, without its clitic ("it's" -> "it", "don't" -> "do") or edge punctuation."""
    return _CLITIC.sub("", word.lower()).strip("'’-")


# --------------------------------------------------------------------------- loading
def load_structure_rules(path: str | Path | None = None) -> StructureRules:
    """Read the structure rules: the toolkit's file, or a study's own (``[topics] structure_rules``).

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or a rule is malformed; the message names the file,
        the kind and the field.
    """
    if path is None:
        return _default_rules()
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"topics.structure_rules: cannot read {source} ({exc.strerror}). "
                          "Fix the path in study.toml, or leave it empty for the toolkit's rules.") from None
    return parse_structure_rules(text, source.name)


@functools.lru_cache(maxsize=1)
def _default_rules() -> StructureRules:
    from importlib import resources

    text = resources.files("toolkit.rules").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_structure_rules(text, RULES_FILE)


def parse_structure_rules(text: str, where: str = RULES_FILE) -> StructureRules:
    """Parse and compile structure rules from YAML text (``where`` names the file in errors)."""
    import yaml
    from spacy.lang.en.stop_words import STOP_WORDS

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]}). Check the indentation.") from None
    if not isinstance(data, dict) or "kinds" not in data or "lexicons" not in data:
        raise ConfigError(f"{where}: expected a mapping with 'lexicons' and 'kinds' (see toolkit/rules/{RULES_FILE}).")
    lexicons: dict[str, frozenset[str]] = {}
    stop: set[str] = set()
    for name, entry in (data.get("lexicons") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("words"), list):
            raise ConfigError(f"{where}, lexicon '{name}': expected 'words: [a, b, ...]'.")
        words = frozenset(str(w).lower() for w in entry["words"])
        lexicons[name] = words
        if entry.get("keyword_stop"):
            stop |= words
    roles = lexicons.get("role_nouns", frozenset())
    role_regex = "(?:" + "|".join(sorted((re.escape(w) + "s?" for w in roles), key=len, reverse=True)) + ")" if roles else "(?!)"
    kinds = []
    for name, entry in (data.get("kinds") or {}).items():
        kinds.append(_kind(name, entry, where, lexicons, role_regex))
    signals = []
    topic = data.get("topic_level") or {}
    for name, entry in (topic.get("signals") or {}).items():
        signals.append(_kind(name, entry, f"{where}, topic_level", lexicons, role_regex))
    share = topic.get("share", 0.5)
    if not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise ConfigError(f"{where}: topic_level.share is {share!r}; expected a share between 0 and 1, e.g. 0.5.")
    contact = frozenset(str(t).upper() for t in data.get("contact_tags") or ())
    return StructureRules(kinds=tuple(kinds), lexicons=lexicons, keyword_stop=frozenset(stop), contact_tags=contact,
                          topic_share=float(share),
                          topic_signals=tuple(signals), source=where, stop_words=frozenset(STOP_WORDS))


def _kind(name: str, entry, where: str, lexicons: dict, role_regex: str) -> Kind:
    label = f"{where}, kind '{name}'"
    if not isinstance(entry, dict):
        raise ConfigError(f"{label}: expected a mapping with patterns, thin or repeated.")
    patterns = []
    for raw in ([entry] if "regex" in entry else entry.get("patterns") or []):
        if not isinstance(raw, dict) or not isinstance(raw.get("regex"), str):
            raise ConfigError(f"{label}: each pattern needs 'regex: \"...\"'.")
        requires = raw.get("requires")
        if requires is not None and requires not in lexicons:
            raise ConfigError(f"{label}: requires '{requires}', which is not a lexicon ({', '.join(lexicons)}).")
        source = raw["regex"].replace("{lead}", _LEAD).replace("{role}", role_regex)
        try:
            patterns.append(Pattern(re.compile(source, re.IGNORECASE), requires))
        except re.error as exc:
            raise ConfigError(f"{label}: the regex {raw['regex']!r} is not valid ({exc}).") from None
    thin = None
    if "thin" in entry:
        raw = entry["thin"]
        lexicon = raw.get("lexicon") if isinstance(raw, dict) else None
        if lexicon != "contact_tags" and lexicon not in lexicons:
            raise ConfigError(f"{label}: thin.lexicon '{lexicon}' is not a lexicon; use contact_tags or one of "
                              f"{', '.join(lexicons)}.")
        try:
            thin = Thin(lexicon, int(raw.get("min", 1)), int(raw["max_content"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{label}: thin needs lexicon, min and max_content (numbers).") from None
    repeated = []
    raw_repeated = entry.get("repeated")
    for raw in [raw_repeated] if isinstance(raw_repeated, dict) else raw_repeated or []:
        try:
            repeated.append((int(raw.get("min_sources", 0)), int(raw.get("min_in_source", 0)),
                             int(raw.get("min_words", 4))))
        except (AttributeError, TypeError, ValueError):
            raise ConfigError(f"{label}: repeated needs min_sources or min_in_source, and min_words (numbers).") from None
    if not patterns and thin is None and not repeated:
        raise ConfigError(f"{label}: give patterns, thin or repeated, or the kind finds nothing.")
    return Kind(name, str(entry.get("description") or "").strip(), tuple(patterns), thin, tuple(repeated),
                tuple(entry.get("examples") or ()), tuple(entry.get("counterexamples") or ()))


# --------------------------------------------------------------------------- finding
def matches_kind(text: str, kind: Kind, rules: StructureRules) -> bool:
    """Does ``text`` (one segment) match ``kind``'s patterns or thinness test? (``repeated`` needs the corpus.)"""
    if kind.patterns:
        lowered = text.strip()
        words = None
        for pattern in kind.patterns:
            if pattern.regex.search(lowered):
                if pattern.requires is None:
                    return True
                words = words or {w.lower().strip("'’-") for w in WORD.findall(TAG.sub(" ", text))}
                lexicon = rules.lexicons[pattern.requires]
                if words & lexicon or {w[:-1] for w in words if w.endswith("s")} & lexicon:
                    return True
    if kind.thin is not None:
        thin = kind.thin
        if thin.lexicon == "contact_tags":
            found = sum(1 for tag in TAG.findall(text) if tag[1:].rsplit("_", 1)[0] in rules.contact_tags)
        else:
            lexicon = rules.lexicons[thin.lexicon]
            found = sum(1 for w in WORD.findall(MARK.sub(" ", TAG.sub(" ", text))) if w.lower() in lexicon)
        if found >= thin.min and len(rules.content_words(text)) <= thin.max_content:
            return True
    return False


def find_structure(texts: Sequence[str], *, rules: StructureRules | None = None,
                   sources: Sequence[object] | None = None, repeatable: Sequence[bool] | None = None,
                   prompts: Sequence[str] | None = None) -> list[str | None]:
    """The structure kind of each segment, or None for content.

    Parameters
    ----------
    texts : the segments.
    rules : :func:`load_structure_rules` (default: the toolkit's).
    sources : each segment's source (for ``repeated`` kinds: the same words in several sources).
    repeatable : which segments ``repeated`` kinds may catch (transcripts, not survey answers);
        default all.
    prompts : the study's interviewer prompts: a segment that repeats one word for word is a prompt.

    Examples
    --------
    >>> find_structure(["Nearly six years.", "So I'm the school nursing team lead for the west locality."])
    ['time_date', 'introduction']
    """
    rules = rules or load_structure_rules()
    texts = list(texts)
    out: list[str | None] = [None] * len(texts)
    known_prompts = {_normalise(p) for p in (prompts or ()) if isinstance(p, str) and len(_normalise(p).split()) >= 3}
    repeated_kind = next((k for k in rules.kinds if k.repeated), None)
    repeated: set[int] = set()
    if repeated_kind is not None and sources is not None:
        allowed = list(repeatable) if repeatable is not None else [True] * len(texts)
        for thresholds in repeated_kind.repeated:
            repeated |= _repeated(texts, list(sources), allowed, *thresholds)
    order = sorted(rules.kinds, key=lambda k: KINDS_ORDER.index(k.name) if k.name in KINDS_ORDER else len(KINDS_ORDER))
    for i, text in enumerate(texts):
        if known_prompts and _normalise(text) in known_prompts:
            out[i] = "prompt"
            continue
        for kind in order:
            if kind.repeated:
                if i in repeated:
                    out[i] = kind.name
                    break
            elif matches_kind(text, kind, rules):
                out[i] = kind.name
                break
    return out


def topic_signals(texts: Sequence[str], rules: StructureRules | None = None) -> dict[str, float]:
    """Share of ``texts`` (one topic's segments) carrying each topic-level structure signal."""
    rules = rules or load_structure_rules()
    if not texts:
        return {}
    return {k.name: sum(matches_kind(t, k, rules) for t in texts) / len(texts) for k in rules.topic_signals}


def structure_topic(texts: Sequence[str], rules: StructureRules | None = None) -> str | None:
    """The structure kind a whole topic is made of (its share of segments with one signal), or None."""
    rules = rules or load_structure_rules()
    shares = topic_signals(texts, rules)
    if not shares:
        return None
    kind, share = max(shares.items(), key=lambda kv: (kv[1], kv[0]))
    return kind if share >= rules.topic_share else None


def structure_counts(kinds: Sequence[str | None]) -> dict[str, int]:
    """How many segments each kind set aside (for reports)."""
    return dict(sorted(Counter(k for k in kinds if isinstance(k, str) and k).items()))


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", MARK.sub(" ", text.lower())))


def _repeated(texts: list[str], sources: list, allowed: list[bool], min_sources: int, min_in_source: int,
              min_words: int) -> set[int]:
    where: dict[str, set] = {}
    count: Counter = Counter()
    keys = []
    for text, source, ok in zip(texts, sources, allowed):
        key = _normalise(text) if ok else ""
        key = key if len(key.split()) >= min_words else ""
        keys.append(key)
        if key:
            where.setdefault(key, set()).add(source)
            count[(key, source)] += 1
    return {i for i, (key, source) in enumerate(zip(keys, sources)) if key and (
        (min_sources and len(where[key]) >= min_sources) or (min_in_source and count[(key, source)] >= min_in_source))}
