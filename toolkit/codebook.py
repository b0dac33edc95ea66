"""The codebook: themes of barriers and enablers, kept as YAML that researchers read and edit.

A codebook has a version, the three polarities (barrier, enabler, neutral), a list of
themes and the cues of good practice. Each theme has an id, a name, a definition, when
to apply it (``include``) and when not (``exclude``), example sentences for each
polarity, and match patterns for spaCy: ``phrases`` for a PhraseMatcher on lower-case
text and ``tokens`` for a token Matcher. The file is checked when it is loaded; every
error names the file, the theme (by id, or by position when it has none), the field,
what was found and how to fix it. Loading does no work until called, and the token
patterns are checked on a blank English pipeline: the trained model is never loaded here.

Examples
--------
>>> book = load_codebook()
>>> book.theme("trust_relationships").name
'Trust and relationships between partners'
>>> book.fingerprint().startswith(book.version + "+")
True
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
import re
import textwrap
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from toolkit import schema as s
from toolkit.codebook_patterns import _YAML_BOOL_HINT, _check_token_patterns, _did_you_mean, _show
from toolkit.errors import ConfigError

if TYPE_CHECKING:  # pandas is only needed by callers that build frames
    import pandas as pd

__all__ = [
    "DEFAULT_CODEBOOK",
    "THEME_ID",
    "Codebook",
    "Theme",
    "UnknownThemeError",
    "codebook_from_dict",
    "load_codebook",
    "save_codebook",
]

log = logging.getLogger(__name__)

DEFAULT_CODEBOOK = "codebook.yaml"
"""File name of the packaged default codebook, in ``toolkit/rules/``."""

THEME_ID = "theme_id"
"""Column of :meth:`Codebook.to_frame` and :meth:`Codebook.examples_frame` holding the theme's id."""

MIN_EXAMPLES = 2
"""Fewest example sentences a theme needs for barrier and for enabler."""

_RULES_PACKAGE = "toolkit.rules"
_TOP_KEYS = ("version", "name", "description", "polarity", "polarities", "themes", "good_practice")
_REQUIRED_TOP = ("name", "themes")
_THEME_KEYS = ("id", "name", "definition", "parent", "include", "exclude", "examples", "patterns")
DEFAULT_POLARITIES = {
    "barrier": "The passage describes something that hinders what the study is about.",
    "enabler": "The passage describes something that helps it.",
    "neutral": "The passage describes without judging, or weighs both sides.",
}
"""Polarity definitions used when a codebook gives none (a team's own codebook often has no polarity)."""
_PATTERN_KEYS = ("phrases", "tokens")
_GOOD_PRACTICE_KEYS = ("definition", "cues")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownThemeError(ConfigError, KeyError):
    """A theme id that the codebook does not have (catch it as ``KeyError`` or ``ConfigError``)."""

    __str__ = Exception.__str__  # KeyError would wrap the message in quotes


