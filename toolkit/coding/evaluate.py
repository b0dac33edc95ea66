"""Scoring machine codings against a gold standard."""

from __future__ import annotations

import pandas as pd

from toolkit import schema as s

NO_THEME = "none"


def evaluate_coder(gold: pd.DataFrame, coded: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Score machine codings against a gold standard.

    ``gold`` has ``theme`` (a theme id or ``none``) and ``polarity``; ``coded`` is the
    output of :func:`code_texts` on the same rows. Returns precision/recall/F1 tables:
    ``theme`` (every row, uncoded = ``none``) and ``polarity`` (rows the gold codes
    with a theme).
    """
    from toolkit.agreement.report import classification_report_frame

    gold_theme = gold[s.THEME].fillna(NO_THEME).astype(str).str.strip().replace("", NO_THEME)
    predicted_theme = coded[s.THEME].fillna(NO_THEME).astype(str)
    themed = (gold_theme != NO_THEME).to_numpy()
    gold_polarity = gold[s.POLARITY].fillna(s.NEUTRAL).astype(str).str.strip()[themed]
    predicted_polarity = coded[s.POLARITY].fillna(s.NEUTRAL).astype(str)[themed]
    return {
        "theme": classification_report_frame(gold_theme.tolist(), predicted_theme.tolist()),
        "polarity": classification_report_frame(
            gold_polarity.tolist(), predicted_polarity.tolist(), labels=list(s.POLARITIES)
        ),
    }
