"""Names: what can be a name, and every name of the study with the forms it turns up in.

:class:`Lexicon` holds the word lists that tell a name from a word (common words, titles,
months, the allow list). :class:`NameBook` learns the study's names from everything known
before reading (settings, survey name columns, manifest interviewers, speaker labels) and
from what the detectors found, then finds every form of them in a text: the full name, its
parts ("Sarah", "Thornton", "Dr Thornton"), the name in usernames and file names
(``sthornton``, ``sarah_thornton``) and nicknames that start one known first name ("Clem").
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from toolkit.pseudonymise.detectors import Span, terms_pattern, trie_regex
from toolkit.pseudonymise.rules import IdentifierRules

_NEXT_CAPITALISED = re.compile(r"[ \t]+([A-Z][a-z][\w'’-]*)")
_PREVIOUS_CAPITALISED = re.compile(r"(?<![\w'’.@/-])((?:Mc|Mac|O['’])?[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*)[ ]$")
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]+")
WORD_ENDING = re.compile(r"(?:ing|ly|ed|ness|ment|tion|ful|less)$")
"""Endings of English words that are rarely names ("Honestly", "Inviting")."""
MIN_LOWER_COUNT = 2
"""A word seen in lower case this often in the study is an ordinary word (once may be a name typed in lower case)."""
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|O['’]|D['’]|De|Di|Da|Du|La|Le|Van|Von|Fitz)[A-Z]")
_SIMPLE_WORD = re.compile(r"[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)*")


def clean_label(label: str) -> str:
    """A speaker label without brackets and colon: ``[P1]:`` -> ``P1``."""
    return label.strip().strip("[]<>()").strip().rstrip(":").strip()


def core_name(text: str, titles: frozenset[str] | set[str] = frozenset()) -> str:
    """A name without its titles, possessive and stray punctuation: ``Dr. Sarah Thornton's`` -> ``Sarah Thornton``."""
    tokens = text.split()
    while len(tokens) > 1 and tokens[0].rstrip(".") in titles:
        tokens.pop(0)
    core = " ".join(tokens).strip(" ,;:()[]\"“”")
    core = re.sub(r"(?:['’]s|['’])$", "", core)
    return core.rstrip(".").strip()


def name_from_email(address: str) -> str:
    """``ottilie.gorsebrook@council.example.gov.uk`` -> ``Ottilie Gorsebrook`` (else ``""``)."""
    local = address.strip().split("@")[0]
    m = re.fullmatch(r"([a-z]{2,})[._]([a-z]{2,}(?:-[a-z]{2,})?)", local.lower())
    if not m:
        return ""
    return " ".join("-".join(p.capitalize() for p in part.split("-")) for part in m.groups())


def name_variants(names: Mapping[str, str]) -> dict[str, str]:
    """How full names turn up in usernames, handles and file names: ``sthornton``, ``sarah_thornton``."""
    found: dict[str, set[str]] = defaultdict(set)
    for form, pid in names.items():
        for variant in form_variants(form):
            found[variant].add(pid)
    return {v: next(iter(p)) for v, p in found.items() if len(p) == 1}


def form_variants(form: str) -> tuple[str, ...]:
    """The username and file-name forms of one full name (none for a single word)."""
    tokens = form.split()
    if len(tokens) < 2 or not all(t.isalpha() for t in (tokens[0], tokens[-1])):
        return ()
    first, last = tokens[0].lower(), tokens[-1].lower()
    return tuple(v for v in (first + last, f"{first}_{last}", f"{first}.{last}", f"{first}-{last}",
                             first[0] + last, f"{first[0]}.{last}", f"{first[0]}_{last}") if len(v) >= 6)


MAX_UNBUILT_FORMS = 200
"""Forms learnt since the name patterns were built beyond which they are built again anyway."""


def _probe_pattern(forms: Sequence[str], variants: Sequence[str]) -> re.Pattern | None:
    """Where any of ``forms`` or ``variants`` could match: case-insensitively and without word boundaries,
    a superset of where :meth:`NameBook.spans`'s patterns could match them."""
    words = {w.strip() for w in forms if len(w.strip()) >= 2}
    words |= {w.upper() for w in words}
    words |= {w.lower() for w in words} | set(variants)
    return re.compile(f"(?i:{trie_regex(words)})") if words else None


