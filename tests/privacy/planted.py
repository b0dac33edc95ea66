"""Planted identifiers: a study built around them, and probes that find them again in any output.

A planted set (``tests/privacy/data/planted_*.toml``) lists identifiers with the sentence or cell
they are written in and the path by which they enter the study (see the files' header).
:func:`build_study` writes a study folder holding every one of them: transcripts in every format
(docx, txt, Teams and Zoom WebVTT, SRT, ODT, text PDF), an xlsx and a csv survey (a ``Respondent``
id column, personal and metadata columns), files and folders named after people, and a
manifest. Researchers' notes are planted later, through the toolkit's own doors, by the leak
benchmark (``benchmarks/privacy_leaks.py``) and the end-to-end test.

:class:`Probes` turns each planted value into the patterns whose presence in an output means it
leaked: distinctive words of names and places (any case, letters on neither side, so
``interview_with_gideon_ashworth`` counts), digits of numbers with any separators, e-mail
local parts, URL paths. Values are never printed by these helpers.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
DEV = DATA / "planted_dev.toml"
HOLDOUT = DATA / "planted_holdout.toml"
HOLDOUT2 = DATA / "planted_holdout2.toml"

FORMATS = ("docx", "txt", "vtt_teams", "vtt_zoom", "srt", "odt", "pdf", "survey_xlsx", "survey_csv")
"""Where planted sentences go, in turn (sentence i goes to ``FORMATS[i % len(FORMATS)]``)."""
TRANSCRIPT_FILES = {
    "docx": "AG01_programme_lead.docx", "txt": "AG02_data_analyst.txt", "vtt_teams": "AG03_health_visiting.vtt",
    "vtt_zoom": "BC01_ig_lead.vtt", "srt": "BC02_school_nursing.srt", "odt": "AG04_gp_partner.odt",
    "pdf": "BC03_social_care.pdf",
}
SURVEY_FILES = {"survey_xlsx": "survey_ashgrove.xlsx", "survey_csv": "survey_bramcote.csv"}
NOTE_CHANNELS = ("csv", "qdpx", "comment", "summary", "practice_title", "practice_note", "decision", "topic")

# Words of a planted value that are not identifying by themselves (kinds of place, titles, filler).
GENERIC = frozenset(["st", "saint", "primary", "school", "junior", "infant", "infants", "academy", "nursery", "high", "college", "c", "of", "e", "the", "and", "surgery", "medical", "practice", "health", "centre", "center", "group", "road", "lane", "street", "gardens", "court", "way", "close", "avenue", "drive", "row", "crescent", "mews", "flat", "park", "hill", "dr", "mrs", "mr", "ms", "miss", "bay", "upper", "lower", "great", "little", "much", "nether", "parva", "new", "old", "north", "south", "east", "west", "big", "our", "hub", "team", "family", "families", "visits", "visit", "home", "to", "with", "interview", "follow", "up", "second", "call", "voicemail", "teams", "zoom", "pa", "secretary"])

# Ordinary sentences that pad the study (no identifiers; none of them holds a probe word).
FILLER = (
    "The data sharing agreement took months to sign because nobody owned it.",
    "Once we sat in the same room, trust came quickly.",
    "The systems do not talk to each other, so we retype everything.",
    "Our information governance lead answers the same day, which helps.",
    "Consent is the thing people worry about most.",
    "We meet every week now and it has changed how we work.",
    "Without a named contact in each team it falls apart.",
    "Staff turnover means we keep starting again from scratch.",
    "The charter gave everyone permission to share what they needed.",
    "GPs are wary of sharing without a clear legal basis.",
    "The secure email rollout made a real difference to us.",
    "Training on the protocol was patchy at first.",
    "Families told us they were tired of repeating their story.",
    "We had no budget for the extra analyst time.",
    "Leadership backing from the director was crucial.",
    "The portal crashed twice in the first month.",
    "Health visitors were the first to see the benefit.",
    "It all depends on relationships in the end.",
)
QUESTIONS = (
    "Could you tell me a bit about your role?", "What has helped?", "And what got in the way?",
    "Can you give me an example?", "How did that feel at the time?", "What would you change?",
    "Who else was involved?", "Anything else you want to add?",
)
LIKERT = ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")
SURVEY_QUESTION = "Please describe what helps or gets in the way of sharing information"
SURVEY_COLUMNS = ("Respondent", "Name", "Email", "Job title", "Organisation", "Team", "Notes from organiser",
                  "Partners in my area share information readily", "I know who to ask about consent",
                  SURVEY_QUESTION)
NEUTRAL = {"Job title": ("Health visitor", "GP", "Social worker", "Data analyst", "School nurse", "Family worker"),
           "Organisation": ("GP practice", "Local authority", "Community health provider", "School"),
           "Team": ("Early Help", "MASH", "Health visiting", "Performance")}


@dataclass(frozen=True)
class Plant:
    """One planted identifier: what it is, how it entered the study, and what finds it again."""

    id: str
    kind: str
    value: str = field(repr=False)
    channel: str
    """``text:<format>``, ``speaker:<format>``, ``path``, ``manifest:<field>``, ``survey:<column>``, ``note:<channel>``."""
    text: str = field(default="", repr=False)
    probes: tuple[str, ...] = field(default=(), repr=False)


@dataclass
class PlantedSet:
    """A planted set, read from its TOML file."""

    name: str
    plants: list[Plant]
    places: tuple[str, ...]
    interviewer: str

    def of(self, prefix: str) -> list[Plant]:
        return [p for p in self.plants if p.channel.startswith(prefix)]


def load_planted(path: Path) -> PlantedSet:
    """Read a planted set; refuse one whose sentences do not hold their values."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    plants: list[Plant] = []

    def add(channel: str, item: dict, text: str = "") -> None:
        held = (text.casefold(), text.replace("_", " ").casefold())
        if text and not any(item["value"].casefold() in h for h in held):
            raise ValueError(f"{path.name}: a {item['kind']} plant's text does not hold its value ({channel})")
        plants.append(Plant(f"{channel}#{len(plants)}", item["kind"], item["value"], channel, text,
                            tuple(item.get("probes", ()))))

    for i, item in enumerate(raw.get("text", [])):
        add(f"text:{FORMATS[i % len(FORMATS)]}", item, item["text"])
    for item in raw.get("speaker", []):
        add(f"speaker:{item['format']}", item)
    for item in raw.get("path", []):
        add("path", item, item["path"])
    for item in raw.get("manifest", []):
        add(f"manifest:{item['field']}", item, item["text"])
    for item in raw.get("survey", []):
        add(f"survey:{item['column']}", item, item["text"])
    for item in raw.get("note", []):
        if item["channel"] not in NOTE_CHANNELS:
            raise ValueError(f"{path.name}: unknown note channel {item['channel']!r}")
        add(f"note:{item['channel']}", item, item["text"])
    return PlantedSet(path.stem.removeprefix("planted_"), plants, tuple(raw["places"]), raw["interviewer"])


