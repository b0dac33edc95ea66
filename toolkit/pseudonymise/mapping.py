"""The learnt mapping: original values -> pseudonym codes, speakers -> study ids, respondents -> ids.

No file I/O here: :class:`PseudonymKey` is the mapping as plain data; reading and writing it is
:mod:`toolkit.pseudonymise.keyfile`'s job. Numbering is deterministic: codes continue after the
highest one already in the key, and values are numbered in the order they are met.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.pseudonymise.detectors import Span, national_phone_digits
from toolkit.pseudonymise.names import NameBook, clean_label
from toolkit.pseudonymise.rules import ALIAS, ORG_KINDS, PREFIX

CODE = re.compile(r"^(?P<prefix>[A-Z][A-Z_]*?)_?(?P<n>\d+)$")


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
    secret: str = ""
    """A random value kept only here: it keys the hashes by which the store finds raw files again
    (their names may hold identifiers, so the store never keeps them)."""


def normalise(kind: str, text: str) -> str:
    """The value a pseudonym is attached to: the same number written two ways is one value."""
    text = " ".join(text.split())
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return national_phone_digits(text)
    if kind in ("nhs_number", "bank_card", "account_number", "sort_code"):
        return re.sub(r"\D", "", text)
    if kind in ("ni_number", "postcode", "iban"):
        return re.sub(r"[\s.-]", "", text).upper()
    if kind in ("address", "date_of_birth"):
        return text.rstrip(".,").casefold()
    if kind == "url":
        return text.rstrip("/").lower() if text.startswith("@") else text.rstrip("/")
    return text


def render(code: str, style: str) -> str:
    """How a code is written in the text: ``[PERSON_07]`` (tag) or ``Person 7`` (alias); speaker ids stay bare."""
    m = CODE.match(code)
    prefix = m.group("prefix") if m else ""
    is_entity = prefix in ALIAS and "_" in code
    if style == "alias":
        return f"{ALIAS[prefix]} {int(m.group('n'))}" if is_entity else code
    return f"[{code}]"


class PseudonymMapping:
    """Codes for values, people, speakers and respondents, numbered study-wide.

    ``names`` is the study's :class:`~toolkit.pseudonymise.names.NameBook`: every form of a
    person points to one person id, and ``person_codes`` gives the id its code.
    """

    def __init__(self, names: NameBook):
        self.names = names
        self.codes: dict[tuple[str, str], str] = {}
        self.originals: dict[tuple[str, str], str] = {}
        self.person_codes: dict[str, str] = {}
        self.speakers: dict[tuple[str, str], str] = {}
        self.respondents: dict[tuple[str, str], str] = {}
        self.org_kinds: dict[str, str] = {}
        self.new_values = 0
        self._next: dict[str, int] = defaultdict(lambda: 1)
        self._reserved: set[str] = set()

    # ------------------------------------------------------------------ numbering
    def load(self, key: PseudonymKey | None) -> None:
        """Start from an existing key: its codes are kept, new values get the next numbers."""
        if key is None:
            return
        for row in key.entries:
            kind, value, code = row["kind"], row["value"], row["code"]
            original = row.get("original", value)
            if kind == "person":
                self.names.add(value, code, overwrite=False)
                self.person_codes[code] = code
            elif kind in ORG_KINDS:
                self.org_kinds[value] = kind
                self.codes[("organisation", value)] = code
            else:
                self.codes[(kind, value)] = code
            self.originals.setdefault((kind, value), original)
            self.reserve(code)
        for row in key.speakers:
            self.speakers[(row["source"], row["label"])] = row["code"]
            self.reserve(row["code"])
        for row in key.respondents:
            self.respondents[(row["source"], row["key"])] = row["code"]

    def reserve(self, code: str) -> None:
        """Mark a code as taken (numbering continues after it)."""
        self._reserved.add(code)
        m = CODE.match(code)
        if m:
            prefix = m.group("prefix")
            self._next[prefix] = max(self._next[prefix], int(m.group("n")) + 1)

    def allocate(self, prefix: str) -> str:
        """The next free code with a prefix: ``P03``, ``I01``, ``PERSON_07``."""
        while True:
            n = self._next[prefix]
            self._next[prefix] = n + 1
            code = f"{prefix}{n:02d}" if prefix in ("P", "I") else f"{prefix}_{n:02d}"
            if code not in self._reserved:
                self._reserved.add(code)
                return code

    def code_for(self, span: Span) -> str:
        """The code of a span's value, numbering it if it is new."""
        kind = span.kind
        if kind == "person":
            value = self.names.lexicon.core(span.text)
            pid = self.names.person_id(value)
            code = self.person_codes.get(pid)
            if code is None:
                code = self.allocate(PREFIX["person"])
                self.person_codes[pid] = code
                self.new_values += 1
            self.codes.setdefault(("person", value), code)
            self.originals.setdefault(("person", value), value)
            return code
        value = normalise(kind, span.text)
        if kind in ORG_KINDS:
            kind_now = self.org_kinds.setdefault(value, kind)
            key = ("organisation", value)
            prefix = PREFIX[kind_now]
        else:
            key = (kind, value)
            prefix = PREFIX[kind]
        code = self.codes.get(key)
        if code is None:
            code = self.allocate(prefix)
            self.codes[key] = code
            self.new_values += 1
        self.originals.setdefault(key, span.text)
        return code

    def code_of(self, kind: str, value: str) -> str | None:
        """The code of a value already in the mapping (``None`` if it is not there)."""
        if kind == "person":
            pid = self.names.get(self.names.lexicon.core(value))
            return self.person_codes.get(pid) if pid else None
        return self.codes.get(("organisation" if kind in ORG_KINDS else kind, normalise(kind, value)))

    def sync_persons(self) -> None:
        """Give every known form of a person with a code its own row in the mapping."""
        for form, pid in self.names.forms.items():
            code = self.person_codes.get(pid)
            if code is not None:
                self.codes[("person", form)] = code
                self.originals.setdefault(("person", form), form)

    # ------------------------------------------------------------------ speakers and respondents
    def learn_speakers(self, documents: Sequence, is_label: Any) -> None:
        """Give every speaker of every document a study id (manifest ids first, then ``P01``/``I01``...)."""
        lex = self.names.lexicon
        for doc in documents:
            for code in doc.participant_ids.values():
                self.reserve(str(code))
        for doc in documents:
            if not doc.speakers and not doc.interviewers:
                continue
            given = {clean_label(k): str(v) for k, v in doc.participant_ids.items()}
            given.update({lex.core(k): str(v) for k, v in doc.participant_ids.items()})
            interviewer_set = {clean_label(x) for x in doc.interviewers}
            interviewer_set |= {lex.core(x) for x in doc.interviewers}
            speakers = [x for x in doc.speakers if x and x.strip()]
            named_interviewers = [x for x in doc.interviewers if x not in speakers and not is_label(x) and x.strip()]
            role_labels = [x for x in speakers if is_label(x) and clean_label(x) in interviewer_set]
            # names first: an interviewer named only in the manifest lends their id to the one "Interviewer" label
            named_codes = [self.speaker_code(x, True, given, is_label) for x in named_interviewers]
            for label in speakers:
                if (doc.source, label) in self.speakers:
                    continue
                clean = clean_label(label)
                is_interviewer = clean in interviewer_set or lex.core(label) in interviewer_set
                code = None
                if (is_label(label) and is_interviewer and len(role_labels) == 1
                        and len(set(named_codes)) == 1 and clean not in given):
                    code = named_codes[0]
                self.speakers[(doc.source, label)] = code or self.speaker_code(label, is_interviewer, given, is_label)

    def speaker_code(self, label: str, interviewer: bool, given: Mapping[str, str], is_label: Any) -> str:
        """The code of one speaker label; a named speaker's name is learnt with it."""
        lex = self.names.lexicon
        clean = clean_label(label)
        conventional = is_label(label)
        core = lex.core(label) if not conventional else clean
        code = given.get(clean) or given.get(core)
        if code is None and not conventional:
            pid = self.names.get(core)
            if pid is not None:
                code = self.person_codes.get(pid) or pid
        if code is None:
            code = self.allocate("I" if interviewer else "P")
        self.reserve(code)
        if not conventional and lex.is_name(core, strict=False):
            self.names.add(core, code)
            self.person_codes[code] = code
        return code

    def respondent_codes(self, keys: Iterable[str], source: str, prefix: str) -> dict[str, str]:
        """Respondent keys of a survey -> ``f"{prefix}{n:03d}"``, by row order, kept from the key."""
        used = {v for (src, _), v in self.respondents.items() if src == source}
        out: dict[str, str] = {}
        n = 0
        for key in dict.fromkeys(keys):
            code = self.respondents.get((source, key))
            if code is None:
                n += 1
                code = f"{prefix}{n:03d}"
                while code in used:
                    n += 1
                    code = f"{prefix}{n:03d}"
                used.add(code)
                self.respondents[(source, key)] = code
            out[key] = code
        return out

    # ------------------------------------------------------------------ as data
    def to_key(self) -> PseudonymKey:
        """The mapping as a :class:`PseudonymKey`."""
        self.sync_persons()
        entries = []
        for (kind, value), code in sorted(self.codes.items(), key=lambda kv: (kv[1], kv[0])):
            shown = self.org_kinds.get(value, kind) if kind == "organisation" else kind
            entries.append({"kind": shown, "value": value, "original": self.originals.get((kind, value), value),
                            "code": code})
        speakers = [{"source": a, "label": b, "code": c} for (a, b), c in sorted(self.speakers.items())]
        respondents = [{"source": a, "key": b, "code": c} for (a, b), c in sorted(self.respondents.items())]
        return PseudonymKey(tuple(entries), tuple(speakers), tuple(respondents))

    def rows(self, style: str) -> list[dict[str, str]]:
        """The mapping as table rows: ``original``, ``kind``, ``pseudonym``, ``source``."""
        self.sync_persons()
        rows = []
        for (kind, value), code in sorted(self.codes.items(), key=lambda kv: (kv[1], kv[0])):
            shown = self.org_kinds.get(value, "organisation") if kind == "organisation" else kind
            rows.append({"original": self.originals.get((kind, value), value), "kind": shown,
                         "pseudonym": render(code, style), "source": ""})
        for (src, label), code in sorted(self.speakers.items()):
            rows.append({"original": label, "kind": "speaker", "pseudonym": code, "source": src})
        for (src, key), code in sorted(self.respondents.items()):
            rows.append({"original": key, "kind": "respondent", "pseudonym": code, "source": src})
        return rows
