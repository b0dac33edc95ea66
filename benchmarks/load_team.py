"""A team at work: 20 reviewers on one dashboard while `toolkit run` re-codes a 25,000-segment study.

For each store (SQLite, then PostgreSQL) the study's store is copied into a fresh store of that
kind, and for ``--minutes`` (and until the run under way has finished):

* ``--reviewers`` threads of one process act as one ``toolkit dashboard`` server with that many
  sessions: each opens a page (review 35%, quotes 20%, themes 15%, overview 10%, topics 8%,
  surveys 7%, good practice 5%), which calls the dashboard's own loaders (``dashboards/loaders.py``:
  the read-only store, the change stamp, ``st.cache_data``, in Streamlit's bare mode) as the page
  does, waits ``--think`` seconds, and on the review page records a decision on a segment of its
  queue (accept, add, recode or reject) through the dashboard's writer study (the write model);
  on the themes page it sometimes saves a summary. Each reviewer decides a segment at most once.
* ``toolkit run STUDY`` runs again and again in a child process: each run re-codes the whole
  study (the decisions made since the last run change what the coder learns from) and fits the
  topics again.

Printed: page times (the loaders' data work; no widgets are drawn) and decision latency, p50 and
p95; decisions acknowledged, refused as busy (the reviewer presses again) or refused for another
reason; and, read back from the store after the last run: decisions and summaries **lost**
(acknowledged, not stored) and **duplicated** (stored more than once, or stored though refused).
Also the change stamp's cost on this store: the old 14 ``COUNT(*)`` sub-queries and the change
tokens that replaced them. Counts and timings only: never interview text, never a store URL
with its password.

Usage (the machine is shared: run it at low priority)::

    nice -n 10 .venv/bin/python benchmarks/load_team.py                          # builds and runs the study (~30 min)
    nice -n 10 .venv/bin/python benchmarks/load_team.py --prepared /tmp/scale    # a study already run once
    nice -n 10 .venv/bin/python benchmarks/load_team.py --minutes 2 --reviewers 10 --stores sqlite

``--prepared DIR`` is a study folder whose SQLite store ``toolkit run`` has built (for example by
``benchmarks/scale_study.py DIR`` then ``toolkit run DIR``); it is copied, never changed. PostgreSQL
is a throw-away server made like the tests' (``tests/postgres.py``: ``initdb`` in a temporary
folder, Unix socket only), or ``--postgres-url env:NAME`` for an empty database of your own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO, REPO / "dashboards"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

PAGES = {"review": 0.35, "quotes": 0.20, "themes": 0.15, "overview": 0.10, "topics": 0.08, "surveys": 0.07,
         "good_practice": 0.05}
DECISIONS = {"accept": 0.6, "recode": 0.2, "reject": 0.1, "add": 0.1}
NOTE = "checked in the load test"
URL_ENV = "TOOLKIT_LOAD_STORE_URL"


# --------------------------------------------------------------------------- what one backend's session measured
@dataclass
class Tally:
    pages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    decision_seconds: list[float] = field(default_factory=list)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)  # (coder, segment key)
    refused: list[tuple[str, str]] = field(default_factory=list)  # busy: not saved, pressed again later
    rejected: Counter = field(default_factory=Counter)  # refused by the write model, by reason
    summaries: list[str] = field(default_factory=list)
    failed_summaries: list[str] = field(default_factory=list)
    page_errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, value, item=None) -> None:
        with self.lock:
            target = getattr(self, name)
            if isinstance(target, Counter):
                target[item] += 1
            elif isinstance(target, dict):
                target[item].append(value)
            else:
                target.append(value)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


# --------------------------------------------------------------------------- one reviewer
class Reviewer(threading.Thread):
    """One dashboard session: opens pages, reads, decides; stops when told."""

    def __init__(self, n: int, tally: Tally, stop: threading.Event, think: float, seed: int):
        super().__init__(name=f"reviewer {n:02d}", daemon=True)
        self.coder = f"load reviewer {n:02d}"
        self.tally, self.stop, self.think = tally, stop, think
        self.rng = random.Random(seed + n)
        self.decided: set[str] = set()
        self.summaries = 0

    def run(self) -> None:
        import loaders

        from toolkit.errors import InputDataError
        from toolkit.store import StoreBusyError, busy_reason

        while not self.stop.is_set():
            page = self.rng.choices(list(PAGES), weights=list(PAGES.values()))[0]
            started = time.perf_counter()
            try:
                shown = open_page(page, self.rng)
            except Exception as exc:  # noqa: BLE001 - counted: a page that would have shown an error
                self.tally.add("page_errors", None, f"{page}: {type(exc).__name__}: {busy_reason(exc) or ''}")
                continue
            self.tally.add("pages", time.perf_counter() - started, page)
            self.stop.wait(self.rng.uniform(0.5, 1.5) * self.think)
            if self.stop.is_set():
                break
            try:
                if page == "review" and shown is not None:
                    self.decide(loaders, shown)
                elif page == "themes" and self.rng.random() < 0.15:
                    self.summarise(loaders)
            except StoreBusyError as exc:
                self.tally.add("rejected", None, f"busy at the end: {exc.reason}")
            except InputDataError as exc:
                self.tally.add("rejected", None, str(exc).split(":")[1][:60] if ":" in str(exc) else str(exc)[:60])

    def decide(self, loaders, queue) -> None:
        from toolkit import schema as s
        from toolkit.store import StoreBusyError

        open_rows = [row for row in queue.head(25).to_dict("records") if row[s.SEGMENT_KEY] not in self.decided]
        if not open_rows:
            return
        row = self.rng.choice(open_rows)
        decision = self.rng.choices(list(DECISIONS), weights=list(DECISIONS.values()))[0]
        kwargs: dict = {}
        if decision == "accept" and not isinstance(row.get(s.THEME), str):
            decision = "add"
        if decision in ("recode", "add"):
            names = list(loaders.theme_names())
            kwargs = {"theme": self.rng.choice(names), "polarity": self.rng.choice((s.BARRIER, s.ENABLER, s.NEUTRAL))}
        key = row[s.SEGMENT_KEY]
        for attempt in range(2):  # busy: the page says so, and the reviewer presses again once
            started = time.perf_counter()
            try:
                loaders.writer().record_decisions([key], decision=decision, coder=self.coder, note=NOTE, **kwargs)
            except StoreBusyError:
                self.tally.add("refused", (self.coder, key))
                if attempt:
                    raise
                continue
            self.tally.add("decision_seconds", time.perf_counter() - started)
            self.tally.add("acknowledged", (self.coder, key))
            self.decided.add(key)
            return

    def summarise(self, loaders) -> None:
        from toolkit import schema as s

        self.summaries += 1
        text = f"Summary number {self.summaries} by {self.coder}."
        place = self.rng.choice(loaders.study().places)
        theme = self.rng.choice(list(loaders.theme_names()))
        try:
            loaders.writer().add_summary(row_dimension=s.PLACE, row_value=place, theme=theme, text=text,
                                         author=self.coder)
        except Exception:
            self.tally.add("failed_summaries", text)
            raise
        self.tally.add("summaries", text)


def open_page(page: str, rng: random.Random):
    """The data a page asks the loaders for, in the order the page asks (``dashboards/views/<page>.py``)."""
    import loaders

    from toolkit import schema as s

    study = loaders.study()
    if page == "overview":
        status = loaders.status()
        loaders.theme_counts(s.PLACE)
        if status.orphaned:
            loaders.orphaned_work()
        return None
    loaders.segments()  # every other page starts with it (need_segments)
    if page == "review":
        place = rng.choice([None, *study.places])
        queue = loaders.quotes(status="unreviewed", place=place)
        loaders.review_progress(), loaders.codings(), loaders.decisions()
        return queue
    if page == "quotes":
        loaders.topics()
        shown = loaders.quotes(place=rng.choice(study.places), theme=rng.choice(list(loaders.theme_names())))
        if not shown.empty:
            loaders.context(shown.iloc[0][s.SEGMENT_KEY], 2)
    elif page == "themes":
        matrix = loaders.framework_matrix(s.PLACE)
        loaders.cooccurrence("segment")
        cell = matrix.iloc[rng.randrange(len(matrix))]
        loaders.segments_by_keys(list(cell["segment_keys"])[:25])
    elif page == "topics":
        topics = loaders.topics()
        loaders.topic_distribution(s.PLACE)
        if not topics.empty:
            loaders.quotes(topic=int(rng.choice(topics[s.TOPIC].tolist())))
    elif page == "surveys":
        loaders.status(), loaders.likert_percentages(), loaders.text_answers()
    elif page == "good_practice":
        loaders.good_practice(False)
    return None


# --------------------------------------------------------------------------- preparing the stores
def prepare(args: argparse.Namespace, work: Path) -> Path:
    """A study that ``toolkit run`` has built once, on SQLite (built here unless ``--prepared``)."""
    if args.prepared:
        return args.prepared.resolve()
    from benchmarks.scale_study import build_scale_study

    study = work / "prepared"
    build_scale_study(study, args.segments, args.seed)
    print("built the scale study; running the pipeline once on it (cold, takes a while)...", flush=True)
    started = time.perf_counter()
    run_toolkit(study, {}, work / "prepare.log")
    print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)
    return study


def copy_study(prepared: Path, target: Path, url: str | None) -> Path:
    """The study's files, its key's location and a copy of its store (a new SQLite file or database)."""
    from toolkit.config import load_config
    from toolkit.store import Store, copy_store

    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns("store", "exports"))
    (target / "store").mkdir()
    location = prepared / "store" / "key-location"
    if location.is_file():  # the same key: the copy's files are "unchanged", only re-coded
        shutil.copyfile(location, target / "store" / "key-location")
    source = Store(load_config(prepared).store_url, read_only=True)
    if url:
        toml = (target / "study.toml").read_text(encoding="utf-8")
        (target / "study.toml").write_text(toml + f'\n[store]\nurl = "env:{URL_ENV}"\n', encoding="utf-8")
        copy_store(source, url).close()
    else:
        copy_store(source, target / "store" / "study.sqlite").close()
    source.close()
    return target


def run_toolkit(study: Path, env: dict[str, str], log: Path) -> tuple[float, int]:
    """``toolkit run STUDY`` in a child process (its output goes to ``log``); seconds and exit code."""
    started = time.perf_counter()
    with log.open("a", encoding="utf-8") as out:
        code = subprocess.call([sys.executable, "-m", "toolkit", "run", str(study), "--wait", "3600"],
                               stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=str(REPO))
    return time.perf_counter() - started, code


# --------------------------------------------------------------------------- one backend
def measure(backend: str, study: Path, env: dict[str, str], args: argparse.Namespace, work: Path) -> dict:
    import loaders

    from toolkit import schema as s
    from toolkit.config import load_config
    from toolkit.store import Store

    os.environ.update(env)
    os.environ["TOOLKIT_STUDY"] = str(study)
    for name in list(logging.root.manager.loggerDict):  # bare mode: no "missing ScriptRunContext" per call
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    tally = Tally()
    cold = {}
    for page in PAGES:  # first opens: cold caches, as after the dashboard starts
        started = time.perf_counter()
        open_page(page, random.Random(args.seed))
        cold[page] = time.perf_counter() - started
    evidence = len(loaders.segments())
    stop = threading.Event()
    reviewers = [Reviewer(n, tally, stop, args.think, args.seed) for n in range(args.reviewers)]
    runs: list[tuple[float, int]] = []
    started = time.perf_counter()
    for reviewer in reviewers:
        reviewer.start()
    while True:  # re-code again and again until the window is over (the last run is waited for)
        decided = len(tally.acknowledged)
        while len(tally.acknowledged) == decided and time.perf_counter() - started < args.minutes * 60:
            time.sleep(1)  # a run with no new decision would have nothing to re-code
        runs.append(run_toolkit(study, env, work / f"{backend}-runs.log"))
        if time.perf_counter() - started >= args.minutes * 60:
            break
    window = time.perf_counter() - started
    stop.set()
    for reviewer in reviewers:
        reviewer.join(timeout=600)

    store = Store(load_config(study).store_url, read_only=True)
    human = store.table(s.HUMAN_CODINGS)
    human = human[human[s.CODER].str.startswith("load reviewer")]
    stored = Counter(zip(human[s.CODER], human[s.SEGMENT_KEY]))
    acknowledged = Counter(tally.acknowledged)
    refused = set(tally.refused) - set(tally.acknowledged)
    summaries = Counter(store.table(s.SUMMARIES)[s.TEXT])
    result = {
        "backend": backend, "evidence_segments": evidence, "reviewers": args.reviewers, "window_s": window,
        "cold_page_s": cold, "pages": {k: list(v) for k, v in tally.pages.items()},
        "page_opens": sum(len(v) for v in tally.pages.values()),
        "decision_s": tally.decision_seconds, "decisions": len(tally.acknowledged),
        "busy_tries": len(tally.refused), "rejected": dict(tally.rejected), "page_errors": dict(tally.page_errors),
        "lost": sum(1 for item in acknowledged if stored[item] == 0),
        "duplicated": sum(stored[item] - 1 for item in acknowledged if stored[item] > 1)
        + sum(stored[item] for item in refused),
        "unmatched": sum(n for item, n in stored.items() if item not in acknowledged and item not in refused),
        "summaries": len(tally.summaries),
        "summaries_lost": sum(1 for text in tally.summaries if summaries[text] == 0),
        "summaries_duplicated": sum(summaries[text] - 1 for text in tally.summaries if summaries[text] > 1)
        + sum(summaries[text] for text in tally.failed_summaries),
        "runs": [{"seconds": sec, "exit": code} for sec, code in runs],
        "orphaned_or_detached": int((~human[s.SEGMENT_KEY].isin(set(store.segment_keys()))).sum()),
        "stamp_ms": stamp_costs(store),
    }
    store.close()
    return result


def stamp_costs(store, repeat: int = 30) -> dict[str, float]:
    """The change stamp on this store: the old 14 COUNT(*) sub-queries, and the change tokens."""
    import sqlalchemy as sa

    from toolkit import schema as s
    from toolkit.store import TABLES

    old_tables = (s.SOURCES, s.SEGMENTS, s.CODINGS, s.HUMAN_CODINGS, s.TOPICS, s.SEGMENT_TOPICS, s.TOPIC_EDITS,
                  s.SUMMARIES, s.PRACTICES, s.COMMENTS, s.RUNS, s.RESPONDENTS)
    parts = [sa.select(sa.func.count()).select_from(TABLES[n]).scalar_subquery() for n in old_tables]
    parts += [sa.select(sa.func.max(TABLES[s.RUNS].c.finished_at)).scalar_subquery(),
              sa.select(sa.func.max(TABLES[s.HUMAN_CODINGS].c.created_at)).scalar_subquery()]

    def old() -> None:
        with store.engine.connect() as conn:
            conn.execute(sa.select(*parts)).one()

    out = {}
    for name, fn in (("14 COUNT(*)", old), ("change tokens", store.changes)):
        fn()
        batches = []
        for _ in range(5):  # the best of five batches: the machine is shared
            started = time.perf_counter()
            for _ in range(repeat):
                fn()
            batches.append((time.perf_counter() - started) / repeat * 1000)
        out[name] = min(batches)
    return out


# --------------------------------------------------------------------------- report
def report(results: list[dict], args: argparse.Namespace) -> None:
    print()
    first = results[0]
    print(f"{first['reviewers']} reviewers, think time ~{args.think:.1f} s, while `toolkit run` re-codes "
          f"{first['evidence_segments']:,} evidence segments; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} now (shared machine: every figure is slower than on a quiet one)")
    header = ("store", "window s", "pages", "page p50 s", "page p95 s", "decisions", "decision p50 s",
              "decision p95 s", "max s", "busy tries", "lost", "duplicated", "summaries lost/dup", "runs")
    rows = []
    for r in results:
        every = [t for times in r["pages"].values() for t in times]
        rows.append((r["backend"], f"{r['window_s']:.0f}", r["page_opens"], f"{quantile(every, .5):.2f}",
                     f"{quantile(every, .95):.2f}", r["decisions"], f"{quantile(r['decision_s'], .5):.3f}",
                     f"{quantile(r['decision_s'], .95):.3f}", f"{max(r['decision_s'], default=float('nan')):.2f}",
                     r["busy_tries"], r["lost"], r["duplicated"],
                     f"{r['summaries_lost']}/{r['summaries_duplicated']} of {r['summaries']}",
                     " ".join(f"{x['seconds']:.0f}s" + ("" if x["exit"] == 0 else f"(exit {x['exit']})")
                              for x in r["runs"])))
    print(table(rows, header))
    print("\npage p50 / p95 s by page (first open after start, cold, in brackets):")
    prow = []
    for r in results:
        prow.append((r["backend"], *(f"{quantile(r['pages'].get(p, []), .5):.2f} / "
                                     f"{quantile(r['pages'].get(p, []), .95):.2f} ({r['cold_page_s'][p]:.1f})"
                                     for p in PAGES)))
    print(table(prow, ("store", *PAGES)))
    print("\nchange stamp, ms per call on this store:", "; ".join(
        f"{r['backend']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stamp_ms"].items()) for r in results))
    for r in results:
        extra = {k: r[k] for k in ("rejected", "page_errors", "unmatched", "orphaned_or_detached") if r[k]}
        if extra:
            print(f"{r['backend']}: {extra}")


def table(rows, header) -> str:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepared", type=Path, help="a study folder whose SQLite store `toolkit run` built")
    parser.add_argument("--segments", type=int, default=25_000, help="size of the study built without --prepared")
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=4.0, help="how long the reviewers work (the last run ends it)")
    parser.add_argument("--think", type=float, default=2.0, help="seconds a reviewer reads a page, on average")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", help="env:NAME of an empty database (default: a throw-away server)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from toolkit.store import redacted_url, resolve_store_url

    work = args.work or Path(tempfile.mkdtemp(prefix="load_team_"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = None
    results = []
    try:
        prepared = prepare(args, work)
        for backend in [b.strip() for b in args.stores.split(",") if b.strip()]:
            env: dict[str, str] = {}
            url = None
            if backend == "postgresql":
                if args.postgres_url:
                    url = resolve_store_url(args.postgres_url)
                else:
                    from tests.postgres import start_cluster

                    cluster = start_cluster()
                    url = cluster.url(cluster.create_database("load"))
                env[URL_ENV] = url
            print(f"{backend}: copying the store{' to ' + redacted_url(url) if url else ''}...", flush=True)
            study = copy_study(prepared, work / backend, url)
            print(f"{backend}: {args.reviewers} reviewers for {args.minutes:g} min while `toolkit run` re-codes...",
                  flush=True)
            results.append(measure(backend, study, env, args, work))
            os.environ.pop(URL_ENV, None)
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