# =========================================================================== probes
_NUMBER_KINDS = {"phone", "nhs_number", "bank_card", "sort_code", "account_number"}
_ALNUM_KINDS = {"ni_number", "postcode", "iban"}
_SEP = r"[^\w]{0,3}"


def _digits_pattern(digits: str, *, left: bool = True) -> str:
    body = _SEP.join(digits)
    return (r"(?<!\d)" if left else "") + body + r"(?!\d)"


def probe_patterns(plant: Plant) -> list[str]:
    """Regular expressions whose match in an output means the plant leaked (see the module's notes)."""
    if plant.probes:
        return [_words_pattern(p) for p in plant.probes]
    kind, value = plant.kind, plant.value
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        digits = digits[2:] if value.strip().startswith("+") else digits[4:] if value.strip().startswith("0044") else digits
        return [_digits_pattern(digits.lstrip("0"), left=False)]
    if kind == "sort_code" and not value.isdigit():  # "20-00-00": as written, with any separators
        return [r"(?<![\w.-])" + r"[ .\-]".join(re.findall(r"\d\d", value)) + r"(?![\w-])"]
    if kind in _NUMBER_KINDS:
        return [_digits_pattern(re.sub(r"\D", "", value))]
    if kind in _ALNUM_KINDS:
        chars = re.sub(r"[\s.\-]", "", value)
        return [r"(?i)(?<![0-9a-z])" + r"[\s.\-]{0,2}".join(map(re.escape, chars)) + r"(?![0-9a-z])"]
    if kind == "ip_address":
        return [r"(?i)(?<![\w:.])" + re.escape(value) + r"(?![\w:]|\.\d)"]
    if kind == "date_of_birth":
        if re.fullmatch(r"[\d/.\- ]+", value):
            parts = re.findall(r"\d+", value)
            return [r"(?<!\d)" + r"\W{1,2}".join(parts) + r"(?!\d)"]
        return [_words_pattern(value)]
    if kind == "email":
        local = value.split("@")[0]
        return [_words_pattern(value), _words_pattern(local)] if len(local) >= 3 else [_words_pattern(value)]
    if kind == "url":
        bare = re.sub(r"(?i)^https?://(www\.)?|^www\.", "", value).rstrip("/")
        tail = re.split(r"[/@]", bare)[-1]
        patterns = [_words_pattern(bare)]
        if len(tail) >= 4 and tail != bare:
            patterns.append(_words_pattern(tail))
        return patterns
    words = [w for w in re.split(r"[\s\-,()]+", value) if w]
    words = [re.sub(r"['’]s$", "", w) for w in words]
    keep = [w for w in words if len(w) >= 3 and not w.isdigit() and w.casefold() not in GENERIC]
    return [_words_pattern(w) for w in keep] or [_words_pattern(value)]


