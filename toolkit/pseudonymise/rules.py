"""The identifier rules: patterns and word lists kept as data in ``toolkit/rules/identifiers.toml``.

Also the kinds of identifier and how their pseudonyms look (``[PERSON_07]``, ``Person 7``).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from toolkit import schema as s
from toolkit.errors import ConfigError

KINDS = s.IDENTIFIER_KINDS
"""Kinds of identifier replaced by default (``options.entities``)."""
ORG_KINDS = ("organisation", "place")
"""Kinds replaced only with ``replace_organisations``."""
SPEAKER = "speaker"

# Most specific first: on spans of equal length, the earlier kind wins.
RANK = {k: i for i, k in enumerate(
    ("email", "url", "iban", "bank_card", "nhs_number", "ni_number", "phone", "ip_address", "sort_code",
     "account_number", "postcode", "date_of_birth", "address", "school", "gp_practice", "person", "organisation",
     "place")
)}
PREFIX = {
    "person": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "nhs_number": "NHS_NUMBER",
    "ni_number": "NI_NUMBER",
    "postcode": "POSTCODE",
    "date_of_birth": "DOB",
    "address": "ADDRESS",
    "url": "URL",
    "school": "SCHOOL",
    "gp_practice": "GP_PRACTICE",
    "bank_card": "CARD",
    "iban": "IBAN",
    "sort_code": "SORT_CODE",
    "account_number": "ACCOUNT",
    "ip_address": "IP",
    "organisation": "ORG",
    "place": "PLACE",
}
ALIAS = {
    "PERSON": "Person",
    "EMAIL": "Email",
    "PHONE": "Phone",
    "NHS_NUMBER": "NHS number",
    "NI_NUMBER": "NI number",
    "POSTCODE": "Postcode",
    "DOB": "Date of birth",
    "ADDRESS": "Address",
    "URL": "URL",
    "SCHOOL": "School",
    "GP_PRACTICE": "GP practice",
    "CARD": "Card",
    "IBAN": "IBAN",
    "SORT_CODE": "Sort code",
    "ACCOUNT": "Account",
    "IP": "IP address",
    "ORG": "Organisation",
    "PLACE": "Place",
}
SHIELDED = ("person", "organisation", "place", "school", "gp_practice")
"""Kinds never found inside the study's own organisations and allowed phrases ("Brackenford", "Early Help Hub")."""
ALWAYS_ON = frozenset({"capitalised", "setting", "place_cue"})
"""Detectors of organisations and places that are not the study's own (the capitalised-word rule, named
settings, places after a cue): replaced even without ``replace_organisations``."""


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
