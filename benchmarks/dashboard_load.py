"""How long the dashboard's pages take to show on a study-scale store (~25,000 evidence segments).

    python benchmarks/dashboard_load.py [STUDY] [--segments 25000] [--no-browser | --no-apptest]
                                        [--pages Themes,Topics] [--repeat 2]

For issue 18's figures (first paint and a filter change per page, in a real browser, at 25,000 segments),
build a study with ``benchmarks/scale_study.py /tmp/study25``, run ``toolkit run /tmp/study25`` on it once, then::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/dashboard_load.py /tmp/study25 --no-apptest

STUDY is a study folder. If it already holds ``store/study.sqlite`` it is used as it is (read only);
otherwise the sample study ``interviews/`` is copied there (its store must be built: ``make run``) and
its evidence segments are **multiplied**: each copy gets a new segment key and the text and codings
(machine and human) of another, randomly drawn segment of the sample, so the store has realistic texts
and codings in realistic proportions, but repeated ones. That is a load test, not a study; without
STUDY a temporary folder is used.

Measured:
* AppTest (``streamlit.testing.v1``, no browser): each page's first run after clearing the caches
  (cold) and a second run (warm), and the rerun after a filter change on Quotes.
* A real headless Chromium, pages chosen from the **sidebar in one browser session**, as a researcher moves
  through the dashboard (Streamlit reruns the page; the app's scripts are loaded already): on a new server,
  every page's first visit ("cold": its own loaders run) and its next ("warm").
* A real headless Chromium (``/usr/bin/chromium``, skipped when absent), each page in a new browser
  session (no HTTP cache): **first paint**, from navigation until the script run has finished and every
  chart and table in view is drawn, on the page's first visit ("cold": the server's shared caches were
  filled by one visit to the home page) and its second; and, on the second visit, the **filter change**:
  from choosing an option of one widget (:data:`FILTERS`) until the page has run again and is drawn.

Figures are seconds, printed as a table; other work on the machine inflates them. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "interviews"
STORE = Path("store") / "study.sqlite"
APP = REPO / "dashboards" / "app.py"
CHROMIUM = Path(os.environ.get("TOOLKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FILTER = ("Polarity", "barrier")
"""The filter change timed on Quotes in AppTest: this multiselect, this value."""
FILTERS = {
    "Overview": ("radio", "Count", 1),
    "Themes": ("radio", "Rows", 1),
    "Barrier to remedy": ("selectbox", "Barriers reported in", 1),
    "Quotes": ("multiselect", "Polarity", 0),
    "Topics": ("radio", "Distribution by", 1),
    "Surveys": ("multiselect", "Place", 0),
    "Review": ("selectbox", "Place", 1),
    "Good practice": ("selectbox", "Open a practice", 1),
    "Memos": ("selectbox", "About", 1),
}
"""The filter change timed on each page in the browser: (widget, its label, the option to choose by position)."""

sys.path.insert(0, str(REPO))


# --- the enlarged store --------------------------------------------------------------------------


def _copy_rows(db: sqlite3.Connection, table: str, rows: list[tuple], columns: list[str]) -> None:
    marks = ", ".join("?" for _ in columns)
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def build_study(target: Path, segments: int, seed: int = 7) -> str:
    """Copy the sample study to ``target`` and multiply its evidence segments to about ``segments``."""
    source_store = SAMPLE / STORE
    if not source_store.exists():
        sys.exit(f"error: {source_store} is missing; build the sample study first with `make run`.")
    if target.exists() and any(target.iterdir()):
        sys.exit(f"error: {target} exists and has no {STORE}; give an empty or new folder.")
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("exports", "private"), dirs_exist_ok=True)
    db = sqlite3.connect(target / STORE)
    seg_cols = [r[1] for r in db.execute("PRAGMA table_info(segments)")]
    cod_cols = [r[1] for r in db.execute("PRAGMA table_info(codings)") if r[1] != "coding_id"]
    hum_cols = [r[1] for r in db.execute("PRAGMA table_info(human_codings)") if r[1] != "coding_id"]
    evidence = db.execute(f"SELECT {', '.join(seg_cols)} FROM segments WHERE is_evidence").fetchall()
    if not evidence:
        sys.exit(f"error: {source_store} has no coded evidence segments; run `toolkit code` first.")
    codings: dict[str, list[tuple]] = {}
    for row in db.execute(f"SELECT {', '.join(cod_cols)} FROM codings"):
        codings.setdefault(row[cod_cols.index("segment_key")], []).append(row)
    human: dict[str, list[tuple]] = {}
    for row in db.execute(f"SELECT {', '.join(hum_cols)} FROM human_codings"):
        human.setdefault(row[hum_cols.index("segment_key")], []).append(row)

    rng = random.Random(seed)
    i_key, i_text, i_id, i_index = (seg_cols.index(c) for c in ("segment_key", "text", "segment_id", "segment_index"))
    i_lemmas = seg_cols.index("lemmas") if "lemmas" in seg_cols else None
    next_id = db.execute("SELECT MAX(segment_id) FROM segments").fetchone()[0] + 1
    copies = max(1, round(segments / len(evidence)))
    new_segments, new_codings, new_human = [], [], []
    for k in range(1, copies):
        for row in evidence:
            donor = rng.choice(evidence)  # text and codings from another segment of the sample
            key = hashlib.sha1(f"{row[i_key]}:{k}".encode()).hexdigest()[: len(row[i_key])]
            new = list(row)
            new[i_id], new[i_key], new[i_text] = next_id, key, donor[i_text]
            new[i_index] = row[i_index] + 100_000 * k
            if i_lemmas is not None:
                new[i_lemmas] = donor[i_lemmas]
            next_id += 1
            new_segments.append(tuple(new))
            for coding in codings.get(donor[i_key], []):
                c = list(coding)
                c[cod_cols.index("segment_key")] = key
                new_codings.append(tuple(c))
            for coding in human.get(donor[i_key], []):
                c = list(coding)
                c[hum_cols.index("segment_key")] = key
                new_human.append(tuple(c))
    with db:
        _copy_rows(db, "segments", new_segments, seg_cols)
        _copy_rows(db, "codings", new_codings, cod_cols)
        _copy_rows(db, "human_codings", new_human, hum_cols)
    total = db.execute("SELECT COUNT(*) FROM segments WHERE is_evidence").fetchone()[0]
    db.execute("VACUUM")
    db.close()
    return (
        f"built {target}: the sample's {len(evidence)} evidence segments x {copies} = {total} evidence segments; "
        f"copies carry new keys and the text and codings of randomly drawn sample segments "
        f"(+{len(new_codings)} machine codings, +{len(new_human)} human codings)"
    )


def describe(study: Path) -> str:
    db = sqlite3.connect(study / STORE)
    n = db.execute("SELECT COUNT(*) FROM segments WHERE is_evidence").fetchone()[0]
    c = db.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    h = db.execute("SELECT COUNT(*) FROM human_codings").fetchone()[0]
    db.close()
    return f"reusing {study}: {n} evidence segments, {c} machine codings, {h} human codings"


# --- AppTest -------------------------------------------------------------------------------------


def page_files() -> list[tuple[str, str]]:
    """(title, script path relative to dashboards/) of each page, read from the app's st.Page calls."""
    import re

    text = APP.read_text(encoding="utf-8")
    return [(m.group(2), m.group(1)) for m in re.finditer(r'st\.Page\(\s*"([^"]+)"\s*,\s*title="([^"]+)"', text)]


