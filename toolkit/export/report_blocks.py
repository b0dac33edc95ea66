"""The findings report's content, format-free: headings, paragraphs, lists, tables, quotes and charts.

:mod:`toolkit.export.report` builds a list of these blocks and renders it to Word or HTML;
:mod:`toolkit.export.findings` builds the framework-analysis sections from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Para:
    text: str
    note: bool = False
    """A note is set apart (a callout in HTML, italics in Word)."""
    lead: str = ""
    """Words set in bold before the text (``Brackenford:``)."""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    leads: tuple[str, ...] = ()
    """Words set in bold before each item (the theme a finding is about), or none."""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Quote:
    text: str
    reference: str
    machine_only: bool


@dataclass(frozen=True)
class SurveyChart:
    """Agree / neutral / disagree percentages of one Likert question by place (HTML only)."""

    question: str
    frame: pd.DataFrame = field(compare=False)
    """Columns: place, Disagree, Neutral, Agree (percentages), n."""
    chart_id: str = ""


Block = Heading | Para | Bullets | Table | Quote | SurveyChart
