"""The codebook: themes of barriers and enablers, kept as YAML that researchers edit.

A codebook has a version, its polarities (barrier, enabler, neutral), a list of
themes and the cues of good practice. Each theme has an id, a name, a definition,
when to apply it (``include``) and when not (``exclude``), example sentences for
each polarity, and match patterns for spaCy (``phrases`` for a PhraseMatcher on
lower-case text, ``tokens`` for a token Matcher). Everything is checked when the
file is loaded, and every error names the file, the theme and the field to fix.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from toolkit import schema as s
from toolkit.errors import ConfigError

DEFAULT_CODEBOOK = "codebook.yaml"
_TOP_KEYS = ("version", "name", "description", "polarities", "themes", "good_practice")
_THEME_KEYS = ("id", "name", "definition", "include", "exclude", "examples", "patterns")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_EXAMPLES = 2


@dataclass(frozen=True)
class Theme:
    """One theme of the codebook."""

    id: str
    name: str
    definition: str
    include: str = ""
    exclude: str = ""
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: tuple[str, ...] = ()
    token_patterns: tuple[tuple[dict, ...], ...] = ()


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. Load one with :func:`load_codebook`.

    Examples
    --------
    >>> book = load_codebook()
    >>> book.theme("trust_relationships").name
    'Trust and relationships between partners'
    """

    version: str
    name: str
    description: str
    polarities: dict[str, str]
    themes: tuple[Theme, ...]
    good_practice_definition: str = ""
    good_practice_cues: tuple[str, ...] = ()
    path: str = ""

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def theme(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise ConfigError(f"No theme '{theme_id}' in the codebook. Themes: {', '.join(self.ids)}.")

    def to_frame(self) -> pd.DataFrame:
        """One readable row per theme."""
        return pd.DataFrame(
            [
                {
                    "theme_id": t.id,
                    "name": t.name,
                    "definition": t.definition,
                    "include": t.include,
                    "exclude": t.exclude,
                    **{f"examples_{p}": len(t.examples.get(p, ())) for p in s.POLARITIES},
                    "phrases": len(t.phrases),
                    "token_patterns": len(t.token_patterns),
                }
                for t in self.themes
            ]
        )

    def examples_frame(self) -> pd.DataFrame:
        """Every example sentence: ``theme_id``, ``polarity``, ``text``."""
        rows = [
            {"theme_id": t.id, s.POLARITY: polarity, s.TEXT: text}
            for t in self.themes
            for polarity, texts in t.examples.items()
            for text in texts
        ]
        return pd.DataFrame(rows, columns=["theme_id", s.POLARITY, s.TEXT])

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "polarities": dict(self.polarities),
            "good_practice": {"definition": self.good_practice_definition, "cues": list(self.good_practice_cues)},
            "themes": [
                {
                    "id": t.id,
                    "name": t.name,
                    "definition": t.definition,
                    "include": t.include,
                    "exclude": t.exclude,
                    "examples": {p: list(v) for p, v in t.examples.items()},
                    "patterns": {"phrases": list(t.phrases), "tokens": [list(p) for p in t.token_patterns]},
                }
                for t in self.themes
            ],
        }

    def fingerprint(self) -> str:
        """A short hash of the content: the code version stored with every coding."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return f"{self.version}+{hashlib.sha256(blob).hexdigest()[:8]}"


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook (default: the toolkit's codebook for this domain).

    Examples
    --------
    >>> len(load_codebook().themes)
    12
    """
    if path is None:
        text = resources.files("toolkit.rules").joinpath(DEFAULT_CODEBOOK).read_text(encoding="utf-8")
        where = f"toolkit/rules/{DEFAULT_CODEBOOK}"
    else:
        path = Path(path)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(f"No codebook at {path}. Fix coding.codebook in study.toml, or leave it empty for the default.") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text. Save the codebook again as UTF-8.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{line}: not valid YAML ({getattr(exc, 'problem', exc)}). Fix the line it names.") from None
    return codebook_from_dict(data, where=where)


