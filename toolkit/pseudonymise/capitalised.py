"""The capitalised-word rule: a recall net under the other detectors.

A capitalised word inside a sentence that no detector claimed and that is no known word (the
rules' common words, domain words, allow list, months, titles, large places; not followed by a
public body's word such as "Council") is taken as a name:
"I ran it past Aled". Known words that are also names ("Will", "Hope") count when they stand
alone, not inside a Title Case phrase ("the Business Intelligence team"). A sentence-initial word
that is no known word and never seen in lower case is a name when spaCy tags it a proper noun
("Siobhan and Declan came", "Priya Raghunathan, our Caldicott guardian"), or, without a tagger,
when it joins a name and is seen capitalised inside a sentence elsewhere ("Peregrine Oakhollow"). Over-redaction is the price: it shows in
the residual-risk report, and researchers extend ``domain_words`` (rules) or ``allow`` (study).

What spaCy's NER said about the word decides its kind: a place (``[PLACE_02]``) or an
organisation (``[ORG_04]``), else a person.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Sequence

from toolkit.pseudonymise.detectors import Span
from toolkit.pseudonymise.names import Lexicon, sentence_initial

CAPITALISED = "capitalised"
"""The detector name of this rule's spans."""

_TOKEN = re.compile(
    r"(?<![\w'’-])(?:Mc|Mac|O['’]|D['’]|Fitz)?[A-Z][a-z]+(?:['’][a-z]+)?(?:-(?:Mc|Mac|O['’])?[A-Z][a-z]+)*(?![\w-])"
)
_POSSESSIVE = re.compile(r"['’]s$")
_WORD_ENDING = re.compile(r"(?:ing|ly|ed|ness|ment|tion|ful|less)$")
_CONNECTOR = re.compile(r" (?:of|in|and|for|the|on|&) (?:the )?")


def find_capitalised(
    text: str,
    lexicon: Lexicon,
    *,
    claimed: Sequence[Span] = (),
    entities: Sequence[Span] = (),
    lower_words: Collection[str] = (),
    proper_nouns: Collection[int] | None = None,
    inside: Collection[str] = (),
) -> list[Span]:
    """Capitalised words no other detector claimed, as spans (runs of them as one span).

    Parameters
    ----------
    claimed : spans other detectors found (a word inside one is left alone).
    entities : spaCy's entities (they only decide the kind: place, organisation or person).
    lower_words : words seen in lower case in the study ("will", "hope").
    proper_nouns : start offsets of words spaCy tagged PROPN (``None`` without a tagger).
    inside : words seen capitalised inside sentences in the study: a sentence-initial word that is
        one of them ("Peregrine", seen in "Ask Peregrine") joins the name after it, as does one tagged PROPN.

    Examples
    --------
    >>> from toolkit.pseudonymise.names import Lexicon
    >>> from toolkit.pseudonymise.rules import load_rules
    >>> lex = Lexicon.build(load_rules())
    >>> [s.text for s in find_capitalised("I ran it past Aled. Then the ICO asked Marguerite.", lex)]
    ['Aled', 'Marguerite']
    """
    tokens = list(_TOKEN.finditer(text))
    n = len(tokens)
    claimed = sorted((s.start, s.end) for s in claimed)
    starts = [c[0] for c in claimed]

    def is_claimed(start: int, end: int) -> bool:
        i = bisect.bisect_right(starts, start) - 1
        return any(claimed[k][0] <= start and end <= claimed[k][1] for k in range(max(i - 3, 0), i + 1))

    def joined(i: int) -> bool:  # token i and token i+1 are one space apart
        return i + 1 < n and text[tokens[i].end():tokens[i + 1].start()] == " "

    base = [_POSSESSIVE.sub("", m.group()) for m in tokens]
    known = [lexicon.is_ordinary(b, stop=False) or b in lexicon.large_places for b in base]
    wordlike = [b.lower() in lexicon.stop or b.lower() in lower_words for b in base]
    initial = [sentence_initial(text, m.start()) for m in tokens]
    free = [not is_claimed(m.start(), m.end()) for m in tokens]
    candidate = [False] * n
    def after_connector(i: int) -> bool:  # "Children in Need", "Department of Health"
        return i > 0 and _CONNECTOR.fullmatch(text[tokens[i - 1].end():tokens[i].start()]) is not None

    for i in range(n):
        if known[i] or not free[i] or initial[i]:
            continue
        if joined(i) and known[i + 1] and not base[i + 1] in lexicon.titles:
            continue  # "the Child Measurement Programme": a word before a known word names a thing
        in_phrase = (i > 0 and joined(i - 1)) or joined(i) or after_connector(i)
        if wordlike[i] and (in_phrase or (proper_nouns is not None and tokens[i].start() not in proper_nouns)):
            continue  # "the Business Intelligence team"; "All" is a word, "Will" (tagged a proper noun) a name
        candidate[i] = True
    for i in range(n - 1, -1, -1):  # a sentence-initial word: a name when tagged one, or joined to one
        if not initial[i] or candidate[i] or not free[i] or known[i] or wordlike[i]:
            continue
        tagged = proper_nouns is not None and tokens[i].start() in proper_nouns
        alone = not (joined(i) and candidate[i + 1])
        if alone and (text[tokens[i].end():tokens[i].end() + 1] in (".", "!", "?") or _WORD_ENDING.search(base[i])):
            continue  # "Perfect." "Lovely!": a word said on its own; "Inviting them...": a verb
        if tagged or (not alone and base[i] in inside):
            candidate[i] = True
    kinds = _entity_kinds(tokens, entities)
    spans = []
    i = 0
    while i < n:
        if not candidate[i]:
            i += 1
            continue
        j = i
        while joined(j) and candidate[j + 1]:
            j += 1
        start, end = tokens[i].start(), tokens[j].end()
        if joined(j) and base[j + 1] in lexicon.public_bodies:  # "Saltmarsh Council": a public body, kept
            i = j + 1
            continue
        found = {kinds[k] for k in range(i, j + 1)} - {None}
        kind = "place" if "place" in found else "organisation" if found == {"organisation"} else "person"
        piece = text[start:end]
        if not (kind == "place" and _POSSESSIVE.sub("", piece) in lexicon.large_places):
            spans.append(Span(start, end, kind, piece, CAPITALISED))
        i = j + 1
    return spans


