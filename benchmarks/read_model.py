"""How long the read model takes on a built study, and what it counts (figures printed, nothing asserted).

    python benchmarks/read_model.py STUDY [--repeat 3]

STUDY is a study folder whose store is built (``toolkit run STUDY``). Timed, each from a fresh
:class:`toolkit.api.Study` (cold) and again on the same one (warm, memoised until the store changes):
``segments()``, ``codings()``, ``framework_matrix(rows=...)`` for every row dimension,
``likert_percentages()``, ``topic_distribution()``, ``status()``, and the export snapshot with the
workbook and the report built from it. Then the numbers every front door shows: the study's size
(people counted, interviewees apart from survey respondents) and the Likert questions whose
percentages depend on the stored scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _time(call, repeat: int) -> tuple[float, float]:
    """(cold, warm median) seconds: the first call on a fresh study, then ``repeat`` calls on the same one."""
    from toolkit.api import open_study

    study = open_study(ARGS.study)
    start = time.perf_counter()
    call(study)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        call(study)
        warm.append(time.perf_counter() - start)
    study.store.close()
    return cold, statistics.median(warm)


def _exports(study) -> None:
    from toolkit.export.data import load_export_data
    from toolkit.export.report import build_report
    from toolkit.export.tables import write_workbook

    data = load_export_data(study.config, study.store)
    with tempfile.TemporaryDirectory() as tmp:
        write_workbook(data, Path(tmp) / "study.xlsx")
    build_report(data)


def main() -> int:
    from toolkit import api
    from toolkit.analysis.columns import N_ANSWERS, SCALE_POINTS

    reads = {
        "segments()": lambda st: st.segments(),
        "codings()": lambda st: st.codings(),
        **{f"framework_matrix(rows={r!r})": (lambda st, r=r: st.framework_matrix(rows=r)) for r in api.ROW_DIMENSIONS},
        "likert_percentages()": lambda st: st.likert_percentages(),
        "topic_distribution()": lambda st: st.topic_distribution(),
        "status()": lambda st: st.status(),
        "export snapshot + workbook + report": _exports,
    }
    print(f"{'read':<46}{'cold s':>9}{'warm s':>9}")
    for name, call in reads.items():
        cold, warm = _time(call, ARGS.repeat)
        print(f"{name:<46}{cold:>9.3f}{warm:>9.3f}")

    study = api.open_study(ARGS.study)
    corpus = study.corpus()
    print(f"\n{len(corpus.places)} places; {corpus.interviews} interviews ({corpus.interviewees} interviewees); "
          f"{corpus.surveys} surveys ({corpus.survey_respondents} respondents); {corpus.evidence_segments} evidence "
          f"segments, {corpus.coded_segments} coded, {corpus.reviewed_segments} reviewed; {corpus.codings} codings.")
    pct = study.likert_percentages()
    if not pct.empty:
        print(f"Likert: {pct['question_text'].nunique()} questions x places = {len(pct)} rows; "
              f"scale points stored: {sorted(set(pct[SCALE_POINTS].dropna().astype(int)))}; "
              f"rows with answers on the scale: {int((pct[N_ANSWERS] > 0).sum())}.")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    ARGS = parser.parse_args()
    raise SystemExit(main())
