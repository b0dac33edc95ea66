"""How long does each stage take on a whole study? Cold and warm, with memory.

Builds the scale study (``benchmarks/scale_study.py``: ~60 interviews and three survey
workbooks, ~25,000 participant sentences) in a temporary folder, or copies a given
study there without its store, then times each stage on a fresh store:

====================  =====================================================================
stage                 what runs
====================  =====================================================================
ingest+pseudonymise   ``toolkit.ingest.study.ingest_study`` (read, pseudonymise, store)
segment               ``segment_turns`` + ``segment_answers`` with ``load_segmenter()``
embed                 ``CachedEmbedder(store)`` on the evidence segments (cold: empty cache)
code                  ``toolkit.coding.code_study`` (segments again; embeddings now cached)
topics                ``toolkit.topics.model_topics`` (embeddings cached)
run_study             ``toolkit.pipeline.run_study`` (warm only: nothing changed)
====================  =====================================================================

"Cold" is the first run on the fresh store with an empty embedding cache; "warm" runs
each stage again with nothing changed. Models are loaded once, before the stages, and
their load times are printed separately (spaCy NER pipeline, spaCy segmenter, MiniLM,
BERTopic import), so stage times exclude them. A second table measures MiniLM alone on
2,000 segments: sentence-transformers' own ``encode`` (sorts by length internally), and
batch-by-batch in random order vs in length order.

Peak RSS is sampled (psutil, every 20 ms) while each stage runs; ``--tracemalloc`` adds
the Python-heap peak per stage (slows the stages, so it is off by default).
Only counts and timings are printed, never interview text.

Usage::

    .venv/bin/python benchmarks/pipeline_scale.py                       # 25,000 segments
    .venv/bin/python benchmarks/pipeline_scale.py --segments 5000 --json /tmp/scale.json
    .venv/bin/python benchmarks/pipeline_scale.py --study interviews    # any study folder
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.scale_study import build_scale_study  # noqa: E402

MB = 1024 * 1024


@dataclass
class Timing:
    stage: str
    run: str  # cold / warm / load
    seconds: float
    units: int | None = None
    unit: str = ""
    peak_rss_mb: float | None = None
    rss_delta_mb: float | None = None
    py_heap_peak_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> float | None:
        if not self.units or self.seconds <= 0:
            return None
        return self.units / self.seconds


class Meter:
    """Wall time, sampled peak RSS and (optionally) the Python heap peak of a block."""

    def __init__(self, *, trace: bool = False, interval: float = 0.02):
        import psutil

        self.process = psutil.Process()
        self.trace = trace
        self.interval = interval

    @contextmanager
    def measure(self, timing: Timing):
        start_rss = self.process.memory_info().rss
        peak = [start_rss]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(self.interval):
                peak[0] = max(peak[0], self.process.memory_info().rss)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        if self.trace:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            yield timing
        finally:
            timing.seconds = time.perf_counter() - started
            stop.set()
            thread.join()
            peak[0] = max(peak[0], self.process.memory_info().rss)
            timing.peak_rss_mb = peak[0] / MB
            timing.rss_delta_mb = (peak[0] - start_rss) / MB
            if self.trace:
                timing.py_heap_peak_mb = tracemalloc.get_traced_memory()[1] / MB
                tracemalloc.stop()
            print(f"  {timing.run:<4} {timing.stage}: {timing.seconds:.1f} s", file=sys.stderr, flush=True)


def prepare_study(args: argparse.Namespace, workdir: Path) -> Path:
    """The study to time, in ``workdir``: built, or copied without its store and key."""
    target = workdir / "study"
    if args.study is None:
        started = time.perf_counter()
        build_scale_study(target, args.segments, args.seed)
        print(f"built the scale study in {time.perf_counter() - started:.1f} s: {target}")
    else:
        shutil.copytree(args.study, target, ignore=shutil.ignore_patterns("store", "private", "exports", "models"))
    return target


def load_models(config, meter: Meter, timings: list[Timing]):
    from toolkit.models import load_embedder, load_segmenter, load_spacy

    ner = config.pseudonymisation.ner_model
    for stage, load in (
        ("load spaCy NER pipeline", lambda: load_spacy(ner)),
        ("load spaCy segmenter", lambda: load_segmenter(ner)),
        ("load MiniLM (incl. torch import)", load_embedder),
        ("import BERTopic", _import_bertopic),
    ):
        timing = Timing(stage, "load", 0.0)
        with meter.measure(timing):
            try:
                load()
            except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
                timing.note = f"failed: {type(exc).__name__}"
        timings.append(timing)


def _import_bertopic() -> None:
    import bertopic  # noqa: F401


def run_stages(config, store, meter: Meter, run: str, timings: list[Timing], counts: dict) -> None:
    """Every stage once, on ``store``; ``counts`` collects sizes for the rates."""
    from toolkit import schema as s
    from toolkit.coding import code_study
    from toolkit.embed import CachedEmbedder
    from toolkit.ingest.study import ingest_study
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_answers, segment_turns

    def stage(name: str, unit_key: str, unit: str = "segments") -> Timing:
        timing = Timing(name, run, 0.0, counts.get(unit_key), unit)
        timings.append(timing)
        return timing

    t = stage("ingest+pseudonymise", "evidence")
    with meter.measure(t):
        report = ingest_study(config, store=store)
    t.note = f"{len(report.added) + len(report.updated)} read, {len(report.unchanged)} unchanged"

    nlp = load_segmenter(config.pseudonymisation.ner_model)
    t = stage("segment", "segments")
    with meter.measure(t):
        turns = store.turns_for_segmenting()
        answers = store.answers_for_segmenting()
        segments = segment_turns(turns, nlp, min_words=config.coding.min_words)
        survey_segments = segment_answers(answers, nlp, min_words=config.coding.min_words)
    evidence = [
        *segments.loc[segments[s.IS_EVIDENCE].astype(bool), s.TEXT].tolist(),
        *survey_segments[s.TEXT].tolist(),
    ]
    counts.update(
        segments=len(segments) + len(survey_segments),
        evidence=len(evidence),
        unique_evidence=len(set(evidence)),
        turns=len(turns),
        answers=len(answers),
        survey_segments=len(survey_segments),
    )
    t.units = counts["segments"]
    for earlier in timings:
        if earlier.run == run and earlier.stage == "ingest+pseudonymise":
            earlier.units = counts["evidence"]

    embedder = CachedEmbedder(store)
    t = stage("embed", "evidence")
    with meter.measure(t):
        embedder(evidence)
    t.note = f"{embedder.computed} computed, {embedder.cached} cached"

    t = stage("code", "evidence")
    with meter.measure(t):
        coding = code_study(config, store)
    t.note = f"{coding.coded_segments} coded; embeddings {coding.embeddings_computed} computed"

    t = stage("topics", "evidence")
    try:
        from toolkit.topics import model_topics
    except Exception as exc:  # noqa: BLE001 - the lead's module may not exist yet
        print(f"topics stage not available ({type(exc).__name__}: {exc})")
        t.note = "not available"
        return
    with meter.measure(t):
        try:
            topics = model_topics(config, store)
        except Exception as exc:  # noqa: BLE001 - report and go on
            topics = None
            t.note = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
    if topics is not None:
        t.note = f"{topics.topics} topics, {topics.outliers} outliers; embeddings {topics.embeddings_computed} computed"


def run_pipeline_warm(config, store, meter: Meter, timings: list[Timing], counts: dict) -> None:
    from toolkit.pipeline import run_study

    t = Timing("run_study (whole pipeline)", "warm", 0.0, counts.get("evidence"), "segments")
    with meter.measure(t):
        report = run_study(config, store=store)
    t.note = "stages run: " + (", ".join(report.stages) or "none")
    timings.append(t)


def embedding_throughput(texts: list[str], seed: int, n: int = 2000, batch_size: int = 64) -> list[dict]:
    """MiniLM alone: sentences per second, three ways of batching the same sentences."""
    import numpy as np

    from toolkit.models import load_embedder

    model = load_embedder()
    rng = random.Random(seed)
    sample = rng.sample(texts, min(n, len(texts)))
    model.encode(sample[:64], batch_size=batch_size, show_progress_bar=False)  # warm-up
    rows = []

    def per_batch(ordered: list[str]) -> None:
        for i in range(0, len(ordered), batch_size):
            model.encode(ordered[i : i + batch_size], batch_size=batch_size, show_progress_bar=False)

    shuffled = list(sample)
    random.Random(seed + 1).shuffle(shuffled)
    by_length = sorted(sample, key=len)
    for name, call in (
        ("encode(all): sentence-transformers sorts by length",
         lambda: model.encode(sample, batch_size=batch_size, show_progress_bar=False)),
        ("batch by batch, random order (unsorted)", lambda: per_batch(shuffled)),
        ("batch by batch, sorted by length", lambda: per_batch(by_length)),
    ):
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
        rate = len(sample) / seconds
        rows.append({"batching": name, "sentences": len(sample), "seconds": seconds, "sentences_per_s": rate})
    lengths = np.array([len(t.split()) for t in sample])
    rows.append({"batching": f"(words per sentence: median {np.median(lengths):.0f}, max {lengths.max()})"})
    return rows


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])


def _fmt(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time each pipeline stage, cold and warm, on a whole study.")
    parser.add_argument("--study", type=Path, help="time this study folder (copied, its store left alone) instead")
    parser.add_argument("--segments", type=int, default=25_000, help="size of the built scale study (default 25000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap peak (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary study folder")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the MiniLM throughput table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from toolkit import schema as s
    from toolkit.config import load_config
    from toolkit.store import Store

    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="pipeline_scale_"))
    try:
        study = prepare_study(args, workdir)
        config = load_config(study)
        meter = Meter(trace=args.tracemalloc)
        timings: list[Timing] = []
        counts: dict = {}
        load_models(config, meter, timings)
        store = Store(config.store_url)
        run_stages(config, store, meter, "cold", timings, counts)
        run_stages(config, store, meter, "warm", timings, counts)
        run_pipeline_warm(config, store, meter, timings, counts)
        throughput = [] if args.skip_throughput else embedding_throughput(
            store.segments_frame(evidence_only=True)[s.TEXT].tolist(), args.seed
        )
        store_mb = sum(p.stat().st_size for p in (study / "store").glob("*")) / MB
        files = sorted(p for p in study.rglob("*") if p.is_file() and p.parent.parent == study)
        store.close()
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    import torch

    print()
    print(
        f"study: {len(files)} raw files, {counts['turns']:,} turns, {counts['answers']:,} free-text answers -> "
        f"{counts['segments']:,} segments, {counts['evidence']:,} evidence "
        f"({counts['unique_evidence']:,} distinct texts, "
        f"{counts['survey_segments']:,} from surveys); store {store_mb:.0f} MB"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"Python {platform.python_version()}; load average before {load_before[0]:.1f}, "
          f"after {os.getloadavg()[0]:.1f} "
          "(other work on the machine slows every figure)")
    print()
    rows = [
        (t.stage, t.run, f"{t.seconds:.2f}", _fmt(t.rate), t.unit if t.rate else "", _fmt(t.peak_rss_mb, 0),
         _fmt(t.rss_delta_mb, 0), *([_fmt(t.py_heap_peak_mb, 0)] if args.tracemalloc else []), t.note)
        for t in timings
    ]
    header = ("stage", "run", "seconds", "units/s", "unit", "peak RSS MB", "+RSS MB",
              *(["py heap MB"] if args.tracemalloc else []), "note")
    print(table(rows, header))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (getrusage ru_maxrss): {max_rss:,.0f} MB")
    if throughput:
        print("\nMiniLM alone (all-MiniLM-L6-v2, CPU, batch 64):")
        print(table(
            [(r["batching"], r.get("sentences", ""), _fmt(r.get("seconds"), 2), _fmt(r.get("sentences_per_s"), 0))
             for r in throughput],
            ("batching", "sentences", "seconds", "sentences/s"),
        ))
    if args.json:
        payload = {
            "study": {**counts, "files": len(files), "store_mb": store_mb, "built": args.study is None,
                      "target_segments": args.segments if args.study is None else None, "seed": args.seed},
            "stages": [{**asdict(t), "units_per_s": t.rate} for t in timings],
            "process_peak_rss_mb": max_rss,
            "minilm_throughput": throughput,
            "machine": {"load_before": load_before[0], "load_after": os.getloadavg()[0], "cpus": os.cpu_count(),
                        "torch_threads": torch.get_num_threads(), "python": platform.python_version()},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
