"""Agreement between the coders of a study: every coder's codings in long form, and two coders compared.

These read the store, so they are the one impure corner of :mod:`toolkit.agreement`; the
lead's read model (``toolkit.analysis``) will hand them frames instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit import schema as s


def agreement_codings(store) -> pd.DataFrame:
    """Every coder's codings in long form for :func:`toolkit.agreement.agreement_report`.

    Columns ``unit_id`` (segment key), ``coder``, ``theme``, ``polarity``, ``primary``.
    The machine coder saw every evidence segment (uncoded ones get a row with no
    theme); a human coder saw the segments they decided on (a rejection is a row with
    no theme; an acceptance repeats the machine's coding).
    """
    segments = store.segments_frame(evidence_only=True)[[s.SEGMENT_KEY]]
    machine = store.table(s.CODINGS)
    rows = []
    coded = set()
    for row in machine.sort_values([s.SEGMENT_KEY, s.RANK]).itertuples():
        rows.append((row.segment_key, row.coder, row.theme, row.polarity, row.rank == 1))
        coded.add(row.segment_key)
    for key in segments[s.SEGMENT_KEY]:
        if key not in coded:
            rows.append((key, s.MACHINE_CODER, None, None, True))
    from toolkit.coding.human import latest_human

    latest = latest_human(store.table(s.HUMAN_CODINGS))
    for row in latest.itertuples():
        if row.decision == "reject":
            rows.append((row.segment_key, row.coder, None, None, True))
        elif row.decision == "accept":
            own = machine[machine[s.SEGMENT_KEY] == row.segment_key].sort_values(s.RANK)
            for m in own.itertuples():
                rows.append((row.segment_key, row.coder, m.theme, m.polarity, m.rank == 1))
        else:
            rows.append((row.segment_key, row.coder, row.theme, row.polarity, True))
    return pd.DataFrame(rows, columns=[s.UNIT_ID, s.CODER, s.THEME, s.POLARITY, s.PRIMARY])


@dataclass
class CoderComparison:
    """Two coders compared on the segments both coded (see :func:`compare_coders`)."""

    coder_a: str
    coder_b: str
    field: str
    report: object
    """The :class:`toolkit.agreement.AgreementReport` (per theme, overall, confusion)."""
    primary: pd.DataFrame
    """One row per shared segment (index ``unit_id``): each coder's primary label, ``(uncoded)`` for none."""

    @property
    def disagreements(self) -> pd.DataFrame:
        """The shared segments whose primary labels differ."""
        return self.primary[self.primary[self.coder_a] != self.primary[self.coder_b]]


def compare_coders(
    store, coder_a: str | None = None, coder_b: str | None = None, *, field: str = s.THEME, ignore_uncoded: bool = False
) -> CoderComparison:
    """Agreement between two coders of a study, on the segments both coded.

    Without names, compares the machine with the human coder who decided most segments.

    Examples
    --------
    >>> comparison = compare_coders(store, "machine", "gold")  # doctest: +SKIP
    >>> comparison.report.overall["kappa"], len(comparison.disagreements)  # doctest: +SKIP
    """
    from toolkit.agreement.report import agreement_report
    from toolkit.errors import ToolkitError

    if field not in (s.THEME, s.POLARITY):
        raise ToolkitError(f"Agreement is on 'theme' or 'polarity', not '{field}'.")
    codings = agreement_codings(store)
    coders = codings[s.CODER].value_counts()
    if coder_a is None or coder_b is None:
        humans = coders.drop(s.MACHINE_CODER, errors="ignore")
        if humans.empty:
            raise ToolkitError(
                "Only the machine has coded this study, so there is nothing to compare. Review segments in the "
                "dashboard or add a coder's work with: toolkit import-codings FILE.csv --coder NAME"
            )
        coder_a, coder_b = s.MACHINE_CODER, humans.index[0]
    for coder in (coder_a, coder_b):
        if coder not in coders.index:
            raise ToolkitError(f"No codings by '{coder}'. Coders in the store: {', '.join(coders.index)}.")
    units_a = set(codings.loc[codings[s.CODER] == coder_a, s.UNIT_ID])
    units_b = set(codings.loc[codings[s.CODER] == coder_b, s.UNIT_ID])
    shared = codings[codings[s.UNIT_ID].isin(units_a & units_b)]
    report = agreement_report(shared, coder_a, coder_b, label_col=field, ignore_uncoded=ignore_uncoded)
    first = shared[shared[s.PRIMARY].astype(bool)].drop_duplicates([s.UNIT_ID, s.CODER])
    primary = (
        first.pivot(index=s.UNIT_ID, columns=s.CODER, values=field)
        .reindex(columns=[coder_a, coder_b])
        .fillna("(uncoded)")
    )
    return CoderComparison(coder_a, coder_b, field, report, primary)
