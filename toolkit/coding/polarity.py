"""Polarity cues: words and phrases that say a sentence describes a barrier or an enabler.

The cues are data (``rules/polarity.yaml``); this module finds them and reads their negation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from toolkit.errors import ConfigError


@dataclass(frozen=True)
class PolarityRules:
    """Cue words for polarity, read from ``rules/polarity.yaml``."""

    barrier: tuple[str, ...]
    enabler: tuple[str, ...]
    negators: tuple[str, ...]
    fixed_barrier: tuple[str, ...]
    fixed_enabler: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def load_polarity_rules(path: str | None = None) -> PolarityRules:
    """Read polarity cues (default: the packaged ``rules/polarity.yaml``)."""
    if path is None:
        text = resources.files("toolkit.rules").joinpath("polarity.yaml").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    raw = yaml.safe_load(text)
    for key in ("barrier", "enabler", "negators"):
        bad = [v for v in raw.get(key, []) if not isinstance(v, str)]
        if bad:
            raise ConfigError(
                f"{path or 'rules/polarity.yaml'}: {key} holds {bad!r}, which YAML did not read as text. "
                "Put such words in quotes (YAML reads a bare no/yes/on/off as true or false)."
            )
    fixed = raw.get("fixed", {})
    return PolarityRules(
        barrier=tuple(raw["barrier"]),
        enabler=tuple(raw["enabler"]),
        negators=tuple(raw["negators"]),
        fixed_barrier=tuple(fixed.get("barrier", ())),
        fixed_enabler=tuple(fixed.get("enabler", ())),
    )


def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern:
    ordered = sorted(set(phrases), key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in ordered)
    return re.compile(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def _compiled(rules: PolarityRules):
    return (
        _phrase_regex(rules.fixed_barrier),
        _phrase_regex(rules.fixed_enabler),
        _phrase_regex(rules.barrier),
        _phrase_regex(rules.enabler),
        _phrase_regex(tuple(n for n in rules.negators if n != "n't")),
    )


def polarity_cues(text: str, rules: PolarityRules | None = None) -> tuple[float, list[str]]:
    """Score a text's polarity from cue words: positive = enabler, negative = barrier.

    A negator up to three words before a cue flips it; the rules' fixed phrases
    already carry their negation and are never flipped.

    Examples
    --------
    >>> polarity_cues("That is no longer a barrier for us.")[0] > 0
    True
    >>> polarity_cues("They just don't trust us.")[0] < 0
    True
    >>> polarity_cues("We couldn't have done it without the IG lead.")[0] > 0
    True
    """
    rules = rules or load_polarity_rules()
    fixed_barrier, fixed_enabler, barrier, enabler, negator = _compiled(rules)
    masked = text
    score = 0.0
    cues: list[str] = []
    for pattern, sign in ((fixed_enabler, 1.5), (fixed_barrier, -1.5)):
        for m in pattern.finditer(masked):
            score += sign
            cues.append(("+" if sign > 0 else "-") + m.group(0).lower())
            masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
    for pattern, sign in ((enabler, 1.0), (barrier, -1.0)):
        for m in pattern.finditer(masked):
            before = masked[max(0, m.start() - 40) : m.start()]
            window = " ".join(re.findall(r"[\w'’-]+", before)[-3:])
            flipped = bool(negator.search(window)) or bool(re.search(r"n['’]t\b", window, re.IGNORECASE))
            cue = m.group(0).lower()
            # a cue that is itself a negated verb ("can't") is not flipped by its own n't
            value = -sign if flipped and not re.search(r"n['’]t$", cue) else sign
            score += value
            cues.append(("+" if value > 0 else "-") + ("not " if value != sign else "") + cue)
    return score, cues
