"""The checks every piece of human work passes, whichever door it comes through."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from toolkit import schema as s
from toolkit.errors import InputDataError


def check_themes(codebook, themes: Iterable[str], *, where: str, rows: Any = None) -> None:
    """Every theme must be one of the codebook's (a theme id, or a theme's name as the codebook writes it).

    A misspelt theme stops everything with the closest match named, e.g.
    ``theme 'trust_relatinships' is not in the codebook. Did you mean 'trust_relationships'?``.
    """
    known = [t.id for t in codebook.themes]
    known += [sub.id for t in codebook.themes for sub in getattr(t, "subthemes", ())]
    unknown = [t for t in dict.fromkeys(themes) if t not in known]
    if not unknown:
        return
    first = unknown[0]
    close = difflib.get_close_matches(str(first), known, n=1, cutoff=0.6)
    if not close:  # "trust" for "trust_relationships": a theme that starts with or holds what was written
        folded = str(first).strip().casefold()
        close = [k for k in known if folded and (k.startswith(folded) or folded in k)][:1]
    hint = f"Did you mean '{close[0]}'? " if close else ""
    more = f" (and {len(unknown) - 1} other unknown theme(s): {', '.join(map(str, unknown[1:6]))})" if len(unknown) > 1 else ""
    raise InputDataError(
        where,
        f"theme '{first}' is not in the codebook{more}; nothing was stored.",
        f"{hint}Themes: {', '.join(known)}. Fix the theme, or add it to the codebook first.",
    )


def check_polarity(where: str, polarity: Any) -> None:
    """A polarity is barrier, enabler or neutral, in lower case."""
    if polarity not in s.POLARITIES:
        close = [p for p in s.POLARITIES if str(polarity).strip().casefold() == p]
        hint = f"Write it as '{close[0]}'. " if close else ""
        raise InputDataError(where, f"unknown polarity '{polarity}'; nothing was stored.",
                             f"{hint}Use one of: {', '.join(s.POLARITIES)}.")


def check_decision(where: str, decision: Any) -> None:
    if decision not in s.DECISIONS:
        raise InputDataError(where, f"unknown decision '{decision}'.", f"Use one of: {', '.join(s.DECISIONS)}.")


def check_author(where: str, author: Any, *, what: str) -> str:
    """The name of whoever made a piece of work, stripped; refused when empty."""
    name = "" if author is None else str(author).strip()
    if not name:
        raise InputDataError(where, f"{what} needs the name of the person who made it.", "Pass your name.")
    return name


def check_role(where: str, role: Any) -> None:
    if role not in s.ROLES:
        raise InputDataError(where, f"unknown role '{role}'.", f"Use one of: {', '.join(s.ROLES)}.")


def require_text(where: str, text: str | None, *, what: str) -> str:
    if not text:
        raise InputDataError(where, f"{what} needs some text.", "Write something before saving.")
    return text