def sentence_initial(text: str, start: int) -> bool:
    """Whether the word at ``start`` begins a sentence (or a line, or follows a colon or dash)."""
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“‘(«*_":
        i -= 1
    return i < 0 or text[i] in ".?!:;\n…-–—]>)"


@dataclass(frozen=True)
class Lexicon:
    """The word lists that tell a name from a word. Build it with :meth:`build`."""

    allow: frozenset[str]
    allow_single: frozenset[str]
    titles: frozenset[str]
    particles: frozenset[str]
    common: frozenset[str]
    calendar: frozenset[str]
    stop: frozenset[str]
    domain: frozenset[str] = frozenset()
    large_places: frozenset[str] = frozenset()
    public_bodies: frozenset[str] = frozenset()

    @classmethod
    def build(cls, rules: IdentifierRules, allow: Iterable[str] = ()) -> Lexicon:
        """From the rules' word lists and the study's own allow list."""
        try:
            from spacy.lang.en.stop_words import STOP_WORDS
        except ImportError:  # pragma: no cover - spaCy is a dependency
            STOP_WORDS = set()
        allowed = frozenset(rules.words.get("allow", ())) | frozenset(a.strip() for a in allow)
        single = frozenset(a for a in allowed if " " not in a)
        return cls(
            allow=allowed,
            allow_single=single,
            titles=rules.wordset("titles"),
            particles=rules.wordset("name_particles"),
            common=rules.wordset("common_words", "label_words") | single,
            calendar=rules.wordset("months", "weekdays"),
            stop=frozenset(STOP_WORDS),
            domain=rules.wordset("domain_words"),
            large_places=rules.wordset("large_places"),
            public_bodies=rules.wordset("public_body_words"),
        )

    def core(self, text: str) -> str:
        """A name without titles and possessive (see :func:`core_name`)."""
        return core_name(text, self.titles)

    def is_name(self, core: str, *, strict: bool = True) -> bool:
        """Whether a (title-less) string can be a person's name."""
        if not core or len(core) < 2 or core in self.allow:
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
            return not (token in self.common or token in self.calendar or token in self.titles
                        or token in self.particles or (strict and token.lower() in self.stop))
        if any(t in self.common for t in tokens):
            return False
        names = [t for t in tokens if t not in self.particles]
        if any(not t[0].isupper() for t in names):
            return False
        return not all(t in self.calendar or t in self.titles for t in names)

    def is_part(self, part: str) -> bool:
        """Whether one word of a full name can stand for the person alone ("Thornton")."""
        return (
            len(part) >= 2 and part[0].isupper() and not part.endswith(".")
            and part not in self.particles and part not in self.titles and part not in self.common
            and part not in self.calendar and part.lower() not in self.stop
        )

    def is_ordinary(self, token: str, *, stop: bool = True) -> bool:
        """A capitalised word that is a known word (common, of the domain, allowed), never a name on its own.

        With ``stop=False`` a stop word ("Will", "May") is not ordinary by itself.
        """
        if (token in self.common or token in self.domain or token in self.calendar or token in self.titles
                or token in self.allow or token in self.particles or (stop and token.lower() in self.stop)):
            return True
        return any(p in self.common or p in self.domain or p in self.allow for p in re.split(r"[-'’]", token))

    def is_distinctive(self, word: str) -> bool:
        """A word of a name that tells one setting or place from another ("Riverside", not "Surgery")."""
        word = re.sub(r"['’]s$", "", word)
        return (bool(word) and word[0].isupper() and not self.is_ordinary(word) and word not in self.large_places
                and not word.isupper())


class NameBook:
    """Every name of the study, each form pointing to a person id (``name:Sarah Thornton`` or a speaker's code).

    Learnt in :meth:`~toolkit.pseudonymise.Pseudonymiser.fit`; the pseudonym of a person id
    lives in the mapping (:class:`~toolkit.pseudonymise.mapping.PseudonymMapping`).
    """

    def __init__(self, lexicon: Lexicon, rules: IdentifierRules):
        self.lexicon = lexicon
        self.rules = rules
        self.forms: dict[str, str] = {}
        self.not_persons: set[str] = set()
        self.lower_words: set[str] = set()
        self.lower_counts: Counter = Counter()
        self.capitalised_inside: set[str] = set()
        self.pending: list[str] = []
        self.places: set[str] = set()
        self.guessed: set[str] = set()
        self._places_size = -1
        self._places_pattern: re.Pattern | None = None
        self._pattern: re.Pattern | None = None
        self._variant_pattern: re.Pattern | None = None
        self._folded_pattern: re.Pattern | None = None
        self._variants: dict[str, str] = {}
        self._casefolded: dict[str, str] = {}
        # the indexes above follow ``forms`` one new form at a time (see _refresh_index); the patterns are
        # rebuilt only when a form added since they were built can match the text at hand (see _patterns_for)
        self._indexed = 0
        self._variant_owners: dict[str, set[str]] = defaultdict(set)
        self._built: tuple[int, frozenset[str]] = (-1, frozenset())
        self._probe: tuple[tuple[int, int], re.Pattern | None] | None = None

    def __contains__(self, form: str) -> bool:
        return form in self.forms

    def get(self, form: str) -> str | None:
        """The person id of a form, if known."""
        return self.forms.get(form)

    def add(self, form: str, pid: str, *, overwrite: bool = True) -> None:
        """Learn one form of a person."""
        if overwrite or form not in self.forms:
            if self.forms.get(form, pid) != pid:
                self._indexed = -1  # a form changed hands: the indexes are rebuilt
            self.forms[form] = pid

    # ------------------------------------------------------------------ learning
    def observe(self, texts: Iterable[str]) -> None:
        """Note the words seen in lower case, and capitalised words seen inside sentences: what tells a
        name from a word capitalised only because it starts a sentence.

        E-mail addresses, web addresses and handles are left out: ``priya.raghunathan@nhs.net`` does
        not make "priya" an ordinary word.
        """
        capitalised = self.rules.patterns.get("capitalised_word")
        addresses = [self.rules.patterns[k] for k in ("email", "spoken_email", "url", "handle") if k in self.rules.patterns]
        for text in texts:
            for pattern in addresses:
                if "@" in text or "/" in text or " at " in text or "www" in text:
                    text = pattern.sub(lambda m: " " * len(m.group()), text)
            words = _LOWER_WORD.findall(text)
            self.lower_words.update(words)
            self.lower_counts.update(words)
            if capitalised is not None:
                self.capitalised_inside.update(
                    m.group() for m in capitalised.finditer(text) if not sentence_initial(text, m.start())
                )

    def is_word(self, word: str) -> bool:
        """Whether a word is an ordinary word of the study: a stop word, seen in lower case at least
        :data:`MIN_LOWER_COUNT` times, or once with an ending of English words ("definitely"): a name
        typed once in lower case ("i told niamh castellanos") stays a name."""
        low = word.lower()
        count = self.lower_counts[low]
        return (low in self.lexicon.stop or count >= MIN_LOWER_COUNT
                or (count >= 1 and WORD_ENDING.search(low) is not None))

    def learn(self, cores: Iterable[str]) -> None:
        """Learn names (title-less): each full name, and its parts where only one person has them.

        A name known in another case ("ROSE HILL", "gideon ashworth") is the same person, and so is
        a full name whose every word is a known part of one person ("Siobhan Dhomhnaill").
        """
        cores = list(dict.fromkeys(cores))
        folded = {form.casefold(): pid for form, pid in self.forms.items()}
        for core in cores:
            if len(core.split()) > 1 and core not in self.forms:
                owners = {folded.get(t.casefold()) for t in core.split() if t not in self.lexicon.particles}
                same = next(iter(owners)) if len(owners) == 1 and None not in owners else None
                self.forms[core] = folded.get(core.casefold()) or same or "name:" + core
        owners: dict[str, set[str]] = defaultdict(set)
        for form, pid in self.forms.items():
            tokens = form.split()
            if len(tokens) < 2:
                continue
            for part in tokens:
                if self.lexicon.is_part(part):
                    owners[part].add(pid)
        for part, pids in sorted(owners.items()):
            if part not in self.forms:
                self.forms[part] = next(iter(pids)) if len(pids) == 1 else "name:" + part
        for core in cores:
            if core not in self.forms:
                self.forms[core] = folded.get(core.casefold()) or "name:" + core

    def learn_known(
        self,
        documents: Sequence,
        spans_of: Callable[[str], Sequence[Span]],
        *,
        known_names: Iterable[str] = (),
        deny: Iterable[str] = (),
        is_speaker_label: Callable[[str], bool],
    ) -> None:
        """Collect every name known before reading (settings, survey name columns, manifest
        interviewers) and the names the detectors found in the documents."""
        lex = self.lexicon
        cores: list[str] = [lex.core(name) for name in known_names]
        for word in deny:
            if word.strip():
                self.forms.setdefault(word.strip(), "name:" + word.strip())
        for doc in documents:
            for value in doc.names:
                value = str(value).strip()
                if "@" in value:
                    if self.rules.heuristics.get("names_from_emails", True):
                        name = name_from_email(value)
                        if name:
                            cores.append(name)
                    continue
                if value:
                    cores.append(lex.core(value))
            for name in doc.interviewers:
                if not is_speaker_label(name):
                    cores.append(lex.core(name))
        votes: dict[str, Counter] = defaultdict(Counter)
        found: list[tuple[str, str]] = []
        for doc in documents:
            for span in spans_of(doc.text) if doc.text else ():
                if span.detector == "ner" and " " not in span.text:
                    votes[span.text][span.kind == "person"] += 1
                if span.kind == "place" and span.detector in ("place_cue", "capitalised"):
                    self.places.add(span.text)
                    continue
                if span.kind == "person" and span.detector == "capitalised":
                    self.pending.append(lex.core(span.text))  # weakest evidence: learnt last
                elif span.kind == "person":
                    span = self.trim_ordinary(span, doc.text)
                    if span is not None:
                        found.append((lex.core(span.text), span.detector))
        # a single word spaCy calls a place or organisation more often than a person is not learnt as a name
        self.not_persons = {w for w, v in votes.items() if v[False] > v[True]}
        strong = {core for core, detector in found if detector != "ner"}
        self.not_persons -= strong | set(cores)
        cores += [core for core, _ in found if core not in self.not_persons and core not in self.places]
        self.learn([c for c in cores if lex.is_name(c, strict=False)])

    def learn_pending(self) -> None:
        """Learn the names only the capitalised-word rule found, after every stronger source (nicknames
        and known names claim a word first: "Clem" is Clementine's before it is a name of its own)."""
        pending = [c for c in dict.fromkeys(self.pending) if c not in self.forms and c not in self.places]
        self.pending = []
        pending = [c for c in pending if self.lexicon.is_name(c, strict=False)]
        self.learn(pending)
        self.guessed.update(pending)

    def learn_nicknames(self, texts: Iterable[str]) -> None:
        """Learn "Clem" as Clementine Wrenfield's when it starts exactly one known first name."""
        shortest = int(self.rules.numbers.get("nickname_min_chars", 3))
        pattern = self.rules.patterns.get("capitalised_word")
        if not shortest or pattern is None:
            return
        starts: dict[str, set[str]] = defaultdict(set)
        for form, pid in self.forms.items():
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
                if (pids and len(pids) == 1 and token not in self.forms and token.lower() not in self.lower_words
                        and self.lexicon.is_name(token)):
                    found.append((token, next(iter(pids))))
        for token, pid in found:
            self.forms.setdefault(token, pid)

    def learn_capitalised_pairs(
        self, texts: Iterable[str], residuals: Callable[[str], list[tuple[int, int, str, str, bool]]]
    ) -> None:
        """Learn two unclaimed capitalised words side by side as a name (see the rules' [heuristics]).

        ``residuals(text)`` gives the capitalised words no detector claimed in a text.
        """
        learnt = []
        known = {token for form in self.forms for token in form.split()}
        for text in texts:
            tokens = [t for t in residuals(text) if t[2].lower() not in self.lower_words]
            for (s1, e1, w1, hint1, initial1), (s2, e2, w2, hint2, initial2) in itertools.pairwise(tokens):
                if not (text[e1:s2] == " " and not hint1 and not hint2 and not initial2
                        and _SIMPLE_WORD.fullmatch(w1) and _SIMPLE_WORD.fullmatch(w2)
                        and self.lexicon.is_name(f"{w1} {w2}")):
                    continue
                # a first word that may be capitalised only as the start of a sentence ("Ask Peregrine")
                # must not join a word already known as (part of) a name
                if initial1 and w1 not in self.capitalised_inside and (w1 in known or w2 in known):
                    continue
                learnt.append(f"{w1} {w2}")
                known.update((w1, w2))
        if learnt:
            self.learn(learnt)

    # ------------------------------------------------------------------ finding
    def place_spans(self, text: str) -> list[Span]:
        """Every small place learnt in the study ("grew up in Fetcham" teaches "Fetcham"), wherever it stands."""
        if self._places_size != len(self.places):
            self._places_pattern = terms_pattern(self.places)
            self._places_size = len(self.places)
        if self._places_pattern is None:
            return []
        return [Span(m.start(), m.end(), "place", m.group(), "place_cue") for m in self._places_pattern.finditer(text)]

    def person_id(self, value: str) -> str:
        """The person id of a name, learning it when it is new."""
        self._refresh_index()
        pid = self.forms.get(value) or self._variants.get(value.lower()) or self._casefolded.get(value.casefold())
        if pid is None:
            self.learn([value])
            pid = self.forms[value]
        return pid

    def _refresh_index(self) -> None:
        """Keep the username-form and case-folded indexes in step with ``forms``.

        ``forms`` only grows, in insertion order, so only the forms added since the last call are
        indexed; when a form changed hands (:meth:`add`) everything is indexed again. Either way the
        indexes are what indexing every form in order gives (the first case-folded form wins; a
        username form two people share belongs to neither).
        """
        if self._indexed == len(self.forms):
            return
        if self._indexed < 0 or self._indexed > len(self.forms):
            self._indexed = 0
            self._variants, self._casefolded = {}, {}
            self._variant_owners = defaultdict(set)
        for form in itertools.islice(self.forms, self._indexed, None):
            pid = self.forms[form]
            self._casefolded.setdefault(form.casefold(), pid)
            for variant in form_variants(form):
                owners = self._variant_owners[variant]
                owners.add(pid)
                if len(owners) == 1:
                    self._variants[variant] = pid
                else:
                    self._variants.pop(variant, None)
        self._indexed = len(self.forms)

    def matcher(self) -> re.Pattern | None:
        """One pattern for every known form (with an optional title before it)."""
        self._refresh_index()
        if self._built[0] != len(self.forms) or self._built[1] != self._variants.keys():
            self._build_patterns()
        return self._pattern

    def _build_patterns(self) -> None:
        """The three patterns of :meth:`spans`, built from every form known now."""
        forms = [f for f in self.forms if self.lexicon.is_name(f, strict=False)]
        self._pattern = terms_pattern(forms, titles=self.lexicon.titles)
        full = [f for f in forms if " " in f and all(len(t) >= 2 for t in f.split())]
        self._folded_pattern = terms_pattern(full, ignore_case=True)
        self._variant_pattern = None
        if self._variants:
            self._variant_pattern = re.compile(rf"(?i)(?<![a-z])(?:{trie_regex(self._variants)})(?![a-z])")
        self._built = (len(self.forms), frozenset(self._variants))
        self._probe = None

    def _patterns_for(self, text: str) -> re.Pattern | None:
        """The patterns of :meth:`spans`, current for ``text``; returns the main one.

        Building them again after every new name made a run quadratic in the study's names. They
        are built again only when a form (or username form) learnt since the last build occurs in
        ``text``, as :func:`_probe_pattern` finds it (a superset of where the full patterns could
        use it), or when a username form was dropped. Otherwise every match of the full patterns
        uses older forms only, and is what the older patterns find: at each position the longest
        matching form wins, whatever forms that do not match there exist.
        """
        self._refresh_index()
        built, variants = self._built
        if built < 0 or built > len(self.forms) or not variants <= self._variants.keys():
            self._build_patterns()
            return self._pattern
        if built == len(self.forms) and len(variants) == len(self._variants):
            return self._pattern
        state = (len(self.forms), len(self._variants))
        if self._probe is None or self._probe[0] != state:
            new_forms = [f for f in itertools.islice(self.forms, built, None)
                         if self.lexicon.is_name(f, strict=False)]
            new_variants = [v for v in self._variants if v not in variants]
            if len(new_forms) + len(new_variants) > MAX_UNBUILT_FORMS:
                self._build_patterns()
                return self._pattern
            self._probe = (state, _probe_pattern(new_forms, new_variants))
        probe = self._probe[1]
        if probe is not None and probe.search(text):
            self._build_patterns()
        return self._pattern

    def spans(self, text: str) -> list[Span]:
        """Every known form in ``text`` (and its username forms), grown to a following unknown surname."""
        pattern = self._patterns_for(text)
        if pattern is None:
            return []
        spans = [Span(m.start(), m.end(), "person", m.group(), "name") for m in pattern.finditer(text)]
        if self._folded_pattern is not None:  # a full name in any case: "i told niamh castellanos", "NIAMH CASTELLANOS"
            spans += [Span(m.start(), m.end(), "person", m.group(), "name")
                      for m in self._folded_pattern.finditer(text)]
        if self._variant_pattern is not None:
            spans += [Span(m.start(), m.end(), "person", m.group(), "variant")
                      for m in self._variant_pattern.finditer(text)]
        return [self._extend_to_full_name(text, span) for span in spans]

    def extend_back(self, text: str, span: Span, proper_nouns: Collection[int] | None = None) -> Span:
        """A name grows back over the capitalised word right before it when that word is a name too
        ("Priya Raghunathan, our Caldicott guardian" where only "Raghunathan" was found): a first name
        left behind is a leak. The word must be tagged a proper noun by spaCy (``proper_nouns``: where
        such words start), or, without a tagger, be seen capitalised inside sentences; a title, a
        known word, a word the study writes in lower case, or someone else's known name stays out."""
        if span.kind != "person" or span.start == 0:
            return span
        m = _PREVIOUS_CAPITALISED.search(text, max(0, span.start - 40), span.start)
        if m is None:
            return span
        word = m.group(1)
        lex = self.lexicon
        base = re.sub(r"['’]s$", "", word)
        if (lex.is_ordinary(base) or base in lex.large_places or base in lex.public_bodies or self.is_word(base)
                or WORD_ENDING.search(base) or base in self.places):
            return span
        tagged = m.start(1) in proper_nouns if proper_nouns is not None else base in self.capitalised_inside
        if not tagged:
            return span
        other = self.forms.get(base)
        if other is not None and other != self.forms.get(self.lexicon.core(span.text)):
            return span  # two known people side by side
        return Span(m.start(1), span.end, "person", text[m.start(1):span.end], span.detector)

    def _extend_to_full_name(self, text: str, span: Span) -> Span:
        """A known first name followed by an unknown surname is a different person.

        "Ambrose Ditchling" must not become the pseudonym of "Ambrose Puddifoot" followed
        by a leaked "Ditchling": the span grows to the full name, which gets its own pseudonym.
        """
        core = self.lexicon.core(span.text)
        if " " in core:
            return span
        m = _NEXT_CAPITALISED.match(text, span.end)
        if m is None:
            return span
        surname = m.group(1)
        full = f"{core} {surname}"
        if not self.lexicon.is_part(surname) or full in self.forms or surname in self.lexicon.allow:
            return span
        if self._casefolded.get(surname.casefold()) not in (None, self.forms.get(core)):
            return span  # the next word is someone else's known name: two people side by side
        return Span(span.start, m.end(1), "person", text[span.start:m.end(1)], span.detector)

    def trim_ordinary(self, span: Span, text: str) -> Span | None:
        """Drop a first word that is capitalised only because it starts a sentence ("Definitely Cedric")."""
        first = span.text.split(" ", 1)[0]
        if (self.is_word(first) and first not in self.capitalised_inside
                and first not in self.lexicon.titles and sentence_initial(text, span.start)):
            if " " not in span.text:
                return None
            rest = span.text.split(" ", 1)[1].lstrip()
            start = span.end - len(rest)
            return Span(start, span.end, span.kind, rest, span.detector)
        return span
