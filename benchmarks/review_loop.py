"""Does the review queue teach the coder faster than reviewing in random order?  (issue 14)

A simulated researcher reviews the sample study's gold segments (``tests/data/gold/gold_segments.csv``,
placed on the study's segments the way an import places passages). After 25, 50, 100 and 200
decisions, the coder refitted on those decisions (the review session's :class:`~toolkit.review.learner.Learner`)
is scored, by macro-F1 of theme (``none`` included) and of polarity (barrier / enabler / neutral, on
segments the gold codes with a theme), on

* **not yet reviewed**: every gold segment the researcher has not reviewed yet (what the issue asks for;
  this favours the queue a little, because it takes the hardest segments out of the test set), and
* **held out**: a third of the gold segments, chosen by source file and never reviewable (the fair test:
  both orders are scored on the same segments).

Orders: the queue's (:mod:`toolkit.analysis.ranking`: priority, then spread over themes and places,
refitted after every decision) against random order; each over several seeds (the seed chooses the
held-out third and the random order). Also times a real :class:`~toolkit.review.queue.ReviewSession`
from a decision to the re-ranked queue, on a copy of the study.

    PYTHONPATH=. python benchmarks/review_loop.py --study /path/to/built/interviews [--seeds 3] [--steps 200]
    PYTHONPATH=. python benchmarks/review_loop.py --study ... --no-curves --timing 0 --report 50

``--report N`` also plays a researcher on a copy (N queue decisions, then a blind QA sample, both with
the gold labels) and prints what the findings report then states about review and accuracy.

Without ``--study`` a copy of ``interviews/`` is built first (several minutes). Prints figures; never
prints interview text. The gold set was written by the sample's own authors: figures are optimistic.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from toolkit import schema as s
from toolkit.analysis import ranking

GOLD = REPO / "tests" / "data" / "gold" / "gold_segments.csv"
CHECKPOINTS = (0, 25, 50, 100, 200)
NONE = "none"


def build_copy(folder: Path) -> Path:
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    study = folder / "interviews"
    shutil.copytree(REPO / "interviews", study, ignore=shutil.ignore_patterns("store", "private", "exports"))
    print("building a copy of the sample study (several minutes)...", flush=True)
    run_study(load_config(study))
    return study


def gold_pool(study) -> pd.DataFrame:
    """Gold labels on the study's segments: ``segment_key``, ``text``, ``theme`` (``none``), ``polarity``, ``path``."""
    from toolkit.review.context import file_finder
    from toolkit.review.imports import csv_passages

    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    segments = study.store.segments_frame(evidence_only=True)
    placed = csv_passages(gold, segments, study.store.table(s.SOURCES), redact=study.review_context().redact,
                          source_of=file_finder(study.config, study.store))
    rows = []
    for row in placed.itertuples(index=False):
        for key in row.segment_keys:
            rows.append({s.SEGMENT_KEY: key, s.THEME: row.theme or NONE,
                         s.POLARITY: row.polarity if row.theme not in ("", NONE) else None, "file": row.file})
    labels = pd.DataFrame(rows)
    conflicting = labels.groupby(s.SEGMENT_KEY)[[s.THEME, s.POLARITY]].nunique(dropna=False).max(axis=1) > 1
    labels = labels[~labels[s.SEGMENT_KEY].isin(conflicting[conflicting].index)].drop_duplicates(s.SEGMENT_KEY)
    from toolkit.review.learner import CONTEXT, coder_units

    units = coder_units(study.store).set_index(s.SEGMENT_KEY)  # each segment with its question and the sentence before
    for column in (s.TEXT, *CONTEXT):
        labels[column] = labels[s.SEGMENT_KEY].map(units[column])
    labels[s.PLACE] = labels["file"].str.split("/").str[0]
    unplaced = int(sum(1 for keys in placed.segment_keys if not keys))
    print(f"gold: {len(gold)} rows; {unplaced} placed on no segment; {int(conflicting.sum())} segments with "
          f"conflicting labels left out; pool: {len(labels)} segments")
    return labels.reset_index(drop=True)


