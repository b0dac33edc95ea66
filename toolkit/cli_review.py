"""The review loop's commands: ``toolkit review-queue``, ``toolkit qa-sample``, ``toolkit validation``.

Front doors only: they call :mod:`toolkit.review` (writes) and :mod:`toolkit.analysis.validation`
(figures) through :class:`toolkit.api.Study`. The queue is printed as references and reasons; a
passage's text is shown only with ``--text`` (it is the researcher's own screen, never a log).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_review_commands(sub) -> None:
    """Add the review loop's subcommands to the ``toolkit`` parser."""
    p = sub.add_parser("review-queue", help="the segments to review next (the coder is least sure of them)")
    p.add_argument("study", type=Path)
    p.add_argument("-n", type=int, default=20, help="how many to list (default 20)")
    p.add_argument("--theme", help="only this theme (the stored coding's or the coder's suggestion)")
    p.add_argument("--place", help="only this place")
    p.add_argument("--source", help="only this source path")
    p.add_argument("--status", default="unreviewed",
                   help="unreviewed (default), reviewed, all, machine, uncoded, accepted, recoded, rejected")
    p.add_argument("--missed", action="store_true", help="list uncoded segments that are probably codable instead")
    p.add_argument("--text", action="store_true", help="print each segment's text too")
    p.set_defaults(func=cmd_review_queue)

    p = sub.add_parser("qa-sample", help="draw a stratified QA sample to code blind (or --plan: only its size)")
    p.add_argument("study", type=Path)
    p.add_argument("--width", type=float, default=0.2, help="95%% interval width to aim for per theme (default 0.2)")
    p.add_argument("--expected", type=float, default=0.5, help="the accuracy you expect (default 0.5: cautious)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the study's seed)")
    p.add_argument("--author", help="your name (needed to draw)")
    p.add_argument("--plan", action="store_true", help="show the sample's size per stratum; draw nothing")
    p.set_defaults(func=cmd_qa_sample)

    p = sub.add_parser("validation", help="how much was reviewed, the QA sample's accuracy with intervals, agreement")
    p.add_argument("study", type=Path)
    p.set_defaults(func=cmd_validation)


def _study(path: Path):
    from toolkit.api import open_study

    return open_study(path)


def cmd_review_queue(args: argparse.Namespace) -> int:
    study = _study(args.study)
    session = study.review_session()
    if args.missed:
        frame = session.missed(k=args.n, place=args.place, source=args.source)
        columns = ["reference", "suggested_theme", "theme_confidence", "codability"]
    else:
        frame = session.queue(theme=args.theme, place=args.place, source=args.source, status=args.status,
                              k=args.n).head(args.n)
        columns = ["reference", "theme", "polarity", "suggested_theme", "suggested_polarity", "priority", "reasons"]
    if frame.empty:
        print("Nothing to review with these filters.")
        return 0
    for i, row in enumerate(frame.to_dict("records"), start=1):
        print(f"{i:>3}. {row['segment_key']}  " + "  ".join(
            f"{c}: {row[c]:.2f}" if isinstance(row.get(c), float) else f"{c}: {row.get(c)}" for c in columns))
        if args.text:
            print(f"     \u201c{row['text']}\u201d")
    print(f"(coder retrained on {session.trained_on} decision(s); record decisions in the dashboard's Review page "
          "or with Study.record_decision)")
    return 0


def cmd_qa_sample(args: argparse.Namespace) -> int:
    from toolkit.errors import InputDataError
    from toolkit.review.qa import coding_run, draw_qa_sample, plan_qa_sample

    study = _study(args.study)
    plan = plan_qa_sample(study.segments(), target_width=args.width, expected=args.expected)
    print(plan.to_string(index=False))
    print(f"total: {int(plan['size'].sum())} of {int(plan['population'].sum())} unreviewed segments")
    if args.plan:
        return 0
    if not args.author:
        raise InputDataError("qa-sample", "drawing a sample needs your name.", "Add --author NAME (or --plan).")
    seed = study.config.seed if args.seed is None else args.seed
    sample = draw_qa_sample(study.review_context(), study.segments(), target_width=args.width, expected=args.expected,
                            seed=seed, author=args.author, run_id=coding_run(study.store.runs_frame(limit=1000)))
    print(f"Drew QA sample {sample} (seed {seed}). Code it blind on the dashboard's Review page (QA sample tab).")
    return 0


def cmd_validation(args: argparse.Namespace) -> int:
    from toolkit.export.validation import readme_rows

    study = _study(args.study)
    for item, value in readme_rows(study.validation(), study.theme_names()):
        print(f"{item}: {value}")
    return 0
