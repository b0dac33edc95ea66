"""Which units are coded, and with what context.

A unit (one segment) is read the way a researcher reads it: with the question it answers
(``prompt``: the interviewer's preceding question, or the survey question) and the sentence
before it (``previous``). Three decisions live here, as rules kept as data (``rules/units.yaml``):

* **not codable**: greetings, thank-yous, logistics ("can you hear me?") and role introductions
  are not evidence, unless they also carry a barrier or enabler cue;
* **follow-on**: a short sentence whose claim needs the one before ("That makes it easy.") is
  coded with the claim it completes;
* **context**: the text a unit is embedded with (its own words first, the question second).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pandas as pd

from toolkit.errors import ConfigError
from toolkit.rules import read_yaml

PROMPT = "prompt"
"""Segments column: the question a unit answers (the lead's segment stage adds it; :func:`prompts_from_turns` derives it)."""
PREVIOUS = "previous"
"""Segments column: the sentence before the unit in the same turn or answer."""

_KINDS = ("pleasantry", "logistics", "introduction", "backchannel")


@dataclass(frozen=True)
class UnitRules:
    """Phrases that open units which are not evidence, and the openers of follow-on sentences."""

    pleasantry: tuple[str, ...]
    logistics: tuple[str, ...]
    introduction: tuple[str, ...]
    backchannel: tuple[str, ...]
    follow_on: tuple[str, ...]
    max_words: int = 14
    follow_on_max_words: int = 8


@functools.lru_cache(maxsize=4)
def load_unit_rules(path: str | None = None) -> UnitRules:
    """Read ``rules/units.yaml`` (or a study's own copy)."""
    where, raw = read_yaml("units.yaml", path)
    values = {}
    for key in (*_KINDS, "follow_on"):
        items = raw.get(key) or []
        bad = [v for v in items if not isinstance(v, str)]
        if bad:
            raise ConfigError(f"{where}: {key} holds {bad!r}, which YAML did not read as text. Put them in quotes.")
        values[key] = tuple(items)
    return UnitRules(**values, max_words=int(raw.get("max_words", 14)),
                     follow_on_max_words=int(raw.get("follow_on_max_words", 8)))


def _opener(phrases: tuple[str, ...]) -> re.Pattern:
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"^\W*(?:(?:so|and|oh|um|er|erm|well|yeah|yes|ok|okay|right)[,.]?\s+){{0,3}}(?:{body})(?![\w'’-])",
                      re.IGNORECASE) if phrases else re.compile(r"(?!x)x")


@functools.lru_cache(maxsize=4)
def _compiled(rules: UnitRules) -> dict[str, re.Pattern]:
    return {kind: _opener(getattr(rules, kind)) for kind in (*_KINDS, "follow_on")}


def _words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", re.sub(r"\[[^\]]*\]", " ", text)))


def not_codable(text: str, *, has_cue: bool = False, rules: UnitRules | None = None) -> str | None:
    """Why a unit is not evidence (``"pleasantry"``, ``"logistics"``, ``"introduction"``, ``"backchannel"``), or ``None``.

    A unit that carries a polarity cue (``has_cue``) is evidence whatever it opens with.

    Examples
    --------
    >>> not_codable("Thanks so much for having me.")
    'pleasantry'
    >>> not_codable("I'm the Supporting Families programme lead for the borough.")
    'introduction'
    >>> not_codable("Thanks to the new protocol the GPs now share within a day.", has_cue=True) is None
    True
    """
    rules = rules or load_unit_rules()
    if has_cue:
        return None
    patterns = _compiled(rules)
    words = _words(text)
    for kind in _KINDS:
        limit = {"introduction": 10**6, "backchannel": 4}.get(kind, rules.max_words)
        if patterns[kind].search(text) and words <= limit:
            return kind
    return None


def is_follow_on(text: str, rules: UnitRules | None = None) -> bool:
    """True for a short sentence whose claim needs the one before ("That makes it easy.", "It really helped.").

    Examples
    --------
    >>> is_follow_on("That makes it so much easier.")
    True
    >>> is_follow_on("The data sharing agreement makes it so much easier for the GPs to say yes.")
    False
    """
    rules = rules or load_unit_rules()
    return bool(_compiled(rules)["follow_on"].search(text)) and _words(text) <= rules.follow_on_max_words


def prompts_from_turns(turns: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """The interviewer's question before each segment's turn (until the segment stage adds ``prompt``).

    ``turns`` has ``turn_id``, ``source_id``, ``turn_index``, ``speaker_role``, ``text``; ``segments``
    has ``turn_id``. Segments of survey answers (no turn) get ``None``.
    """
    from toolkit import schema as s

    needed = {s.TURN_ID, s.SOURCE_ID, s.TURN_INDEX, s.SPEAKER_ROLE, s.TEXT}
    if turns.empty or not needed <= set(turns.columns) or s.TURN_ID not in segments.columns:
        return pd.Series([None] * len(segments), index=segments.index, dtype=object)
    ordered = turns.sort_values([s.SOURCE_ID, s.TURN_INDEX])
    last: dict = {}
    prompt_of: dict = {}
    for row in ordered.itertuples(index=False):
        source, role = getattr(row, s.SOURCE_ID), getattr(row, s.SPEAKER_ROLE)
        if role == "interviewer":
            last[source] = getattr(row, s.TEXT)
        else:
            prompt_of[getattr(row, s.TURN_ID)] = last.get(source)
    prompts = segments[s.TURN_ID].map(prompt_of).astype(object)
    return prompts.where(prompts.notna(), None)


def add_context(segments: pd.DataFrame, *, turns: pd.DataFrame | None = None, answers: pd.DataFrame | None = None,
                questions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``segments`` with ``prompt`` (interviewer's question, or the survey question) and ``previous``
    (the sentence before in the same turn or answer), where they are missing.

    Pure: frames in, a frame out. ``answers`` has ``text_answer_id`` and ``question_id``;
    ``questions`` has ``question_id`` and ``question_text`` (or ``question_key``).
    """
    from toolkit import schema as s

    out = segments.copy()
    if PROMPT not in out.columns:
        prompt = prompts_from_turns(turns if turns is not None else pd.DataFrame(), out)
        if answers is not None and questions is not None and s.TEXT_ANSWER_ID in out.columns and not answers.empty:
            text_col = s.QUESTION_TEXT if s.QUESTION_TEXT in questions.columns else s.QUESTION_KEY
            asked = answers.merge(questions[[s.QUESTION_ID, text_col]], on=s.QUESTION_ID, how="left")
            by_answer = dict(zip(asked[s.TEXT_ANSWER_ID], asked[text_col]))
            survey = out[s.TEXT_ANSWER_ID].map(by_answer).astype(object)
            prompt = prompt.where(prompt.notna(), survey)
        out[PROMPT] = prompt.where(prompt.notna(), None)
    if PREVIOUS not in out.columns:
        unit = [c for c in (s.TURN_ID, s.TEXT_ANSWER_ID) if c in out.columns]
        if unit and s.SEGMENT_INDEX in out.columns:
            key = pd.Series(["|".join(str(v) for v in row) for row in out[unit].itertuples(index=False)], index=out.index)
            ordered = out.assign(_key=key).sort_values(["_key", s.SEGMENT_INDEX])
            previous = ordered.groupby("_key")[s.TEXT].shift(1)
            out[PREVIOUS] = previous.reindex(out.index).astype(object).where(lambda v: v.notna(), None)
        else:
            out[PREVIOUS] = None
    return out