def scores(pred: pd.DataFrame, gold: pd.DataFrame) -> tuple[float, float]:
    """Macro-F1 of theme (none included) and of polarity (gold-themed segments)."""
    if gold.empty:
        return float("nan"), float("nan")
    p = pred.set_index(s.SEGMENT_KEY).reindex(gold[s.SEGMENT_KEY])
    theme_pred = p[s.THEME].fillna(NONE).astype(str).to_numpy()
    theme_f1 = f1_score(gold[s.THEME], theme_pred, average="macro", labels=sorted(set(gold[s.THEME])), zero_division=0)
    themed = (gold[s.THEME] != NONE).to_numpy()
    pol_gold = gold.loc[themed, s.POLARITY].fillna(s.NEUTRAL).to_numpy()
    pol_pred = p[s.POLARITY].fillna(s.NEUTRAL).astype(str).to_numpy()[themed]
    pol_f1 = f1_score(pol_gold, pol_pred, average="macro", labels=sorted(set(pol_gold)), zero_division=0)
    return float(theme_f1), float(pol_f1)


def training(reviewed: pd.DataFrame) -> pd.DataFrame:
    """What the decisions teach the coder, built as the review session builds it (from human codings)."""
    from toolkit.review.learner import training_from_decisions

    if reviewed.empty:
        return training_from_decisions(pd.DataFrame(columns=[s.SEGMENT_KEY, s.CODER, s.DECISION, s.THEME,
                                                             s.POLARITY, s.TEXT, s.CREATED_AT, s.CODING_ID]))
    themed = reviewed[s.THEME] != NONE
    human = pd.DataFrame({
        s.SEGMENT_KEY: reviewed[s.SEGMENT_KEY], s.CODER: "sim", s.DECISION: np.where(themed, "recode", "reject"),
        s.THEME: reviewed[s.THEME].where(themed, None), s.POLARITY: reviewed[s.POLARITY].where(themed, None),
        s.TEXT: reviewed[s.TEXT], s.CREATED_AT: [f"{i:06d}" for i in range(len(reviewed))],
        s.CODING_ID: range(len(reviewed)),
    })
    return training_from_decisions(human)


def simulate(learner, pool: pd.DataFrame, vectors: np.ndarray, stored: pd.DataFrame, *, order: str,
             held_out: np.ndarray, seed: int, steps: int, every: int, names: dict) -> list[dict]:
    rng = np.random.default_rng(seed)
    reviewable = np.flatnonzero(~held_out)
    random_order = list(rng.permutation(reviewable))
    reviewed: list[int] = []
    curve = []
    from toolkit.review.learner import CONTEXT

    frame = pool[[s.SEGMENT_KEY, s.TEXT, *CONTEXT]]
    pred = learner.fit(training(pool.iloc[[]])).predict(frame)
    for step in range(steps + 1):
        if step in CHECKPOINTS:
            if step % every:
                pred = learner.fit(training(pool.iloc[reviewed])).predict(frame)
            open_ = np.ones(len(pool), bool)
            open_[reviewed] = False
            curve.append({"order": order, "seed": seed, "reviews": step,
                          **dict(zip(("theme_unreviewed", "polarity_unreviewed"), scores(pred, pool[open_]))),
                          **dict(zip(("theme_heldout", "polarity_heldout"), scores(pred, pool[held_out])))})
        if step == steps:
            break
        if order == "random":
            pick = random_order[step]
        else:
            scored = ranking.priority(pred, stored, theme_names=names)
            scored[s.PLACE] = pool[s.PLACE].to_numpy()
            candidates = np.array([i for i in reviewable if i not in set(reviewed)])
            sub = scored.iloc[candidates].reset_index(drop=True)
            recent = reviewed[-20:]
            groups = [(pred.iloc[i][ranking.BEST_THEME] or "(none)", pool.iloc[i][s.PLACE]) for i in recent]
            ordered = ranking.diversify(sub, vectors[candidates], recent=vectors[recent] if recent else None,
                                        recent_groups=groups, groups=(ranking.BEST_THEME, s.PLACE), k=1)
            pick = int(pool.index[pool[s.SEGMENT_KEY] == ordered.iloc[0][s.SEGMENT_KEY]][0])
        reviewed.append(pick)
        if (step + 1) % every == 0:
            pred = learner.fit(training(pool.iloc[reviewed])).predict(frame)
    return curve


