"""Likert scales: which columns hold scale answers, and on which scale.

The scales are data (``toolkit/ingest/likert_scales.toml``). A column's scale is stored
with its question (:attr:`SurveyQuestion.scale`, lowest label first), and every answer's
value is its 1-based position on that STORED scale, never on the highest answer seen:
a 1-5 question where nobody chose 5 is still read on 1-5. Every column of one family
(agree, satisfaction...) in a file shares one scale, so their values compare.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ConfigError
from toolkit.ingest.surveys.cells import Column, Place, as_number, as_text, listing, norm_label, words
from toolkit.schema import Q_LIKERT, Q_NUMERIC

SCALES_FILE = Path(__file__).resolve().parents[1] / "likert_scales.toml"
"""The ordered Likert scales the reader recognises (data, editable by researchers)."""

NUMERIC_SIZES = (5, 7, 10)
"""Scale lengths a column answered in numbers is read on, when its wording does not say: the smallest
that holds its largest answer."""
_NUMERIC_LIKERT_HINT = re.compile(r"\b(likert|scale)\b")
# "(1-7)", "1 to 7", "1–5", "out of 7", "/7" in a question's wording: the scale it was asked on.
_DECLARED_RANGE = re.compile(r"\b1\s*(?:-|\u2013|\u2014|to)\s*(\d{1,2})\b|\bout of (\d{1,2})\b|/\s*(\d{1,2})\b")


@dataclass(frozen=True)
class Scale:
    """One ordered answer scale from ``likert_scales.toml``."""

    name: str
    family: str
    labels: tuple[str, ...]
    lookup: Mapping[str, int]
    every_point: bool = False
    min_answers: int = 0


@dataclass(frozen=True)
class ScaleBook:
    """Every scale, the off-scale answers and each family's hint words."""

    scales: tuple[Scale, ...]
    off_scale: frozenset[str]
    hints: Mapping[str, re.Pattern[str]]
    spellings: Mapping[str, frozenset[str]]
    """Every spelling of every point of a family's scales."""

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.spellings)

    def scales_of(self, family: str) -> list[Scale]:
        return [s for s in self.scales if s.family == family]


@dataclass
class Fit:
    """How a column's answers fit one family of scales."""

    column: Column
    family: str
    mapping: dict[str, str]
    on: int
    unknown: int
    fuzzy: frozenset[str]


# --------------------------------------------------------------------------- scales as data
@functools.cache
def scale_book() -> ScaleBook:
    """The scales of :data:`SCALES_FILE`, read once."""
    return load_scales(SCALES_FILE)


def load_scales(path: Path) -> ScaleBook:
    """Read and check a Likert scales file (see ``likert_scales.toml``).

    Examples
    --------
    >>> book = load_scales(SCALES_FILE)
    >>> next(s for s in book.scales if s.name == "agree-5").lookup["neutral"]
    3
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the Likert scales ({exc}).") from None
    families = data.get("families", {})
    hints = {
        name: re.compile(r"\b(" + "|".join(re.escape(words(h)) for h in table.get("hints", [])) + r")\b")
        if table.get("hints")
        else re.compile(r"(?!x)x")
        for name, table in families.items()
    }
    scales = []
    for index, table in enumerate(data.get("scale", []), start=1):
        name = table.get("name", f"scale {index}")
        points = table.get("points", [])
        if table.get("family") not in families or not points or not all(isinstance(p, list) and p for p in points):
            raise ConfigError(f"{path}: scale '{name}' needs a family from [families] and a list of points.")
        lookup: dict[str, int] = {}
        for position, spellings in enumerate(points, start=1):
            for spelling in spellings:
                if lookup.setdefault(norm_label(spelling), position) != position:
                    raise ConfigError(f"{path}: scale '{name}' lists '{spelling}' on two points.")
        scales.append(
            Scale(
                name=name,
                family=table["family"],
                labels=tuple(p[0] for p in points),
                lookup=lookup,
                every_point=bool(table.get("every_point", False)),
                min_answers=int(table.get("min_answers", 0)),
            )
        )
    off_scale = frozenset(norm_label(label) for label in data.get("off_scale", {}).get("labels", []))
    spellings: dict[str, frozenset[str]] = {}
    for scale in scales:
        spellings[scale.family] = spellings.get(scale.family, frozenset()) | frozenset(scale.lookup)
    return ScaleBook(tuple(scales), off_scale, hints, spellings)


# --------------------------------------------------------------------------- numeric scales
def is_numeric_likert(column: Column, numbers: list[float], book: ScaleBook) -> bool:
    """Whole numbers within 1-7 (or the range the wording declares) under wording about agreeing, likelihood..."""
    wording = words(f"{column.text} {column.key}")
    hinted = _NUMERIC_LIKERT_HINT.search(wording) or any(p.search(wording) for p in book.hints.values())
    whole = all(float(n).is_integer() for n in numbers)
    top = declared_size(column) or 7
    return bool(hinted) and whole and len(set(numbers)) >= 2 and min(numbers) >= 1 and max(numbers) <= top


def declared_size(column: Column) -> int | None:
    """The top of the 1..N range the question's wording declares ('(1-7)', '1 to 5', 'out of 10'), if any."""
    for text in (column.text, column.key, *column.headers):
        match = _DECLARED_RANGE.search(text or "")
        if match:
            size = int(next(g for g in match.groups() if g))
            if 2 <= size <= 11:
                return size
    return None


