"""Does any planted identifier reach any output? Recall per kind, and where each leak was found.

For each planted set (``tests/privacy/data/planted_dev.toml``, the set detectors may be tuned on;
``planted_holdout.toml``, written first and never tuned on; ``planted_holdout2.toml``, written after
the fixes, since the first holdout's one miss was then fixed too) this:

1. builds a study holding every plant that enters through raw files
   (:func:`tests.privacy.planted.build_study`): transcripts in every format (docx, txt, Teams and
   Zoom WebVTT, SRT, ODT, text PDF), an xlsx and a csv survey (``Respondent`` ids, personal and
   metadata columns), people's names in file and folder names, the manifest's fields;
2. runs the pipeline (``toolkit -v run``), then plants researchers' notes through every door:
   ``toolkit import-codings`` (a CSV with notes, and a passage that matches nothing),
   ``toolkit import-qdpx`` (a REFI-QDA project whose passages carry notes), and the write model
   (:class:`toolkit.api.Study`: comments, matrix summaries, good-practice titles and notes,
   decision notes, a topic's name); then ``toolkit topics --force`` and ``toolkit run`` again;
3. writes every export (``toolkit -v export --format xlsx|csv|parquet|qdpx|qdc|report``, and the
   report as HTML), and runs ``toolkit status`` and ``toolkit doctor``;
4. scans every output: each column of each table of the store, the store's file bytes (free pages
   included), the embedding cache's keys (no hash of a raw sentence), the topic model folder, every
   other file under ``store/``, every command's stdout and stderr and the write model's log, every
   export file (zip members read: xlsx, docx and qdpx XML; parquet read back), and every dashboard
   page rendered with Streamlit's AppTest.

A plant leaks when one of its probes (:func:`tests.privacy.planted.probe_patterns`: a name's
distinctive words in any case, a number's digits with any separators) is found in an output.
Printed: recall per kind and per path in, and for each leak its plant id (path in and kind) and
where it was found. Planted values are printed only with ``--show`` (they are invented here, but
the habit matters: never print what a leak check finds).

Usage::

    .venv/bin/python benchmarks/privacy_leaks.py                 # the three sets
    .venv/bin/python benchmarks/privacy_leaks.py --set dev --show # the dev set, values shown
    .venv/bin/python benchmarks/privacy_leaks.py --keep /tmp/leaks # keep the studies to look at

Takes a few minutes per set (two pipeline runs with spaCy's NER, the embedder and the topic model).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.privacy.leaks import Leaks, run_set
from tests.privacy.planted import DEV, HOLDOUT, HOLDOUT2, load_planted


# =========================================================================== report
def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])


def channel_group(channel: str) -> str:
    head, _, tail = channel.partition(":")
    if head == "text":
        return f"text in {tail}"
    return {"speaker": "speaker name", "path": "file/folder name", "manifest": "manifest field",
            "survey": "survey column", "note": "note"}.get(head, head) + (f" ({tail})" if tail else "")


def report(leaks: Leaks, info: dict, *, show: bool) -> int:
    planted = leaks.planted
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_path: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for plant in planted.plants:
        leaked = plant.id in leaks.found
        by_kind[plant.kind][0] += 1
        by_kind[plant.kind][1] += leaked
        group = channel_group(plant.channel).split(" (")[0] if plant.channel.startswith("note") else \
            channel_group(plant.channel)
        by_path[group][0] += 1
        by_path[group][1] += leaked
    total = len(planted.plants)
    leaked = len(leaks.found)
    print(f"\n=== planted set '{planted.name}': {total} plants, {leaked} leaked, "
          f"recall {(total - leaked) / total:.1%} (a plant counts as caught only if it reached no output)")
    print(f"outputs scanned: {len(set(leaks.scanned))} (store columns, store files, topic model, logs, exports, "
          f"dashboard pages); run {info['timings']['run']:.0f} s, dashboard {info['timings']['dashboard']:.0f} s")
    rows = [(k, n, n - bad, bad, f"{(n - bad) / n:.0%}") for k, (n, bad) in sorted(by_kind.items())]
    print("\nBy kind:\n" + table(rows, ("kind", "planted", "caught", "leaked", "recall")))
    rows = [(g, n, n - bad, bad, f"{(n - bad) / n:.0%}") for g, (n, bad) in sorted(by_path.items())]
    print("\nBy path in:\n" + table(rows, ("path in", "planted", "caught", "leaked", "recall")))
    if leaks.found:
        print("\nLeaks (plant, kind, where found):")
        for plant in planted.plants:
            where = sorted(leaks.found.get(plant.id, ()))
            if not where:
                continue
            shown = f" {plant.value!r}" if show else ""
            more = f" (+{len(where) - 6} more)" if len(where) > 6 else ""
            print(f"  {plant.id:<24} {plant.kind:<14}{shown} -> {', '.join(where[:6])}{more}")
    by_location: dict[str, int] = defaultdict(int)
    for where in leaks.found.values():
        for location in {w.split(":")[0] + ":" + w.split(":")[1].split(".")[0] if ":" in w else w for w in where}:
            by_location[location] += 1
    if by_location:
        rows = sorted(by_location.items(), key=lambda kv: (-kv[1], kv[0]))
        print("\nLeaks by output:\n" + table(rows, ("output", "plants")))
    for problem in info["dashboard_problems"]:
        print(f"dashboard page failed: {problem}")
    doctor = "no privacy warnings" if info["doctor"] == 0 else f"WARNINGS (exit {info['doctor']})"
    print(f"\ntoolkit doctor: {doctor}; "
          f"files or folders others can read: {', '.join(info['loose']) or 'none'}")
    return leaked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("dev", "holdout", "holdout2", "all"), default="all")
    parser.add_argument("--show", action="store_true", help="print the planted values of leaks (invented data)")
    parser.add_argument("--keep", type=Path, help="build the studies here and keep them")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sets = {"dev": [DEV], "holdout": [HOLDOUT], "holdout2": [HOLDOUT2], "all": [DEV, HOLDOUT, HOLDOUT2]}[args.set]
    total = 0
    for path in sets:
        planted = load_planted(path)
        base = args.keep or Path(tempfile.mkdtemp(prefix="privacy-leaks-"))
        work = base / planted.name
        if work.exists():
            raise SystemExit(f"{work} exists: remove it or choose another --keep folder.")
        work.mkdir(parents=True)
        leaks, info = run_set(planted, work)
        total += report(leaks, info, show=args.show)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\nTotal leaks: {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
