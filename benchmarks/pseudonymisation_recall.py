"""How much does the pseudonymiser catch? Recall by kind, and false positives on decoys.

Three checks, each printed to the terminal only (the missed strings are fictional here,
but in a real study they would be personal data: never write them to a log or file):

1. ``tests/data/planted_identifiers.csv``: short interview sentences with planted
   identifiers (``kind``, ``value``) and decoys (``kind == "decoy"``) that must stay:
   interview dates, organisation names, 10-digit numbers failing the NHS check,
   "Caldicott Guardian".
2. ``pii_horror_transcript.txt`` from the shared real-world files (when present): what
   was caught and what was missed, by kind.
3. The sample study (``interviews/<Place>/``) against its planted-PII lists
   ``tests/data/sample_pii/*.csv`` (``file,kind,value``), when both exist.

Usage::

    .venv/bin/python benchmarks/pseudonymisation_recall.py            # trained spaCy pipeline
    .venv/bin/python benchmarks/pseudonymisation_recall.py --blank    # no NER (patterns and lists only)
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import REALFILES, SAMPLE_STUDY
from toolkit.pseudonymise import (
    Document,
    Pseudonymiser,
    documents_from_survey,
    documents_from_transcript,
)
from toolkit.schema import Survey, Transcript

PLANTED = REPO / "tests" / "data" / "planted_identifiers.csv"
SAMPLE_ORGANISATIONS = (
    "Brackenford", "Fernmouth", "Hollowmere", "Brackenford Metropolitan Borough Council", "Fernmouth County Council",
    "Hollowmere City Council",
)
SAMPLE_PII = REPO / "tests" / "data" / "sample_pii"

# What a careful reader would remove from pii_horror_transcript.txt, by the kinds the toolkit
# covers ("in scope") and the kinds it does not try to find ("out of scope": bank details,
# IP addresses, car registrations, staff numbers, usernames, special-category facts).
HORROR_IN_SCOPE = {
    "person": [
        "Sarah Thornton", "Sarah", "Rebecca Cheung", "Grace", "Will", "Hope", "Bazza", "Barry Willoughby", "Deano",
        "Dean Marsden", "Priyanka Venkataraman", "Xiaoming", "Kwame Asante-Mensah", "Fatimah bint Khalid",
        "Dave Robson", "Dave", "Kapoor", "Karen O'Brien-Kingsley", "Karen", "Ahmed Rasheed", "Ahmed", "Mary-Kate",
        "Jonh", "John Cheung", "John", "Rachael", "Rachel", "Trace", "Tracy Willoughby",
    ],
    "email": [
        "s.thornton@hartwellbs.co.uk", "p.venkataraman@hartwellbs.co.uk", "dave.robson@hartwellbs.co.uk",
        "d.robson@mailbox.org", "john dot smith at company dot co dot uk",
    ],
    "phone": ["+44 7700 369258", "oh seven seven double-oh three six nine two five eight"],
    "nhs_number": ["943 476 5919"],
    "ni_number": ["AB 12 34 56 C"],
    "postcode": ["GU2 4AB"],
    "date_of_birth": ["14th of March 1987"],
    "address": ["14 Rosemary Lane", "Brimley Street", "Elm Road", "Park Road"],
    "url": [
        "linkedin.com/in/sarah-thornton-92", "https://staging.hartwell-digital.co.uk/a11y-dashboard",
        "@sarahthornton92", "@sarah.t.a11y",
    ],
}
HORROR_OUT_OF_SCOPE = {
    "username / file name": [
        "bwilloughby", "sthornton", "sarah_thornton_feedback.docx", "sarah_thornton_interview.mp4",
    ],
    "staff or badge number": ["EMP-4582"],
    "IP address": ["192.168.1.42"],
    "payment card": ["4532 0123 4567 8901"],
    "IBAN": ["GB29 NWBK 6016 1331 9268 19"],
    "sort code / account": ["60-16-13", "31926819"],
    "vehicle registration": ["KV68 NPR"],
    "password": ["password123"],
    "small places (quasi-identifiers)": ["Fetcham", "Ashtead", "St Wilfred's"],
}


def gone(value: str, text: str) -> bool:
    """Whether ``value`` no longer stands in ``text`` as a whole word or string."""
    pattern = rf"(?<![\w@.]){re.escape(value)}(?![\w@])"
    return re.search(pattern, text) is None


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])


def make(args: argparse.Namespace, **kwargs) -> Pseudonymiser:
    if args.blank:
        import spacy

        kwargs["nlp"] = spacy.blank("en")
    return Pseudonymiser(**kwargs)


# --------------------------------------------------------------------------- 1. planted sentences
def planted(args: argparse.Namespace) -> dict:
    rows = list(csv.DictReader(PLANTED.open(encoding="utf-8")))
    sentences: dict[str, str] = {}
    for row in rows:
        sentences[row["sentence_id"]] = row["sentence"]
    docs = [Document(f"planted/{sid}", text) for sid, text in sentences.items()]
    started = time.perf_counter()
    # the sentences come from the sample study: its places and councils are listed, as study.toml lists them
    pseudo = make(args, organisations=SAMPLE_ORGANISATIONS).fit(docs)
    fitted = time.perf_counter() - started
    outputs = {sid: pseudo.transform(text) for sid, text in sentences.items()}

    by_kind: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # planted, caught, as this kind
    missed: list[tuple[str, str, str]] = []
    decoys: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    decoy_hits = []
    planted_spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        sid, kind, value, split = row["sentence_id"], row["kind"], row["value"], row.get("split", "dev")
        out = outputs[sid]
        start = sentences[sid].find(value)
        planted_spans[sid].append((start, start + len(value)))
        if kind == "decoy":
            decoys[split][0] += 1
            if gone(value, out.text):
                decoys[split][1] += 1
                decoy_hits.append((sid, value, out.text))
            continue
        stats = by_kind[(split, kind)]
        stats[0] += 1
        if gone(value, out.text):
            stats[1] += 1
            kinds = {r.kind for r in out.replacements if r.start < start + len(value) and start < r.end}
            stats[2] += kind in kinds
        else:
            missed.append((sid, kind, value))
    extra = []
    for sid, out in outputs.items():
        for r in out.replacements:
            if not any(a < r.end and r.start < b for a, b in planted_spans[sid]):
                extra.append((sid, r.kind, r.original))

    n_ids = sum(s[0] for s in by_kind.values())
    print(f"\n== Planted identifiers: {len(sentences)} sentences, {n_ids} identifiers, "
          f"{sum(d[0] for d in decoys.values())} decoys (fit {fitted:.1f} s)")
    splits = sorted({split for split, _ in by_kind}, key=lambda s: (s != "dev", s))
    for split in [*splits, "all"]:
        chosen = {k: v for k, v in by_kind.items() if split in ("all", k[0])}
        merged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for (_, kind), v in chosen.items():
            merged[kind] = [a + b for a, b in zip(merged[kind], v)]
        total = [sum(s[i] for s in merged.values()) for i in range(3)]
        lines = [(k, n, c, f"{c / n:.0%}", f"{a / n:.0%}") for k, (n, c, a) in sorted(merged.items())]
        lines.append(("ALL", total[0], total[1], f"{total[1] / total[0]:.0%}", f"{total[2] / total[0]:.0%}"))
        note = {"dev": " (written while the detectors were built)",
                "holdout": " (written afterwards; the detectors were not tuned on it)"}.get(split, "")
        print(f"\n-- {split}{note}")
        print(table(lines, ("kind", "planted", "caught", "recall", "as this kind")))
        d = [sum(v[i] for s, v in decoys.items() if split in ("all", s)) for i in range(2)]
        print(f"Decoys replaced (false positives): {d[1]} of {d[0]}")
    for sid, value, text in decoy_hits:
        print(f"  {sid}: {value!r} was replaced -> {text}")
    print(f"Replacements of unplanted text: {len(extra)}")
    for sid, kind, original in extra:
        print(f"  {sid}: {kind} {original!r}")
    if missed:
        print("Missed:")
        for sid, kind, value in missed:
            print(f"  {sid} {kind:<14} {value!r}")
    return {"missed": missed, "decoy_hits": decoy_hits}


# --------------------------------------------------------------------------- 2. pii_horror
def horror(args: argparse.Namespace) -> None:
    path = REALFILES / "txt" / "pii_horror_transcript.txt"
    if not path.exists():
        print(f"\n== pii_horror_transcript.txt: not available at {path}; skipped")
        return
    text = path.read_text(encoding="utf-8")
    pseudo = make(args).fit([Document(path.name, text, speakers=("m1", "p1"), interviewers=("m1",))])
    out = pseudo.transform(text).text
    print("\n== pii_horror_transcript.txt")
    rows = []
    all_missed = []
    for kind, values in HORROR_IN_SCOPE.items():
        missed = [v for v in values if not gone(v, out)]
        rows.append((kind, len(values), len(values) - len(missed)))
        all_missed += [(kind, v) for v in missed]
    total = (sum(r[1] for r in rows), sum(r[2] for r in rows))
    print(table([*rows, ("ALL in scope", *total)], ("kind", "present", "caught")))
    print("Missed (in scope):")
    for kind, value in all_missed:
        print(f"  {kind:<14} {value!r}")
    print("Out of scope (not looked for as such):")
    for what, values in HORROR_OUT_OF_SCOPE.items():
        left = [v for v in values if not gone(v, out)]
        state = "still there: " + ", ".join(map(repr, left)) if left else "gone (caught by another detector)"
        print(f"  {what:<32} {state}")
    print(f"Replacements by kind: {pseudo.report().totals()}")
    print(f"Residual-risk words flagged for review: {', '.join(sorted(set(pseudo.report().residuals['token'])))}")


# --------------------------------------------------------------------------- 3. sample study
def read_roughly(path: Path) -> str:
    """Plain text of a transcript without the toolkit's readers (cue timings dropped)."""
    if path.suffix == ".docx":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix in (".vtt", ".srt"):
        keep = []
        for line in text.splitlines():
            if "-->" in line or line.strip().isdigit() or line.strip() == "WEBVTT":
                continue
            keep.append(re.sub(r"</?v[^>]*>", "", line))
        text = "\n".join(keep)
    return text


