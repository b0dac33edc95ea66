"""Pseudonymise transcripts and surveys: find identifiers, replace them consistently.

Runs between reading and storing, so raw text never reaches the analysis store.

Two halves, kept apart:

* **finding** - small detector functions, each returning :class:`Span` s
  ``(start, end, kind, text)``: e-mails, URLs, UK phone numbers, NHS numbers
  (modulus-11 checked), National Insurance numbers, postcodes, dates of birth
  (dates near a cue such as "born" or "DOB"; other dates stay), street addresses,
  names found from context ("Dr Marrowby", "my son Kayden", "Nadia Thornbury, who's")
  and spaCy's named entities. Patterns and word lists live in
  ``toolkit/rules/identifiers.toml``.
  :func:`resolve_overlaps` keeps one span where several overlap.
* **replacing** - :class:`Pseudonymiser`, which learns one mapping across the
  whole study (``fit``) and applies it (``transform``, ``transform_transcript``,
  ``transform_survey``). The same person gets the same pseudonym in every file;
  speakers become participant ids (``P01``, interviewers ``I01``) unless the
  manifest gives them. Numbering is deterministic: documents sorted by source,
  values numbered by first appearance. Once a name is learnt, its parts (first
  name, surname, "Dr Surname"), and its forms in usernames and file names
  (``sthornton``, ``sarah_thornton``) are replaced everywhere too.

Nothing here logs raw text: log lines carry counts and kinds only. The key
(original -> pseudonym) and the report (which lists the words it could not
decide about) are personal data: keep them out of the store.

Examples
--------
>>> import spacy
>>> from toolkit.pseudonymise import Document, Pseudonymiser
>>> docs = [Document("a.txt", "Ring Cedric Bramblecote on 07700 900123.", names=("Cedric Bramblecote",))]
>>> p = Pseudonymiser(nlp=spacy.blank("en")).fit(docs)
>>> p.transform("Cedric said Bramblecote would ring 07700900123.").text
'[PERSON_01] said [PERSON_01] would ring [PHONE_01].'
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import inspect
import json
import logging
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from toolkit import schema as s
from toolkit.errors import ConfigError, NotFittedError
from toolkit.schema import INTERVIEWER, OTHER, Survey, Transcript

if TYPE_CHECKING:  # pandas and spaCy are imported where they are used
    import pandas as pd
    from spacy.language import Language

log = logging.getLogger(__name__)

__all__ = [
    "KINDS",
    "Span",
    "Document",
    "Replacement",
    "PseudonymisedText",
    "PseudonymKey",
    "PseudonymisationReport",
    "Pseudonymiser",
    "IdentifierRules",
    "load_rules",
    "nhs_number_is_valid",
    "find_emails",
    "find_urls",
    "find_phones",
    "find_nhs_numbers",
    "find_ni_numbers",
    "find_postcodes",
    "find_dates_of_birth",
    "find_addresses",
    "find_context_names",
    "find_entities",
    "find_terms",
    "find_identifiers",
    "resolve_overlaps",
    "documents_from_transcript",
    "documents_from_survey",
    "pseudonymise_sources",
]

KINDS = s.IDENTIFIER_KINDS
"""Kinds of identifier replaced by default (``options.entities``)."""
ORG_KINDS = ("organisation", "place")
"""Kinds replaced only with ``replace_organisations``."""
SPEAKER = "speaker"

# Most specific first: on spans of equal length, the earlier kind wins.
_RANK = {k: i for i, k in enumerate(
    ("email", "url", "nhs_number", "ni_number", "phone", "postcode", "date_of_birth", "address", "person",
     "organisation", "place")
)}
_PREFIX = {
    "person": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "nhs_number": "NHS_NUMBER",
    "ni_number": "NI_NUMBER",
    "postcode": "POSTCODE",
    "date_of_birth": "DOB",
    "address": "ADDRESS",
    "url": "URL",
    "organisation": "ORG",
    "place": "PLACE",
}
_KIND_OF_PREFIX = {v: k for k, v in _PREFIX.items()}
_ALIAS = {
    "PERSON": "Person",
    "EMAIL": "Email",
    "PHONE": "Phone",
    "NHS_NUMBER": "NHS number",
    "NI_NUMBER": "NI number",
    "POSTCODE": "Postcode",
    "DOB": "Date of birth",
    "ADDRESS": "Address",
    "URL": "URL",
    "ORG": "Organisation",
    "PLACE": "Place",
}
_CODE = re.compile(r"^(?P<prefix>[A-Z][A-Z_]*?)_?(?P<n>\d+)$")
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|O['’]|D['’]|De|Di|Da|Du|La|Le|Van|Von|Fitz)[A-Z]")
_SIMPLE_WORD = re.compile(r"[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)*")
_KEY_FORMAT = "toolkit-pseudonymisation-key"
_KEY_VERSION = 1
SUB_SOURCE = "#"
"""Separates a file's source from the part of it (a survey answer): ``survey.xlsx#t000012``."""


# =========================================================================== rules
@dataclass(frozen=True)
class IdentifierRules:
    """The compiled contents of ``rules/identifiers.toml``. Build it with :func:`load_rules`."""

    patterns: Mapping[str, re.Pattern]
    words: Mapping[str, tuple[str, ...]]
    numbers: Mapping[str, int]
    phone_prefixes: Mapping[str, tuple[int, ...]]
    ner_kinds: Mapping[str, str]
    speaker_label: re.Pattern
    heuristics: Mapping[str, bool] = field(default_factory=dict)
    source: str = ""

    def wordset(self, *names: str) -> frozenset[str]:
        """The union of some word lists, as a set."""
        return frozenset(w for name in names for w in self.words.get(name, ()))


@functools.lru_cache(maxsize=8)
def load_rules(path: str | Path | None = None) -> IdentifierRules:
    """Read and compile the identifier rules (the packaged file unless ``path`` is given).

    Examples
    --------
    >>> rules = load_rules()
    >>> "Crescent" in rules.words["street_suffixes"]
    True
    """
    if path is None:
        source = "toolkit/rules/identifiers.toml"
        text = resources.files("toolkit.rules").joinpath("identifiers.toml").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot read the identifier rules file {path}: {exc.strerror}.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}). Fix the line it names.") from None
    for section in ("patterns", "words"):
        if section not in raw:
            raise ConfigError(f"{source}: no [{section}] table. Start from the packaged identifiers.toml.")
    words = {k: tuple(v) for k, v in raw["words"].items() if isinstance(v, list)}
    phone_prefixes = {k: tuple(v) for k, v in raw["words"].get("phone_prefixes", {}).items()}

    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in words:
            raise ConfigError(f"{source}: a pattern names <<{name}>>, but [words] has no list '{name}'.")
        return "|".join(re.escape(w) for w in sorted(words[name], key=len, reverse=True))

    patterns = {}
    for name, pattern in raw["patterns"].items():
        try:
            patterns[name] = re.compile(re.sub(r"<<(\w+)>>", expand, pattern))
        except re.error as exc:
            raise ConfigError(f"{source}: pattern '{name}' is not a valid regular expression ({exc}).") from None
    needed = ("email", "url", "phone", "nhs_number", "ni_number", "postcode", "date", "dob_cue", "address")
    missing = [n for n in needed if n not in patterns]
    if missing:
        raise ConfigError(f"{source}: [patterns] lacks {', '.join(missing)}. Start from the packaged identifiers.toml.")
    ner_kinds = {label: kind for kind, labels in raw.get("kinds", {}).items() for label in labels}
    labels = "|".join(f"(?:{p})" for p in words.get("speaker_label_patterns", ()) or ("(?!)",))
    numbers = {
        "dob_window_before": 40,
        "dob_window_after": 25,
        "dob_year_window": 12,
        "ner_chunk_chars": 50000,
        "nickname_min_chars": 3,
        **raw.get("numbers", {}),
    }
    return IdentifierRules(
        patterns=patterns,
        words=words,
        numbers=numbers,
        phone_prefixes=phone_prefixes,
        ner_kinds=ner_kinds,
        speaker_label=re.compile(labels, re.IGNORECASE),
        heuristics={k: bool(v) for k, v in raw.get("heuristics", {}).items()},
        source=source,
    )


# =========================================================================== finding
_NEXT_CAPITALISED = re.compile(r"[ \t]+([A-Z][a-z][\w'’-]*)")


class Span(NamedTuple):
    """An identifier found in a text: ``text == source_text[start:end]``.

    ``detector`` says what found it (``regex``, ``ner``, ``context``, ``name``,
    ``deny``, ``term``); it matters only when spans overlap.
    """

    start: int
    end: int
    kind: str
    text: str
    detector: str = "regex"


def _finditer(pattern: re.Pattern, text: str, kind: str, detector: str = "regex") -> Iterable[Span]:
    """Matches as spans; a pattern's ``name`` (or ``name2``) group, when it has one, is the span."""
    groups = [g for g in ("name", "name2") if g in pattern.groupindex]
    for m in pattern.finditer(text):
        group = next((g for g in groups if m.group(g) is not None), 0)
        start, end = m.span(group)
        if end > start:
            yield Span(start, end, kind, text[start:end], detector)