def assign_numeric_scale(column: Column) -> None:
    """A 1..N scale for numeric answers: N as the wording declares, else 5, 7 or 10 (the smallest that fits).

    The scale is stored with the question, so a 1-7 question whose answers are all 3-5
    stays a 1-7 question. When N is guessed from the answers, :attr:`Column.scale_guessed`
    says so (and the survey's warnings list it).
    """
    numbers = [as_number(v) for v in column.filled]
    top = max((int(n) for n in numbers if n is not None), default=5)
    declared = declared_size(column)
    if declared is not None and top <= declared:
        size = declared
    else:
        size = next((s for s in NUMERIC_SIZES if top <= s), top)
        column.scale_guessed = True
    column.kind = Q_LIKERT
    column.scale = tuple(str(i) for i in range(1, size + 1))
    column.points = {label: i for i, label in enumerate(column.scale, start=1)}


def share_numeric_scales(columns: list[Column]) -> None:
    """Numeric sub-columns of a matrix whose other rows are numeric Likert get the same scale."""
    scales = {c.stem: c.scale for c in columns if c.kind == Q_LIKERT and c.scale and c.scale[0] == "1"}
    for column in columns:
        scale = scales.get(column.stem)
        if column.kind != Q_NUMERIC or column.fixed or not scale:
            continue
        numbers = [as_number(v) for v in column.filled]
        if all(isinstance(n, int) and 1 <= n <= len(scale) for n in numbers):
            column.kind, column.scale = Q_LIKERT, scale
            column.points = {label: i for i, label in enumerate(scale, start=1)}
            column.scale_guessed = any(c.scale_guessed for c in columns if c.stem == column.stem and c.scale)


# --------------------------------------------------------------------------- labelled scales
def assign_likert_labels(columns: list[Column], book: ScaleBook, place: Place) -> None:
    """Find the columns whose answers are scale labels and give each family one scale."""
    fits = []
    for column in columns:
        forced = column.kind == Q_LIKERT
        if (column.kind and not forced) or not column.filled:
            continue
        if all(as_number(v) is not None for v in column.filled):
            continue  # numbers: see is_numeric_likert
        fit = best_fit(column, book, forced=forced)
        if fit is not None:
            fits.append(fit)
        elif forced:
            labels = sorted({as_text(v) for v in column.filled})
            raise place.error(
                f"surveys.likert_columns names '{column.key}', but its answers fit no known Likert scale "
                f"(answers: {listing(labels, 8)}).",
                f"Add the scale to toolkit/ingest/{SCALES_FILE.name}, or remove the column from "
                "surveys.likert_columns.",
            )
    by_family: dict[str, list[Fit]] = defaultdict(list)
    for fit in fits:
        by_family[fit.family].append(fit)
    for family, group in by_family.items():
        scales = book.scales_of(family)
        used = set().union(*(fit.mapping.values() for fit in group))
        shared = _choose_scale(scales, used, sum(fit.on for fit in group))
        for fit in group:
            scale = shared or _choose_scale(scales, set(fit.mapping.values()), fit.on) or _widest_scale(scales, fit)
            column = fit.column
            column.kind = Q_LIKERT
            column.scale = scale.labels
            column.points = {a: scale.lookup[label] for a, label in fit.mapping.items() if label in scale.lookup}
            column.fuzzy = fit.fuzzy


def best_fit(column: Column, book: ScaleBook, *, forced: bool) -> Fit | None:
    """The family of scales that a column's answers fit best, if any."""
    counts = Counter(norm_label(as_text(v)) for v in column.filled)
    wording = words(f"{column.text} {column.key}")
    fits = []
    for family in book.families:
        hinted = bool(book.hints[family].search(wording))
        fit = _fit_family(column, counts, family, book, hinted=hinted, forced=forced)
        if fit is not None:
            fits.append((hinted, fit))
    if not fits:
        return None
    pool = [fit for hinted, fit in fits if hinted] or [fit for _, fit in fits]
    return max(pool, key=lambda fit: (fit.on - len(fit.fuzzy), fit.on))


def _fit_family(
    column: Column, counts: Counter[str], family: str, book: ScaleBook, *, hinted: bool, forced: bool
) -> Fit | None:
    """Match answers to a family's labels (exactly, or a near spelling); None if they do not fit."""
    spellings = book.spellings[family]
    longest = max(len(s) for s in spellings) + 3
    mapping: dict[str, str] = {}
    fuzzy: set[str] = set()
    on = unknown = 0
    for answer, count in counts.items():
        if answer in book.off_scale:
            continue
        if answer in spellings:
            mapping[answer] = answer
            on += count
            continue
        close = difflib.get_close_matches(answer, spellings, n=1, cutoff=0.88) if 4 <= len(answer) <= longest else []
        if close:
            mapping[answer] = close[0]
            fuzzy.add(answer)
            on += count
        else:
            unknown += count
    if on == 0:
        return None
    if unknown and not forced:
        distinct_points = len(set(mapping.values()))
        if not hinted or on < unknown or distinct_points < 2:
            return None
    return Fit(column, family, mapping, on, unknown, frozenset(fuzzy))


def _choose_scale(scales: list[Scale], used: set[str], answers: int) -> Scale | None:
    """The first scale that holds every label used (strict scales need every point used)."""
    for scale in scales:
        if not used <= scale.lookup.keys():
            continue
        if scale.every_point:
            points = {scale.lookup[label] for label in used}
            if len(points) < len(scale.labels) or answers < scale.min_answers:
                continue
        return scale
    return None


def _widest_scale(scales: list[Scale], fit: Fit) -> Scale:
    """The scale holding most of a column's labels, when none holds them all."""
    return max(scales, key=lambda s: sum(1 for label in fit.mapping.values() if label in s.lookup))