@dataclass(frozen=True)
class Theme:
    """One theme of the codebook: what it means, how it sounds, and how to spot it.

    ``examples`` maps each polarity (``barrier``, ``enabler``, ``neutral``) to its
    example sentences; ``phrases`` are lower-case terms for a PhraseMatcher on ``LOWER``;
    ``token_patterns`` are spaCy Matcher patterns (lists of token dicts).
    """

    id: str
    name: str
    definition: str
    include: str = ""
    exclude: str = ""
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: tuple[str, ...] = ()
    token_patterns: tuple[list[dict], ...] = ()
    parent: str | None = None
    """The id of the theme this one is a sub-theme of (two levels: theme and sub-theme)."""

    def to_dict(self) -> dict[str, Any]:
        """The theme as plain data, in the layout of the YAML file."""
        return {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            **({"parent": self.parent} if self.parent else {}),
            "include": self.include,
            "exclude": self.exclude,
            "examples": {p: list(self.examples.get(p, ())) for p in s.POLARITIES},
            "patterns": {"phrases": list(self.phrases), "tokens": copy.deepcopy([list(p) for p in self.token_patterns])},
        }


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. Load one with :func:`load_codebook`.

    Two codebooks are equal when their content is equal, wherever they were read from
    (``path`` is not compared).

    Examples
    --------
    >>> book = load_codebook()
    >>> len(book.ids)
    12
    >>> book.to_frame().loc[0, "theme_id"]
    'legal_basis_consent'
    """

    version: str
    name: str
    description: str
    polarities: dict[str, str]
    themes: tuple[Theme, ...]
    good_practice_cues: tuple[str, ...] = ()
    good_practice_definition: str = ""
    uses_polarity: bool = True
    """False when the study codes themes only (``polarity: false`` in the file): no coding gets a polarity."""
    path: Path | None = field(default=None, compare=False)
    """The file it was read from (``None`` when built in code)."""

    @property
    def ids(self) -> tuple[str, ...]:
        """Theme ids, in the codebook's order."""
        return tuple(t.id for t in self.themes)

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id.

        Raises :class:`UnknownThemeError` (a ``KeyError`` and a ``ConfigError``) that lists the ids.

        Examples
        --------
        >>> load_codebook().theme("resources_capacity").id
        'resources_capacity'
        """
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        close = [i for i in self.ids if str(theme_id).lower() in i] or difflib.get_close_matches(
            str(theme_id), self.ids, n=1
        )
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UnknownThemeError(
            f"{self._where()}: no theme '{theme_id}'.{hint} Themes: {', '.join(self.ids)}."
        )

    def parent_of(self, theme_id: str) -> str | None:
        """The id of a sub-theme's theme (``None`` for a top-level theme)."""
        return self.theme(theme_id).parent

    def top_level(self, theme_id: str) -> str:
        """The top-level theme a theme or sub-theme belongs to."""
        seen = {theme_id}
        parent = self.theme(theme_id).parent
        while parent and parent not in seen:
            theme_id, parent = parent, self.theme(parent).parent
            seen.add(theme_id)
        return theme_id

    def theme_fingerprint(self, theme_id: str) -> str:
        """A hash of one theme's content: a codebook edit recodes only the themes whose hash changed."""
        blob = json.dumps(self.theme(theme_id).to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:10]

    def to_dict(self) -> dict[str, Any]:
        """The codebook as plain data, in the layout of the YAML file."""
        return {
            "version": self.version,
            "name": self.name,
            "description": self.description,
            **({} if self.uses_polarity else {"polarity": False}),
            "polarities": {p: self.polarities.get(p, "") for p in s.POLARITIES},
            "good_practice": {"definition": self.good_practice_definition, "cues": list(self.good_practice_cues)},
            "themes": [t.to_dict() for t in self.themes],
        }

    def to_frame(self) -> pd.DataFrame:
        """One readable row per theme: id, name, definition, include, exclude, counts and phrases.

        Examples
        --------
        >>> frame = load_codebook().to_frame()
        >>> frame.columns[:3].tolist()
        ['theme_id', 'name', 'definition']
        """
        import pandas as pd

        rows = [
            {
                THEME_ID: t.id,
                "name": t.name,
                "definition": t.definition,
                "include": t.include,
                "exclude": t.exclude,
                **{f"n_{p}": len(t.examples.get(p, ())) for p in s.POLARITIES},
                "n_phrases": len(t.phrases),
                "n_token_patterns": len(t.token_patterns),
                "phrases": ", ".join(t.phrases),
            }
            for t in self.themes
        ]
        return pd.DataFrame(rows)

    def examples_frame(self) -> pd.DataFrame:
        """Every example sentence, one row each: ``theme_id``, ``polarity``, ``text``.

        Examples
        --------
        >>> frame = load_codebook().examples_frame()
        >>> sorted(frame["polarity"].unique())
        ['barrier', 'enabler', 'neutral']
        """
        import pandas as pd

        rows = [
            {THEME_ID: t.id, s.POLARITY: polarity, s.TEXT: text}
            for t in self.themes
            for polarity in s.POLARITIES
            for text in t.examples.get(polarity, ())
        ]
        return pd.DataFrame(rows, columns=[THEME_ID, s.POLARITY, s.TEXT])

    def fingerprint(self) -> str:
        """The code version stored with every coding: ``version`` plus a hash of the content.

        Any change to a definition, example, pattern or cue changes it; where the file
        lives, its comments and its layout do not.

        Examples
        --------
        >>> load_codebook().fingerprint()  # doctest: +SKIP
        '2026.1+3c9a0d1e52'
        """
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return f"{self.version}+{hashlib.sha256(blob.encode('utf-8')).hexdigest()[:10]}"

    def _where(self) -> str:
        return self.path.name if self.path is not None else "codebook"


# --------------------------------------------------------------------------- load and save
def default_codebook_path() -> Path:
    """Where the packaged default codebook lives."""
    return Path(str(resources.files(_RULES_PACKAGE).joinpath(DEFAULT_CODEBOOK)))