def save_codebook(codebook: Codebook, path: str | Path) -> Path:
    """Write a codebook as YAML (it loads back equal)."""
    path = Path(path)
    path.write_text(
        yaml.safe_dump(codebook.to_dict(), sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
    )
    return path


def codebook_from_dict(data: Any, *, where: str = "codebook") -> Codebook:
    """Validate a parsed codebook."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a codebook must be a mapping with keys {', '.join(_TOP_KEYS)}.")
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'.{_did_you_mean(key, _TOP_KEYS)}")
    for key in ("version", "name", "themes"):
        if key not in data:
            raise ConfigError(f"{where}: missing '{key}'. A codebook needs {', '.join(('version', 'name', 'themes'))}.")
    polarities = data.get("polarities") or {p: "" for p in s.POLARITIES}
    if not isinstance(polarities, dict) or set(polarities) != set(s.POLARITIES):
        raise ConfigError(f"{where}: 'polarities' must define exactly {', '.join(s.POLARITIES)}.")
    themes_raw = data["themes"]
    if not isinstance(themes_raw, list) or not themes_raw:
        raise ConfigError(f"{where}: 'themes' must be a non-empty list of themes.")
    themes = []
    seen: set[str] = set()
    for position, raw in enumerate(themes_raw, start=1):
        theme = _theme(raw, where, position)
        if theme.id in seen:
            raise ConfigError(f"{where}: theme id '{theme.id}' is used twice. Give each theme its own id.")
        seen.add(theme.id)
        themes.append(theme)
    _check_token_patterns(themes, where)
    good = data.get("good_practice") or {}
    if not isinstance(good, dict):
        raise ConfigError(f"{where}: 'good_practice' must be a mapping with 'definition' and 'cues'.")
    cues = good.get("cues", [])
    if not isinstance(cues, list) or not all(isinstance(c, str) for c in cues):
        raise ConfigError(f"{where}: good_practice.cues must be a list of phrases in quotes.")
    return Codebook(
        version=str(data["version"]),
        name=str(data["name"]),
        description=str(data.get("description", "")),
        polarities={k: str(v) for k, v in polarities.items()},
        themes=tuple(themes),
        good_practice_definition=str(good.get("definition", "")),
        good_practice_cues=tuple(c.lower() for c in cues),
        path=where,
    )


def _theme(raw: Any, where: str, position: int) -> Theme:
    label = f"{where}, theme {position}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: a theme must be a mapping with keys {', '.join(_THEME_KEYS)}.")
    if isinstance(raw.get("id"), str):
        label = f"{where}, theme '{raw['id']}'"
    for key in raw:
        if key not in _THEME_KEYS:
            raise ConfigError(f"{label}: unknown key '{key}'.{_did_you_mean(key, _THEME_KEYS)}")
    for key in ("id", "name", "definition"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{label}: '{key}' is missing or empty. Every theme needs an id, a name and a definition.")
    if not _ID.match(raw["id"]):
        raise ConfigError(
            f"{label}: id '{raw['id']}' must be lower case letters, digits and underscores, starting with a letter "
            "(e.g. 'trust_relationships')."
        )
    examples_raw = raw.get("examples") or {}
    if not isinstance(examples_raw, dict):
        raise ConfigError(f"{label}: 'examples' must map polarities ({', '.join(s.POLARITIES)}) to lists of sentences.")
    examples = {}
    for polarity, texts in examples_raw.items():
        if polarity not in s.POLARITIES:
            raise ConfigError(
                f"{label}: examples has an unknown polarity '{polarity}'. Use {', '.join(s.POLARITIES)}."
                + _did_you_mean(polarity, s.POLARITIES)
            )
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ConfigError(f"{label}: examples.{polarity} must be a list of sentences in quotes.")
        examples[polarity] = tuple(t.strip() for t in texts)
    for polarity in (s.BARRIER, s.ENABLER):
        if len(examples.get(polarity, ())) < MIN_EXAMPLES:
            raise ConfigError(
                f"{label}: examples.{polarity} has {len(examples.get(polarity, ()))} sentence(s); give at least "
                f"{MIN_EXAMPLES} so the coder can learn what a {polarity} of this theme sounds like."
            )
    patterns = raw.get("patterns") or {}
    if not isinstance(patterns, dict):
        raise ConfigError(f"{label}: 'patterns' must be a mapping with 'phrases' and 'tokens'.")
    for key in patterns:
        if key not in ("phrases", "tokens"):
            raise ConfigError(f"{label}: patterns has an unknown key '{key}'. Use 'phrases' and 'tokens'.")
    phrases = patterns.get("phrases", [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise ConfigError(f"{label}: patterns.phrases must be a list of phrases in quotes.")
    tokens = patterns.get("tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(p, list) and p for p in tokens):
        raise ConfigError(f"{label}: patterns.tokens must be a list of token patterns, each a list of mappings.")
    return Theme(
        id=raw["id"],
        name=raw["name"].strip(),
        definition=" ".join(raw["definition"].split()),
        include=" ".join(str(raw.get("include", "")).split()),
        exclude=" ".join(str(raw.get("exclude", "")).split()),
        examples=examples,
        phrases=tuple(p.strip().lower() for p in phrases),
        token_patterns=tuple(tuple(dict(t) for t in p) for p in tokens),
    )


def _check_token_patterns(themes: list[Theme], where: str) -> None:
    """Validate token patterns with spaCy's own schema (on a blank pipeline, no model loaded)."""
    if not any(t.token_patterns for t in themes):
        return
    import spacy
    from spacy.matcher import Matcher

    vocab = spacy.blank("en").vocab
    for theme in themes:
        for i, pattern in enumerate(theme.token_patterns):
            matcher = Matcher(vocab, validate=True)
            try:
                matcher.add(theme.id, [list(pattern)])
            except Exception as exc:  # spaCy raises MatchPatternError / ValueError with its own text
                detail = " ".join(str(exc).split())
                raise ConfigError(
                    f"{where}, theme '{theme.id}', patterns.tokens[{i}]: not a valid spaCy token pattern ({detail[:300]}). "
                    "See https://spacy.io/usage/rule-based-matching#adding-patterns-attributes."
                ) from None


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else f" Known: {', '.join(known)}."
