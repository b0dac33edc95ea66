"""The leak check: run a planted study through every door and scan every output for its plants.

Used by ``benchmarks/privacy_leaks.py`` (which prints recall per kind and where each leak was found)
and by ``tests/privacy/test_end_to_end.py`` (which asserts there is none). :func:`run_set` builds the
study (:func:`tests.privacy.planted.build_study`), runs ``toolkit run``, plants researchers' notes
through every door (:func:`plant_notes`), runs the topics again and every export, and scans the
store, the topic model, the logs, the exports and the dashboard pages (``scan_*``). The returned
:class:`Leaks` says which plant was found where; it never holds or prints the values.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path

from tests.privacy.planted import FILLER, TRANSCRIPT_FILES, PlantedSet, Probes, build_study

REPO = Path(__file__).resolve().parents[2]

EXPORT_FORMATS = ("xlsx", "csv", "parquet", "qdpx", "qdc", "report")
DASHBOARD_PAGES = ("overview", "themes", "quotes", "topics", "surveys", "review", "good_practice", "export")


class Leaks:
    """Where each plant was found: ``found[plant id] = {location, ...}``."""

    def __init__(self, planted: PlantedSet):
        self.planted = planted
        self.probes = Probes(planted.plants)
        self.found: dict[str, set[str]] = defaultdict(set)
        self.scanned: list[str] = []

    def scan(self, location: str, text: str) -> None:
        self.scanned.append(location)
        for pid in self.probes.hits(text):
            self.found[pid].add(location)

    def mark(self, pid: str, location: str) -> None:
        self.found[pid].add(location)


# =========================================================================== running the toolkit
def cli(leaks: Leaks, name: str, *args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m toolkit ARGS``; its stdout and stderr are scanned as ``log:<name>``."""
    done = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=1800, check=False)
    leaks.scan(f"log:{name}", done.stdout + "\n" + done.stderr)
    if check and done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"`toolkit {' '.join(a for a in args[:3])}` failed ({done.returncode}): {tail}")
    return done


def plant_notes(leaks: Leaks, study: Path, work: Path, env: dict) -> None:
    """Researchers' notes through every door: CSV and REFI-QDA imports (CLI), and the write model."""
    import pandas as pd

    from toolkit import schema as s
    from toolkit.api import Study
    from toolkit.config import load_config
    from toolkit.exchange.refi import write_qdpx
    from toolkit.export.data import load_export_data
    from toolkit.store import Store

    planted = leaks.planted
    config = load_config(study)
    store = Store(config.store_url)
    theme = Study(config, store).codebook.themes[0].id
    notes = {ch: [p for p in planted.of(f"note:{ch}")] for ch in
             ("csv", "qdpx", "comment", "summary", "practice_title", "practice_note", "decision", "topic")}

    # 1. import-codings: each note beside a raw passage (as a researcher copies it from the transcript)
    said = [p for p in planted.of("text:") if p.channel.split(":", 1)[1] in TRANSCRIPT_FILES]
    rows = []
    for plant, passage in zip(notes["csv"], said):
        fmt = passage.channel.split(":", 1)[1]
        place = planted.places[0] if TRANSCRIPT_FILES[fmt].startswith("AG") else planted.places[1]
        rows.append({"text": passage.text, "file": f"{place}/{TRANSCRIPT_FILES[fmt]}", "theme": theme,
                     "polarity": "barrier", "note": plant.text})
    if said:  # a passage that matches no segment (the researcher changed a word): it is reported, not stored
        rows.append({"text": said[0].text.rstrip(".") + " (paraphrased)", "file": "", "theme": theme,
                     "polarity": "barrier", "note": ""})
    codings_csv = work / "ana_codings.csv"
    pd.DataFrame(rows).to_csv(codings_csv, index=False)
    cli(leaks, "import-codings", "-v", "import-codings", str(codings_csv), str(study), "--coder", "ana", env=env)

    # 2. import-qdpx: a project (as NVivo would send it back) whose coded passages carry notes
    data = load_export_data(config, store)
    coded = data.codings[data.codings[s.THEME].notna()][s.SEGMENT_KEY].drop_duplicates().tolist()
    frame = pd.DataFrame([{s.TEXT: p.text, s.AUTHOR: "bo", "target": "selection", s.SEGMENT_KEY: key}
                          for p, key in zip(notes["qdpx"], coded[5:])])
    project = write_qdpx(data, work / "from_nvivo.qdpx", notes=frame)
    cli(leaks, "import-qdpx", "-v", "import-qdpx", str(project), str(study), "--coder", "bo", env=env)

    # 3. the write model's other doors (the dashboard calls the same methods), its log scanned
    capture = io.StringIO()
    handler = logging.StreamHandler(capture)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        study_api = Study(config, store)
        keys = coded[:12]
        for plant, key in zip(notes["comment"], keys):
            study_api.add_comment(plant.text, author="bo", author_role="reviewer", segment_key=key)
        for plant in notes["summary"]:
            study_api.add_summary(row_dimension="place", row_value=planted.places[0], theme=theme, text=plant.text,
                                  author="ana")
        titles, practice_notes = notes["practice_title"], notes["practice_note"]
        for i in range(max(len(titles), len(practice_notes))):
            study_api.curate_practice(keys[2 + i], included=True, author="ana", theme=theme,
                                      title=titles[i].text if i < len(titles) else None,
                                      note=practice_notes[i].text if i < len(practice_notes) else None)
        for plant, key in zip(notes["decision"], keys[4:]):
            study_api.record_decision(key, decision="add", coder="ana", theme=theme, polarity="enabler",
                                      note=plant.text)
        topics = store.table(s.TOPICS)
        numbers = [int(t) for t in topics[s.TOPIC] if int(t) >= 0]
        for plant, topic in zip(notes["topic"], numbers):
            study_api.rename_topic(topic, name=plant.text, author="ana")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    leaks.scan("log:write model", capture.getvalue())
    store.close()