def _entity_kinds(tokens: Sequence[re.Match], entities: Sequence[Span]) -> list[str | None]:
    """The kind spaCy gave each token, if it lies inside one of its entities."""
    ents = sorted((e.start, e.end, e.kind) for e in entities)
    starts = [e[0] for e in ents]
    out: list[str | None] = []
    for m in tokens:
        i = bisect.bisect_right(starts, m.start()) - 1
        kind = None
        if i >= 0 and ents[i][0] <= m.start() and m.end() <= ents[i][1]:
            kind = ents[i][2]
        out.append(kind)
    return out


_CAPS_TOKEN = re.compile(r"(?<![\w'’-])[A-Z]{2,}(?:['’-][A-Z]+)*(?![\w'’-])")
_VOWEL = re.compile(r"[AEIOUY]")


def find_shouted(
    text: str,
    lexicon: Lexicon,
    *,
    claimed: Sequence[Span] = (),
    lower_words: Collection[str] = (),
) -> list[Span]:
    """Names in text written in capitals ("NOTE: GODFREY AMANKWAH TO SEND THE DSA"), as person spans.

    Case notes and survey answers are often typed in capitals, where no word looks like a name.
    In a run of two or more capitalised words (one of them at least four letters long), a word
    of three or more letters with a vowel is taken as a name when it is no known word: not a stop
    word, not on the rules' or study's lists (acronyms such as DSA and ICB are on the allow list),
    and never written in lower case in the study. Neighbouring names are one span. Over-redaction
    (a capitalised word the study never writes in lower case) shows in the report's guesses.

    Examples
    --------
    >>> from toolkit.pseudonymise.names import Lexicon
    >>> from toolkit.pseudonymise.rules import load_rules
    >>> lex = Lexicon.build(load_rules())
    >>> [s.text for s in find_shouted("NOTE: GODFREY AMANKWAH TO SEND THE DSA BY FRIDAY.", lex,
    ...                               lower_words={"send"})]
    ['GODFREY AMANKWAH']
    """
    tokens = list(_CAPS_TOKEN.finditer(text))
    if len(tokens) < 2:
        return []
    claimed = sorted((s.start, s.end) for s in claimed)

    def is_claimed(start: int, end: int) -> bool:
        return any(a <= start and end <= b for a, b in claimed)

    def joined(i: int) -> bool:
        return i + 1 < len(tokens) and text[tokens[i].end():tokens[i + 1].start()] in (" ", ", ", " - ")

    runs: list[list[int]] = [[0]]
    for i in range(1, len(tokens)):
        if joined(i - 1):
            runs[-1].append(i)
        else:
            runs.append([i])
    candidate = [False] * len(tokens)
    for run in runs:
        if len(run) < 2 or not any(len(tokens[i].group()) >= 4 for i in run):
            continue
        for i in run:
            word = tokens[i].group()
            low, title = word.lower(), word.title()
            if (len(word) < 3 or not _VOWEL.search(word) or low in lexicon.stop or low in lower_words
                    or lexicon.is_ordinary(word) or lexicon.is_ordinary(title) or title in lexicon.large_places
                    or title in lexicon.public_bodies or is_claimed(tokens[i].start(), tokens[i].end())):
                continue
            candidate[i] = True
    for run in runs:  # "FRASER MCALISTER": a domain word (Fraser guidelines) right before a name is its first name
        for k in range(len(run) - 2, -1, -1):
            i = run[k]
            word = tokens[i].group()
            if (not candidate[i] and candidate[run[k + 1]] and text[tokens[i].end():tokens[run[k + 1]].start()] == " "
                    and len(word) >= 3 and (word.title() in lexicon.allow or word.title() in lexicon.domain) and word.lower() not in lexicon.stop
                    and word.lower() not in lower_words and not is_claimed(tokens[i].start(), tokens[i].end())):
                candidate[i] = True
    spans = []
    i = 0
    while i < len(tokens):
        if not candidate[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and candidate[j + 1] and text[tokens[j].end():tokens[j + 1].start()] == " ":
            j += 1
        start, end = tokens[i].start(), tokens[j].end()
        spans.append(Span(start, end, "person", text[start:end], CAPITALISED))
        i = j + 1
    return spans
