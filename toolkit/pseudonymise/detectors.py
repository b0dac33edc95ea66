"""Finding identifiers: small detector functions, each returning :class:`Span` s.

E-mails, URLs, UK phone numbers, NHS numbers (modulus-11 checked), National Insurance
numbers, postcodes, dates of birth (dates near a cue such as "born" or "DOB"; other dates
stay), street addresses, names found from context ("Dr Marrowby", "my son Kayden",
"Nadia Thornbury, who's") and spaCy's named entities. Patterns and word lists live in
``toolkit/rules/identifiers.toml``. :func:`resolve_overlaps` keeps one span where several
overlap. Nothing here replaces anything: see :mod:`toolkit.pseudonymise.apply`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from toolkit.pseudonymise.rules import RANK, IdentifierRules, load_rules


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
        if span.text.startswith("(") and ")" not in span.text:  # "(07700 900123": the bracket opens an aside
            span = Span(span.start + 1, span.end, span.kind, span.text[1:], span.detector)
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
    digits = re.sub(r"[\s.-]", "", number)
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Ten-digit NHS numbers in any grouping (3-3-4, 4-3-3, unspaced) and separator (spaces, double
    spaces, dots, dashes) that pass the modulus-11 check. A number starting with 0 that is also a
    valid UK phone number is left to :func:`find_phones`.

    Examples
    --------
    >>> [s.text for s in find_nhs_numbers("NHS 943 476 5919, 9434 765 919, 943.476.5919, not 943 476 5918.")]
    ['943 476 5919', '9434 765 919', '943.476.5919']
    """
    rules = rules or load_rules()
    spans = []
    for span in _finditer(rules.patterns["nhs_number"], text, "nhs_number"):
        if not nhs_number_is_valid(span.text):
            continue
        if span.text.startswith("0") and find_phones(span.text, rules):
            continue
        spans.append(span)
    return spans


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
    parts = [trie_regex(exact)] if exact else []
    if caseless:
        parts.append(f"(?i:{trie_regex({t.lower() for t in caseless})})")
    title = ""
    if titles:
        title = rf"(?:{trie_regex(set(titles))}\.?[ ]+)?"
    return re.compile(rf"(?<![\w@.-]){title}(?P<name>{'|'.join(parts)})(?![\w]|-\w|[.@]\w)")


def trie_regex(words: Iterable[str]) -> str:
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
    from toolkit.pseudonymise import numbers, organisations

    for finder in (find_emails, find_urls, find_phones, find_nhs_numbers, find_ni_numbers, find_postcodes,
                   find_dates_of_birth, find_addresses, find_context_names, *numbers.FINDERS,
                   *organisations.FINDERS):
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
    order = sorted(set(spans), key=lambda s: (-(s.end - s.start), RANK.get(s.kind, 99), s.start, s.kind, s.detector))
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
        main = max(pieces[:-1], key=lambda p: (p.end - p.start, -RANK.get(p.kind, 99)))
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


def inside(span: Span, others: Sequence[Span]) -> bool:
    """Whether ``span`` lies within one of ``others``."""
    return any(o.start <= span.start and span.end <= o.end for o in others)


def overlaps_any(span: Span, others: Sequence[Span]) -> bool:
    """Whether ``span`` overlaps one of ``others``."""
    return any(o.start < span.end and span.start < o.end for o in others)
