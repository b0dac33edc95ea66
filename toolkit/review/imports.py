"""Codings made elsewhere, as passages for :func:`toolkit.review.import_codings` (pure: frames in, frames out).

Two readers end here: a CSV of codings (``segment_key`` or ``text``, optionally ``file``,
``theme``, ``polarity``, ``decision``, ``note``, ``good_practice``, ``coder``) and a REFI-QDA
project (:func:`toolkit.exchange.refi.read_qdpx`). Both become one frame: each row a coded
passage with the keys of every segment it covers (:func:`toolkit.review.passages.place_passages`).
A project's codes become themes when they are ours (``<theme> - <polarity>``), or when their
name is a theme of the codebook (its id or its name, any case; a polarity code under a theme
gives the polarity). Other codes are counted and reported, never stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pandas as pd

from toolkit import schema as s
from toolkit.review.passages import PASSAGE_KEYS, place_passages


def csv_passages(frame: pd.DataFrame, segments: pd.DataFrame, sources: pd.DataFrame, *,
                 redact: Callable[[str], str] | None = None,
                 source_of: Callable[[str], int | None] | None = None) -> pd.DataFrame:
    """A CSV of codings as passages: its rows, numbered as in the file, with the segments each covers."""
    out = frame.copy()
    out["row"] = range(2, len(out) + 2)  # the header is row 1
    out["excerpt"] = out[s.TEXT] if s.TEXT in out else out.get(s.SEGMENT_KEY)
    out[PASSAGE_KEYS] = place_passages(out, segments, sources, redact=redact, source_of=source_of)
    return out


def project_passages(project, segments: pd.DataFrame, sources: pd.DataFrame, *, codebook,
                     redact: Callable[[str], str] | None = None,
                     source_of: Callable[[str], int | None] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """A REFI-QDA project's codings as passages, and the codes that are not in the codebook (with counts).

    Each passage covers every segment its text spans (a paragraph coded in NVivo reaches each
    sentence in it); when its text cannot be found (the project's text differs), the matcher of
    :mod:`toolkit.exchange.refi.match` places it by offsets on the one segment it overlaps most.
    """
    from toolkit.exchange.refi import codings_from_project
    from toolkit.exchange.refi.common import is_good_practice

    with_text = segments.merge(sources[[s.SOURCE_ID, s.TEXT]].rename(columns={s.TEXT: "source_text"}),
                               on=s.SOURCE_ID, how="left") if not segments.empty else segments
    matched = codings_from_project(project, with_text)
    if matched.empty:
        return pd.DataFrame(columns=[s.THEME, s.POLARITY, PASSAGE_KEYS]), {}
    themes, polarities, foreign = _themes_of(matched, codebook)
    rows = matched.assign(**{s.THEME: themes, s.POLARITY: polarities})
    skipped = Counter(name for name, is_foreign in zip(rows["code"], foreign) if is_foreign and
                      not is_good_practice(name))
    rows = rows[~foreign.to_numpy()].copy()
    passages = pd.DataFrame({s.TEXT: rows["passage"].values, "file": rows[s.PATH].values}, index=rows.index)
    placed = place_passages(passages, segments, sources, redact=redact, source_of=source_of)
    exact = rows["match"].eq("exact") & rows[s.SEGMENT_KEY].map(lambda k: isinstance(k, str))
    # a selection whose offsets are exactly one segment's is that segment (a sentence said twice is told
    # apart by where it is); otherwise the passage's text decides, and it may cover several segments
    rows[PASSAGE_KEYS] = [[key] if is_exact else (keys if keys else ([key] if isinstance(key, str) else []))
                          for keys, key, is_exact in zip(placed, rows[s.SEGMENT_KEY], exact)]
    rows["excerpt"] = rows["passage"]
    rows["row"] = None
    return rows.reset_index(drop=True), dict(skipped)


def _themes_of(matched: pd.DataFrame, codebook) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Theme and polarity of each matched coding, and whether its code is foreign to the codebook."""
    by_name: dict[str, str] = {}
    for theme in codebook.themes:
        by_name[theme.id.casefold()] = theme.id
        by_name[str(theme.name).casefold()] = theme.id
    themes, polarities, foreign = [], [], []
    for theme, polarity, code, parent in zip(matched[s.THEME], matched[s.POLARITY], matched["code"],
                                            matched["parent_code"]):
        if isinstance(theme, str) and theme:  # one of our codes: kept as written, so a misspelling is refused
            themes.append(theme), polarities.append(polarity if isinstance(polarity, str) else None)
            foreign.append(False)
            continue
        name = str(code).strip().casefold() if isinstance(code, str) else ""
        parent_name = str(parent).strip().casefold() if isinstance(parent, str) else ""
        if name in by_name:
            themes.append(by_name[name]), polarities.append(None), foreign.append(False)
        elif name in s.POLARITIES and parent_name in by_name:
            themes.append(by_name[parent_name]), polarities.append(name), foreign.append(False)
        else:
            themes.append(None), polarities.append(None), foreign.append(True)
    index = matched.index
    return pd.Series(themes, index=index), pd.Series(polarities, index=index), pd.Series(foreign, index=index)
