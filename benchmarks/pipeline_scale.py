"""How long does a whole study take? Cold, incremental, nothing changed, and plain BERTopic beside it.

Builds the scale study (``benchmarks/scale_study.py``: ~60 interviews and three survey
workbooks, ~25,000 participant sentences) in a temporary folder, or copies a given study
there without its store. One interview is held back. Then, through the pipeline itself
(:func:`toolkit.pipeline.run_study`, one stage at a time, models loaded inside the stages as
``toolkit run`` loads them):

====================  =====================================================================
row                   what runs
====================  =====================================================================
cold <stage>          ingest (+ pseudonymise), segment, code (embeds every segment: empty
                      cache), topics, on a fresh store
incremental           the held-back interview put back, then ``run_study`` (every stage)
no change             ``python -m toolkit run STUDY`` in a new process (process start included)
plain BERTopic        ``BERTopic()`` defaults on the same evidence sentences with the packaged
                      all-MiniLM-L6-v2 (``--baseline``): import, embed, fit, timed apart
====================  =====================================================================

Peak RSS is sampled (psutil, every 20 ms) while each row runs: this process's, and this process's plus its
children's at the same moment (the spaCy worker processes of pseudonymisation and segmentation, see
``[performance] workers``); ``--tracemalloc`` adds the Python-heap peak (slower). ``--workers`` sets
``[performance] workers`` for the run (e.g. 1 to time everything in one process). Only counts and timings are printed, never interview text.

Usage::

    .venv/bin/python benchmarks/pipeline_scale.py --baseline              # 25,000 segments
    .venv/bin/python benchmarks/pipeline_scale.py --segments 5000 --json /tmp/scale.json
    .venv/bin/python benchmarks/pipeline_scale.py --study interviews     # any study folder
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
    peak_rss_with_workers_mb: float | None = None
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

    def children_rss(self) -> int:
        """RSS of this process's children now (the spaCy worker processes while they run)."""
        import psutil

        total = 0
        for child in self.process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:  # ended meanwhile
                pass
        return total

    @contextmanager
    def measure(self, timing: Timing):
        start_rss = self.process.memory_info().rss
        peak = [start_rss, start_rss]  # this process; this process and its children at the same moment
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(self.interval):
                rss = self.process.memory_info().rss
                peak[0] = max(peak[0], rss)
                peak[1] = max(peak[1], rss + self.children_rss())

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
            timing.peak_rss_with_workers_mb = max(peak) / MB
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


def hold_back(study: Path, workdir: Path) -> tuple[Path, Path] | None:
    """Move the largest interview out of the study (to add it back later): (where it went, where it was)."""
    interviews = [p for p in study.glob("*/*") if p.suffix.lower() in {".vtt", ".txt", ".docx", ".srt"}]
    if len(interviews) < 2:
        return None
    chosen = max(interviews, key=lambda p: p.stat().st_size)
    held = workdir / "held" / chosen.name
    held.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(chosen, held)
    return held, chosen


def _stage_note(report) -> str:
    parts = [f"{k} {v}" for k, v in (getattr(report, "summary", None) or {}).items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    return ", ".join(parts)


def run_stages(config, store, meter: Meter, run: str, timings: list[Timing], counts: dict) -> None:
    """Every stage once through the pipeline (``run_study(stages=[name])``), each timed on its own."""
    from toolkit import schema as s
    from toolkit.pipeline import STAGES, run_study

    for name in STAGES:
        if name == "pseudonymise":
            continue  # runs with ingest, always (raw text is never stored)
        timing = Timing("ingest+pseudonymise" if name == "ingest" else name, run, 0.0, None, "segments")
        timings.append(timing)
        with meter.measure(timing):
            try:
                report = run_study(config, store=store, stages=[name])
            except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
                timing.note = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
                continue
        timing.note = "ran" if report.stages else "nothing to do"
    segments = store.table(s.SEGMENTS)
    evidence = segments[segments[s.IS_EVIDENCE].astype(bool)] if s.IS_EVIDENCE in segments else segments
    counts.update(segments=len(segments), evidence=len(evidence), unique_evidence=evidence[s.TEXT].nunique(),
                  turns=len(store.table(s.TURNS)), answers=len(store.table(s.TEXT_ANSWERS)))
    for timing in timings:
        if timing.run == run:
            timing.units = counts["evidence"]


def run_incremental(config, store, meter: Meter, timings: list[Timing], counts: dict,
                    held: tuple[Path, Path] | None) -> None:
    """The held-back interview added again, then every stage that has something to do."""
    from toolkit import schema as s
    from toolkit.pipeline import run_study

    if held is None:
        return
    before = len(store.table(s.SEGMENTS))
    shutil.move(held[0], held[1])
    timing = Timing("add one interview, run again", "incremental", 0.0, None, "new segments")
    with meter.measure(timing):
        report = run_study(config, store=store)
    added = len(store.table(s.SEGMENTS)) - before
    timing.units = added
    timing.note = f"{added} segments added; stages run: {', '.join(report.stages) or 'none'}"
    if report.topics is not None:
        timing.note += f"; topics mode: {report.topics.mode} ({report.topics.seconds:.1f} s)"
    timings.append(timing)


def run_no_change(study: Path, timings: list[Timing]) -> None:
    """``toolkit run`` in a fresh process with nothing changed: process start, imports and checks included."""
    import subprocess

    timing = Timing("toolkit run, nothing changed (new process)", "no change", 0.0)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "toolkit", "run", str(study)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    timing.seconds = time.perf_counter() - started
    timing.note = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    timings.append(timing)


def plain_bertopic(texts: list[str], meter: Meter, timings: list[Timing], seed: int) -> dict:
    """BERTopic with its defaults on the same sentences, as a data scientist would run it (MiniLM, no cache)."""
    timing = Timing("plain BERTopic: import", "baseline", 0.0)
    with meter.measure(timing):
        from bertopic import BERTopic
        from umap import UMAP

        from toolkit.models import load_embedder
        model = load_embedder()
    timings.append(timing)
    timing = Timing("plain BERTopic: embed", "baseline", 0.0, len(texts), "sentences")
    with meter.measure(timing):
        vectors = model.encode(texts, show_progress_bar=False)
    timings.append(timing)
    timing = Timing("plain BERTopic: fit", "baseline", 0.0, len(texts), "sentences")
    with meter.measure(timing):
        topic_model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                               random_state=seed))  # defaults, seeded
        topics, _ = topic_model.fit_transform(texts, vectors)
    timing.note = f"{len(set(topics)) - (1 if -1 in topics else 0)} topics, {topics.count(-1)} outliers"
    timings.append(timing)
    words = {t: [w for w, _ in topic_model.get_topic(t) or []] for t in set(topics)}
    return {"topics": topics, "model": topic_model, "words": words}