def held_out_split(pool: pd.DataFrame, seed: int) -> np.ndarray:
    files = sorted(pool["file"].unique())
    rng = np.random.default_rng(1000 + seed)
    chosen = set(rng.choice(files, size=max(1, len(files) // 3), replace=False))
    return pool["file"].isin(chosen).to_numpy()


def time_session(study_path: Path, decisions: int) -> list[float]:
    """Seconds from a decision to the re-ranked queue, on a copy of the study (real store writes)."""
    from toolkit.api import open_study

    with tempfile.TemporaryDirectory(prefix="review-loop-") as tmp:
        study = open_study(study_path).copy(Path(tmp) / "copy")
        session = study.review_session()
        started = time.perf_counter()
        session.queue(k=20)
        fitted = hasattr(session.learner, "coder_")
        print(f"first queue ({'the coder fitted, every segment read' if fitted else 'from the stored codings, current'}):"
              f" {time.perf_counter() - started:.1f} s")
        if not fitted:  # what the dashboard runs in the background after the first paint
            started = time.perf_counter()
            session.prepare(background=False)
            print(f"preparing the coder for the first decision (loads spaCy, fits, reads every segment once): "
                  f"{time.perf_counter() - started:.1f} s")
        times = []
        for _ in range(decisions):
            top = session.queue(k=20).iloc[0]
            theme = top["suggested_theme"] if isinstance(top["suggested_theme"], str) else study.codebook.ids[0]
            result = session.decide([top[s.SEGMENT_KEY]], "recode", coder="benchmark", theme=theme,
                                    polarity=top["suggested_polarity"] if isinstance(top["suggested_polarity"], str)
                                    else s.BARRIER)
            times.append(result.seconds)
        return times


def report_figures(study_path: Path, pool: pd.DataFrame, *, reviews: int, qa_width: float, seed: int = 7) -> None:
    """What the findings report states after a simulated researcher's work, on a copy of the study.

    The researcher takes ``reviews`` segments from the learning queue (the first that the gold set
    labels) and decides each as the gold set says; then draws a QA sample among the gold-labelled
    segments still unreviewed (stratified by the machine's theme, sized for 95% intervals at most
    ``qa_width`` wide) and codes it blind with the gold labels. Prints the report's summary
    paragraph and its "Review and validation" section (figures only: that section quotes nobody).
    """
    from toolkit.api import open_study
    from toolkit.export.data import load_export_data
    from toolkit.export.report import Bullets, Heading, Para, Table, build_report
    from toolkit.review.qa import coding_run, draw_qa_sample, record_qa_coding

    gold = pool.set_index(s.SEGMENT_KEY)
    with tempfile.TemporaryDirectory(prefix="review-report-") as tmp:
        study = open_study(study_path).copy(Path(tmp) / "copy")
        session = study.review_session()
        started = time.perf_counter()
        for _ in range(reviews):
            queue = session.queue(k=20)
            labelled = queue[queue[s.SEGMENT_KEY].isin(gold.index)]
            if labelled.empty:
                break
            key = labelled.iloc[0][s.SEGMENT_KEY]
            theme, polarity = gold.loc[key, s.THEME], gold.loc[key, s.POLARITY]
            if theme == NONE:
                session.decide([key], "reject", coder="sim-reviewer")
            else:
                session.decide([key], "recode", coder="sim-reviewer", theme=theme,
                               polarity=polarity if isinstance(polarity, str) else s.NEUTRAL)
        print(f"\n{reviews} queue decisions in {time.perf_counter() - started:.0f} s")
        segments = study.segments()
        frame = segments[segments[s.SEGMENT_KEY].isin(gold.index)]
        sample = draw_qa_sample(study.review_context(), frame, target_width=qa_width, seed=seed, author="sim-qa",
                                run_id=coding_run(study.store.runs_frame(limit=1000)))
        items = study.store.table(s.QA_ITEMS)
        items = items[items[s.SAMPLE_ID] == sample].sort_values(s.POSITION)
        for key in items[s.SEGMENT_KEY]:
            theme, polarity = gold.loc[key, s.THEME], gold.loc[key, s.POLARITY]
            record_qa_coding(study.review_context(), sample, key, coder="sim-qa",
                             theme=None if theme == NONE else theme,
                             polarity=None if theme == NONE else (polarity if isinstance(polarity, str) else s.NEUTRAL))
        print(f"QA sample {sample}: {len(items)} gold-labelled segments coded blind with the gold labels")
        blocks = build_report(load_export_data(study.config, study.store))
        start = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "Review and validation")
        end = next((i for i, b in enumerate(blocks) if i > start and isinstance(b, Heading) and b.level <= 2),
                   len(blocks))
        headline = [b for b in blocks[:start] if isinstance(b, Para) and b.text.startswith("People reviewed")]
        print("\nThe findings report now states (summary, then methods: Review and validation):")
        for block in headline + blocks[start:end]:
            if isinstance(block, Heading):
                print(f"\n{'#' * (block.level + 1)} {block.text}")
            elif isinstance(block, Para):
                print(block.text)
            elif isinstance(block, Bullets):
                print("\n".join(f"- {item}" for item in block.items))
            elif isinstance(block, Table):
                print(f"[{block.caption}]")
                print(" | ".join(block.columns))
                print("\n".join(" | ".join(row) for row in block.rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, help="a built copy of the sample study (else one is built)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=1, help="refit after every N decisions (1: every decision)")
    parser.add_argument("--timing", type=int, default=10, help="decisions to time on a real session (0: skip)")
    parser.add_argument("--report", type=int, default=0, metavar="N",
                        help="also: N queue decisions and a blind QA sample with the gold labels, then print what the "
                             "findings report states (0: skip)")
    parser.add_argument("--qa-width", type=float, default=0.2, help="target 95%% interval width of the QA sample")
    parser.add_argument("--curves", action=argparse.BooleanOptionalAction, default=True,
                        help="simulate the learning curves (--no-curves: skip)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from toolkit.api import open_study
    from toolkit.review.learner import Learner

    with tempfile.TemporaryDirectory(prefix="review-loop-build-") as tmp:
        path = args.study or build_copy(Path(tmp))
        study = open_study(path)
        pool = gold_pool(study)
        learner = Learner.for_study(study.config, study.store, codebook=study.codebook)
        vectors = learner.vectors(pool[s.TEXT].tolist())
        stored = ranking.prediction_frame(study.store.table(s.CODINGS))
        names = study.theme_names()
        start = scores(stored, pool)
        print(f"stored machine codings on the pool: theme macro-F1 {start[0]:.3f}, polarity macro-F1 {start[1]:.3f}")
        curves = []
        for seed in range(args.seeds if args.curves else 0):
            held = held_out_split(pool, seed)
            steps = min(args.steps, int((~held).sum()))
            for order in ("queue", "random"):
                began = time.perf_counter()
                curves += simulate(learner, pool, vectors, stored, order=order, held_out=held, seed=seed, steps=steps,
                                   every=args.every, names=names)
                print(f"seed {seed} {order}: {steps} decisions simulated in {time.perf_counter() - began:.0f} s "
                      f"({int(held.sum())} held out, {int((~held).sum())} reviewable)", flush=True)
        if curves:
            report(pd.DataFrame(curves))
        if args.timing:
            times = time_session(path, args.timing)
            print(f"decision -> re-ranked queue over {len(times)} decisions: median {statistics.median(times):.2f} s, "
                  f"max {max(times):.2f} s")
        if args.report:
            report_figures(path, pool, reviews=args.report, qa_width=args.qa_width)
    return 0


def report(table: pd.DataFrame) -> None:
    metrics = ["theme_unreviewed", "polarity_unreviewed", "theme_heldout", "polarity_heldout"]
    summary = table.groupby(["order", "reviews"])[metrics].agg(["mean", "std"])
    print("\nmacro-F1 after N reviews (mean ± sd over seeds)")
    for metric in metrics:
        print(f"\n{metric}")
        print(f"{'reviews':>8} {'queue':>15} {'random':>15} {'queue - random':>15}")
        for n in sorted(table["reviews"].unique()):
            q = summary.loc[("queue", n), metric]
            r = summary.loc[("random", n), metric]
            print(f"{n:>8} {q['mean']:>8.3f} ± {q['std']:.3f} {r['mean']:>8.3f} ± {r['std']:.3f} "
                  f"{q['mean'] - r['mean']:>+15.3f}")


if __name__ == "__main__":
    sys.exit(main())