def load_codebook(path: str | Path | None = None, *, check_patterns: bool = True) -> Codebook:
    """Read and validate a codebook; ``None`` reads the toolkit's default codebook.

    Parameters
    ----------
    path : a codebook YAML file, e.g. the study's ``coding.codebook``.
    check_patterns : check token patterns with spaCy's own validator (imports spaCy, a few
        seconds); readers that only show the codebook (the dashboard) turn it off.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or breaks a rule of the codebook; the message
        names the file, the theme and the field, and says how to fix it.

    Examples
    --------
    >>> book = load_codebook()
    >>> book.version
    '2026.1'
    >>> sorted(book.theme("data_quality_matching").examples)
    ['barrier', 'enabler', 'neutral']
    """
    if path is None:
        source = default_codebook_path()
        text = resources.files(_RULES_PACKAGE).joinpath(DEFAULT_CODEBOOK).read_text(encoding="utf-8")
    else:
        source = Path(path).expanduser()
        if source.is_dir():
            raise ConfigError(f"{source} is a folder, not a codebook. Pass the codebook's YAML file.")
        try:
            text = source.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(
                f"No codebook at {source}. Fix coding.codebook in study.toml, or leave it empty to use "
                "the toolkit's default codebook."
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source.name}: not UTF-8 text. Save the codebook again as UTF-8.") from None
    data = _parse_yaml(text, source.name)
    book = codebook_from_dict(data, source=source, check_patterns=check_patterns)
    log.debug("codebook %s (%d themes) read from %s", book.version, len(book.themes), source)
    return book


def save_codebook(codebook: Codebook, path: str | Path) -> Path:
    """Write a codebook as readable YAML; :func:`load_codebook` reads it back equal.

    The file is written whole or not at all (a temporary file is renamed into place).

    Examples
    --------
    >>> out = save_codebook(load_codebook(), "my_codebook.yaml")  # doctest: +SKIP
    >>> load_codebook(out) == load_codebook()  # doctest: +SKIP
    True
    """
    path = Path(path).expanduser()
    data = codebook.to_dict()
    data["description"] = _block(data["description"])
    data["polarities"] = {k: _block(v) for k, v in data["polarities"].items()}
    data["good_practice"]["definition"] = _block(data["good_practice"]["definition"])
    for theme in data["themes"]:
        for key in ("definition", "include", "exclude"):
            theme[key] = _block(theme[key])
        theme["patterns"]["tokens"] = [_Flow(p) for p in theme["patterns"]["tokens"]]
    header = (
        f"# Codebook '{codebook.name}', version {codebook.version} (fingerprint {codebook.fingerprint()}).\n"
        "# Written by toolkit.codebook.save_codebook; edit freely, it is validated when loaded.\n"
        "# Change `version` whenever you change the themes, examples or patterns.\n\n"
    )
    # An unlimited width keeps each token pattern on one line; prose is wrapped by _Block instead.
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
    from toolkit.io import write_text

    return write_text(path, header + body)