def sample_study(args: argparse.Namespace) -> None:
    lists = sorted(SAMPLE_PII.glob("*.csv")) if SAMPLE_PII.is_dir() else []
    if not lists or not SAMPLE_STUDY.is_dir():
        print("\n== Sample study: no planted-PII lists or no interviews/ folder; skipped")
        return
    planted_rows = [row for p in lists for row in csv.DictReader(p.open(encoding="utf-8"))]
    files = sorted({row["file"] for row in planted_rows})
    try:
        from toolkit.config import load_config
        from toolkit.ingest import read_file
        from toolkit.ingest.manifest import lookup, read_manifest

        config = load_config(SAMPLE_STUDY)
        manifest = read_manifest(config.resolve(config.manifest)) if config.resolve(config.manifest).exists() else {}
        reader = "toolkit.ingest"
    except Exception as exc:  # ingestion is written by others; fall back to plain reading
        config, manifest, read_file, lookup = None, {}, None, None
        reader = f"plain text (toolkit.ingest unavailable: {type(exc).__name__})"

    docs, records = [], {}
    for rel in files:
        path = SAMPLE_STUDY / rel
        if not path.exists():
            continue
        meta = lookup(manifest, rel) if lookup else None
        record = None
        if read_file is not None:
            try:
                record = read_file(path, config, interviewers=meta.interviewers if meta else ())
            except Exception as exc:  # noqa: BLE001 - report and fall back
                print(f"  {rel}: toolkit reader failed ({type(exc).__name__}); reading roughly")
        if record is None and path.suffix in (".txt", ".vtt", ".srt", ".docx"):
            record = read_roughly(path)
        if record is None:
            continue
        records[rel] = record
        if isinstance(record, Transcript):
            pid = {}
            if meta and meta.participant_id:
                from toolkit.pseudonymise.records import participant_ids as _participant_ids

                pid = _participant_ids(record, meta.participant_id)
            docs.append(documents_from_transcript(record, source=rel, interviewers=meta.interviewers if meta else (),
                                                  participant_ids=pid))
        elif isinstance(record, Survey):
            docs += documents_from_survey(record, source=rel)
        else:
            docs.append(Document(rel, record))
    kwargs = {}
    if config is not None:
        options = config.pseudonymisation
        kwargs = dict(allow=options.allow, organisations=options.organisations, deny=options.deny,
                      known_names=(*options.known_names, *config.ingest.interviewers))
    started = time.perf_counter()
    pseudo = make(args, **kwargs).fit(docs)
    fitted = time.perf_counter() - started
    outputs: dict[str, str] = {}
    for rel, record in records.items():
        if isinstance(record, Transcript):
            outputs[rel] = pseudo.transform_transcript(record, source=rel).text
        elif isinstance(record, Survey):
            out = pseudo.transform_survey(record, respondent_prefix="R", source=rel)
            parts = [str(t) for t in out.texts.get("text", [])]
            parts += [str(v) for a in out.respondents.get("attributes", []) if isinstance(a, dict) for v in a.values()]
            parts += [str(t) for t in out.personal.get("text", [])]
            parts += [str(k) for k in out.respondents.get("respondent_key", [])]
            outputs[rel] = "\n".join(parts)
        else:
            outputs[rel] = pseudo.transform(record, source=rel).text

    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed = []
    for row in planted_rows:
        rel, kind, value = row["file"], row["kind"], row["value"]
        if rel not in outputs:
            continue
        by_kind[kind][0] += 1
        if gone(value, outputs[rel]):
            by_kind[kind][1] += 1
        else:
            missed.append((rel, kind, value))
    print(f"\n== Sample study: {len(outputs)} files read with {reader} (fit {fitted:.1f} s)")
    rows = [(k, n, c, f"{c / n:.0%}") for k, (n, c) in sorted(by_kind.items())]
    total = (sum(v[0] for v in by_kind.values()), sum(v[1] for v in by_kind.values()))
    rows.append(("ALL", *total, f"{total[1] / max(total[0], 1):.0%}"))
    print(table(rows, ("kind", "planted", "caught", "recall")))
    if missed:
        print("Missed:")
        for rel, kind, value in missed:
            print(f"  {rel:<48} {kind:<14} {value!r}")
    residuals = pseudo.report().residuals
    print(f"Residual-risk words flagged for review: {len(residuals)} "
          f"({', '.join(sorted(set(residuals['token'])))})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blank", action="store_true", help="use spacy.blank('en'): no NER, patterns and lists only")
    args = parser.parse_args(argv)
    planted(args)
    horror(args)
    sample_study(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
