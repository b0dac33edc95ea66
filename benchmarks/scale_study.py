"""Build a study at the scale of a whole project, for timing the pipeline.

The sample study in ``interviews/`` has 12 interviews and about 110 survey respondents:
too small to say how long a real study (roughly 60 interviews and a few hundred survey
answers, about 25,000 participant sentences) takes to ingest, segment, embed, code and
topic-model. This script writes such a study into a new folder, from three sources:

(a) **Real speech**: the 34 podcast transcripts in ``shared/perfcorpus`` (WebVTT,
    no speaker labels; see its ``SOURCES.md``). Each becomes one interview: its
    sentences are split into turns, questions go to the interviewer and the rest to the
    participant, so participant speech is evidence. Long answers are broken by a short
    prompt. Written as ``.txt``, ``.vtt``, ``.srt`` and ``.docx`` in turn.
(b) **Recombined sample interviews**: the sample study's participant turns, shuffled with
    a seeded RNG and dealt out to new interviews of *other* places, with interviewer
    questions drawn from the sample too, in the sample's formats (txt, vtt, docx, srt).
(c) **Enlarged survey workbooks**: one Microsoft Forms export per place with the sample's
    columns; each new respondent's Likert answers are drawn column by column from that
    place's answers, and each free-text answer joins one to three sentences taken from
    different respondents' answers to the same question.

Every generated name (participants, respondents) is obviously fictional. The podcast text
is GPL-licensed benchmark input: the study is written outside the repository and must
not be committed.

Usage::

    .venv/bin/python benchmarks/scale_study.py /tmp/scale_study              # ~25,000 segments
    .venv/bin/python benchmarks/scale_study.py /tmp/scale_5k --segments 5000

The size is approximate: sentences are counted with a simple splitter here, the toolkit's
segmenter (spaCy ``senter``, short sentences joined) decides the final count.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import PERFCORPUS, SAMPLE_STUDY  # noqa: E402  (honours TOOLKIT_SHARED)

PLACES = ("Brackenford", "Fernmouth", "Hollowmere")
PLACE_CODES = {"Brackenford": "BK", "Fernmouth": "FM", "Hollowmere": "HM"}

SURVEY_SHARE = 0.06
"""Share of the target segments that come from survey free text."""
SAMPLE_SHARE = 0.08
"""Share that comes from recombined sample-study interviews (the rest is real speech)."""
SAMPLE_SENTENCES_PER_INTERVIEW = 80
MIN_WORDS = 4

# Obviously fictional people: nobody is called this.
FIRST_NAMES = (
    "Zebedee", "Marigold", "Peregrine", "Clementina", "Barnaby", "Hortensia", "Ignatius", "Philippa",
    "Rufus", "Tabitha", "Cornelius", "Wilhelmina", "Octavius", "Perpetua", "Lysander", "Euphemia",
)
SURNAMES = (
    "Fictionworth", "Madeupson", "Notreal-Smith", "Testington", "Placeholder", "Pretendle", "Inventova",
    "Sampleby", "Dummyfield", "Nonesuch", "Fakenham-Lyle", "Imaginary",
)
PROMPTS = (
    "Can you say a bit more about that?",
    "How did that work in practice?",
    "What happened next?",
    "Why do you think that was?",
    "Who else was involved in that?",
    "How did people react to that?",
    "And was that the same for everyone?",
    "What would you do differently now?",
    "Could you give me an example?",
    "How long did that take to sort out?",
)
ROLES = (
    ("Local authority", "Local authority", "Supporting Families key worker"),
    ("Local authority", "Local authority", "Early help practitioner"),
    ("Local authority", "Local authority", "Information governance officer"),
    ("Local authority", "Local authority", "Data analyst"),
    ("Community health provider", "Health", "Health visitor"),
    ("Community health provider", "Health", "School nurse"),
    ("GP practice", "Health", "GP partner"),
    ("GP practice", "Health", "Practice manager"),
    ("Mental health trust", "Health", "Safeguarding lead"),
    ("Integrated care board", "Health", "Data protection officer (ICB)"),
)
INTERVIEWERS = ("Rosalind Fairweather", "Tobias Pennywhistle")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


# --------------------------------------------------------------------------- small helpers
def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends (a fast stand-in for the toolkit's segmenter)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def count_units(sentences: list[str]) -> int:
    """Sentences of ``MIN_WORDS`` words or more: what the segmenter will roughly make of them."""
    return sum(len(s.split()) >= MIN_WORDS for s in sentences)


def fictional_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


@dataclass
class Turn:
    role: str  # "interviewer" or "participant"
    text: str
    start: float = 0.0
    end: float = 0.0


@dataclass
class Interview:
    place: str
    participant_id: str
    stem: str
    fmt: str
    turns: list[Turn]
    participant: str
    interviewer: str
    org: tuple[str, str, str]
    date: dt.date


# --------------------------------------------------------------------------- (a) real speech
def _parse_vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    cues = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig")):
        lines = [line for line in block.strip().splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if "-->" in line:
                a, b = (part.strip().split()[0] for part in line.split("-->"))
                text = " ".join(lines[i + 1 :]).strip()
                if text:
                    cues.append((_secs(a), _secs(b), re.sub(r"<[^>]+>", "", text)))
                break
    return cues


def _secs(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _timed_sentences(cues: list[tuple[float, float, str]]) -> list[Turn]:
    """Join cues into one stream, split it into sentences, keep each sentence's time span."""
    text, starts = "", []
    for start, end, body in cues:
        if text:
            text += " "
        starts.append((len(text), start, end))
        text += body
    out: list[Turn] = []
    pos, k = 0, 0
    for sentence in split_sentences(text):
        at = text.find(sentence, pos)
        stop = at + len(sentence)
        while k + 1 < len(starts) and starts[k + 1][0] <= at:
            k += 1
        j = k
        while j + 1 < len(starts) and starts[j + 1][0] < stop:
            j += 1
        out.append(Turn("", sentence, starts[k][1], starts[j][2]))
        pos = stop
    return out