def _words_pattern(text: str) -> str:
    """A string matched in any case, with no letter or digit on either side, whitespace as any whitespace."""
    body = r"\s+".join(re.escape(part) for part in text.split())
    return r"(?i)(?<![^\W_])" + body + r"(?![^\W_])"


class Probes:
    """Finds planted values in texts: ``hits(text)`` gives the ids of the plants found."""

    def __init__(self, plants: list[Plant]):
        self.plants = {p.id: p for p in plants}
        self.patterns = [(p.id, re.compile(pattern)) for p in plants for pattern in probe_patterns(p)]

    def hits(self, text: str) -> set[str]:
        if not text:
            return set()
        return {pid for pid, pattern in self.patterns if pattern.search(text)}


# =========================================================================== the study
STUDY_TOML = """[study]
name = "Planted identifiers ({name})"
places = [{places}]
manifest = "manifest.csv"
seed = 7

[ingest]
interviewers = ["{interviewer}"]

[pseudonymisation]
organisations = [{places}]

[topics]
min_cluster_size = 8
"""


def build_study(planted: PlantedSet, folder: Path) -> Path:
    """Write a study folder holding every plant that enters through the raw files; returns the folder.

    Notes (``note:*`` plants) are not written here: they enter after a run, through the toolkit.
    """
    from tests.ingest.hostile import write_odt, write_pdf

    folder.mkdir(parents=True)
    places = planted.places
    quoted = ", ".join(f'"{p}"' for p in places)
    (folder / "study.toml").write_text(
        STUDY_TOML.format(name=planted.name, places=quoted, interviewer=planted.interviewer), encoding="utf-8"
    )
    for place in places:
        (folder / place).mkdir()
    sentences: dict[str, list[str]] = {f: [] for f in FORMATS}
    for plant in planted.of("text:"):
        sentences[plant.channel.split(":", 1)[1]].append(plant.text)
    speakers = {p.channel.split(":", 1)[1]: p.value for p in planted.of("speaker:")}
    manifest_cells = {p.channel.split(":", 1)[1]: p.text for p in planted.of("manifest:")}
    manifest_interviewer = manifest_cells.pop("interviewer", "")
    rows: list[dict[str, str]] = []
    writers = {"docx": _write_docx, "txt": _write_txt, "vtt_teams": _write_teams, "vtt_zoom": _write_zoom,
               "srt": _write_srt, "odt": lambda p, t: write_odt(p, _odt_body(t)),
               "pdf": lambda p, t: write_pdf(p, _pdf_pages(t))}
    for n, (fmt, name) in enumerate(TRANSCRIPT_FILES.items()):
        place = places[0] if name.startswith("AG") else places[1]
        interviewer = manifest_interviewer if fmt == "vtt_zoom" and manifest_interviewer else planted.interviewer
        turns = _turns(sentences[fmt], n, participant=speakers.get(fmt, ""), interviewer=interviewer, fmt=fmt)
        writers[fmt](folder / place / name, turns)
        rows.append({"file": f"{place}/{name}", "participant_id": name[:4], "place": place,
                     "interviewer": interviewer if fmt in ("vtt_teams", "vtt_zoom", "srt") else planted.interviewer})
    for row, (field_name, cell) in zip(rows, manifest_cells.items()):
        row[field_name] = cell
    for n, plant in enumerate(planted.of("path")):
        relative = Path(plant.text)
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        turns = _turns([], 20 + n, participant="", interviewer=planted.interviewer, fmt="txt")
        suffix = relative.suffix.lower()
        if suffix == ".vtt":
            _write_teams(target, _turns([], 20 + n, participant="P1", interviewer="Interviewer", fmt="vtt_teams"))
        else:
            {".txt": _write_txt, ".docx": _write_docx, ".srt": _write_srt,
             ".odt": lambda p, t: write_odt(p, _odt_body(t))}[suffix](target, turns)
        rows.append({"file": relative.as_posix(), "participant_id": f"X{n + 1:02d}", "place": relative.parts[0]})
    _write_manifest(folder / "manifest.csv", rows)
    cells = planted.of("survey:")
    for n, (fmt, name) in enumerate(SURVEY_FILES.items()):
        place = places[n % len(places)]
        _write_survey(folder / place / name, _survey_rows(sentences[fmt], cells, shift=n), fmt=fmt)
    return folder