# =========================================================================== scanning outputs
def scan_store(leaks: Leaks, study: Path) -> None:
    """Every column of every table; the store's bytes; the embedding cache's keys; other files under store/."""
    from toolkit.segment import text_hash

    database = study / "store" / "study.sqlite"
    con = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f"pragma table_info('{table}')")]
            for column in columns:
                values = [v for (v,) in con.execute(f'select "{column}" from "{table}"')]
                texts = [v if isinstance(v, str) else v.decode("utf-8", "ignore") if isinstance(v, bytes) and
                         table != "embeddings" else "" for v in values]
                leaks.scan(f"store:{table}.{column}", "\n".join(texts))
        keys = {k for (k,) in con.execute("select text_hash from embeddings")} if "embeddings" in tables else set()
    finally:
        con.close()
    for plant in leaks.planted.of("text:"):  # a cache keyed by a raw sentence's hash would confirm a guess
        forms = [plant.text] + [f"{plant.text} {f}" for f in FILLER]
        if any(text_hash(form) in keys for form in forms):
            leaks.mark(plant.id, "store:embeddings.text_hash (hash of raw text)")
    for path in sorted((study / "store").rglob("*")):
        if path.is_file():
            relative = path.relative_to(study).as_posix()
            kind = "store-file" if path.name.startswith("study.sqlite") else "file"
            leaks.scan(f"{kind}:{relative}", path.read_bytes().decode("utf-8", "ignore"))


def scan_exports(leaks: Leaks, study: Path) -> None:
    """Every export file; zip members (xlsx, docx, qdpx) one by one; parquet read back as well."""
    for path in sorted((study / "exports").rglob("*")):
        if not path.is_file():
            continue
        name = f"export:{path.name}"
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    leaks.scan(f"{name}:{member}", archive.read(member).decode("utf-8", "ignore"))
            continue
        text = path.read_bytes().decode("utf-8", "ignore")
        if path.suffix == ".html":  # the plotly.js library embedded in the page is code, not data
            text = re.sub(r"(?s)<script[^>]*>\s*/\*\*?\s*\*?\s*plotly\.js.*?</script>", "", text)
        leaks.scan(name, text)
        if path.suffix == ".parquet":
            import pandas as pd

            leaks.scan(f"{name} (read)", pd.read_parquet(path).to_csv())