def find_emails(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """E-mail addresses, written or read out ("jo dot bloggs at council dot gov dot uk").

    Examples
    --------
    >>> [s.text for s in find_emails("Mail s.thornton@hartwellbs.co.uk today.")]
    ['s.thornton@hartwellbs.co.uk']
    """
    rules = rules or load_rules()
    spans = list(_finditer(rules.patterns["email"], text, "email"))
    if "spoken_email" in rules.patterns:
        spans += _finditer(rules.patterns["spoken_email"], text, "email")
    return spans


def find_urls(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Web addresses and social-media handles (``@name``).

    Examples
    --------
    >>> [s.text for s in find_urls("See https://example.org/a, or linkedin.com/in/jo-b.")]
    ['https://example.org/a', 'linkedin.com/in/jo-b']
    """
    rules = rules or load_rules()
    spans = []
    for span in _finditer(rules.patterns["url"], text, "url"):
        trimmed = span.text.rstrip(".,;:!?'\"’”")
        if trimmed:
            spans.append(span._replace(end=span.start + len(trimmed), text=trimmed))
    if "handle" in rules.patterns:
        spans += [s for s in _finditer(rules.patterns["handle"], text, "url") if len(s.text) >= 4]
    return spans


_SPOKEN_DIGITS = {"oh": "0", "zero": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                  "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}


def _spoken_to_digits(text: str) -> str:
    out, repeat = [], 1
    for word in re.split(r"[\s,-]+", text.lower()):
        if word in ("double", "triple"):
            repeat = 2 if word == "double" else 3
        elif word in _SPOKEN_DIGITS:
            out.append(_SPOKEN_DIGITS[word] * repeat)
            repeat = 1
    return "".join(out)


def national_phone_digits(number: str) -> str:
    """A UK phone number as national digits: ``+44 (0)113 496 0123`` -> ``01134960123``.

    Numbers read out in words count too: ``oh seven seven double-oh ...`` -> ``07700...``.
    """
    if re.search(r"[A-Za-z]", number):
        number = _spoken_to_digits(number)
    digits = re.sub(r"\D", "", number)
    stripped = number.lstrip()
    if stripped.startswith("+"):
        digits = digits[2:]
    elif stripped.startswith("0044"):
        digits = digits[4:]
    return digits if digits.startswith("0") else "0" + digits


def find_phones(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """UK phone numbers: mobiles, landlines and ``+44 (0)`` forms, in common spacings.

    Examples
    --------
    >>> [s.text for s in find_phones("Call 07700 900123 or +44 (0)113 496 0123.")]
    ['07700 900123', '+44 (0)113 496 0123']
    """
    rules = rules or load_rules()
    spans = []
    candidates = list(_finditer(rules.patterns["phone"], text, "phone"))
    if "spoken_phone" in rules.patterns:
        candidates += _finditer(rules.patterns["spoken_phone"], text, "phone")
    for span in candidates:
        national = national_phone_digits(span.text)
        if len(national) in rules.phone_prefixes.get(national[:2], ()):
            spans.append(span)
    return spans


def nhs_number_is_valid(number: str) -> bool:
    """The NHS number modulus-11 check (weights 10..2; 11 -> 0; 10 is never valid).

    Examples
    --------
    >>> nhs_number_is_valid("943 476 5919"), nhs_number_is_valid("943 476 5918")
    (True, False)
    """
    digits = re.sub(r"[\s-]", "", number)
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Ten-digit NHS numbers (3-3-4 spaced or dashed, or unspaced) that pass the modulus-11 check.

    Examples
    --------
    >>> [s.text for s in find_nhs_numbers("NHS 943 476 5919, not 943 476 5918.")]
    ['943 476 5919']
    """
    rules = rules or load_rules()
    return [s for s in _finditer(rules.patterns["nhs_number"], text, "nhs_number") if nhs_number_is_valid(s.text)]


def find_ni_numbers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """National Insurance numbers (``AB 12 34 56 C``, ``AB123456C``).

    Examples
    --------
    >>> [s.text for s in find_ni_numbers("NI AB 12 34 56 C; not DA123456A.")]
    ['AB 12 34 56 C']
    """
    rules = rules or load_rules()
    return list(_finditer(rules.patterns["ni_number"], text, "ni_number"))


def find_postcodes(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """UK postcodes, spaced or not. Lower-case ones count only when spaced (``gu2 4ab``).

    Examples
    --------
    >>> [s.text for s in find_postcodes("At GU2 4AB, SW1A1AA and m1 1ae.")]
    ['GU2 4AB', 'SW1A1AA', 'm1 1ae']
    """
    rules = rules or load_rules()
    return [
        s for s in _finditer(rules.patterns["postcode"], text, "postcode")
        if " " in s.text or s.text == s.text.upper()
    ]


def find_dates_of_birth(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Dates near a date-of-birth cue ("born", "DOB", "date of birth", "d.o.b.").

    Dates elsewhere (interview dates, deadlines) are not identifiers and are not returned.

    Examples
    --------
    >>> [s.text for s in find_dates_of_birth("Interviewed 3 May 2024. DOB: 14/03/1987.")]
    ['14/03/1987']
    """
    rules = rules or load_rules()
    cues = [m.span() for m in rules.patterns["dob_cue"].finditer(text)]
    if not cues:
        return []
    before = rules.numbers["dob_window_before"]
    after = rules.numbers["dob_window_after"]
    cue_ends = [e for _, e in cues]
    cue_starts = [s for s, _ in cues]

    boundary = re.compile(r"[.?!;](?:\s|$)|\n")  # a cue and its date share a sentence

    def near(start: int, end: int, window_before: int, window_after: int) -> bool:
        i = bisect.bisect_right(cue_ends, start) - 1
        if i >= 0 and start - cue_ends[i] <= window_before and not boundary.search(text, cue_ends[i], start):
            return True
        j = bisect.bisect_left(cue_starts, end)
        if window_after and j < len(cue_starts) and cue_starts[j] - end <= window_after:
            return not boundary.search(text, end, cue_starts[j])
        return False

    dates = list(_finditer(rules.patterns["date"], text, "date_of_birth"))
    spans = [s for s in dates if near(s.start, s.end, before, after)]
    if "year" in rules.patterns:
        window = rules.numbers["dob_year_window"]
        gap = rules.patterns.get("year_gap")
        for year in _finditer(rules.patterns["year"], text, "date_of_birth"):
            if not near(year.start, year.end, window, 0) or any(d.start <= year.start < d.end for d in dates):
                continue
            cue = bisect.bisect_right(cue_ends, year.start) - 1
            if gap is None or gap.search(text[cue_ends[cue]:year.start]):
                spans.append(year)
    return spans


def find_addresses(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Street addresses: ``14 Tanglewood Crescent``, ``Flat 3, 22 Mill Lane``, and streets
    named after a cue word without a number (``corner of Elm Road``).

    Examples
    --------
    >>> [s.text for s in find_addresses("She lives at Flat 3, 22 Mill Lane, off Brimley Street.")]
    ['Flat 3, 22 Mill Lane', 'Brimley Street']
    """
    rules = rules or load_rules()
    spans = [s._replace(end=s.start + len(s.text.rstrip(".")), text=s.text.rstrip("."))
             for s in _finditer(rules.patterns["address"], text, "address")]
    if "street" in rules.patterns:
        spans += _finditer(rules.patterns["street"], text, "address")
    return spans


def find_context_names(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Names known from their context: after a title ("Dr Marrowby"), a relation or role
    ("my son Kayden", "her manager Grace"), or "called"/"named".

    Examples
    --------
    >>> [s.text for s in find_context_names("Her son Kayden saw Dr Hyacinth Marrowby.")]
    ['Kayden', 'Dr Hyacinth Marrowby']
    """
    rules = rules or load_rules()
    spans: list[Span] = []
    for name in ("related_name", "called_name", "titled_name", "appositive_name", "particle_name", "family_name"):
        if name in rules.patterns:
            spans += _finditer(rules.patterns[name], text, "person", "context")
    return spans


def find_entities(doc: Any, rules: IdentifierRules | None = None, *, offset: int = 0) -> list[Span]:
    """Named entities of a spaCy ``Doc`` as spans: PERSON -> person, ORG -> organisation,
    GPE/LOC/FAC -> place (the mapping is in the rules' ``[kinds]``)."""
    rules = rules or load_rules()
    spans = []
    for ent in doc.ents:
        kind = rules.ner_kinds.get(ent.label_)
        if kind is None:
            continue
        for piece in _split_lines(ent.text, ent.start_char):
            spans.append(Span(piece[0] + offset, piece[1] + offset, kind, piece[2], "ner"))
    return spans


def find_terms(text: str, pattern: re.Pattern | None, kind: str, detector: str = "term") -> list[Span]:
    """Occurrences of a compiled list of terms (see :func:`terms_pattern`)."""
    if pattern is None:
        return []
    return list(_finditer(pattern, text, kind, detector))


def terms_pattern(terms: Iterable[str], *, titles: Iterable[str] = (), ignore_case: bool = False) -> re.Pattern | None:
    """One regular expression for a list of words or phrases, matched on word boundaries.

    Capitalised terms match case-sensitively (and in capitals: ``SARAH``); others, or all
    with ``ignore_case``, match in any case. With ``titles``, a title before a term
    ("Dr Fairweather") is part of the match; the term alone is the ``name`` group.
    """
    exact, caseless = set(), set()
    for term in terms:
        term = term.strip()
        if len(term) < 2:
            continue
        if ignore_case or not term[0].isupper():
            caseless.add(term)
        else:
            exact.add(term)
            if len(term) >= 3 and term.upper() != term:
                exact.add(term.upper())
    if not exact and not caseless:
        return None
    parts = [_trie_regex(exact)] if exact else []
    if caseless:
        parts.append(f"(?i:{_trie_regex({t.lower() for t in caseless})})")
    title = ""
    if titles:
        title = rf"(?:{_trie_regex(set(titles))}\.?[ ]+)?"
    return re.compile(rf"(?<![\w@.-]){title}(?P<name>{'|'.join(parts)})(?![\w]|-\w|[.@]\w)")


def _trie_regex(words: Iterable[str]) -> str:
    """One regular expression for many words, shaped as a trie so a match fails on its first wrong
    letter (a plain alternation tries every word at every position). Longer words win."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict) -> str:
        end = node.get("") is True
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    return build(trie)


def find_identifiers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Every pattern-based detector on one text (no spaCy): the candidates, overlaps not resolved."""
    rules = rules or load_rules()
    spans: list[Span] = []
    for finder in (find_emails, find_urls, find_phones, find_nhs_numbers, find_ni_numbers, find_postcodes,
                   find_dates_of_birth, find_addresses, find_context_names):
        spans += finder(text, rules)
    return spans


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep one span where spans overlap: the longest, then the most specific kind.

    A span that sticks out of a longer one is merged into it (the longer one's kind
    wins), so no part of a detected identifier is left behind.

    Examples
    --------
    >>> kept = resolve_overlaps([Span(0, 5, "person", "Sarah"), Span(0, 14, "person", "Sarah Thornton"),
    ...                          Span(20, 30, "url", "example.uk")])
    >>> [(s.start, s.end, s.kind) for s in kept]
    [(0, 14, 'person'), (20, 30, 'url')]
    """
    order = sorted(set(spans), key=lambda s: (-(s.end - s.start), _RANK.get(s.kind, 99), s.start, s.kind))
    starts: list[int] = []
    kept: list[Span] = []
    for span in order:
        if span.end <= span.start:
            continue
        i = max(bisect.bisect_right(starts, span.start) - 1, 0)
        hits = []
        j = i
        while j < len(kept) and kept[j].start < span.end:
            if kept[j].end > span.start:
                hits.append(j)
            j += 1
        if not hits:
            k = bisect.bisect_left(starts, span.start)
            starts.insert(k, span.start)
            kept.insert(k, span)
            continue
        if len(hits) == 1 and kept[hits[0]].start <= span.start and kept[hits[0]].end >= span.end:
            continue  # inside a longer span
        pieces = [kept[h] for h in hits] + [span]
        main = max(pieces[:-1], key=lambda p: (p.end - p.start, -_RANK.get(p.kind, 99)))
        merged = _merge(pieces, main)
        for h in reversed(hits):
            del kept[h]
            del starts[h]
        k = bisect.bisect_left(starts, merged.start)
        starts.insert(k, merged.start)
        kept.insert(k, merged)
    return kept


def _merge(pieces: list[Span], main: Span) -> Span:
    pieces = sorted(pieces, key=lambda p: p.start)
    start, end, text = pieces[0].start, pieces[0].end, pieces[0].text
    for p in pieces[1:]:
        if p.end > end:
            text += p.text[end - p.start:]
            end = p.end
    return Span(start, end, main.kind, text, main.detector)


def _split_lines(text: str, start: int) -> list[tuple[int, int, str]]:
    out = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            out.append((start + pos + lead, start + pos + lead + len(stripped), stripped))
        pos += len(line) + 1
    return out


# =========================================================================== records
@dataclass(frozen=True)
class Document:
    """One text to learn from: a transcript, or one answer of a survey.

    Parameters
    ----------
    source : where it comes from (a path relative to the study); documents are
        processed sorted by source, which fixes the numbering of pseudonyms.
    text : the plain text.
    speakers : the speaker labels used in it (``"Interviewer"``, ``"P1"``, ``"Sarah Thornton"``).
    interviewers : which of the speakers, or which names, are the study's interviewers.
    participant_ids : speaker label (or name) -> study id, from the manifest (``{"P1": "HM01"}``).
    names : names and e-mails known to belong to people (survey name/e-mail columns).
    """

    source: str
    text: str
    speakers: tuple[str, ...] = ()
    interviewers: tuple[str, ...] = ()
    participant_ids: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """One replacement: ``original`` at ``[start, end)`` became ``pseudonym`` at ``[new_start, new_end)``."""

    start: int
    end: int
    new_start: int
    new_end: int
    kind: str
    pseudonym: str
    original: str = field(repr=False)


@dataclass(frozen=True)
class PseudonymisedText:
    """A text after pseudonymisation, with what was replaced and where.

    Examples
    --------
    >>> out = PseudonymisedText.build("Hi Jo!", [Span(3, 5, "person", "Jo")], ["[PERSON_01]"])
    >>> out.text, out.map_offset(5), out.map_offset(4, side="right")
    ('Hi [PERSON_01]!', 14, 14)
    """

    text: str
    replacements: tuple[Replacement, ...]
    original_length: int
    source: str = ""

    @classmethod
    def build(
        cls, text: str, spans: Sequence[Span], pseudonyms: Sequence[str], *, source: str = ""
    ) -> PseudonymisedText:
        """Apply non-overlapping ``spans`` (sorted) with their ``pseudonyms``."""
        parts: list[str] = []
        replacements = []
        pos = 0
        new_pos = 0
        for span, pseudonym in zip(spans, pseudonyms):
            if span.start < pos:
                raise ValueError("spans overlap; resolve them first")
            parts.append(text[pos:span.start])
            new_pos += span.start - pos
            replacements.append(
                Replacement(span.start, span.end, new_pos, new_pos + len(pseudonym), span.kind, pseudonym,
                            text[span.start:span.end])
            )
            parts.append(pseudonym)
            new_pos += len(pseudonym)
            pos = span.end
        parts.append(text[pos:])
        return cls("".join(parts), tuple(replacements), len(text), source)

    def map_offset(self, offset: int, *, side: str = "left") -> int:
        """Where an offset of the original text lies in the new text.

        An offset inside a replaced span goes to the start of its pseudonym
        (``side="left"``, for the start of a range) or its end (``side="right"``).
        """
        if not 0 <= offset <= self.original_length:
            raise ValueError(f"offset {offset} is outside the original text (0..{self.original_length})")
        starts = [r.start for r in self.replacements]
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return offset
        r = self.replacements[i]
        if offset >= r.end:
            return r.new_end + offset - r.end
        if offset == r.start:
            return r.new_start
        return r.new_start if side == "left" else r.new_end

    def counts(self) -> dict[str, int]:
        """Number of replacements by kind."""
        return dict(Counter(r.kind for r in self.replacements))


@dataclass(frozen=True)
class PseudonymKey:
    """The key: original values and their pseudonyms. Personal data: keep it private.

    ``entries`` rows have ``kind``, ``value`` (normalised), ``original`` (as first
    written) and ``code`` (``PERSON_07``, ``P01``...); ``speakers`` rows ``source``,
    ``label``, ``code``; ``respondents`` rows ``source``, ``key``, ``code``.
    """

    entries: tuple[Mapping[str, str], ...] = ()
    speakers: tuple[Mapping[str, str], ...] = ()
    respondents: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class PseudonymisationReport:
    """What was replaced (by source and kind) and what may have been missed.

    ``residuals`` lists capitalised words left in the output that look like names:
    not sentence-initial, not on the allow list, not a known organisation or
    common word. It quotes them, so the report is personal data: read it, act on it
    (add names to ``known_names`` or words to ``allow``), and do not store it with the data.
    """

    counts: pd.DataFrame
    residuals: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Replacements by source and kind: columns ``source``, ``kind``, ``n``."""
        return self.counts.copy()

    def totals(self) -> dict[str, int]:
        """Replacements by kind, over every source."""
        if self.counts.empty:
            return {}
        return {str(k): int(v) for k, v in self.counts.groupby("kind")["n"].sum().items()}

    def to_markdown(self) -> str:
        """The report as Markdown: totals, a table by source, the residual-risk list."""
        lines = ["# Pseudonymisation report", ""]
        totals = self.totals()
        if totals:
            lines.append("Replaced: " + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())) + ".")
        else:
            lines.append("Nothing was replaced.")
        lines.append("")
        if not self.counts.empty:
            wide = self.counts.pivot_table(index="source", columns="kind", values="n", aggfunc="sum", fill_value=0)
            lines += _markdown_table(["source", *wide.columns], [[i, *map(int, row)] for i, row in wide.iterrows()])
            lines.append("")
        lines += ["## Residual risk", ""]
        if self.residuals.empty:
            lines.append("No capitalised words that look like names were left.")
        else:
            lines.append(
                f"{len(self.residuals)} capitalised word(s) were left that may be names. Check them; add names to "
                "`known_names` (or `deny`) and ordinary words to `allow` in study.toml, then run again."
            )
            lines.append("")
            rows = [[r.source, int(r.offset), r.token, r.hint] for r in self.residuals.itertuples()]
            lines += _markdown_table(["source", "offset", "token", "hint"], rows)
        return "\n".join(lines) + "\n"


def _markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


# =========================================================================== the pseudonymiser
class Pseudonymiser:
    """Learns one mapping of identifiers to pseudonyms across a study, and applies it.

    Follows scikit-learn's contract: settings are keyword-only and stored as given;
    :meth:`fit` learns the mapping and returns ``self``; learned state ends in ``_``;
    ``transform`` before ``fit`` raises :class:`~toolkit.errors.NotFittedError`.

    Parameters
    ----------
    style : ``"tag"`` gives ``[PERSON_07]``, ``"alias"`` gives ``Person 7``.
    known_names : names always replaced (staff, families); their parts too.
    allow : words and phrases never replaced (added to the rules' allow list).
    deny : words always replaced wherever they appear, in any case.
    replace_organisations : replace organisation and place names (``[ORG_03]``, ``[PLACE_02]``).
    organisations : the study's organisation and place names: replaced only with
        ``replace_organisations``, else kept and never mistaken for people.
    entities : the kinds replaced (see :data:`KINDS`).
    ner_model : the spaCy pipeline for names (see :func:`toolkit.models.load_spacy`).
    nlp : a spaCy ``Language`` to use instead (tests inject ``spacy.blank("en")``).
    key : an existing :class:`PseudonymKey`: its pseudonyms are kept, new values get the next numbers.
    rules : a rules file to use instead of the packaged ``identifiers.toml``.
    progress : show a progress bar (tqdm) while names are found.

    Examples
    --------
    >>> import spacy
    >>> docs = [Document("b.txt", "P1: Mail me at jo@example.org.", speakers=("P1",)),
    ...         Document("a.txt", "Jo Bloggs: Hello.", speakers=("Jo Bloggs",))]
    >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit(docs)
    >>> p.speaker_ids_[("a.txt", "Jo Bloggs")], p.speaker_ids_[("b.txt", "P1")]
    ('P01', 'P02')
    >>> p.transform("Jo wrote from jo@example.org").text
    '[P01] wrote from [EMAIL_01]'
    """

    def __init__(
        self,
        *,
        style: str = "tag",
        known_names: Sequence[str] = (),
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        replace_organisations: bool = False,
        organisations: Sequence[str] = (),
        entities: Sequence[str] = KINDS,
        ner_model: str = "",
        nlp: Language | None = None,
        key: PseudonymKey | None = None,
        rules: str | Path | None = None,
        progress: bool = False,
    ):
        self.style = style
        self.known_names = known_names
        self.allow = allow
        self.deny = deny
        self.replace_organisations = replace_organisations
        self.organisations = organisations
        self.entities = entities
        self.ner_model = ner_model
        self.nlp = nlp
        self.key = key
        self.rules = rules
        self.progress = progress

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_options(cls, options: Any, **overrides: Any) -> Pseudonymiser:
        """Build one from :class:`toolkit.config.PseudonymisationOptions` (``[pseudonymisation]``)."""
        kwargs = {
            "style": options.style,
            "known_names": tuple(options.known_names),
            "allow": tuple(options.allow),
            "deny": tuple(options.deny),
            "replace_organisations": options.replace_organisations,
            "organisations": tuple(options.organisations),
            "entities": tuple(options.entities),
            "ner_model": options.ner_model,
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items() if n != "self"}
        changed = [f"{n}={v!r}" for n, v in self.get_params().items() if n not in ("key", "nlp") and v != defaults[n]]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------------ fit
    def fit(self, documents: Iterable[Document | Transcript | Survey]) -> Pseudonymiser:
        """Learn the mapping across the whole study.

        Runs the detectors once per distinct text (spaCy's NER included) and caches
        the spans, so ``transform`` on the same texts does not run them again.

        Parameters
        ----------
        documents : :class:`Document` s, or :class:`~toolkit.schema.Transcript` s and
            :class:`~toolkit.schema.Survey` s (turned into documents with their path as source).

        Returns
        -------
        self
        """
        self._check_params()
        self._rules = load_rules(self.rules)
        docs = self._as_documents(documents)
        self._setup()
        self._load_key(self.key)

        texts: dict[str, str] = {}
        for doc in docs:
            if doc.text:
                texts.setdefault(_hash(doc.text), doc.text)
        self.spans_ = {}
        self._detect(texts)

        # words seen in lower case, and capitalised words seen inside sentences: what tells a name
        # from a word capitalised only because it starts a sentence
        lower_words: set[str] = set()
        capitalised = self._rules.patterns.get("capitalised_word")
        for text in texts.values():
            lower_words.update(re.findall(r"(?<![\w'’-])[a-z][a-z'’-]+", text))
            if capitalised is not None:
                self._capitalised_inside.update(
                    m.group() for m in capitalised.finditer(text) if not _sentence_initial(text, m.start())
                )
        self._lower_words = lower_words
        self._learn_speakers(docs)
        self._learn_document_names(docs)
        self._learn_nicknames(texts.values(), lower_words)
        if "person" in self._entities and self._rules.heuristics.get("capitalised_pairs", False):
            self._learn_capitalised_pairs(texts.values(), lower_words)

        counts: Counter = Counter()
        residuals: list[tuple[str, int, str, str]] = []
        for doc in docs:
            if not doc.text:
                continue
            spans = self._final_spans(doc.text)
            for span in spans:
                self._code_for(span)
                counts[(doc.source.split(SUB_SOURCE)[0], span.kind)] += 1
            residuals += [
                (doc.source.split(SUB_SOURCE)[0], start, token, hint)
                for start, _, token, hint, initial in self._residuals(doc.text, spans)
                if not initial and token.lower() not in lower_words
            ]
        self.counts_ = dict(counts)
        self.residuals_ = residuals
        self._sync_person_mapping()
        log.info(
            "pseudonymiser fitted on %d documents (%d distinct texts): %d values, %d speakers, %d residual risks",
            len(docs), len(texts), len(self.mapping_), len(self.speaker_ids_), len(self.residuals_),
        )
        return self

    def _check_params(self) -> None:
        if self.style not in ("tag", "alias"):
            raise ConfigError(f"Pseudonymiser: style is '{self.style}'; expected 'tag' or 'alias'.")
        unknown = [e for e in self.entities if e not in KINDS]
        if unknown:
            raise ConfigError(
                f"Pseudonymiser: unknown entities {', '.join(map(repr, unknown))}. Known: {', '.join(KINDS)} "
                "(organisations and places are switched on with replace_organisations)."
            )
        if self.key is not None and not isinstance(self.key, PseudonymKey):
            raise ConfigError(
                "Pseudonymiser: key must be a PseudonymKey (from Pseudonymiser.load_key), "
                f"found {type(self.key).__name__}."
            )
        for name in ("known_names", "allow", "deny", "organisations", "entities"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ConfigError(f"Pseudonymiser: {name} must be a list of strings, found a single string.")

    def _setup(self) -> None:
        rules = self._rules
        self._allow = frozenset(rules.words.get("allow", ())) | frozenset(a.strip() for a in self.allow)
        self._allow_single = frozenset(a for a in self._allow if " " not in a)
        self._titles = rules.wordset("titles")
        self._particles = rules.wordset("name_particles")
        self._common = rules.wordset("common_words", "label_words") | self._allow_single
        self._calendar = rules.wordset("months", "weekdays")
        try:
            from spacy.lang.en.stop_words import STOP_WORDS
        except ImportError:  # pragma: no cover - spaCy is a dependency
            STOP_WORDS = set()
        self._stop = frozenset(STOP_WORDS)
        self._entities = frozenset(self.entities)
        shields = [a for a in self._allow if " " in a] + [o.strip() for o in self.organisations if o.strip()]
        self._shield_pattern = terms_pattern(shields)
        self._org_pattern = terms_pattern(o.strip() for o in self.organisations if o.strip())
        self._deny_pattern = terms_pattern(self.deny, ignore_case=True)
        self._name_pattern: re.Pattern | None = None
        self._variant_pattern: re.Pattern | None = None
        self._variants: dict[str, str] = {}
        self._casefolded: dict[str, str] = {}
        self._name_pattern_size = -1
        self._not_persons: set[str] = set()
        self._lower_words: set[str] = set()
        self._capitalised_inside: set[str] = set()
        self.mapping_: dict[tuple[str, str], str] = {}
        self.originals_: dict[tuple[str, str], str] = {}
        self.names_: dict[str, str] = {}
        self.person_codes_: dict[str, str] = {}
        self.speaker_ids_: dict[tuple[str, str], str] = {}
        self.respondent_ids_: dict[tuple[str, str], str] = {}
        self.org_kinds_: dict[str, str] = {}
        self._next: dict[str, int] = defaultdict(lambda: 1)
        self._reserved: set[str] = set()
        self._new_in_transform = 0

    # ------------------------------------------------------------------ documents
    @staticmethod
    def _as_documents(documents: Iterable[Document | Transcript | Survey]) -> list[Document]:
        if isinstance(documents, (Document, Transcript, Survey, str)):
            raise ConfigError("Pseudonymiser.fit: pass a list of documents, not a single one.")
        docs: list[Document] = []
        for item in documents:
            if isinstance(item, Document):
                docs.append(item)
            elif isinstance(item, Transcript):
                docs.append(documents_from_transcript(item))
            elif isinstance(item, Survey):
                docs.extend(documents_from_survey(item))
            else:
                raise ConfigError(
                    f"Pseudonymiser.fit: expected Document, Transcript or Survey records, found {type(item).__name__}."
                )
        return sorted(docs, key=lambda d: (d.source, _hash(d.text)))

    # ------------------------------------------------------------------ detection
    def _language(self) -> Language:
        if self.nlp is not None:
            return self.nlp
        from toolkit.models import load_spacy

        return load_spacy(self.ner_model)

    def _detect(self, texts: Mapping[str, str]) -> None:
        """Run every detector once per distinct text; cache the spans by text hash."""
        rules = self._rules
        hashes = list(texts)
        found: dict[str, list[Span]] = {h: find_identifiers(texts[h], rules) for h in hashes}
        if hashes:  # organisations found by NER also guide the residual-risk report, so NER always runs
            for h, spans in zip(hashes, self._ner([texts[h] for h in hashes])):
                found[h] += spans
        for h in hashes:
            self.spans_[h] = tuple(self._clean_spans(texts[h], found[h]))

    def _ner(self, texts: list[str]) -> list[list[Span]]:
        nlp = self._language()
        keep = _ner_components(nlp)
        out: list[list[Span]] = [[] for _ in texts]
        if not keep:
            return out
        disable = [name for name in nlp.pipe_names if name not in keep]
        limit = int(self._rules.numbers["ner_chunk_chars"])
        chunks = [(chunk, (i, off)) for i, text in enumerate(texts) for off, chunk in _chunks(text, limit)]
        if not chunks:
            return out
        mean = sum(len(c) for c, _ in chunks) / len(chunks)
        batch_size = int(max(1, min(256, 200_000 // max(mean, 1))))
        stream = nlp.pipe(chunks, as_tuples=True, batch_size=batch_size, disable=disable)
        if self.progress:
            from tqdm.auto import tqdm

            stream = tqdm(stream, total=len(chunks), desc="finding names", unit="chunk")
        for doc, (i, off) in stream:
            out[i] += find_entities(doc, self._rules, offset=off)
        return out

    def _clean_spans(self, text: str, spans: list[Span]) -> list[Span]:
        """Tidy name-like spans (titles kept, possessives and stray words dropped) and drop non-names."""
        out = []
        for span in spans:
            if span.kind == "person":
                cleaned = self._clean_person(text, span)
                if cleaned is not None:
                    out.append(cleaned)
            elif span.kind in ORG_KINDS:
                cleaned = self._clean_org(span)
                if cleaned is not None:
                    out.append(cleaned)
            else:
                out.append(span)
        return out

    def _clean_person(self, text: str, span: Span) -> Span | None:
        words = list(re.finditer(r"[^\s,;:()\[\]\"“”]+", span.text))
        # drop lower-case words at either end ("the", "in"), possessive 's, trailing dots
        while words and not words[0].group()[0].isupper():
            words.pop(0)
        while words and not words[-1].group()[0].isupper():
            words.pop()
        if not words:
            return None
        start = span.start + words[0].start()
        end = span.start + words[-1].end()
        piece = text[start:end]
        trimmed = re.sub(r"(?:['’]s|['’])$", "", piece).rstrip(".")
        end = start + len(trimmed)
        if not self._is_name(_core_name(trimmed, self._titles), strict=span.detector == "ner"):
            return None
        return Span(start, end, "person", trimmed, span.detector)

    def _clean_org(self, span: Span) -> Span | None:
        piece = span.text
        lead = re.match(r"^(?:the|The|a|an)\s+", piece)
        start = span.start + (lead.end() if lead else 0)
        piece = piece[lead.end():] if lead else piece
        piece = re.sub(r"\s+(?:on|in|at|of|and|or)$", "", piece).rstrip(".,;:'’ ")
        piece = re.sub(r"['’]s$", "", piece)
        if not piece or not any(c.isupper() for c in piece) or piece in self._allow:
            return None
        return Span(start, start + len(piece), span.kind, piece, span.detector)

    def _trim_ordinary(self, span: Span, text: str) -> Span | None:
        """Drop a first word that is capitalised only because it starts a sentence ("Definitely Cedric")."""
        first = span.text.split(" ", 1)[0]
        if (first.lower() in self._lower_words and first not in self._capitalised_inside
                and first not in self._titles and _sentence_initial(text, span.start)):
            if " " not in span.text:
                return None
            rest = span.text.split(" ", 1)[1].lstrip()
            start = span.end - len(rest)
            return Span(start, span.end, span.kind, rest, span.detector)
        return span

    def _is_name(self, core: str, *, strict: bool = True) -> bool:
        """Whether a (title-less) string can be a person's name."""
        if not core or len(core) < 2 or core in self._allow:
            return False
        if not re.fullmatch(r"[^\W\d_][\w'’.-]*(?:\s+[\w'’.-]+)*", core) or any(c.isdigit() for c in core):
            return False
        tokens = core.split()
        if len(tokens) > 5 or not tokens[0][0].isupper():
            return False
        if len(tokens) == 1:
            token = tokens[0]
            if token.isupper() and len(token) > 1 and strict:
                return False  # an acronym (NHS, PII), not a name
            if strict and re.search(r"[a-z][A-Z]", token) and not _NAME_PREFIX.match(token):
                return False  # a product (SystmOne, PyArrow), not a name; McKenzie and O'Brien are names
            return not (token in self._common or token in self._calendar or token in self._titles
                        or token in self._particles or (strict and token.lower() in self._stop))
        if any(t in self._common for t in tokens):
            return False
        names = [t for t in tokens if t not in self._particles]
        if any(not t[0].isupper() for t in names):
            return False
        return not all(t in self._calendar or t in self._titles for t in names)

    # ------------------------------------------------------------------ learning
    def _load_key(self, key: PseudonymKey | None) -> None:
        if key is None:
            return
        for row in key.entries:
            kind, value, code = row["kind"], row["value"], row["code"]
            original = row.get("original", value)
            if kind == "person":
                self.names_.setdefault(value, code)
                self.person_codes_[code] = code
            elif kind in ORG_KINDS:
                self.org_kinds_[value] = kind
                self.mapping_[("organisation", value)] = code
            else:
                self.mapping_[(kind, value)] = code
            self.originals_.setdefault((kind, value), original)
            self._reserve(code)
        for row in key.speakers:
            self.speaker_ids_[(row["source"], row["label"])] = row["code"]
            self._reserve(row["code"])
        for row in key.respondents:
            self.respondent_ids_[(row["source"], row["key"])] = row["code"]

    def _reserve(self, code: str) -> None:
        self._reserved.add(code)
        m = _CODE.match(code)
        if m:
            prefix = m.group("prefix")
            self._next[prefix] = max(self._next[prefix], int(m.group("n")) + 1)

    def _allocate(self, prefix: str) -> str:
        while True:
            n = self._next[prefix]
            self._next[prefix] = n + 1
            code = f"{prefix}{n:02d}" if prefix in ("P", "I") else f"{prefix}_{n:02d}"
            if code not in self._reserved:
                self._reserved.add(code)
                return code

    def is_speaker_label(self, label: str) -> bool:
        """Whether a speaker label is a role ("Interviewer", "P1", "[m1]") rather than a name."""
        rules = getattr(self, "_rules", None) or load_rules(self.rules)
        return bool(rules.speaker_label.fullmatch(_clean_label(label)))

    def _learn_speakers(self, docs: list[Document]) -> None:
        for doc in docs:
            for code in doc.participant_ids.values():
                self._reserve(str(code))
        for doc in docs:
            if not doc.speakers and not doc.interviewers:
                continue
            given = {_clean_label(k): str(v) for k, v in doc.participant_ids.items()}
            given.update({_core_name(k, self._titles): str(v) for k, v in doc.participant_ids.items()})
            interviewer_set = {_clean_label(x) for x in doc.interviewers}
            interviewer_set |= {_core_name(x, self._titles) for x in doc.interviewers}
            speakers = [x for x in doc.speakers if x and x.strip()]
            named_interviewers = [x for x in doc.interviewers
                                  if x not in speakers and not self.is_speaker_label(x) and x.strip()]
            role_labels = [x for x in speakers if self.is_speaker_label(x) and _clean_label(x) in interviewer_set]
            # names first: an interviewer named only in the manifest lends their id to the one "Interviewer" label
            named_codes = [self._speaker_code(x, True, given) for x in named_interviewers]
            for label in speakers:
                if (doc.source, label) in self.speaker_ids_:
                    continue
                clean = _clean_label(label)
                is_interviewer = clean in interviewer_set or _core_name(label, self._titles) in interviewer_set
                code = None
                if (self.is_speaker_label(label) and is_interviewer and len(role_labels) == 1
                        and len(set(named_codes)) == 1 and clean not in given):
                    code = named_codes[0]
                self.speaker_ids_[(doc.source, label)] = code or self._speaker_code(label, is_interviewer, given)

    def _speaker_code(self, label: str, interviewer: bool, given: Mapping[str, str]) -> str:
        clean = _clean_label(label)
        conventional = self.is_speaker_label(label)
        core = _core_name(label, self._titles) if not conventional else clean
        code = given.get(clean) or given.get(core)
        if code is None and not conventional:
            pid = self.names_.get(core)
            if pid is not None:
                code = self.person_codes_.get(pid) or pid
        if code is None:
            code = self._allocate("I" if interviewer else "P")
        self._reserve(code)
        if not conventional and self._is_name(core, strict=False):
            self.names_[core] = code
            self.person_codes_[code] = code
            self._name_pattern_size = -1
        return code

    def _learn_document_names(self, docs: list[Document]) -> None:
        """Collect every name known before reading: settings, survey name columns, NER and context finds."""
        cores: list[str] = []
        for name in self.known_names:
            cores.append(_core_name(name, self._titles))
        for word in self.deny:
            if word.strip():
                self.names_.setdefault(word.strip(), "name:" + word.strip())
        for doc in docs:
            for value in doc.names:
                value = str(value).strip()
                if "@" in value:
                    if self._rules.heuristics.get("names_from_emails", True):
                        name = _name_from_email(value)
                        if name:
                            cores.append(name)
                    continue
                if value:
                    cores.append(_core_name(value, self._titles))
            for name in doc.interviewers:
                if not self.is_speaker_label(name):
                    cores.append(_core_name(name, self._titles))
        votes: dict[str, Counter] = defaultdict(Counter)
        found: list[tuple[str, str]] = []
        for doc in docs:
            for span in self.spans_.get(_hash(doc.text), ()) if doc.text else ():
                if span.detector == "ner" and " " not in span.text:
                    votes[span.text][span.kind == "person"] += 1
                if span.kind == "person":
                    span = self._trim_ordinary(span, doc.text)
                    if span is not None:
                        found.append((_core_name(span.text, self._titles), span.detector))
        # a single word spaCy calls a place or organisation more often than a person is not learnt as a name
        self._not_persons = {w for w, v in votes.items() if v[False] > v[True]}
        strong = {core for core, detector in found if detector != "ner"}
        self._not_persons -= strong | set(cores)
        cores += [core for core, _ in found if core not in self._not_persons]
        self._learn_names([c for c in cores if self._is_name(c, strict=False)])

    def _learn_names(self, cores: Iterable[str]) -> None:
        cores = list(dict.fromkeys(cores))
        for core in cores:
            if len(core.split()) > 1 and core not in self.names_:
                self.names_[core] = "name:" + core
        owners: dict[str, set[str]] = defaultdict(set)
        for form, pid in self.names_.items():
            tokens = form.split()
            if len(tokens) < 2:
                continue
            for part in tokens:
                if self._is_part(part):
                    owners[part].add(pid)
        for part, pids in sorted(owners.items()):
            if part not in self.names_:
                self.names_[part] = next(iter(pids)) if len(pids) == 1 else "name:" + part
        for core in cores:
            if core not in self.names_:
                self.names_[core] = "name:" + core
        self._name_pattern_size = -1

    def _is_part(self, part: str) -> bool:
        return (
            len(part) >= 2 and part[0].isupper() and not part.endswith(".")
            and part not in self._particles and part not in self._titles and part not in self._common
            and part not in self._calendar and part.lower() not in self._stop
        )

    def _person_id(self, value: str) -> str:
        self._names_matcher()  # keeps the variant and case-folded indexes current
        pid = self.names_.get(value) or self._variants.get(value.lower()) or self._casefolded.get(value.casefold())
        if pid is None:
            self._learn_names([value])
            pid = self.names_[value]
        return pid

    def _code_for(self, span: Span) -> str:
        """The code of a span's value, numbering it if it is new."""
        kind = span.kind
        if kind == "person":
            value = _core_name(span.text, self._titles)
            pid = self._person_id(value)
            code = self.person_codes_.get(pid)
            if code is None:
                code = self._allocate(_PREFIX["person"])
                self.person_codes_[pid] = code
                self._note_new()
            self.mapping_.setdefault(("person", value), code)
            self.originals_.setdefault(("person", value), value)
            return code
        value = _normalise(kind, span.text)
        if kind in ORG_KINDS:
            kind_now = self.org_kinds_.setdefault(value, kind)
            key = ("organisation", value)
            prefix = _PREFIX[kind_now]
        else:
            key = (kind, value)
            prefix = _PREFIX[kind]
        code = self.mapping_.get(key)
        if code is None:
            code = self._allocate(prefix)
            self.mapping_[key] = code
            self._note_new()
        self.originals_.setdefault(key, span.text)
        return code

    def _note_new(self) -> None:
        self._new_in_transform += 1

    def _sync_person_mapping(self) -> None:
        for form, pid in self.names_.items():
            code = self.person_codes_.get(pid)
            if code is not None:
                self.mapping_[("person", form)] = code
                self.originals_.setdefault(("person", form), form)

    # ------------------------------------------------------------------ spans for a text
    def _names_matcher(self) -> re.Pattern | None:
        if self._name_pattern_size != len(self.names_):
            forms = [f for f in self.names_ if self._is_name(f, strict=False)]
            self._name_pattern = terms_pattern(forms, titles=self._titles)
            self._variants = _name_variants(self.names_)
            self._casefolded = {}
            for form, pid in self.names_.items():
                self._casefolded.setdefault(form.casefold(), pid)
            self._variant_pattern = None
            if self._variants:
                self._variant_pattern = re.compile(rf"(?i)(?<![a-z])(?:{_trie_regex(self._variants)})(?![a-z])")
            self._name_pattern_size = len(self.names_)
        return self._name_pattern

    def _final_spans(self, text: str) -> list[Span]:
        """The spans replaced in ``text``: cached detections + learnt names, overlaps resolved."""
        h = _hash(text)
        base = self.spans_.get(h)
        if base is None:
            self._detect({h: text})
            base = self.spans_[h]
            people = [_core_name(s.text, self._titles) for s in base if s.kind == "person"]
            self._learn_names([c for c in people if c not in self.names_])
        entities = self._entities
        spans = []
        for span in base:
            if span.kind not in entities:
                continue
            if span.kind == "person" and span.detector == "ner":
                span = self._trim_ordinary(span, text)
                if span is None or span.text in self._not_persons:
                    continue
            spans.append(span)
        if self.replace_organisations:
            spans += [s for s in base if s.kind in ORG_KINDS]
            spans += find_terms(text, self._org_pattern, "organisation")
        if "person" in entities:
            spans += self._name_spans(text)
            spans += find_terms(text, self._deny_pattern, "person", "deny")
        shields = find_terms(text, self._shield_pattern, "shield")
        if shields:
            spans = [s for s in spans if not (s.kind == "person" and s.detector != "deny" and _inside(s, shields))]
        spans = [s for s in spans if not (s.kind in ORG_KINDS and s.text in self._allow)]
        return resolve_overlaps(spans)

    def _name_spans(self, text: str) -> list[Span]:
        pattern = self._names_matcher()
        if pattern is None:
            return []
        spans = [Span(m.start(), m.end(), "person", m.group(), "name") for m in pattern.finditer(text)]
        if self._variant_pattern is not None:
            spans += [Span(m.start(), m.end(), "person", m.group(), "variant")
                      for m in self._variant_pattern.finditer(text)]
        return [self._extend_to_full_name(text, span) for span in spans]

    def _extend_to_full_name(self, text: str, span: Span) -> Span:
        """A known first name followed by an unknown surname is a different person.

        "Ambrose Ditchling" must not become the pseudonym of "Ambrose Puddifoot" followed
        by a leaked "Ditchling": the span grows to the full name, which gets its own pseudonym.
        """
        core = _core_name(span.text, self._titles)
        if " " in core:
            return span
        m = _NEXT_CAPITALISED.match(text, span.end)
        if m is None:
            return span
        surname = m.group(1)
        full = f"{core} {surname}"
        if not self._is_part(surname) or full in self.names_ or surname in self._allow:
            return span
        if self._casefolded.get(surname.casefold()) not in (None, self.names_.get(core)):
            return span  # the next word is someone else's known name: two people side by side
        return Span(span.start, m.end(1), "person", text[span.start:m.end(1)], span.detector)

    def _learn_nicknames(self, texts: Iterable[str], lower_words: set[str]) -> None:
        """Learn "Clem" as Clementine Wrenfield's when it starts exactly one known first name."""
        shortest = int(self._rules.numbers.get("nickname_min_chars", 3))
        pattern = self._rules.patterns.get("capitalised_word")
        if not shortest or pattern is None or "person" not in self._entities:
            return
        starts: dict[str, set[str]] = defaultdict(set)
        for form, pid in self.names_.items():
            tokens = form.split()
            if len(tokens) < 2 or not tokens[0].isalpha():
                continue
            first = tokens[0]
            for n in range(shortest, len(first)):
                starts[first[:n]].add(pid)
        if not starts:
            return
        found = []
        for text in texts:
            for m in pattern.finditer(text):
                token = m.group()
                pids = starts.get(token)
                if (pids and len(pids) == 1 and token not in self.names_ and token.lower() not in lower_words
                        and self._is_name(token)):
                    found.append((token, next(iter(pids))))
        for token, pid in found:
            self.names_.setdefault(token, pid)
        self._name_pattern_size = -1

    def _learn_capitalised_pairs(self, texts: Iterable[str], lower_words: set[str]) -> None:
        """Learn two unclaimed capitalised words side by side as a name (see rules' [heuristics])."""
        learnt = []
        known = {token for form in self.names_ for token in form.split()}
        for text in texts:
            tokens = [t for t in self._residuals(text, self._final_spans(text)) if t[2].lower() not in lower_words]
            for (s1, e1, w1, hint1, initial1), (s2, e2, w2, hint2, initial2) in zip(tokens, tokens[1:]):
                if not (text[e1:s2] == " " and not hint1 and not hint2 and not initial2
                        and _SIMPLE_WORD.fullmatch(w1) and _SIMPLE_WORD.fullmatch(w2) and self._is_name(f"{w1} {w2}")):
                    continue
                # a first word that may be capitalised only as the start of a sentence ("Ask Peregrine")
                # must not join a word already known as (part of) a name
                if initial1 and w1 not in self._capitalised_inside and (w1 in known or w2 in known):
                    continue
                learnt.append(f"{w1} {w2}")
                known.update((w1, w2))
        if learnt:
            self._learn_names(learnt)

    def _residuals(self, text: str, spans: list[Span]) -> list[tuple[int, int, str, str, bool]]:
        """Capitalised words left in place that may be names: (start, end, token, hint, sentence-initial)."""
        pattern = self._rules.patterns.get("capitalised_word")
        if pattern is None:
            return []
        covered = [(s.start, s.end) for s in spans]
        base = self.spans_.get(_hash(text), ())
        # an organisation spaCy found counts as known when it has an organisation word in it
        # ("Hollowmere Community Health"); "Peregrine Oakhollow" tagged ORG stays a candidate
        known = [(s.start, s.end) for s in base if s.kind in ORG_KINDS and " " in s.text
                 and any(w in self._common or w in self._allow for w in s.text.split())]
        known += [(s.start, s.end) for s in find_terms(text, self._shield_pattern, "shield")]
        known += [(s.start, s.end) for s in find_terms(text, self._org_pattern, "organisation")]
        single = {(s.start, s.end): s.kind for s in base if s.kind in ORG_KINDS and " " not in s.text}
        starts = [c[0] for c in covered]
        out = []
        for m in pattern.finditer(text):
            token = m.group()
            if (token in self._common or token in self._calendar or token in self._titles or token in self._allow
                    or token.lower() in self._stop or token in self._allow_single):
                continue
            if any(p in self._common or p in self._allow for p in re.split(r"[-'’]", token)):
                continue
            i = bisect.bisect_right(starts, m.start()) - 1
            if i >= 0 and covered[i][1] > m.start():
                continue
            if any(a <= m.start() and m.end() <= b for a, b in known):
                continue
            hint = single.get((m.start(), m.end()), "")
            out.append((m.start(), m.end(), token, f"spaCy thought: {hint}" if hint else "",
                        _sentence_initial(text, m.start())))
        return out

    # ------------------------------------------------------------------ transform
    def _check_fitted(self) -> None:
        if not hasattr(self, "mapping_") or not hasattr(self, "residuals_"):
            raise NotFittedError(
                "This Pseudonymiser is not fitted yet: call fit(documents) with every transcript and survey of "
                "the study first, so that pseudonyms are consistent across them."
            )

    def _render(self, code: str) -> str:
        m = _CODE.match(code)
        prefix = m.group("prefix") if m else ""
        is_entity = prefix in _ALIAS and "_" in code
        if self.style == "alias":
            return f"{_ALIAS[prefix]} {int(m.group('n'))}" if is_entity else code
        return f"[{code}]"

    def pseudonym(self, kind: str, value: str) -> str | None:
        """The pseudonym of a value already in the mapping (``None`` if it is not there)."""
        self._check_fitted()
        if kind == "person":
            pid = self.names_.get(_core_name(value, self._titles))
            code = self.person_codes_.get(pid) if pid else None
        else:
            key = ("organisation" if kind in ORG_KINDS else kind, _normalise(kind, value))
            code = self.mapping_.get(key)
        return self._render(code) if code else None

    def transform(self, text: str, *, source: str = "") -> PseudonymisedText:
        """Replace every identifier in ``text``.

        Values not seen in ``fit`` are still replaced: they get the next numbers and
        join the mapping (save the key again), and a warning says how many.

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en"), known_names=("Ffion Marchbank",)).fit([])
        >>> out = p.transform("Ffion: NHS 943 476 5919.")
        >>> out.text, [r.kind for r in out.replacements]
        ('[PERSON_01]: NHS [NHS_NUMBER_01].', ['person', 'nhs_number'])
        """
        self._check_fitted()
        return self._apply(text, self._final_spans(text), source=source)

    def _apply(self, text: str, spans: list[Span], *, source: str = "") -> PseudonymisedText:
        before = self._new_in_transform
        pseudonyms = []
        for span in spans:
            if span.kind == SPEAKER:
                pseudonyms.append(span.detector)  # the speaker's code travels in ``detector``
            else:
                pseudonyms.append(self._render(self._code_for(span)))
        if self._new_in_transform > before:
            self._sync_person_mapping()
            log.warning(
                "%s: %d value(s) not seen in fit were given new pseudonyms; save the key again",
                source or "text", self._new_in_transform - before,
            )
        return PseudonymisedText.build(text, spans, pseudonyms, source=source)

    def transform_transcript(self, transcript: Transcript, *, source: str | None = None) -> Transcript:
        """Pseudonymise a transcript: its text, its turns (offsets remapped) and its speakers.

        Speaker labels become study ids (``turn.speaker == "P01"``), in the turns and
        where the label stands in the text; ``turn.text == new_text[start:end]`` holds;
        timestamps and roles are kept. ``source`` (default: the transcript's path) must
        be the source it was fitted under, so its speakers get their ids.

        Examples
        --------
        >>> import spacy
        >>> from pathlib import Path
        >>> from toolkit.schema import Transcript, Turn
        >>> text = "Jo Bloggs: Ring 07700 900123."
        >>> t = Transcript(Path("a.txt"), "txt", text, (Turn(0, "Jo Bloggs", "participant", 11, 29, text[11:]),))
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([t])
        >>> out = p.transform_transcript(t)
        >>> out.text, out.turns[0].speaker, out.turns[0].text
        ('P01: Ring [PHONE_01].', 'P01', 'Ring [PHONE_01].')
        """
        self._check_fitted()
        source = source if source is not None else str(transcript.path)
        spans = self._final_spans(transcript.text)
        labels: list[Span] = []
        codes: dict[str, str] = {}
        prev = 0
        for turn in transcript.turns:
            if turn.speaker:
                code = self._speaker_id(source, turn.speaker, turn.role)
                codes[turn.speaker] = code
                gap = transcript.text[prev:turn.start]
                at = gap.rfind(turn.speaker)
                if at >= 0:
                    start = prev + at
                    labels.append(Span(start, start + len(turn.speaker), SPEAKER, turn.speaker, code))
            prev = max(prev, turn.end)
        if labels:
            spans = sorted([s for s in spans if not _overlaps_any(s, labels)] + labels, key=lambda s: s.start)
        out = self._apply(transcript.text, spans, source=source)
        turns = []
        for turn in transcript.turns:
            start = out.map_offset(turn.start, side="left")
            end = out.map_offset(turn.end, side="right")
            turns.append(replace(turn, start=start, end=end, text=out.text[start:end],
                                 speaker=codes.get(turn.speaker, turn.speaker) if turn.speaker else turn.speaker))
        warnings = tuple(self._apply(w, self._final_spans(w), source=source).text for w in transcript.warnings)
        return replace(transcript, text=out.text, turns=tuple(turns), warnings=warnings)

    def _speaker_id(self, source: str, label: str, role: str) -> str:
        code = self.speaker_ids_.get((source, label))
        if code is None:
            if not self.is_speaker_label(label):
                pid = self.names_.get(_core_name(label, self._titles))
                code = self.person_codes_.get(pid) if pid else None
            if code is None:
                code = self._speaker_code(label, role == INTERVIEWER, {})
                log.warning("%s: a speaker not seen in fit was given a new id; save the key again", source or "text")
            self.speaker_ids_[(source, label)] = code
        return code

    def transform_survey(self, survey: Survey, *, respondent_prefix: str, source: str | None = None) -> Survey:
        """Pseudonymise a survey: free-text answers, respondent keys, personal columns.

        Respondent keys become ``f"{respondent_prefix}{n:03d}"``, numbered by row order
        (kept from the key when it has them); the ``personal`` frame is emptied (its
        names and e-mails were learnt in ``fit``); attributes holding personal values
        are removed, and the other text attributes are pseudonymised.
        """
        self._check_fitted()
        if not respondent_prefix:
            raise ConfigError("transform_survey: respondent_prefix must not be empty (e.g. the place's code, 'BK').")
        source = source if source is not None else str(survey.path)
        ids = self._respondent_ids(survey, source, respondent_prefix)

        def rekey(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.copy()
            if s.RESPONDENT_KEY in frame:
                frame[s.RESPONDENT_KEY] = [ids.get(str(k), k) for k in frame[s.RESPONDENT_KEY]]
            return frame

        texts = rekey(survey.texts)
        if s.TEXT in texts:
            texts[s.TEXT] = [self.transform(t, source=source).text if isinstance(t, str) else t for t in texts[s.TEXT]]
        respondents = rekey(survey.respondents)
        removed = 0
        if s.ATTRIBUTES in respondents:
            cleaned = []
            for attrs in respondents[s.ATTRIBUTES]:
                new, n = self._clean_attributes(attrs, source)
                cleaned.append(new)
                removed += n
            respondents[s.ATTRIBUTES] = cleaned
        if removed:
            log.info("%s: %d survey attribute value(s) holding personal data removed", source, removed)
        personal = survey.personal.iloc[0:0].copy()
        return replace(
            survey,
            respondents=respondents,
            likert=rekey(survey.likert),
            texts=texts,
            personal=personal,
            warnings=tuple(self.transform(w, source=source).text for w in survey.warnings),
        )

    def _respondent_ids(self, survey: Survey, source: str, prefix: str) -> dict[str, str]:
        keys: list[str] = []
        for frame in (survey.respondents, survey.texts, survey.likert, survey.personal):
            if s.RESPONDENT_KEY in frame:
                keys += [str(k) for k in frame[s.RESPONDENT_KEY]]
        keys = list(dict.fromkeys(keys))
        used = {v for (src, _), v in self.respondent_ids_.items() if src == source}
        out: dict[str, str] = {}
        n = 0
        for key in keys:
            code = self.respondent_ids_.get((source, key))
            if code is None:
                n += 1
                code = f"{prefix}{n:03d}"
                while code in used:
                    n += 1
                    code = f"{prefix}{n:03d}"
                used.add(code)
                self.respondent_ids_[(source, key)] = code
            out[key] = code
        return out

    def _clean_attributes(self, attrs: Any, source: str) -> tuple[Any, int]:
        if not isinstance(attrs, Mapping):
            return attrs, 0
        words = self._rules.words.get("personal_attribute_words", ())
        personal_key = re.compile(r"(?i)\b(?:" + "|".join(re.escape(w) for w in words) + r")\b") if words else None
        out = {}
        removed = 0
        for name, value in attrs.items():
            text = value if isinstance(value, str) else None
            if personal_key is not None and personal_key.search(str(name)):
                removed += 1
                continue
            if text is not None:
                stripped = text.strip()
                structured = [sp for sp in find_identifiers(stripped, self._rules) if sp.kind != "person"]
                if stripped in self.names_ or ("email", stripped.lower()) in self.mapping_ or structured:
                    removed += 1
                    continue
                out[name] = self.transform(text, source=source).text
            else:
                out[name] = value
        return out, removed

    # ------------------------------------------------------------------ key and report
    def key_frame(self) -> pd.DataFrame:
        """The key as a table: ``original``, ``kind``, ``pseudonym`` (and ``source`` for speakers).

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([Document("a.txt", "Ring 07700 900123.")])
        >>> p.key_frame()[["original", "kind", "pseudonym"]].values.tolist()
        [['07700 900123', 'phone', '[PHONE_01]']]
        """
        import pandas as pd

        self._check_fitted()
        self._sync_person_mapping()
        rows = []
        for (kind, value), code in sorted(self.mapping_.items(), key=lambda kv: (kv[1], kv[0])):
            shown = kind
            if kind == "organisation":
                shown = self.org_kinds_.get(value, "organisation")
            rows.append({"original": self.originals_.get((kind, value), value), "kind": shown,
                         "pseudonym": self._render(code), "source": ""})
        for (src, label), code in sorted(self.speaker_ids_.items()):
            rows.append({"original": label, "kind": SPEAKER, "pseudonym": code, "source": src})
        for (src, key), code in sorted(self.respondent_ids_.items()):
            rows.append({"original": key, "kind": "respondent", "pseudonym": code, "source": src})
        return pd.DataFrame(rows, columns=["original", "kind", "pseudonym", "source"])

    def to_key(self) -> PseudonymKey:
        """The learnt mapping as a :class:`PseudonymKey` (what :meth:`save_key` writes)."""
        self._check_fitted()
        self._sync_person_mapping()
        entries = []
        for (kind, value), code in sorted(self.mapping_.items(), key=lambda kv: (kv[1], kv[0])):
            shown = self.org_kinds_.get(value, kind) if kind == "organisation" else kind
            entries.append({"kind": shown, "value": value, "original": self.originals_.get((kind, value), value),
                            "code": code})
        speakers = [{"source": a, "label": b, "code": c} for (a, b), c in sorted(self.speaker_ids_.items())]
        respondents = [{"source": a, "key": b, "code": c} for (a, b), c in sorted(self.respondent_ids_.items())]
        return PseudonymKey(tuple(entries), tuple(speakers), tuple(respondents))

    def save_key(self, path: str | Path) -> Path:
        """Write the key as JSON, atomically (temp file + rename), readable by its owner only (0600).

        Refuses to write inside a folder named ``store``: the key must live apart from the data.

        Examples
        --------
        >>> p.save_key("private/pseudonymisation_key.json")  # doctest: +SKIP
        >>> key = Pseudonymiser.load_key("private/pseudonymisation_key.json")  # doctest: +SKIP
        >>> Pseudonymiser(key=key).fit(documents)  # keeps every earlier pseudonym  # doctest: +SKIP
        """
        path = Path(path).expanduser()
        if any(part.casefold() == "store" for part in path.resolve().parent.parts):
            raise ConfigError(
                f"Refusing to write the pseudonymisation key to {path}: it is inside a folder named 'store', "
                "beside the analysis data it unlocks. Keep it apart: set pseudonymisation.key_path in study.toml "
                "to a private folder, e.g. 'private/pseudonymisation_key.json'."
            )
        key = self.to_key()
        blob = json.dumps(
            {
                "format": _KEY_FORMAT,
                "version": _KEY_VERSION,
                "style": self.style,
                "entries": list(key.entries),
                "speakers": list(key.speakers),
                "respondents": list(key.respondents),
            },
            ensure_ascii=False,
            indent=1,
        )
        _write_private(path, blob)
        log.info("pseudonymisation key written: %d values, %d speakers", len(key.entries), len(key.speakers))
        return path

    @classmethod
    def load_key(cls, path: str | Path) -> PseudonymKey:
        """Read a key written by :meth:`save_key`, to pass as ``Pseudonymiser(key=...)``."""
        path = Path(path).expanduser()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"No pseudonymisation key at {path}. Check pseudonymisation.key_path.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{path}: not a readable pseudonymisation key ({exc}). Restore it from your backup."
            ) from None
        if not isinstance(data, dict) or data.get("format") != _KEY_FORMAT:
            raise ConfigError(
                f"{path}: not a pseudonymisation key written by this toolkit (no '{_KEY_FORMAT}' format tag)."
            )
        if data.get("version") != _KEY_VERSION:
            raise ConfigError(
                f"{path}: key version {data.get('version')!r}; this toolkit reads version {_KEY_VERSION}."
            )
        try:
            fields = ("kind", "value", "original", "code")
            entries = tuple({k: str(r[k]) for k in fields} for r in data.get("entries", []))
            speakers = tuple({k: str(r[k]) for k in ("source", "label", "code")} for r in data.get("speakers", []))
            respondents = tuple({k: str(r[k]) for k in ("source", "key", "code")} for r in data.get("respondents", []))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: a key row lacks a field ({exc}). Restore the key from your backup.") from None
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("the pseudonymisation key is readable by others (mode %o); run chmod 600 on it", mode)
        return PseudonymKey(entries, speakers, respondents)

    def report(self) -> PseudonymisationReport:
        """Counts of replacements by source and kind, and the residual-risk list, for the fitted documents.

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([Document("a.txt", "Mail jo@example.org, said Xanthe.")])
        >>> report = p.report()
        >>> report.totals(), list(report.residuals["token"])
        ({'email': 1}, ['Xanthe'])
        """
        import pandas as pd

        self._check_fitted()
        counts = pd.DataFrame(
            [{"source": src, "kind": kind, "n": n} for (src, kind), n in sorted(self.counts_.items())],
            columns=["source", "kind", "n"],
        )
        residuals = pd.DataFrame(self.residuals_, columns=["source", "offset", "token", "hint"])
        return PseudonymisationReport(counts=counts, residuals=residuals)


# =========================================================================== records -> documents
def documents_from_transcript(
    transcript: Transcript,
    *,
    source: str | None = None,
    interviewers: Sequence[str] = (),
    participant_ids: Mapping[str, str] | None = None,
) -> Document:
    """A :class:`Document` for a transcript: its text, speakers, and who interviews.

    Speakers whose turns have the interviewer role count as interviewers, with the
    names given in ``interviewers`` (from the manifest).
    """
    turn_interviewers = tuple(t.speaker for t in transcript.turns if t.speaker and t.role == INTERVIEWER)
    return Document(
        source=source if source is not None else str(transcript.path),
        text=transcript.text,
        speakers=tuple(transcript.speakers),
        interviewers=tuple(dict.fromkeys((*turn_interviewers, *interviewers))),
        participant_ids=dict(participant_ids or {}),
    )


def documents_from_survey(survey: Survey, *, source: str | None = None) -> list[Document]:
    """Documents for a survey: one holding its personal values (names, e-mails) as
    ``names``, one per free-text answer, one per text attribute value."""
    src = source if source is not None else str(survey.path)
    names: list[str] = []
    if s.TEXT in survey.personal:
        names = [str(v).strip() for v in survey.personal[s.TEXT] if isinstance(v, str) and v.strip()]
    docs = [Document(source=src, text="", names=tuple(dict.fromkeys(names)))]
    if s.TEXT in survey.texts:
        for i, text in enumerate(survey.texts[s.TEXT]):
            if isinstance(text, str) and text.strip():
                docs.append(Document(source=f"{src}{SUB_SOURCE}t{i:06d}", text=text))
    if s.ATTRIBUTES in survey.respondents:
        for i, attrs in enumerate(survey.respondents[s.ATTRIBUTES]):
            if isinstance(attrs, Mapping):
                for name, value in attrs.items():
                    if isinstance(value, str) and value.strip():
                        docs.append(Document(source=f"{src}{SUB_SOURCE}a{i:06d}:{name}", text=value))
    return docs


def pseudonymise_sources(
    config: Any, read: list[Any], *, nlp: Language | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """Pseudonymise every record read by ingestion, before anything is stored.

    Loads the study's key when there is one (so pseudonyms stay stable between runs),
    fits on all records, transforms them, writes the key and the report (Markdown,
    beside the key) and returns the records with a summary for the ingest report.

    Parameters
    ----------
    config : the study's :class:`~toolkit.config.StudyConfig`.
    read : ingestion's ``ReadSource`` items (``file.relative``, ``file.place``, ``meta``, ``record``).
    nlp : a spaCy ``Language`` to use instead of the configured pipeline.
    """
    options = config.pseudonymisation
    key_path = config.key_path
    if not read:
        return read, {"enabled": True, "replaced": {}, "residual_risks": 0, "key_path": str(key_path)}
    key = Pseudonymiser.load_key(key_path) if key_path.exists() else None
    known = tuple(dict.fromkeys((*options.known_names, *config.ingest.interviewers)))
    pseudonymiser = Pseudonymiser.from_options(options, known_names=known, key=key, nlp=nlp)
    docs: list[Document] = []
    for item in read:
        record, meta, source = item.record, item.meta, item.file.relative
        if isinstance(record, Transcript):
            docs.append(documents_from_transcript(
                record, source=source, interviewers=tuple(meta.interviewers),
                participant_ids=_participant_ids(record, meta.participant_id),
            ))
        else:
            docs.extend(documents_from_survey(record, source=source))
    pseudonymiser.fit(docs)
    out = []
    for item in read:
        record, source = item.record, item.file.relative
        if isinstance(record, Transcript):
            new = pseudonymiser.transform_transcript(record, source=source)
        else:
            prefix = f"{item.meta.place or item.file.place or Path(source).stem}_R"
            new = pseudonymiser.transform_survey(record, respondent_prefix=prefix, source=source)
        out.append(replace(item, record=new))
    pseudonymiser.save_key(key_path)
    report = pseudonymiser.report()
    report_path = key_path.parent / "pseudonymisation_report.md"
    _write_private(report_path, report.to_markdown())
    summary = {
        "enabled": True,
        "replaced": report.totals(),
        "residual_risks": len(report.residuals),
        "key_path": str(key_path),
        "report_path": str(report_path),
    }
    return out, summary


def _participant_ids(transcript: Transcript, participant_id: str | None) -> dict[str, str]:
    """The manifest's participant id for a transcript's participant speaker(s)."""
    if not participant_id:
        return {}
    labels = list(dict.fromkeys(
        t.speaker for t in transcript.turns if t.speaker and t.role not in (INTERVIEWER, OTHER)
    ))
    if len(labels) == 1:
        return {labels[0]: participant_id}
    return {label: f"{participant_id}-{i}" for i, label in enumerate(labels, start=1)}


# =========================================================================== helpers
def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _clean_label(label: str) -> str:
    return label.strip().strip("[]<>()").strip().rstrip(":").strip()


def _core_name(text: str, titles: frozenset[str] | set[str] = frozenset()) -> str:
    """A name without its titles, possessive and stray punctuation: ``Dr. Sarah Thornton's`` -> ``Sarah Thornton``."""
    tokens = text.split()
    while len(tokens) > 1 and tokens[0].rstrip(".") in titles:
        tokens.pop(0)
    core = " ".join(tokens).strip(" ,;:()[]\"“”")
    core = re.sub(r"(?:['’]s|['’])$", "", core)
    return core.rstrip(".").strip()


def _normalise(kind: str, text: str) -> str:
    """The value a pseudonym is attached to: the same number written twice ways is one value."""
    text = " ".join(text.split())
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return national_phone_digits(text)
    if kind == "nhs_number":
        return re.sub(r"\D", "", text)
    if kind in ("ni_number", "postcode"):
        return re.sub(r"\s", "", text).upper()
    if kind in ("address", "date_of_birth"):
        return text.rstrip(".,").casefold()
    if kind == "url":
        return text.rstrip("/").lower() if text.startswith("@") else text.rstrip("/")
    return text


def _name_from_email(address: str) -> str:
    """``ottilie.gorsebrook@council.example.gov.uk`` -> ``Ottilie Gorsebrook`` (else ``""``)."""
    local = address.strip().split("@")[0]
    m = re.fullmatch(r"([a-z]{2,})[._]([a-z]{2,}(?:-[a-z]{2,})?)", local.lower())
    if not m:
        return ""
    return " ".join("-".join(p.capitalize() for p in part.split("-")) for part in m.groups())


def _name_variants(names: Mapping[str, str]) -> dict[str, str]:
    """How full names turn up in usernames, handles and file names: ``sthornton``, ``sarah_thornton``."""
    found: dict[str, set[str]] = defaultdict(set)
    for form, pid in names.items():
        tokens = form.split()
        if len(tokens) < 2 or not all(t.isalpha() for t in (tokens[0], tokens[-1])):
            continue
        first, last = tokens[0].lower(), tokens[-1].lower()
        for variant in (first + last, f"{first}_{last}", f"{first}.{last}", f"{first}-{last}",
                        first[0] + last, f"{first[0]}.{last}", f"{first[0]}_{last}"):
            if len(variant) >= 6:
                found[variant].add(pid)
    return {v: next(iter(p)) for v, p in found.items() if len(p) == 1}


def _inside(span: Span, others: Sequence[Span]) -> bool:
    return any(o.start <= span.start and span.end <= o.end for o in others)


def _overlaps_any(span: Span, others: Sequence[Span]) -> bool:
    return any(o.start < span.end and span.start < o.end for o in others)


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“‘(«*_":
        i -= 1
    return i < 0 or text[i] in ".?!:;\n…-–—]>)"


def _chunks(text: str, limit: int) -> Iterable[tuple[int, str]]:
    """Pieces of at most ``limit`` characters, cut at blank lines, line ends or spaces."""
    pos = 0
    n = len(text)
    while pos < n:
        end = min(pos + limit, n)
        if end < n:
            for sep in ("\n\n", "\n", " "):
                cut = text.rfind(sep, pos + limit // 2, end)
                if cut > pos:
                    end = cut + len(sep)
                    break
        yield pos, text[pos:end]
        pos = end


def _ner_components(nlp: Any) -> list[str]:
    """The components that set entities, and the tok2vec layers they listen to."""
    keep = []
    for name in nlp.pipe_names:
        factory = nlp.get_pipe_meta(name).factory
        if factory in ("ner", "beam_ner", "entity_ruler") or name in ("ner", "entity_ruler"):
            keep.append(name)
    if not keep:
        return []
    for name, proc in nlp.pipeline:
        listening = getattr(proc, "listening_components", None) or []
        if any(k in listening for k in keep):
            keep.append(name)
    return keep


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically (see :func:`toolkit.io.write_text`)."""
    from toolkit.io import write_text

    write_text(path, text, private=True)
