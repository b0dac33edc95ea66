"""The pseudonymisation report: what was replaced, and the residual-risk list of words to review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PseudonymisationReport:
    """What was replaced (by source and kind) and what may have been missed.

    ``residuals`` lists capitalised words left in the output that look like names:
    not sentence-initial, not on the allow list, not a known organisation or
    common word. It quotes them, so the report is personal data: read it, act on it
    (add names to ``known_names`` or words to ``allow``), and do not store it with the data.
    """

    counts: pd.DataFrame
    residuals: pd.DataFrame
    guesses: pd.DataFrame | None = None
    """What was replaced on weak evidence (the capitalised-word rule, places after a cue, named settings):
    ``source``, ``offset``, ``token``, ``kind``, ``detector``. Review it for over-redaction."""

    @classmethod
    def build(
        cls,
        counts: Mapping[tuple[str, str], int],
        residuals: Sequence[tuple[str, int, str, str]],
        guesses: Sequence[tuple[str, int, str, str, str]] = (),
    ) -> PseudonymisationReport:
        """From counts by ``(source, kind)``, residual rows ``(source, offset, token, hint)`` and
        guesses ``(source, offset, token, kind, detector)``."""
        import pandas as pd

        frame = pd.DataFrame(
            [{"source": src, "kind": kind, "n": n} for (src, kind), n in sorted(counts.items())],
            columns=["source", "kind", "n"],
        )
        return cls(
            counts=frame,
            residuals=pd.DataFrame(list(residuals), columns=["source", "offset", "token", "hint"]),
            guesses=pd.DataFrame(list(guesses), columns=["source", "offset", "token", "kind", "detector"]),
        )

    @classmethod
    def combine(cls, reports: Sequence[PseudonymisationReport]) -> PseudonymisationReport:
        """One report of several (e.g. the records of a run and the file names)."""
        import pandas as pd

        if not reports:
            return cls.build({}, [])
        counts = pd.concat([r.counts for r in reports], ignore_index=True)
        counts = counts.groupby(["source", "kind"], as_index=False)["n"].sum() if not counts.empty else counts
        guesses = [r.guesses for r in reports if r.guesses is not None]
        return cls(counts=counts, residuals=pd.concat([r.residuals for r in reports], ignore_index=True),
                   guesses=pd.concat(guesses, ignore_index=True) if guesses else None)

    def to_frame(self) -> pd.DataFrame:
        """Replacements by source and kind: columns ``source``, ``kind``, ``n``."""
        return self.counts.copy()

    def totals(self) -> dict[str, int]:
        """Replacements by kind, over every source."""
        if self.counts.empty:
            return {}
        return {str(k): int(v) for k, v in self.counts.groupby("kind")["n"].sum().items()}

    def to_markdown(self) -> str:
        """The report as Markdown: totals, a table by source, the residual-risk list."""
        lines = ["# Pseudonymisation report", ""]
        totals = self.totals()
        if totals:
            lines.append("Replaced: " + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())) + ".")
        else:
            lines.append("Nothing was replaced.")
        lines.append("")
        if not self.counts.empty:
            wide = self.counts.pivot_table(index="source", columns="kind", values="n", aggfunc="sum", fill_value=0)
            lines += _markdown_table(["source", *wide.columns], [[i, *map(int, row)] for i, row in wide.iterrows()])
            lines.append("")
        lines += ["## Residual risk", ""]
        if self.residuals.empty:
            lines.append("No capitalised words that look like names were left.")
        else:
            lines.append(
                f"{len(self.residuals)} capitalised word(s) were left that may be names. Check them; add names to "
                "`known_names` (or `deny`) and ordinary words to `allow` in study.toml, then run again."
            )
            lines.append("")
            rows = [[r.source, int(r.offset), r.token, r.hint] for r in self.residuals.itertuples()]
            lines += _markdown_table(["source", "offset", "token", "hint"], rows)
        if self.guesses is not None and not self.guesses.empty:
            lines += ["", "## Replaced on a guess", ""]
            lines.append(
                f"{len(self.guesses)} word(s) were replaced on weak evidence (a capitalised word no list knows, a "
                "place after 'in' or 'near', a named school or practice). Check them for over-redaction; add "
                "ordinary words to `allow` in study.toml (or to `domain_words` in the identifier rules)."
            )
            lines.append("")
            rows = [[r.source, int(r.offset), r.token, r.kind, r.detector] for r in self.guesses.itertuples()]
            lines += _markdown_table(["source", "offset", "token", "kind", "detector"], rows)
        return "\n".join(lines) + "\n"


def _markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out
