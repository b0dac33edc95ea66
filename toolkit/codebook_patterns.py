"""Token patterns of a codebook, checked against spaCy's own pattern schema (structured errors, no message parsing).

Split from :mod:`toolkit.codebook` so neither module grows past a reader's patience; spaCy is
imported only when a codebook with token patterns is checked.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

from toolkit.errors import ConfigError

_MATCHING_DOCS = "https://spacy.io/usage/rule-based-matching#adding-patterns-attributes"
_YAML_BOOL_HINT = "YAML reads a bare yes/no/on/off/true/false as true or false: put the word in quotes"


def _check_token_patterns(themes: list, where: str) -> None:
    """Check every token pattern against spaCy's own pattern schema, then on a blank English pipeline.

    The schema (``spacy.schemas.TokenPatternSchema``, the one ``Matcher(validate=True)`` uses) reports
    each problem as structured data: where (token, attribute, condition), what kind, and the value
    found. :func:`_pattern_problem` turns the first problem into a sentence a researcher can act on.
    """
    if not any(t.token_patterns for t in themes):
        return
    from pydantic import ValidationError
    from spacy.matcher import Matcher
    from spacy.schemas import TokenPatternSchema

    vocab = _blank_vocab()
    for theme in themes:
        for i, pattern in enumerate(theme.token_patterns):
            label = f"{where}, theme '{theme.id}', patterns.tokens[{i}]"
            try:
                TokenPatternSchema.model_validate({"pattern": pattern})
            except ValidationError as exc:
                raise ConfigError(f"{label}: {_pattern_problem(exc.errors(), pattern)}") from None
            try:
                Matcher(vocab).add(f"{theme.id}[{i}]", [pattern])
            except (ValueError, TypeError, KeyError) as exc:
                detail = " ".join(str(exc).split())
                raise ConfigError(
                    f"{label}: spaCy cannot use this pattern ({detail}). See {_MATCHING_DOCS}."
                ) from None
            _check_anchored(pattern, label)


def _check_anchored(pattern: list[dict], label: str) -> None:
    """A pattern must need at least one real token, and must not start or end with a bare wildcard."""

    def bare(token: dict) -> bool:  # {OP: "*"} and the like: any token at all
        return set(token) == {"OP"}

    def optional(token: dict) -> bool:
        op = str(token.get("OP", ""))
        counted = re.fullmatch(r"\{(\d*)(?:,(\d*))?\}", op)
        return op in ("?", "*") or (counted is not None and int(counted.group(1) or 0) == 0)

    if not any(not bare(t) and not optional(t) and t.get("OP") != "!" for t in pattern):
        raise ConfigError(
            f"{label}: no token is required, so the pattern could match almost anything. "
            'Make at least one token a required word, e.g. {LOWER: "consent"} with no OP.'
        )
    for end, token in (("starts", pattern[0]), ("ends", pattern[-1])):
        if bare(token):
            raise ConfigError(
                f"{label}: the pattern {end} with a bare wildcard {token}, which only widens every match. "
                "Remove it, or give it an attribute."
            )


def _pattern_problem(errors: list[dict], pattern: list[dict]) -> str:
    """The first schema error of a token pattern, as one sentence a researcher can act on.

    ``errors`` is pydantic's structured report (``ValidationError.errors()``): each has a
    ``loc`` (``("pattern", token, attribute, [value type, condition])``), a ``type`` and the
    ``input`` found. Nothing here reads spaCy's message text.
    """
    first = errors[0]
    loc = tuple(first.get("loc", ()))[1:]  # drop "pattern"
    index = loc[0] if loc and isinstance(loc[0], int) else None
    if index is None or index >= len(pattern):
        return f"spaCy's pattern schema rejects it ({first.get('type')}). See {_MATCHING_DOCS}."
    at = f"token {index}"
    token = pattern[index]
    attribute = str(loc[1]) if len(loc) > 1 else ""
    if attribute not in token:
        return f"{at}: spaCy's pattern schema rejects {_show(token)}. See {_MATCHING_DOCS}."
    value = token[attribute]
    same = [e for e in errors if tuple(e.get("loc", ()))[1:3] == (index, attribute)]
    kinds = {e.get("type") for e in same}
    if len(loc) == 2 and "extra_forbidden" in kinds:
        hint = _did_you_mean(attribute.upper(), _token_attributes())
        return f"{at}: '{attribute}' is not a token attribute spaCy knows.{hint} See {_MATCHING_DOCS}."
    condition = [tuple(e["loc"])[-1] for e in same if e.get("type") == "extra_forbidden" and len(e["loc"]) > 4]
    if condition:
        hint = _did_you_mean(str(condition[0]).upper(), _predicates())
        return f"{at}, {attribute}: '{condition[0]}' is not a condition spaCy knows.{hint} See {_MATCHING_DOCS}."
    if attribute == "OP":
        return (
            f"{at}, OP: found {_show(value)}; use one of ? (optional), * (any number), + (one or more), "
            f'! (not), or a count such as "{{2}}" or "{{0,3}}". See {_MATCHING_DOCS}.'
        )
    if "list_type" in kinds:
        return (
            f"{at}, {attribute}: found {_show(value)}; IN and NOT_IN need a list, "
            f'e.g. {{{attribute}: {{IN: ["share", "shared"]}}}}. See {_MATCHING_DOCS}.'
        )
    if "bool_type" in kinds:
        return f"{at}, {attribute}: found {_show(value)}; expected true or false. See {_MATCHING_DOCS}."
    if _has_bool(value):
        return f'{at}, {attribute}: found {_show(value)}, expected text. {_YAML_BOOL_HINT}, e.g. {{{attribute}: "no"}}.'
    expected = "a number" if kinds & {"int_type", "float_type", "int_parsing", "float_parsing"} else "text"
    return f"{at}, {attribute}: found {_show(value)}, expected {expected}. See {_MATCHING_DOCS}."


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else f" Known: {', '.join(known)}."


@functools.lru_cache(maxsize=1)
def _predicates() -> tuple[str, ...]:
    """Conditions a token attribute may hold instead of a plain value, as spaCy's schema names them."""
    from spacy.schemas import TokenPatternNumber, TokenPatternString

    return tuple(sorted({_alias(name, info) for model in (TokenPatternString, TokenPatternNumber)
                         for name, info in _fields(model).items()}))


def _fields(model) -> dict:
    return getattr(model, "model_fields", None) or getattr(model, "__fields__", {})


def _alias(name: str, info) -> str:
    return (getattr(info, "alias", None) or name).upper()


@functools.lru_cache(maxsize=1)
def _blank_vocab():
    """A blank English vocabulary for validating patterns (built once, on first use)."""
    import spacy

    return spacy.blank("en").vocab


@functools.lru_cache(maxsize=1)
def _token_attributes() -> tuple[str, ...]:
    from spacy.schemas import TokenPattern

    return tuple(sorted({_alias(name, info) for name, info in _fields(TokenPattern).items()}))



def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(_has_bool(v) for v in value.values())
    if isinstance(value, list):
        return any(isinstance(v, bool) for v in value)
    return False



def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