# --------------------------------------------------------------------------- validation
def codebook_from_dict(data: Any, *, source: str | Path | None = None, check_patterns: bool = True) -> Codebook:
    """Validate a parsed codebook (a dict, as YAML gives it) into a :class:`Codebook`.

    ``source`` is the file it came from, named in error messages and kept as ``path``.

    Examples
    --------
    >>> data = load_codebook().to_dict()
    >>> codebook_from_dict(data) == load_codebook()
    True
    """
    path = Path(source) if source is not None else None
    where = (path.name or str(path)) if path is not None else "codebook"
    if not isinstance(data, dict):
        found = "an empty file" if data is None else _kind(data)
        raise ConfigError(
            f"{where}: not a codebook; expected a mapping with keys {', '.join(_TOP_KEYS)}, found {found}. "
            f"Start from the toolkit's default codebook (toolkit/rules/{DEFAULT_CODEBOOK})."
        )
    _no_unknown_keys(data, _TOP_KEYS, where, "top-level key")
    missing = [k for k in _REQUIRED_TOP if k not in data]
    if missing:
        raise ConfigError(
            f"{where}: missing top-level key{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
            f"A codebook needs {', '.join(_REQUIRED_TOP)} (and may have description); "
            f"copy them from toolkit/rules/{DEFAULT_CODEBOOK}."
        )
    version = data.get("version", "1")
    if not isinstance(version, str) or not version.strip():
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            fix = "put it in quotes so it is kept as written"
        else:
            fix = "give a version in quotes"
        raise ConfigError(f'{where}: version must be text, found {version!r}; {fix}, e.g. version: "2026.1".')
    name = _text(data["name"], where, "name")
    description = data.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description must be text, found {_kind(description)}. Put it in quotes.")
    uses_polarity = data.get("polarity", True)
    if not isinstance(uses_polarity, bool):
        raise ConfigError(
            f"{where}: polarity must be true or false (false: code themes only, no barrier/enabler); "
            f"found {_kind(uses_polarity)}."
        )
    polarities = _polarities(data["polarities"], where) if data.get("polarities") is not None else dict(DEFAULT_POLARITIES)
    cues, good_definition = _good_practice(data["good_practice"], where) if data.get("good_practice") is not None else ((), "")

    raw_themes = data["themes"]
    if not isinstance(raw_themes, list) or not raw_themes:
        found = "an empty list" if raw_themes == [] else _kind(raw_themes)
        raise ConfigError(
            f"{where}: themes must be a list of themes, each starting with '- id: ...'; found {found}."
        )
    themes: list[Theme] = []
    first_at: dict[str, int] = {}
    for position, raw in enumerate(raw_themes, start=1):
        theme = _theme(raw, where, position)
        if theme.id in first_at:
            raise ConfigError(
                f"{where}, theme {position}: id '{theme.id}' is already used by theme {first_at[theme.id]}. "
                "Give each theme its own id, or merge the two themes."
            )
        first_at[theme.id] = position
        themes.append(theme)
    for position, theme in enumerate(themes, start=1):
        if theme.parent is not None and (theme.parent not in first_at or theme.parent == theme.id):
            hint = _did_you_mean(theme.parent, tuple(first_at))
            raise ConfigError(
                f"{where}, theme '{theme.id}': parent '{theme.parent}' is not another theme of this codebook.{hint}"
            )
    if check_patterns:
        _check_token_patterns(themes, where)
    return Codebook(
        version=version.strip(),
        name=name,
        description=_squash(description),
        polarities=polarities,
        themes=tuple(themes),
        good_practice_cues=cues,
        good_practice_definition=good_definition,
        uses_polarity=uses_polarity,
        path=path,
    )


def _polarities(raw: Any, where: str) -> dict[str, str]:
    expected = ", ".join(s.POLARITIES)
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: polarities must map {expected} to a one-line definition each; found {_kind(raw)}."
        )
    _no_unknown_keys(raw, s.POLARITIES, where, "polarity", field_name="polarities")
    missing = [p for p in s.POLARITIES if p not in raw]
    if missing:
        raise ConfigError(
            f"{where}: polarities lacks {', '.join(missing)}. Define all three ({expected}), one line each."
        )
    return {p: _text(raw[p], where, f"polarities.{p}") for p in s.POLARITIES}


def _good_practice(raw: Any, where: str) -> tuple[tuple[str, ...], str]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: good_practice must be a mapping with definition and cues (a list of phrases); "
            f"found {_kind(raw)}."
        )
    _no_unknown_keys(raw, _GOOD_PRACTICE_KEYS, where, "key", field_name="good_practice")
    definition = raw.get("definition", "")
    if definition is None:
        definition = ""
    if not isinstance(definition, str):
        raise ConfigError(f"{where}: good_practice.definition must be text, found {_kind(definition)}.")
    cues = _string_list(raw.get("cues", []), where, "good_practice.cues", example='["we set up", "named lead"]')
    return tuple(_squash(c).lower() for c in cues), _squash(definition)