def speech_to_turns(sentences: list[Turn], rng: random.Random, *, budget: int) -> tuple[list[Turn], int]:
    """Questions go to the interviewer, everything else to the participant.

    Participant runs longer than a drawn length (6-25 sentences) are broken by a short
    prompt, as interviewers do. Stops once ``budget`` participant units are written.
    """
    turns: list[Turn] = []
    units = 0
    limit = rng.randint(6, 25)
    for sent in sentences:
        role = "interviewer" if sent.text.endswith("?") else "participant"
        if role == "participant":
            if units >= budget:
                break
            units += len(sent.text.split()) >= MIN_WORDS
        last = turns[-1] if turns else None
        if last is not None and last.role == role and (role == "interviewer" or last.text.count(". ") + 1 < limit):
            last.text += " " + sent.text
            last.end = sent.end
            continue
        if last is not None and last.role == role == "participant":
            # a long answer: the interviewer nudges
            turns.append(Turn("interviewer", rng.choice(PROMPTS), last.end, last.end))
            limit = rng.randint(6, 25)
        turns.append(Turn(role, sent.text, sent.start, sent.end))
    while turns and turns[-1].role == "interviewer":
        turns.pop()
    return turns, units


def real_speech_interviews(corpus: Path, budget: int, rng: random.Random) -> list[tuple[list[Turn], int]]:
    """Podcast transcripts as interviews, in a seeded order, until ``budget`` units."""
    files = sorted(corpus.glob("*.vtt"))
    rng.shuffle(files)
    out = []
    for path in files:
        if budget <= 0:
            break
        turns, units = speech_to_turns(_timed_sentences(_parse_vtt_cues(path)), rng, budget=budget)
        if units:
            out.append((turns, units))
            budget -= units
    return out