def _walk(node, parts: list[str]) -> None:
    """Every element's text (its protobuf, printed) and every table's cells, depth first."""
    import pandas as pd
    from google.protobuf import text_format

    proto = getattr(node, "proto", None)
    if proto is not None:
        try:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        except Exception as exc:  # noqa: BLE001 - a proto that will not print: say so in the scanned text
            parts.append(f"<unprintable {type(exc).__name__}>")
    try:
        value = node.value
    except Exception:  # noqa: BLE001 - elements without a value
        value = None
    if isinstance(value, pd.DataFrame):
        parts.append(value.to_csv())
    for child in (getattr(node, "children", None) or {}).values():
        _walk(child, parts)


def scan_dashboard(leaks: Leaks, study: Path) -> list[str]:
    """Every dashboard page rendered by AppTest: every element's text, and every table's cells."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(REPO / "dashboards"))
    from access import SESSION_KEY

    from toolkit.auth import User

    os.environ["TOOLKIT_STUDY"] = str(study)
    os.environ.pop("TOOLKIT_AUTH", None)
    problems = []
    for page in DASHBOARD_PAGES:
        at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=300)
        at.session_state[SESSION_KEY] = User("ana", "researcher")
        at.run()
        if page != "overview":
            at.switch_page(f"views/{page}.py")
            at.run()
        if at.exception:
            problems.append(f"{page}: {at.exception[0].message[:200]}")
        parts: list[str] = []
        _walk(at._tree, parts)
        leaks.scan(f"dashboard:{page}", "\n".join(parts))
    return problems


def loose_permissions(study: Path, user_data: Path) -> list[str]:
    """Files and folders the toolkit wrote that others than their owner can read (should be none):
    the store and its folder, the topic model, the exports, the key-location file, the key and its report."""
    import stat

    written = [study / "store", *(study / "store").rglob("*"), study / "exports", *(study / "exports").rglob("*")]
    written += [p for p in user_data.rglob("*") if "keys" in p.parts]
    loose = []
    for path in written:
        if not path.exists() or path.name.endswith(".run.lock"):  # the lock file holds a process id only
            continue
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            loose.append(f"{path.relative_to(study) if study in path.parents else path.name} "
                         f"({stat.S_IMODE(path.stat().st_mode):o})")
    return loose


# =========================================================================== one planted set
def run_set(planted: PlantedSet, work: Path) -> tuple[Leaks, dict]:
    """Build the planted study in ``work``, take it through every door and scan every output.

    Returns the leaks and ``{"timings", "dashboard_problems", "doctor", "study", "loose"}`` (``doctor``:
    the exit code of ``toolkit doctor``, 0 when it has no privacy warning; ``loose``: what
    :func:`loose_permissions` found).
    """
    leaks = Leaks(planted)
    study = build_study(planted, work / "study")
    saved = dict(os.environ)
    env = {**os.environ, "XDG_DATA_HOME": str(work / "user-data"), "PYTHONPATH": str(REPO)}
    env.pop("TOOLKIT_STUDY", None)
    os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"]
    timings = {}
    try:
        started = time.perf_counter()
        cli(leaks, "run", "--debug", "run", str(study), env=env)  # every log line, debug ones too
        timings["run"] = time.perf_counter() - started
        plant_notes(leaks, study, work, env)
        cli(leaks, "topics", "-v", "topics", str(study), "--force", env=env)
        cli(leaks, "run again", "-v", "run", str(study), env=env)
        for fmt in EXPORT_FORMATS:
            cli(leaks, f"export {fmt}", "-v", "export", str(study), "--format", fmt, env=env)
        cli(leaks, "export report html", "-v", "export", str(study), "--format", "report", "--out",
            str(study / "exports" / f"{study.name}.html"), env=env)
        cli(leaks, "status", "-v", "status", str(study), env=env)
        doctor = cli(leaks, "doctor", "-v", "doctor", str(study), env=env, check=False).returncode
        scan_store(leaks, study)
        scan_exports(leaks, study)
        started = time.perf_counter()
        problems = scan_dashboard(leaks, study)
        timings["dashboard"] = time.perf_counter() - started
        loose = loose_permissions(study, work / "user-data")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return leaks, {"timings": timings, "dashboard_problems": problems, "doctor": doctor, "study": study,
                   "loose": loose}