def _theme(raw: Any, where: str, position: int) -> Theme:
    label = f"{where}, theme {position}"
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{label}: a theme must be a mapping with keys {', '.join(_THEME_KEYS)}; found {_kind(raw)}. "
            "Check the indentation under '- id:'."
        )
    theme_id = raw.get("id")
    if isinstance(theme_id, str) and theme_id.strip():
        label = f"{where}, theme '{theme_id.strip()}'"
    _no_unknown_keys(raw, _THEME_KEYS, label, "key")
    for key in ("id", "name", "definition"):
        value = raw.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})
        if empty:
            raise ConfigError(
                f"{label}: {key} is {'missing' if key not in raw else 'empty'}. Every theme needs id, name and "
                "definition (parent, include, exclude, examples and patterns are optional)."
            )
    if not isinstance(theme_id, str):
        raise ConfigError(f"{label}: id must be text, found {theme_id!r}. Use e.g. id: trust_relationships.")
    theme_id = theme_id.strip()
    if not _ID.match(theme_id):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", theme_id.lower()).strip("_")
        suggestion = suggestion if _ID.match(suggestion) else f"theme_{suggestion}".rstrip("_")
        raise ConfigError(
            f"{label}: id '{theme_id}' must be lower-case letters, digits and underscores, starting with a "
            f"letter; try '{suggestion}'."
        )
    texts = {
        key: _text(raw.get(key), label, key, required=key in ("name", "definition"))
        for key in ("name", "definition", "include", "exclude")
    }
    examples = _examples(raw["examples"], label) if raw.get("examples") not in (None, {}, []) else {p: () for p in s.POLARITIES}
    phrases, tokens = _patterns(raw.get("patterns"), label)
    parent = raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or not _ID.match(parent.strip())):
        raise ConfigError(f"{label}: parent must be the id of another theme, e.g. parent: trust_relationships; "
                          f"found {_kind(parent)}.")
    return Theme(
        id=theme_id,
        name=texts["name"],
        definition=texts["definition"],
        include=texts["include"],
        exclude=texts["exclude"],
        examples=examples,
        phrases=phrases,
        token_patterns=tokens,
        parent=parent.strip() if parent else None,
    )


def _examples(raw: Any, label: str) -> dict[str, tuple[str, ...]]:
    expected = ", ".join(s.POLARITIES)
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{label}: examples must map polarities ({expected}) to lists of sentences; found {_kind(raw)}."
        )
    _no_unknown_keys(raw, s.POLARITIES, label, "polarity", field_name="examples")
    examples: dict[str, tuple[str, ...]] = {}
    for polarity in s.POLARITIES:
        sentences = _string_list(
            raw.get(polarity) or [], label, f"examples.{polarity}", example='["We trust each other now."]'
        )
        examples[polarity] = tuple(_squash(t) for t in sentences)
    given = any(examples[p] for p in (s.BARRIER, s.ENABLER))
    for polarity in (s.BARRIER, s.ENABLER) if given else ():
        n = len(examples[polarity])
        if n < MIN_EXAMPLES:
            raise ConfigError(
                f"{label}: examples.{polarity} has {n} sentence{'' if n == 1 else 's'}; give at least "
                f"{MIN_EXAMPLES} (4-6 is better) so the coder learns what {'an' if polarity[0] in 'aeiou' else 'a'} {polarity} of this theme sounds like."
            )
    return examples


def _patterns(raw: Any, label: str) -> tuple[tuple[str, ...], tuple[list[dict], ...]]:
    if raw is None:
        return (), ()
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{label}: patterns must be a mapping with phrases (a list of terms) and tokens (a list of "
            f"spaCy token patterns); found {_kind(raw)}."
        )
    _no_unknown_keys(raw, _PATTERN_KEYS, label, "key", field_name="patterns")
    phrases = [
        _squash(p).lower()
        for p in _string_list(raw.get("phrases") or [], label, "patterns.phrases", example='["nhs number", "matching"]')
    ]
    seen: set[str] = set()
    for i, phrase in enumerate(phrases):
        if phrase in seen:
            raise ConfigError(
                f"{label}, patterns.phrases[{i}]: '{phrase}' is listed twice. Remove the second one."
            )
        seen.add(phrase)
    tokens = raw.get("tokens") or []
    if not isinstance(tokens, list):
        raise ConfigError(
            f"{label}: patterns.tokens must be a list of token patterns, each a list like "
            f'[{{LOWER: "nhs"}}, {{LOWER: "number"}}]; found {_kind(tokens)}.'
        )
    checked = []
    for i, pattern in enumerate(tokens):
        where = f"{label}, patterns.tokens[{i}]"
        if isinstance(pattern, str):
            raise ConfigError(
                f"{where}: found the text {pattern!r}, not a token pattern. Put plain terms under "
                f'patterns.phrases, or write a list of token dicts, e.g. [{{LOWER: "nhs"}}, {{LOWER: "number"}}].'
            )
        if not isinstance(pattern, list):
            raise ConfigError(
                f'{where}: a token pattern is a list of token dicts, e.g. [{{LEMMA: "share"}}]; found {_kind(pattern)}.'
            )
        if not pattern:
            raise ConfigError(f'{where}: the pattern is empty. Give at least one token, e.g. [{{LOWER: "consent"}}].')
        for j, token in enumerate(pattern):
            if not isinstance(token, dict) or not token:
                raise ConfigError(
                    f"{where}, token {j}: a token is a mapping of attributes, e.g. {{LOWER: \"consent\"}}; "
                    f"found {token!r}."
                )
        checked.append([_upper_keys(token) for token in pattern])
    return tuple(phrases), tuple(checked)