# --------------------------------------------------------------------------- (b) recombined sample
def sample_turn_pools(sample: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Participant turns (place, text) and interviewer turns (text) of the sample study."""
    from toolkit.config import load_config
    from toolkit.ingest import read_file
    from toolkit.ingest.manifest import lookup, read_manifest

    config = load_config(sample)
    manifest = read_manifest(sample / "manifest.csv") if (sample / "manifest.csv").is_file() else {}
    participant: list[tuple[str, str]] = []
    interviewer: list[str] = []
    for place in PLACES:
        for path in sorted((sample / place).iterdir()):
            if path.suffix.lower() not in {".txt", ".vtt", ".srt", ".docx"}:
                continue
            meta = lookup(manifest, f"{place}/{path.name}")
            record = read_file(path, config, interviewers=meta.interviewers if meta else ())
            for turn in record.turns:
                text = " ".join(turn.text.split())
                if not text:
                    continue
                if turn.role == "participant":
                    participant.append((place, text))
                elif turn.role == "interviewer":
                    interviewer.append(text)
    return participant, interviewer


def recombined_interviews(
    participant: list[tuple[str, str]], interviewer: list[str], budget: int, rng: random.Random
) -> list[tuple[str, list[Turn], int]]:
    """New interviews from shuffled sample turns: each takes turns from places other than its own."""
    n = max(1, round(budget / SAMPLE_SENTENCES_PER_INTERVIEW))
    per = budget / n
    deck: list[tuple[str, str]] = []
    questions: list[str] = []
    out = []
    for index in range(n):
        place = PLACES[index % len(PLACES)]
        turns: list[Turn] = []
        units = 0
        clock = 3.0
        tries = 0
        while units < per and tries < 10_000:
            tries += 1
            if not deck:
                deck = list(participant)
                rng.shuffle(deck)
            if not questions:
                questions = list(interviewer)
                rng.shuffle(questions)
            origin, text = deck.pop()
            if origin == place and rng.random() < 0.8:
                deck.insert(0, (origin, text))  # prefer turns from the other places
                continue
            for role, body in (("interviewer", questions.pop()), ("participant", text)):
                length = 0.35 * len(body.split()) + 1.0
                turns.append(Turn(role, body, clock, clock + length))
                clock += length + rng.uniform(0.2, 1.5)
            units += count_units(split_sentences(text))
        out.append((place, turns, units))
    return out


# --------------------------------------------------------------------------- writers
def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _labels(interview: Interview, style: str) -> dict[str, str]:
    if style == "names":
        return {"interviewer": interview.interviewer, "participant": interview.participant}
    if style == "ir":
        return {"interviewer": "I", "participant": "R"}
    return {"interviewer": "Interviewer", "participant": "Participant"}


def write_interview(interview: Interview, folder: Path, rng: random.Random) -> Path:
    """Write one interview in its format; speaker labels the ingester recognises."""
    path = folder / f"{interview.stem}.{interview.fmt}"
    if interview.fmt == "vtt":
        labels = _labels(interview, rng.choice(("names", "roles")))
        lines = ["WEBVTT", ""]
        for i, turn in enumerate(interview.turns, 1):
            lines += [f"{i}-0", f"{_stamp(turn.start, '.')} --> {_stamp(max(turn.end, turn.start + 0.5), '.')}"]
            lines += [f"<v {labels[turn.role]}>{turn.text}</v>", ""]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif interview.fmt == "srt":
        labels = _labels(interview, rng.choice(("names", "roles")))
        lines = []
        for i, turn in enumerate(interview.turns, 1):
            lines += [str(i), f"{_stamp(turn.start, ',')} --> {_stamp(max(turn.end, turn.start + 0.5), ',')}"]
            lines += [f"{labels[turn.role]}: {turn.text}", ""]
        path.write_text("\n".join(lines), encoding="utf-8")
    else:
        style = rng.choice(("ir", "roles"))
        labels = _labels(interview, style)
        header = [
            f"Scale study - Interview {interview.participant_id}",
            f"Date: {interview.date:%d %B %Y}",
            f"Duration: {int(interview.turns[-1].end // 60) + 1} minutes",
        ]
        if style == "ir":
            header.append("I = interviewer, R = respondent")
        body = [f"{labels[t.role]}: {t.text}" for t in interview.turns]
        if interview.fmt == "txt":
            path.write_text("\n".join(header) + "\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        else:
            import docx

            document = docx.Document()
            for line in header:
                document.add_paragraph(line)
            for line in body:
                document.add_paragraph(line)
            document.core_properties.author = "Scale study generator"
            document.core_properties.created = dt.datetime(2026, 1, 1)
            document.core_properties.modified = dt.datetime(2026, 1, 1)
            document.save(str(path))
            _freeze_zip(path)
    return path


def _freeze_zip(path: Path) -> None:
    """Give every member of a docx/xlsx the same timestamp, so a rebuild is byte-identical."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            dst.writestr(fixed, data)


# --------------------------------------------------------------------------- (c) surveys
def _survey_rows(path: Path) -> tuple[list, list[list]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return rows[0], [r for r in rows[1:] if any(v not in (None, "") for v in r)]


def _column_kinds(header: list, rows: list[list]) -> dict[int, str]:
    kinds = {}
    for j, name in enumerate(header):
        values = [r[j] for r in rows if j < len(r) and r[j] not in (None, "")]
        text = str(name or "").lower()
        if text in {"id"}:
            kinds[j] = "id"
        elif text in {"email"}:
            kinds[j] = "email"
        elif text in {"name"}:
            kinds[j] = "name"
        elif values and isinstance(values[0], dt.datetime):
            kinds[j] = "time"
        elif values and max(len(str(v)) for v in values) > 60:
            kinds[j] = "free"
        else:
            kinds[j] = "choice"
    return kinds


def write_surveys(sample: Path, out: Path, budget: int, rng: random.Random) -> dict[str, int]:
    """One enlarged Microsoft Forms workbook per place; returns respondents per place."""
    import openpyxl

    books = {}
    for place in PLACES:
        found = sorted((sample / place).glob("survey_*.xlsx"))
        if found:
            books[place] = _survey_rows(found[0])
    if not books:
        return {}
    header = next(iter(books.values()))[0]
    pools: dict[int, list[tuple[str, str]]] = defaultdict(list)  # free column -> (place, sentence)
    answered: dict[int, float] = {}
    per_answer: list[int] = []
    for place, (head, rows) in books.items():
        kinds = _column_kinds(head, rows)
        for j, kind in kinds.items():
            if kind != "free":
                continue
            texts = [str(r[j]) for r in rows if j < len(r) and r[j] not in (None, "")]
            answered[j] = len(texts) / max(1, len(rows))
            for text in texts:
                sentences = split_sentences(" ".join(text.split()))
                per_answer.append(len(sentences))
                pools[j].extend((place, s) for s in sentences)
    kinds = _column_kinds(header, books[next(iter(books))][1])
    free = [j for j, k in kinds.items() if k == "free"]
    units_per_respondent = sum(answered.get(j, 0.0) for j in free) * 2.0  # 1-3 sentences per answer
    smallest = min(len(rows) for _, rows in books.values())
    n_per_place = max(smallest, round(budget / len(books) / max(units_per_respondent, 0.5)))
    counts = {}
    for place, (head, rows) in books.items():
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Form1"
        sheet.append(list(head))
        start = dt.datetime(2026, 1, 12, 9, 0, 0)
        for i in range(1, n_per_place + 1):
            row: list = []
            opened = start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 40))
            for j, kind in kinds.items():
                column = [r[j] for r in rows if j < len(r)]
                if kind == "id":
                    row.append(i)
                elif kind == "time":
                    finished = opened + dt.timedelta(minutes=rng.randint(4, 25))
                    row.append(opened if j == 1 else finished if j == 2 else None)
                elif kind == "email":
                    row.append(f"respondent.{PLACE_CODES.get(place, 'XX').lower()}{i:04d}@example.invalid")
                elif kind == "name":
                    row.append(fictional_name(rng) if rng.random() < 0.3 else None)
                elif kind == "free":
                    if rng.random() > answered.get(j, 0.9) or not pools[j]:
                        row.append(None)
                        continue
                    k = rng.choice((1, 1, 2, 2, 3))
                    picks = []
                    for _ in range(k):
                        origin, sentence = rng.choice(pools[j])
                        if origin != place and rng.random() < 0.5:
                            origin, sentence = rng.choice(pools[j])
                        picks.append(sentence)
                    row.append(" ".join(dict.fromkeys(picks)))
                else:
                    row.append(rng.choice(column) if column else None)
            sheet.append(row)
        path = out / place / f"survey_{place.lower()}.xlsx"
        book.properties.creator = "Scale study generator"
        book.properties.created = dt.datetime(2026, 1, 1)
        book.properties.modified = dt.datetime(2026, 1, 1)
        book.save(str(path))
        _freeze_zip(path)
        counts[place] = n_per_place
    return counts


