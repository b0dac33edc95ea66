"""How much does the pseudonymiser catch? Recall by kind, and false positives on decoys.

Four checks, each printed to the terminal only (the missed strings are fictional here,
but in a real study they would be personal data: never write them to a log or file):

1. ``tests/data/planted_identifiers.csv``: short interview sentences with planted
   identifiers (``kind``, ``value``) and decoys (``kind == "decoy"``) that must stay:
   interview dates, organisation names, 10-digit numbers failing the NHS check,
   "Caldicott Guardian".
2. ``tests/pseudonymise/data/planted_real_world.csv``: identifiers written the ways people
   really write them (NHS numbers in any grouping, card numbers, IBANs, sort codes, IP
   addresses, schools, GP practices, small places, sentence-initial and lone first names,
   names in file names), with decoys (domain terms, the study's places, numbers failing their
   checksums). Its ``holdout`` rows were written together with the ``dev`` rows, before any
   detector was tuned, and were never looked at while tuning. A value counts as caught only
   when none of its distinctive words or digit groups is left (a surname left behind is a leak).
3. ``pii_horror_transcript.txt`` from the shared real-world files (when present): what
   was caught and what was missed, by kind.
4. The sample study (``interviews/<Place>/``) against its planted-PII lists
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
REAL_WORLD = REPO / "tests" / "pseudonymise" / "data" / "planted_real_world.csv"
# words of a planted value that may stay (the kind of place, a title): everything else left is a leak
GENERIC = {
    "St", "Primary", "School", "Academy", "Nursery", "Junior", "High", "Surgery", "Medical", "Centre", "Practice",
    "Health", "Pharmacy", "Flat", "Road", "Row", "Lane", "Hill", "RC", "C", "of", "E", "Mr", "Mrs", "Dr", "Little",
    "Upper", "Solicitors", "NHS", "IBAN", "Amex",
}
# planted kinds and the replacement kinds that count as "this kind"
KIND_MATCH = {"place": {"place"}, "organisation": {"organisation"}}
SAMPLE_ORGANISATIONS = (
    "Brackenford", "Fernmouth", "Hollowmere", "Brackenford Metropolitan Borough Council", "Fernmouth County Council",
    "Hollowmere City Council",
)
SAMPLE_PII = REPO / "tests" / "data" / "sample_pii"

# What a careful reader would remove from pii_horror_transcript.txt, by the kinds the toolkit
# covers ("in scope") and the kinds it does not try to find ("out of scope": staff numbers, car
# registrations, passwords, special-category facts).
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
    "username / file name": ["bwilloughby", "sthornton", "sarah_thornton_feedback.docx", "sarah_thornton_interview.mp4"],
    "ip_address": ["192.168.1.42"],
    "bank_card": ["4532 0123 4567 8901"],
    "iban": ["GB29 NWBK 6016 1331 9268 19"],
    "sort_code / account": ["60-16-13", "31926819"],
    "school / practice": ["St Wilfred's Primary", "St Wilfred's", "Riverside Surgery"],
    "employer": ["Hartwell Building Society", "Hartwell", "Lantern UX"],
    "small place": ["Fetcham", "Ashtead"],
}
HORROR_OUT_OF_SCOPE = {
    "staff or badge number": ["EMP-4582"],
    "vehicle registration": ["KV68 NPR"],
    "password": ["password123"],
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


# --------------------------------------------------------------------------- 2. written as people write
def leaked_parts(value: str, text: str) -> list[str]:
    """The distinctive words and digit groups of ``value`` still standing in ``text``."""
    parts = [t for t in re.findall(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?", value) if t not in GENERIC and len(t) >= 2]
    return [t for t in parts if re.search(rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])", text)]


def real_world(args: argparse.Namespace) -> dict:
    from toolkit.pseudonymise.apply import path_document_text

    rows = list(csv.DictReader(REAL_WORLD.open(encoding="utf-8")))
    sentences = {r["sentence_id"]: (r["where"], r["sentence"]) for r in rows}
    docs = []
    for sid, (where, text) in sentences.items():
        if where == "path":
            docs.append(Document(f"rw/{sid}#path", path_document_text(text)))
        else:
            docs.append(Document(f"rw/{sid}", text))
    pseudo = make(args, organisations=SAMPLE_ORGANISATIONS).fit(docs)
    outputs, kinds = {}, {}
    for sid, (where, text) in sentences.items():
        if where == "path":
            outputs[sid] = pseudo.transform_path(text)
            kinds[sid] = None
        else:
            out = pseudo.transform(text)
            outputs[sid] = out.text
            kinds[sid] = out
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    decoys: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed, decoy_hits = [], []
    for row in rows:
        sid, split, kind, value = row["sentence_id"], row["split"], row["kind"], row["value"]
        text = outputs[sid]
        if kind == "decoy":
            decoys[split][0] += 1
            if value not in text:
                decoys[split][1] += 1
                decoy_hits.append((sid, value))
            continue
        left = leaked_parts(value, text)
        st = stats[(split, kind)]
        st[0] += 1
        if left:
            missed.append((sid, kind, value, left))
            continue
        st[1] += 1
        out = kinds[sid]
        if out is None:
            st[2] += 1  # a path: the kind is not recorded
        else:
            start = sentences[sid][1].find(value)
            got = {r.kind for r in out.replacements if r.start < start + len(value) and start < r.end}
            st[2] += bool(got & KIND_MATCH.get(kind, {kind}))
    print(f"\n== Written as people write them: {len(sentences)} sentences and file names, "
          f"{sum(1 for r in rows if r['kind'] != 'decoy')} identifiers, {sum(d[0] for d in decoys.values())} decoys")
    for split in ("dev", "holdout", "all"):
        merged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for (sp, kind), v in stats.items():
            if split in ("all", sp):
                merged[kind] = [a + b for a, b in zip(merged[kind], v)]
        total = [sum(v[i] for v in merged.values()) for i in range(3)]
        lines = [(k, n, c, f"{c / n:.0%}", f"{a / n:.0%}") for k, (n, c, a) in sorted(merged.items())]
        lines.append(("ALL", total[0], total[1], f"{total[1] / max(total[0], 1):.0%}",
                      f"{total[2] / max(total[0], 1):.0%}"))
        note = {"dev": " (tuned on)", "holdout": " (never tuned on)"}.get(split, "")
        print(f"\n-- {split}{note}")
        print(table(lines, ("kind", "planted", "caught", "recall", "as this kind")))
        d = [sum(v[i] for sp, v in decoys.items() if split in ("all", sp)) for i in range(2)]
        print(f"Decoys kept: {d[0] - d[1]} of {d[0]} (decoy precision {(d[0] - d[1]) / max(d[0], 1):.0%})")
    # the holdout's misses are counted above but not shown (unless asked): looking at them is tuning on them
    shown = [m for m in missed if args.show_holdout or m[0].startswith("D")]
    hits = [h for h in decoy_hits if args.show_holdout or h[0].startswith("D")]
    if hits:
        print("Decoys replaced:")
        for sid, value in hits:
            print(f"  {sid}: {value!r}")
    if shown:
        print("Missed (what was left):")
        for sid, kind, value, left in shown:
            print(f"  {sid} {kind:<14} {value!r} -> {left}")
    hidden = len(missed) - len(shown) + len(decoy_hits) - len(hits)
    if hidden:
        print(f"({hidden} holdout misses or decoy hits not shown: --show-holdout shows them)")
    return {"missed": missed, "decoy_hits": decoy_hits}


# --------------------------------------------------------------------------- 2b. Presidio, side by side
PRESIDIO_KINDS = {  # Presidio's entity types and the kinds they stand for here
    "PERSON": "person", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "UK_NHS": "nhs_number",
    "UK_NINO": "ni_number", "UK_POSTCODE": "postcode", "DATE_TIME": "date_of_birth", "URL": "url",
    "CREDIT_CARD": "bank_card", "IBAN_CODE": "iban", "IP_ADDRESS": "ip_address", "LOCATION": "place",
    "NRP": "organisation", "ORGANIZATION": "organisation",
}


def presidio_engine(folder: str):
    """Presidio's analyzer with every predefined recogniser (the UK ones too) on our packaged spaCy model."""
    sys.path.insert(0, folder)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from toolkit.models import spacy_model_name

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model_name("")}],
    })
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"], countries=["uk"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def presidio(args: argparse.Namespace) -> None:
    """Recall by kind on the real-world set: ours, Presidio's, and both together (spans masked in the text)."""
    if not args.presidio:
        return
    from toolkit.pseudonymise.apply import final_spans

    engine = presidio_engine(args.presidio)
    rows = list(csv.DictReader(REAL_WORLD.open(encoding="utf-8")))
    sentences = {r["sentence_id"]: r["sentence"] for r in rows if r["where"] == "text"}
    pseudo = make(args, organisations=SAMPLE_ORGANISATIONS).fit([Document(f"rw/{k}", v) for k, v in sentences.items()])
    started = time.perf_counter()
    results = {k: engine.analyze(text=v, language="en") for k, v in sentences.items()}
    theirs = {k: [(r.start, r.end) for r in v] for k, v in results.items()}
    people = {k: [(r.start, r.end) for r in v if r.entity_type == "PERSON"] for k, v in results.items()}
    took = time.perf_counter() - started
    ours = {k: [(sp.start, sp.end) for sp in final_spans(pseudo, v)] for k, v in sentences.items()}

    def masked(text: str, spans: list[tuple[int, int]]) -> str:
        chars = list(text)
        for a, b in spans:
            chars[a:b] = "#" * (b - a)
        return "".join(chars)

    variants = {"ours": ours, "presidio": theirs, "both": {k: ours[k] + theirs[k] for k in sentences},
                "ours+PERSON": {k: ours[k] + people[k] for k in sentences}}
    stats: dict[str, dict[str, list[int]]] = {v: defaultdict(lambda: [0, 0]) for v in variants}
    for row in rows:
        if row["sentence_id"] not in sentences:
            continue
        kind = row["kind"]
        for name, spans in variants.items():
            text = masked(sentences[row["sentence_id"]], spans[row["sentence_id"]])
            st = stats[name]["decoy kept" if kind == "decoy" else kind]
            st[0] += 1
            if kind == "decoy":
                st[1] += row["value"] in text
            else:
                st[1] += not leaked_parts(row["value"], text)
    print(f"\n== Presidio side by side on the written-as-people-write set ({len(sentences)} sentences, "
          f"dev and holdout; Presidio {took:.1f} s)")
    kinds = sorted({k for v in stats.values() for k in v})
    lines = [(k, stats["ours"][k][0], *(f"{stats[v][k][1]}" for v in variants)) for k in kinds]
    print(table(lines, ("kind", "planted", *variants)))


# --------------------------------------------------------------------------- 3. pii_horror
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
    guesses = pseudo.report().guesses
    print(f"Replaced on a guess (review for over-redaction): {len(guesses)} "
          f"({', '.join(sorted(set(guesses['token'])))})")


# --------------------------------------------------------------------------- 4. sample study
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
    guesses = pseudo.report().guesses
    print(f"Replaced on a guess (review for over-redaction): {len(guesses)} "
          f"({', '.join(sorted(set(guesses['token'])))})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blank", action="store_true", help="use spacy.blank('en'): no NER, patterns and lists only")
    parser.add_argument("--show-holdout", action="store_true", help="list the holdout's misses too")
    parser.add_argument("--presidio", default="", metavar="FOLDER",
                        help="also run Microsoft Presidio (installed in FOLDER with pip --target) side by side")
    parser.add_argument("--only", choices=("", "planted", "real", "presidio", "horror", "sample"), default="",
                        help="run one part only")
    args = parser.parse_args(argv)
    parts = {"planted": planted, "real": real_world, "presidio": presidio, "horror": horror, "sample": sample_study}
    for name, part in parts.items():
        if args.only in ("", name):
            part(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