# --------------------------------------------------------------------------- small helpers
def _parse_yaml(text: str, where: str) -> Any:
    try:  # libyaml's parser when present (10x faster: the no-change run reads the codebook); errors from PyYAML's own
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc).split())
        context = f" ({' '.join(exc.context.split())})" if exc.context else ""
        raise ConfigError(f"{where}{place}: not valid YAML: {problem}{context}. {_yaml_hint(problem)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({' '.join(str(exc).split())}). Fix the place it names.") from None


def _yaml_hint(problem: str) -> str:
    if "\\t" in problem or "tab" in problem:
        return "YAML indents with spaces, never tabs: replace the tabs on that line."
    if "duplicate key" in problem:
        return "The second one would silently replace the first: merge them or remove one."
    if "mapping values are not allowed" in problem:
        return "A text holds ': ' - put the whole text in double quotes."
    if "alias" in problem or "alphabetic or numeric character" in problem:
        return 'Put * and ? in quotes, e.g. OP: "*".'
    return "Check the indentation and quotes on that line and the line above."


class _Loader(yaml.SafeLoader):
    """Safe YAML loading that refuses a key given twice in one mapping (YAML would keep the last)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = lines.get(key)
        except TypeError:  # an unhashable key; the constructor below reports it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first given on line {first + 1})", key_node.start_mark
            )
        lines[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """:class:`_Loader` over libyaml's parser (same constructors, so the same refusals)."""


_FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Flow(list):
    """A list written in YAML flow style, ``[a, b]``: one token pattern per line."""


class _Block(str):
    """Long prose written as a literal block, wrapped for reading (loading joins the lines again)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # indent lists under their key, as people write them


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))
_Dumper.add_representer(
    _Block, lambda dumper, data: dumper.represent_scalar(
        "tag:yaml.org,2002:str", textwrap.fill(data, 96, break_long_words=False, break_on_hyphens=False), style="|"
    )
)


def _no_unknown_keys(raw: dict, known: tuple[str, ...], where: str, what: str, *, field_name: str = "") -> None:
    for key in raw:
        if key not in known:
            hint = _did_you_mean(str(key), known)
            inside = f"{field_name} has an unknown" if field_name else "unknown"
            raise ConfigError(f"{where}: {inside} {what} '{key}'.{hint}")


def _text(value: Any, where: str, key: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        hint = f" {_YAML_BOOL_HINT}." if isinstance(value, bool) else " Put it in quotes."
        raise ConfigError(f"{where}: {key} must be text, found {_kind(value)}.{hint}")
    if required and not value.strip():
        raise ConfigError(f"{where}: {key} is empty. Write it in a sentence or two.")
    return _squash(value)


def _string_list(value: Any, where: str, key: str, *, example: str) -> list[str]:
    if isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a list, found the text {value!r}. Write it as a list, e.g. {example}.")
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be a list of texts, e.g. {example}; found {_kind(value)}.")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            hint = _YAML_BOOL_HINT if isinstance(item, bool) else "Put it in quotes"
            raise ConfigError(f"{where}, {key}[{i}]: found {_show(item)}, expected text. {hint}.")
        if not item.strip():
            raise ConfigError(f"{where}, {key}[{i}]: is empty. Remove it or write the text.")
    return value


def _upper_keys(token: dict) -> dict:
    """Attribute names in upper case (spaCy accepts either; one spelling keeps fingerprints stable)."""
    out = {}
    for key, value in token.items():
        if isinstance(value, dict):
            value = {str(k).upper() if isinstance(k, str) and k.isalpha() else k: v for k, v in value.items()}
        out[str(key).upper() if isinstance(key, str) else key] = value
    return out


def _block(text: str) -> str:
    return _Block(text) if len(text) > 96 else text


def _squash(text: str) -> str:
    """Collapse runs of whitespace (YAML folding leaves line breaks and double spaces)."""
    return " ".join(text.split())


def _kind(value: Any) -> str:
    """How a wrong value reads in a message: 'a list', 'the number 2026.1', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return type(value).__name__