def apptest_figures(study: Path, repeat: int) -> dict[str, dict[str, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["TOOLKIT_STUDY"] = str(study)
    os.environ.pop("TOOLKIT_AUTH", None)
    figures: dict[str, dict[str, float]] = {}
    for title, path in page_files():
        cold, warm = [], []
        for _ in range(repeat):
            st.cache_data.clear()
            st.cache_resource.clear()
            at = AppTest.from_file(str(APP), default_timeout=600)
            at.switch_page(path)
            start = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - start)
            failed = [e.value for e in at.exception]
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        figures[title] = {"cold": statistics.median(cold), "warm": statistics.median(warm)}
        if failed:
            figures[title]["error"] = str(failed[0])[:200]
        if title == "Quotes":
            label, value = FILTER
            widget = next((w for w in at.multiselect if w.label == label), None)
            if widget is not None:
                start = time.perf_counter()
                widget.select(value).run()
                figures[title]["filter"] = time.perf_counter() - start
    return figures


# --- the browser ---------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_PAINTED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]')) return false;
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
    if (window.__toolkitRan === false) return false;  // a rerun was asked for and has not started yet
    const shown = (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)].filter(e => e.checkVisibility());
    if (shown("stPlotlyChart").some(c => !c.querySelector('.main-svg'))) return false;  // plotly.js has not drawn it
    if (shown("stVegaLiteChart").some(c => !c.querySelector('canvas, svg.marks'))) return false;  // nor Vega
    return shown("stDataFrame").every(g => g.querySelector('canvas'));  // (in a closed expander: not waited for)
}"""
"""Painted: the script run finished, nothing waits on a spinner, and every chart and table in view is drawn."""


def _wait_rendered(page, timeout_ms: int = 600_000) -> None:
    page.wait_for_function(_PAINTED, timeout=timeout_ms, polling="raf")


def _expect_rerun(page) -> None:
    """Make :func:`_wait_rendered` wait for a rerun that starts after this call (seen by a MutationObserver)."""
    page.evaluate("""() => {
        window.__toolkitRan = false;
        const app = document.querySelector('[data-testid="stApp"]');
        const seen = new MutationObserver(() => {
            if (app.getAttribute('data-test-script-state') === 'running') { window.__toolkitRan = true; seen.disconnect(); }
        });
        seen.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }""")


@contextlib.contextmanager
def _server(study: Path):
    """A dashboard server on a free port for ``study``: yields (its URL, seconds it took to answer), then stops it."""
    from toolkit.serve import dashboard_command

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "TOOLKIT_AUTH"}
    log = tempfile.NamedTemporaryFile(prefix="dashboard-bench-", suffix=".log", delete=False)
    server = subprocess.Popen(dashboard_command(study, port=port), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        start = time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.perf_counter() - start > 120:
                    raise RuntimeError(f"the server did not start; see {log.name}") from None
                time.sleep(0.2)
        yield url, time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)


def _nav_links(page) -> list[tuple[str, str]]:
    """(href, title) of every page in the sidebar."""
    return [(a.get_attribute("href"), a.evaluate(
        """e => { const c = e.cloneNode(true);
                  c.querySelectorAll('[data-testid="stIconMaterial"]').forEach(i => i.remove());
                  return c.textContent.trim(); }"""))
        for a in page.locator('[data-testid="stSidebarNavLink"]').all()]


def browser_figures(study: Path, pages: set[str] | None = None) -> dict[str, dict[str, float]] | str:
    """Each page opened in a new browser session (a new tab with no HTTP cache: the app's scripts load again)."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (scripts/setup-browser.sh installs it)"
    from playwright.sync_api import sync_playwright

    figures: dict[str, dict[str, float]] = {}
    try:
        with _server(study) as (url, started), sync_playwright() as pw:
            figures["(server start)"] = {"cold": started}
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            first = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            first.goto(url + "/", wait_until="commit")
            _wait_rendered(first)
            figures["(first visit)"] = {"cold": time.perf_counter() - start}  # fills the server's caches
            links = [(href, title) for href, title in _nav_links(first) if not pages or title in pages]
            first.close()
            for visit in ("cold", "warm"):  # "cold" here: this page's first visit, shared caches already filled
                for href, title in links:
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(href, wait_until="commit")
                    _wait_rendered(page)
                    figures.setdefault(title, {})[visit] = time.perf_counter() - start
                    if visit == "warm" and title in FILTERS:
                        try:
                            figures[title]["filter"] = _browser_filter(page, *FILTERS[title])
                        except Exception as exc:  # noqa: BLE001 - a page without that widget: say so, go on
                            figures[title]["error"] = f"filter: {type(exc).__name__}"
                    context.close()
            browser.close()
    except RuntimeError as exc:
        return str(exc)
    return figures


def switch_figures(study: Path, pages: set[str] | None = None) -> dict[str, dict[str, float]] | str:
    """Pages chosen from the sidebar in one browser session, as a researcher moves through the dashboard.

    On a new server: the home page, then every page in turn ("cold": its first visit on this server, so
    its own loaders run), then every page again ("warm"). Each figure runs from the click until the page
    has run and everything in view is drawn.
    """
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (scripts/setup-browser.sh installs it)"
    from playwright.sync_api import sync_playwright

    figures: dict[str, dict[str, float]] = {}
    try:
        with _server(study) as (url, _), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            page.goto(url + "/", wait_until="commit")
            _wait_rendered(page)
            figures["(first visit)"] = {"cold": time.perf_counter() - start}
            titles = [title for _, title in _nav_links(page) if not pages or title in pages]
            for visit in ("cold", "warm"):
                for title in titles:
                    link = page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first
                    _expect_rerun(page)
                    start = time.perf_counter()
                    link.click()
                    _wait_rendered(page)
                    figures.setdefault(title, {})[visit] = time.perf_counter() - start
            browser.close()
    except RuntimeError as exc:
        return str(exc)
    return figures


def _browser_filter(page, kind: str, label: str, option: int) -> float:
    """Seconds from choosing the ``option``-th choice of the widget labelled ``label`` to the page painted again."""
    import re

    labelled = page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    testid = {"radio": "stRadio", "selectbox": "stSelectbox", "multiselect": "stMultiSelect"}[kind]
    widget = page.locator(f'[data-testid="{testid}"]', has=labelled).first
    widget.scroll_into_view_if_needed(timeout=10_000)
    if kind == "radio":
        choice = widget.locator('[data-testid="stRadioOption"]').nth(option)
    else:
        widget.click()
        choice = page.locator('[role="option"]').nth(option)
    choice.wait_for(timeout=10_000)
    _expect_rerun(page)
    start = time.perf_counter()
    choice.click()
    _wait_rendered(page)
    return time.perf_counter() - start


# --- main ----------------------------------------------------------------------------------------


def table(name: str, figures: dict[str, dict[str, float]] | str) -> str:
    if isinstance(figures, str):
        return f"{name}: skipped, {figures}"
    lines = [name, f"{'page':<16} {'first paint, cold':>18} {'warm':>8} {'filter change':>14}"]
    for page, f in figures.items():
        cells = [f"{f[k]:.2f}" if k in f else "" for k in ("cold", "warm", "filter")]
        line = f"{page:<16} {cells[0]:>18} {cells[1]:>8} {cells[2]:>14}"
        if "error" in f:
            line += f"   EXCEPTION: {f['error']}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", nargs="?", type=Path, help="folder of the enlarged study (built if absent)")
    parser.add_argument("--segments", type=int, default=25_000, help="evidence segments to reach (about)")
    parser.add_argument("--repeat", type=int, default=1, help="AppTest runs per page (median)")
    parser.add_argument("--no-browser", action="store_true", help="AppTest only")
    parser.add_argument("--no-apptest", action="store_true", help="the browser only")
    parser.add_argument("--pages", help="only these pages in the browser, by title, comma-separated (e.g. Themes,Topics)")
    args = parser.parse_args(argv)
    if not APP.exists():
        sys.exit(f"error: {APP} is missing")
    study = (args.study or Path(tempfile.mkdtemp(prefix="dashboard-bench-")) / "study").resolve()
    start = time.perf_counter()
    built = not (study / STORE).exists()
    note = build_study(study, args.segments) if built else describe(study)
    print(f"{note} ({time.perf_counter() - start:.1f} s)")
    if built:
        print("The copies repeat sample texts under new keys: a load test, not a study.")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Machine: {os.cpu_count()} CPUs, load average {load} (other work on the machine inflates every figure)\n")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.no_apptest:
        print(table("AppTest (seconds; cold = first run after clearing st.cache_data and st.cache_resource)",
                    apptest_figures(study, args.repeat)))
        print()
    if args.no_browser:
        return 0
    chosen = set(args.pages.split(",")) if args.pages else None
    print(table("Chromium, pages chosen from the sidebar in one browser session (seconds from the click until the"
                " page has run and every chart and table in view is drawn; cold = the page's first visit on a new"
                " server, warm = the next)", switch_figures(study, chosen)))
    print()
    print(table("Chromium (seconds from navigation until the script run has finished and every chart and table in view"
                " is drawn, each page in a new browser session; (first visit) = the home page on a new server, cold"
                " caches; then every page twice (cold = its first visit), with the server's caches filled)",
                browser_figures(study, chosen)))
    print("filter change, on the second visit: " + "; ".join(
        f"{page}: {label} ({kind}, option {option + 1})" for page, (kind, label, option) in FILTERS.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