def topic_quality_rows(store, texts: list[str], baseline: dict | None) -> list[dict]:
    """NPMI (top 10 words) and diversity (top 25) of the toolkit's stored topics and of plain BERTopic's."""
    from toolkit import schema as s
    from toolkit.topics.quality import topic_quality

    topics = store.table(s.TOPICS)
    ours = {int(t): json.loads(w) if isinstance(w, str) else list(w)  # the store keeps lists as JSON
            for t, w in zip(topics[s.TOPIC], topics[s.KEYWORDS])} if not topics.empty else {}
    rows = [{"model": "toolkit topics", **topic_quality(ours, texts)}]
    if baseline is not None:
        rows.append({"model": "plain BERTopic", **topic_quality(baseline["words"], texts)})
    return rows


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
    parser.add_argument("--baseline", action="store_true", help="also time plain BERTopic on the same sentences")
    parser.add_argument("--workers", default=None,
                        help='[performance] workers for the run: "auto" or a number (1: no worker processes); '
                             "default: the study's setting")
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
        if args.workers is not None:
            import dataclasses

            from toolkit.nlp_workers import check_workers

            workers = check_workers(int(args.workers) if args.workers.isdigit() else args.workers, "--workers")
            config = dataclasses.replace(config, performance=dataclasses.replace(config.performance, workers=workers))
        meter = Meter(trace=args.tracemalloc)
        timings: list[Timing] = []
        counts: dict = {}
        held = hold_back(study, workdir)
        store = Store(config.store_url)
        run_stages(config, store, meter, "cold", timings, counts)
        cold_total = sum(t.seconds for t in timings if t.run == "cold")
        evidence = store.segments_frame(evidence_only=True)[s.TEXT].tolist()
        run_incremental(config, store, meter, timings, counts, held)
        run_no_change(study, timings)
        baseline_total = baseline = None
        if args.baseline:
            baseline = plain_bertopic(evidence, meter, timings, args.seed)
            baseline_total = sum(t.seconds for t in timings if t.run == "baseline")
        quality = topic_quality_rows(store, store.segments_frame(evidence_only=True)[s.TEXT].tolist(), baseline)
        throughput = [] if args.skip_throughput else embedding_throughput(evidence, args.seed)
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
        f"({counts['unique_evidence']:,} distinct texts); store {store_mb:.0f} MB"
    )
    line = f"cold toolkit run (sum of its stages): {cold_total:.0f} s"
    if baseline_total:
        line += (f"; plain BERTopic (import + embed + fit): {baseline_total:.0f} s; "
                 f"the toolkit is {baseline_total / cold_total:.2f}x as fast (goal: 3x)")
    print(line)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"Python {platform.python_version()}; load average before {load_before[0]:.1f}, "
          f"after {os.getloadavg()[0]:.1f}; [performance] workers = {config.performance.workers!r} "
          f"({len(os.sched_getaffinity(0))} usable CPUs) "
          "(other work on the machine slows every figure)")
    print()
    rows = [
        (t.stage, t.run, f"{t.seconds:.2f}", _fmt(t.rate), t.unit if t.rate else "", _fmt(t.peak_rss_mb, 0),
         _fmt(t.peak_rss_with_workers_mb, 0), _fmt(t.rss_delta_mb, 0),
         *([_fmt(t.py_heap_peak_mb, 0)] if args.tracemalloc else []), t.note)
        for t in timings
    ]
    header = ("stage", "run", "seconds", "units/s", "unit", "peak RSS MB", "with workers MB", "+RSS MB",
              *(["py heap MB"] if args.tracemalloc else []), "note")
    print(table(rows, header))
    print("\ntopic quality (NPMI of the top 10 words over windows of 5 segments; diversity of the top 25):")
    print(table([(q["model"], q["topics"], f"{q['npmi']:.3f}", f"{q['diversity']:.2f}") for q in quality],
                ("model", "topics", "NPMI", "diversity")))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # sampled, not getrusage(RUSAGE_CHILDREN): a spawned child's ru_maxrss starts at its parent's peak
    together = max((t.peak_rss_with_workers_mb or 0) for t in timings) if timings else 0
    print(f"\nprocess peak RSS (getrusage ru_maxrss): {max_rss:,.0f} MB; with its spaCy worker processes at the "
          f"same moment (sampled): {together:,.0f} MB (goal: 2,048 MB)")
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
            "peak_rss_with_workers_mb": together, "workers": config.performance.workers,
            "cold_total_s": cold_total, "baseline_total_s": baseline_total, "topic_quality": quality,
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