# --------------------------------------------------------------------------- the study
def _study_toml(sample: Path, n_interviews: int, n_segments: int) -> str:
    source = sample / "study.toml"
    if source.is_file():
        text = source.read_text(encoding="utf-8")
    else:
        text = '[study]\nname = ""\ndescription = ""\nplaces = ["Brackenford", "Fernmouth", "Hollowmere"]\n'
        text += 'manifest = "manifest.csv"\nseed = 42\n'
    name = 'name = "Scale study: the sample study at the size of a whole project (benchmark input)"'
    text = re.sub(r"(?m)^name = .*$", name, text, count=1)
    text = re.sub(
        r'(?m)^description = .*$',
        f'description = "{n_interviews} interviews and three enlarged surveys, about {n_segments} participant '
        "sentences: real podcast speech rewritten as interviews plus the sample study recombined. Generated by "
        'benchmarks/scale_study.py; do not commit."',
        text,
        count=1,
    )
    header = (
        "# Generated by benchmarks/scale_study.py from the sample study and shared/perfcorpus\n"
        "# (GPL-3.0 podcast transcripts: benchmark input only, never commit this folder).\n"
    )
    return header + text


def build_scale_study(
    out_dir: str | Path,
    target_segments: int = 25_000,
    seed: int = 42,
    *,
    sample: str | Path = SAMPLE_STUDY,
    corpus: str | Path | None = PERFCORPUS,
) -> Path:
    """Write a whole-study-sized study folder and return its path.

    Parameters
    ----------
    out_dir : a new or empty folder.
    target_segments : roughly how many participant sentences (evidence segments) to write.
    seed : seeds every random choice; the same arguments give byte-identical files.
    sample : the sample study to recombine (default ``interviews/``).
    corpus : folder of real speech transcripts (``*.vtt``); ``None`` or missing: the sample only.

    Examples
    --------
    >>> study = build_scale_study("/tmp/scale_5k", target_segments=5000)  # doctest: +SKIP
    >>> sorted(p.name for p in study.iterdir())  # doctest: +SKIP
    ['Brackenford', 'Fernmouth', 'Hollowmere', 'manifest.csv', 'study.toml']
    """
    out = Path(out_dir)
    sample = Path(sample)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: give a new or empty folder for the scale study.")
    rng = random.Random(seed)
    for place in PLACES:
        (out / place).mkdir(parents=True, exist_ok=True)

    survey_budget = round(target_segments * SURVEY_SHARE)
    sample_budget = round(target_segments * SAMPLE_SHARE)
    speech_budget = target_segments - survey_budget - sample_budget
    corpus_path = Path(corpus) if corpus else None
    speech: list[tuple[list[Turn], int]] = []
    if corpus_path is not None and any(corpus_path.glob("*.vtt")):
        speech = real_speech_interviews(corpus_path, speech_budget, random.Random(rng.random()))
    else:
        print(f"note: no real speech corpus at {corpus_path}: building from the sample study only", file=sys.stderr)
    written_speech = sum(units for _, units in speech)
    sample_budget += max(0, speech_budget - written_speech)

    participant, interviewer = sample_turn_pools(sample)
    recombined = recombined_interviews(participant, interviewer, sample_budget, random.Random(rng.random()))

    interviews: list[Interview] = []
    numbers: dict[str, int] = defaultdict(int)
    formats = ("txt", "vtt", "docx", "srt")
    order = list(range(len(speech)))
    rng.shuffle(order)
    items = [(PLACES[k % len(PLACES)], speech[i][0]) for k, i in enumerate(order)]
    items += [(place, turns) for place, turns, _ in recombined]
    for k, (place, turns) in enumerate(items):
        numbers[place] += 1
        code = f"{PLACE_CODES[place]}S{numbers[place]:02d}"
        org = rng.choice(ROLES)
        slug = re.sub(r"[^a-z0-9]+", "_", org[2].lower()).strip("_")[:30]
        interviews.append(
            Interview(
                place=place,
                participant_id=code,
                stem=f"{code}_{slug}",
                fmt=formats[k % len(formats)] if k < len(speech) else rng.choice(formats),
                turns=turns,
                participant=fictional_name(rng),
                interviewer=rng.choice(INTERVIEWERS),
                org=org,
                date=dt.date(2026, 2, 2) + dt.timedelta(days=rng.randint(0, 90)),
            )
        )

    rows = []
    for interview in interviews:
        path = write_interview(interview, out / interview.place, rng)
        rows.append(
            {
                "file": f"{interview.place}/{path.name}",
                "participant_id": interview.participant_id,
                "place": interview.place,
                "organisation_type": interview.org[0],
                "sector": interview.org[1],
                "role": interview.org[2],
                "interview_date": interview.date.isoformat(),
                "interviewer": interview.interviewer,
            }
        )
    with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    write_surveys(sample, out, survey_budget, random.Random(rng.random()))
    units = written_speech + sum(u for _, _, u in recombined) + survey_budget
    (out / "study.toml").write_text(_study_toml(sample, len(interviews), units), encoding="utf-8")
    return out


def describe(study: Path) -> str:
    """A one-paragraph summary of what was written (counts only, no text)."""
    files = [p for p in study.rglob("*") if p.is_file() and p.parent != study]
    by_ext: dict[str, int] = defaultdict(int)
    for p in files:
        by_ext[p.suffix.lstrip(".")] += 1
    size = sum(p.stat().st_size for p in files) / 1e6
    kinds = ", ".join(f"{n} {ext}" for ext, n in sorted(by_ext.items()))
    return f"{study}: {len(files)} files ({kinds}), {size:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="a new or empty folder")
    parser.add_argument("--segments", type=int, default=25_000, help="target participant sentences (default 25000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--corpus", type=Path, default=PERFCORPUS, help="folder of real speech .vtt files")
    args = parser.parse_args(argv)
    try:
        study = build_scale_study(args.out, args.segments, args.seed, corpus=args.corpus)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(study))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
