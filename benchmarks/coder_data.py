"""Data for the coder benchmarks: the gold set with its context, and real coded REFI-QDA projects.

Shared by ``coder_quality.py`` and ``coder_embedders.py``. Nothing here is tuned on the data it reads.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "tests" / "data" / "gold" / "gold_segments.csv"
STUDY = REPO / "interviews"
QDPX = REPO.parent / "shared" / "realfiles" / "qdpx"


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def gold_with_context(path: Path = GOLD, study: Path = STUDY) -> pd.DataFrame:
    """The gold set plus ``prompt`` (the interviewer's preceding question, or the survey question),
    ``previous`` (the sentence before, same turn) and ``source`` (file stem), read from the study's files."""
    from toolkit.config import load_config
    from toolkit.ingest import read_file

    gold = pd.read_csv(path, dtype=str, keep_default_na=False)
    config = load_config(study)
    prompts, previous = [], []
    cache: dict[str, object] = {}
    for row in gold.itertuples():
        file = study / row.file
        if row.file not in cache:
            cache[row.file] = read_file(file, config, interviewers=tuple(config.ingest.interviewers))
        record = cache[row.file]
        text = _norm(row.text)
        prompt, before = "", ""
        if hasattr(record, "turns"):
            turns = list(record.turns)
            for i, turn in enumerate(turns):
                body = _norm(turn.text)
                at = body.find(text[: max(20, min(len(text), 60))])
                if turn.role == "interviewer" or at < 0:
                    continue
                for j in range(i - 1, -1, -1):
                    if turns[j].role == "interviewer":
                        prompt = _norm(turns[j].text)
                        break
                sentences = re.split(r"(?<=[.!?])\s+", body[:at].strip())
                before = sentences[-1] if sentences and sentences[-1] else ""
                break
        else:
            texts = record.texts
            hit = texts[texts["text"].map(_norm).str.contains(re.escape(text[:40]), regex=True)]
            if not hit.empty:
                prompt = str(hit.iloc[0]["question_key"])
                body = _norm(hit.iloc[0]["text"])
                at = body.find(text[:40])
                sentences = re.split(r"(?<=[.!?])\s+", body[:at].strip()) if at > 0 else []
                before = sentences[-1] if sentences else ""
        prompts.append(prompt)
        previous.append(before)
    gold["prompt"] = prompts
    gold["previous"] = previous
    gold["source"] = gold["file"].map(lambda f: Path(f).stem)
    return gold


_RECORD = re.compile(
    r"(?:^|(?<=\n))(?P<group>[\w-]{11})\r?\n(?P<title>[^\r\n]*)\r?\n\d{4}-\d\d-\d\dT[^\r\n]*\r?\n(?P<id>Ug[\w-]+)\r?\n[^\r\n]*\r?\n"
    r"(?P<text>.*?)\r?\n\d+\r?\n\d{4}-\d\d-\d\dT[^\r\n]*(?=\r?\n|\Z)",
    re.MULTILINE | re.DOTALL,
)
"""One comment of a YouTube-comments source (video id, title, date, comment id, author, text, likes, date)."""


def qdpx_study(path: Path) -> tuple[list[dict], pd.DataFrame, dict]:
    """A real coded REFI-QDA project as (codebook themes, coded units, notes).

    Themes: ``id``, ``name``, ``definition`` (its description, may be empty), ``parent``.
    Units: one row per comment the authors coded, with ``group`` (the video it answers: the unit's
    "transcript"), ``prompt`` (the video's title), ``text`` and ``codes`` (code ids whose selections
    fall mostly inside the comment). The project's offsets drift by a few characters from the
    exported text, so a selection goes to the comment it overlaps most (at least half its length).
    """
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.lower().endswith("project.qde"))
        root = etree.fromstring(archive.read(name))
        ns = {"q": root.nsmap.get(None, "urn:QDA-XML:project:1.0")}
        themes = []

        def walk(code, parent):
            guid = code.get("guid")
            desc = code.find("q:Description", ns)
            themes.append({"id": guid, "name": code.get("name"), "parent": parent,
                           "definition": _norm(desc.text) if desc is not None and desc.text else ""})
            for child in code.findall("q:Code", ns):
                walk(child, guid)

        for code in root.find("q:CodeBook/q:Codes", ns).findall("q:Code", ns):
            walk(code, None)
        units, notes = [], {"selections": 0, "matched": 0}
        for source in root.iter(f"{{{ns['q']}}}TextSource"):
            selections = source.findall("q:PlainTextSelection", ns)
            member = source.get("plainTextPath", "").replace("internal://", "Sources/")
            if not selections or member not in archive.namelist():
                continue
            text = archive.read(member).decode("utf-8-sig")
            records = [(m.start("text"), m.end("text"), m) for m in _RECORD.finditer(text)]
            starts = [r[0] for r in records]
            codes: dict[int, set] = {}
            import bisect

            for sel in selections:
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                notes["selections"] += 1
                k = bisect.bisect_right(starts, b) - 1
                best, overlap = None, 0
                for j in range(max(0, k - 3), min(len(records), k + 2)):
                    ra, rb, _ = records[j]
                    o = min(b, rb) - max(a, ra)
                    if o > overlap:
                        best, overlap = j, o
                if best is None or overlap < 0.5 * max(1, b - a) and overlap < 0.5 * (records[best][1] - records[best][0]):
                    continue
                notes["matched"] += 1
                for coding in sel.findall("q:Coding", ns):
                    codes.setdefault(best, set()).add(coding.find("q:CodeRef", ns).get("targetGUID"))
            for j, found in codes.items():
                m = records[j][2]
                units.append({"source": source.get("name"), "group": m.group("group"), "prompt": _norm(m.group("title")),
                              "text": _norm(m.group("text")), "codes": found})
    return themes, pd.DataFrame(units), notes