def _turns(sentences: list[str], seed: int, *, participant: str, interviewer: str, fmt: str) -> list[tuple[str, str]]:
    """Interview turns: a question, then an answer holding a planted sentence and an ordinary one."""
    who = participant or {"txt": "R", "docx": "Participant", "pdf": "Participant", "odt": "P1"}.get(fmt, "P1")
    asks = interviewer if fmt in ("vtt_teams", "vtt_zoom", "srt") else {"txt": "I"}.get(fmt, "Interviewer")
    turns = [(asks, "Thanks for making the time today. " + QUESTIONS[0])]
    fill = [FILLER[(seed * 5 + i) % len(FILLER)] for i in range(max(len(sentences), 3) * 2)]
    for i in range(max(len(sentences), 3)):
        said = f"{sentences[i]} {fill[2 * i]}" if i < len(sentences) else f"{fill[2 * i]} {fill[2 * i + 1]}"
        turns.append((who, said))
        turns.append((asks, QUESTIONS[(i + 1) % len(QUESTIONS)]))
    turns.append((who, "No, I think that covers it."))
    return turns


def _write_txt(path: Path, turns) -> None:
    path.write_text("\n\n".join(f"{who}: {said}" for who, said in turns) + "\n", encoding="utf-8")


def _write_docx(path: Path, turns) -> None:
    import docx

    document = docx.Document()
    for who, said in turns:
        document.add_paragraph(f"{who}: {said}")
    document.save(path)


def _clock(seconds: float, sep: str = ".") -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}".replace(".", sep)


def _write_teams(path: Path, turns) -> None:
    lines = ["WEBVTT", ""]
    for i, (who, said) in enumerate(turns, start=1):
        lines += [f"5a1f0c2e-7d3b-4e8a-9c61-2b7e4d0f{i:04d}/{i}-0", f"{_clock(i * 9.0)} --> {_clock(i * 9.0 + 8.2)}",
                  f"<v {who}>{said}</v>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_zoom(path: Path, turns) -> None:
    lines = ["WEBVTT", ""]
    for i, (who, said) in enumerate(turns, start=1):
        lines += [str(i), f"{_clock(i * 7.5)} --> {_clock(i * 7.5 + 7.0)}", f"{who}: {said}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_srt(path: Path, turns) -> None:
    lines = []
    for i, (who, said) in enumerate(turns, start=1):
        lines += [str(i), f"{_clock(i * 6.0, ',')} --> {_clock(i * 6.0 + 5.5, ',')}", f"{who}: {said}", ""]
    path.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")


def _odt_body(turns) -> str:
    from xml.sax.saxutils import escape

    return "".join(f"<text:p>{escape(who)}: {escape(said)}</text:p>" for who, said in turns)


def _pdf_pages(turns) -> list[list[str]]:
    lines = [f"{who}: {said}" for who, said in turns]
    return [lines[i:i + 40] for i in range(0, len(lines), 40)]


def _write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    columns = ("file", "participant_id", "place", "organisation_type", "sector", "role", "interview_date", "interviewer")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns} | {"interview_date": row.get("interview_date", "2026-03-02")})


def _survey_rows(sentences: list[str], cells: list[Plant], *, shift: int) -> list[list[object]]:
    """Survey rows: planted sentences in the free-text answer, planted cells in their columns, else ordinary values."""
    n = max(len(sentences), len(cells) + shift) + 4
    rows = []
    for i in range(n):
        answer = f"{sentences[i]} {FILLER[i % len(FILLER)]}" if i < len(sentences) else FILLER[(i * 3) % len(FILLER)]
        row: dict[str, object] = {"Respondent": i + 1, "Name": "", "Email": "", "Notes from organiser": "",
                                  "Partners in my area share information readily": LIKERT[i % 5],
                                  "I know who to ask about consent": LIKERT[(i + 2) % 5], SURVEY_QUESTION: answer}
        for column, values in NEUTRAL.items():
            row[column] = values[i % len(values)]
        rows.append(row)
    for i, plant in enumerate(cells):
        column = plant.channel.split(":", 1)[1]
        rows[(i + shift) % n][column] = plant.text
    return [[row.get(c, "") for c in SURVEY_COLUMNS] for row in rows]


def _write_survey(path: Path, rows: list[list[object]], *, fmt: str) -> None:
    if fmt == "survey_csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(SURVEY_COLUMNS)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Form1"
    sheet.append(list(SURVEY_COLUMNS))
    for row in rows:
        sheet.append(row)
    book.save(path)
