"""What hostile and huge input files cost the ingest readers, with and without the limits.

    python benchmarks/ingest_hostile.py [--no-control] [--quick]

Each file is built at run time (tests/ingest/hostile.py) in a temporary folder, then read
in a fresh interpreter; the figures are the peak resident memory the read added (peak RSS
less the RSS once the readers' libraries are imported) and the time of the read.

The control rows ("limits: no") read the same kind of file with limits of 10**15, the cost
before the limits existed. Reading a whole 1.1 GB bomb that way takes about an hour of CPU,
so the controls use bombs of 1/``--control-scale`` the size (1/10 by default: 110 MB
unpacked, still 1,000 times the sample study's surveys); multiply their figures back up.
Each control is capped at ``--cap-mb`` of address space (6,000 MB) and shown as MemoryError
past it. ``--no-control`` skips them.

Also measured: a survey of N real rows (200,000 by default; 20,000 with ``--quick``) and
single-line text files of growing size, which show that reading stays linear.

Figures are printed as a table. Nothing is asserted (the tests pin memory bounds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ingest import hostile

MB = hostile.MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-control", action="store_true", help="skip the reads without limits")
    parser.add_argument("--quick", action="store_true", help="smaller legitimate files")
    parser.add_argument("--cap-mb", type=int, default=6000, help="address-space cap of a read without limits (MB)")
    parser.add_argument("--control-scale", type=int, default=10, help="controls read bombs of 1/N the size")
    args = parser.parse_args()
    rows = 20_000 if args.quick else 200_000
    folder = Path(tempfile.mkdtemp(prefix="ingest_hostile_"))
    cases = [
        ("xlsx bomb, 1.1 GB unpacked", hostile.xlsx_bomb(folder / "bomb.xlsx"), "read_survey(path{})"),
        (
            "xlsx, sizes that lie (2 kB declared, 1.1 GB real)",
            hostile.lying_zip(folder / "lying.xlsx"),
            "read_survey(path{})",
        ),
        ("xlsx, 60,009 entries", hostile.many_entries_zip(folder / "many.xlsx"), "read_survey(path{})"),
        ("xlsx, 5 kB claiming A1:XFD1048576", hostile.xlsx_far_cell(folder / "far.xlsx"), "read_survey(path{})"),
        ("docx bomb, 1.1 GB unpacked", hostile.docx_bomb(folder / "bomb.docx"), "read_transcript(path{})"),
        (
            "docx billion laughs",
            hostile.docx_with_dtd(folder / "lol.docx", hostile.BILLION_LAUGHS, "&i;"),
            "read_transcript(path{})",
        ),
        ("txt, 50 MB on one line", hostile.one_line_text(folder / "one50.txt", 50 * MB), "read_transcript(path{})"),
        ("txt, 9 MB on one line", hostile.one_line_text(folder / "one9.txt", 9 * MB), "read_transcript(path{})"),
        (f"xlsx, {rows:,} real rows", hostile.xlsx_rows(folder / "rows.xlsx", rows), "read_survey(path{})"),
    ]
    legitimate = {"one9.txt", "rows.xlsx"}  # read the same with or without limits: no control
    small = (1_100 // args.control_scale) * MB
    controls = {
        "bomb.xlsx": hostile.xlsx_bomb(folder / "control_bomb.xlsx", unpacked=small),
        "lying.xlsx": hostile.lying_zip(folder / "control_lying.xlsx", real=small),
        "bomb.docx": hostile.docx_bomb(folder / "control_bomb.docx", unpacked=small),
    }
    print(f"{'file':52} {'size':>9}  {'limits':>6}  {'memory':>9}  {'time':>8}  outcome")
    for label, original, call in cases:
        for mode, extra in (("yes", ""), ("no", ", limits=" + hostile.UNLIMITED)):
            if mode == "no" and (args.no_control or original.name in legitimate):
                continue
            path = controls.get(original.name, original) if mode == "no" else original
            size = path.stat().st_size
            if path is not original:
                label = f"  same, {small // MB:,} MB unpacked"
            try:
                cap = None if mode == "yes" else args.cap_mb
                result = hostile.measure(call.format(extra), path, timeout=1800, max_memory_mb=cap)
            except Exception as exc:  # noqa: BLE001 - a control read may be killed or time out
                print(f"{label:52} {size / MB:7.2f}MB  {mode:>6}  {'-':>9}  {'-':>8}  {type(exc).__name__}")
                continue
            error = result["error"]
            if error is None:
                outcome = "read"
            elif error.startswith("InputDataError"):
                outcome = "refused: " + error.split(": ", 2)[-1][:70]
            else:
                outcome = "failed: " + error[:70]
            print(
                f"{label:52} {size / MB:7.2f}MB  {mode:>6}  {result['grown_mb']:7.1f}MB  {result['seconds']:7.2f}s  "
                f"{outcome}"
            )
    print(f"\n(baseline RSS of the interpreter with the readers imported: {result['baseline_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
