"""Read interview transcripts (.txt, .docx, .odt, .pdf, .vtt, .srt) into speaker turns.

Each reader returns a :class:`~toolkit.schema.Transcript`: the file's plain text
and its turns, with ``turn.text == transcript.text[turn.start:turn.end]``.

Line-based formats (txt, docx, odt, pdf; see :mod:`toolkit.ingest.documents`) keep the file's own text as the plain text, and
speaker labels are recognised in the conventions seen in real data:
``Interviewer:``, ``I:``/``R:``, ``P1:``, ``Name :``, ``[Name]``, ``<v Name>``,
Zoom/Otter speaker lines (``Name  12:34``), Zoom chat (``00:05:16<TAB>Name:<TAB>``).
A label counts as a speaker when it is a conventional role label, a legend
declares it, or it recurs as a name-like label; anything else stays text.
Cue-based formats (vtt, srt) are rendered as one ``Speaker: text`` paragraph per
turn, consecutive cues of one speaker merged, with cue timings on the turns.
"""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.errors import InputDataError
from toolkit.ingest.documents import docx_lines, odt_lines, pdf_lines
from toolkit.ingest.encoding import read_text_file
from toolkit.ingest.limits import LIMITS, Limits, check_size
from toolkit.ingest.speakers import SpeakerRules, assign_roles, load_speaker_rules, normalise_label
from toolkit.schema import INTERVIEWER, OTHER, PARTICIPANT, Transcript, Turn

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".txt": "txt", ".docx": "docx", ".odt": "odt", ".pdf": "pdf", ".vtt": "vtt", ".srt": "srt"}
REFUSED_SUFFIXES = {
    ".doc": "is an old binary Word file. Open it in Word or LibreOffice and save it as .docx.",
    ".rtf": "is Rich Text Format, which is not read yet. Save it as .docx or .txt.",
}
_DOCUMENTS = {"docx": docx_lines, "odt": odt_lines, "pdf": pdf_lines}

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_TS_PREFIX = rf"(?:[\[(]?(?P<ts>{_TS})[\])]?\s+)?"
_TS_ONLY = re.compile(rf"^\s*[\[(]?({_TS})[\])]?\s*$")
_VOICE = re.compile(rf"^\s*{_TS_PREFIX}<v(?:\.[^\s>]*)?\s+(?P<label>[^>]+)>(?P<text>.*)$")
_BRACKET = re.compile(
    rf"^\s*{_TS_PREFIX}\[(?P<label>[^\]\n]{{1,40}})\](?:\s*[\[(](?P<ts2>{_TS})[\])])?(?:\s+|$)(?P<text>.*)$"
)
_COLON = re.compile(
    rf"^\s*{_TS_PREFIX}(?P<label>[^:\n\[\]<>\t]{{1,48}}?)\s?:(?:[ \t]+|$)"
    rf"(?:[\[(](?P<ts2>{_TS})[\])]\s*)?(?P<text>.*)$"
)
_CHAT = re.compile(rf"^(?P<ts>{_TS})\t(?P<label>[^\t\n]{{1,60}}?):?\t(?P<text>.*)$")
_SPEAKER_LINE = re.compile(rf"^(?P<label>[^\d\s:\[\]<>][^:\n\[\]<>]{{0,47}}?)(?:\s{{2,}}|\s*\t)(?P<ts>{_TS})\s*$")
_ANNOTATIONS = re.compile(
    r"(?i)(cross\s*-?talk|laugh\w*|inaudible|pause\w*|silence|unclear|overlap\w*|cough\w*|sigh\w*|music|applause|"
    r"background noise|interrupt\w*|redacted|break|recording\w*|end of \w+|\d+ seconds? \w+|[\d.]+\s*s)"
)


def read_transcript(
    path: str | Path,
    *,
    encoding: str | None = None,
    rules: SpeakerRules | None = None,
    limits: Limits = LIMITS,
) -> Transcript:
    """Read one transcript file, choosing the reader by its suffix.

    Parameters
    ----------
    path : a ``.txt``, ``.docx``, ``.odt``, ``.pdf`` (with a text layer), ``.vtt`` or ``.srt`` file.
    encoding : force a text encoding (default: detect).
    rules : speaker-label rules (default: the built-in ones).
    limits : size limits (default :data:`toolkit.ingest.limits.LIMITS`).

    Examples
    --------
    >>> t = read_transcript("interviews/Brackenford/BK03_data_analyst.txt")  # doctest: +SKIP
    >>> t.turns[0].speaker, t.turns[0].role  # doctest: +SKIP
    ('I', 'interviewer')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise InputDataError(path, REFUSED_SUFFIXES[suffix])
    fmt = TRANSCRIPT_SUFFIXES.get(suffix)
    if fmt is None:
        raise InputDataError(
            path,
            f"has the suffix '{suffix}', which is not a transcript format.",
            f"Transcripts must be one of {', '.join(TRANSCRIPT_SUFFIXES)}.",
        )
    rules = rules or load_speaker_rules()
    if fmt in _DOCUMENTS:
        lines, warnings = _DOCUMENTS[fmt](path, limits=limits)
        record = _from_lines(path, fmt, "\n".join(lines), "utf-8", rules, paragraphs=fmt != "pdf")
        if fmt == "pdf" and not any(t.speaker for t in record.turns):
            raise InputDataError(
                path,
                "has text but no speaker labels ('Interviewer:', 'P1:', 'Name:'), so it does not read as an "
                "interview transcript (a consent form, an information sheet or a report, perhaps).",
                "If it is not a transcript, add it to [ingest] exclude in study.toml (for example \"*consent*\"); if "
                "it is one, export it as .docx or .txt (unlabelled text is read there as one participant).",
            )
    else:
        check_size(path, limits.max_text_bytes, "a text transcript")
        text, used = read_text_file(path, encoding=encoding)
        warnings = []
        if fmt == "txt" and not text.lstrip().startswith("WEBVTT"):
            record = _from_lines(path, "txt", text, used, rules)
        else:
            cues = _parse_srt(text, path) if fmt == "srt" else _parse_vtt(text, path)
            record = _from_cues(path, fmt, cues, used, rules)
    turns, split = _split_long_turns(record.turns, limits.max_turn_chars)
    if split:
        warnings.append(
            f"{split} turn(s) longer than {limits.max_turn_chars:,} characters were split at sentence ends "
            "(same speaker); check that the file really is one transcript with its line breaks"
        )
    if warnings or split:
        record = replace(record, turns=turns, warnings=tuple(warnings) + record.warnings)
    return record


def _split_long_turns(turns: tuple[Turn, ...], limit: int) -> tuple[tuple[Turn, ...], int]:
    """Cut turns longer than ``limit`` characters at the last sentence end (else space) before it.

    A turn of megabytes is not speech but a file without line breaks; every later
    step (pseudonymisation, sentence splitting) works per turn, so bounding turns bounds
    their cost. Offsets stay exact: each piece is a slice of the turn.
    """
    if all(t.end - t.start <= limit for t in turns):
        return turns, 0
    out: list[Turn] = []
    split = 0
    for turn in turns:
        if turn.end - turn.start <= limit:
            out.append(replace(turn, index=len(out)))
            continue
        split += 1
        text, offset = turn.text, 0
        while offset < len(text):
            cut = len(text) if len(text) - offset <= limit else _cut_point(text, offset, limit)
            piece = text[offset:cut]
            lead = len(piece) - len(piece.lstrip())
            body = piece.strip()
            if body:
                start = turn.start + offset + lead
                out.append(replace(turn, index=len(out), start=start, end=start + len(body), text=body))
            offset = cut
    return tuple(out), split


_SENTENCE_END = re.compile(r"[.?!\u2026][\"'\u201d\u2019)\]]*\s")


def _cut_point(text: str, offset: int, limit: int) -> int:
    window = text[offset + limit // 2 : offset + limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends:
        return offset + limit // 2 + ends[-1]
    space = window.rfind(" ")
    return offset + limit // 2 + space + 1 if space >= 0 else offset + limit


# --------------------------------------------------------------------------- line formats
@dataclass
class _Line:
    start: int  # offset of the line in the text
    end: int  # offset after the line's last non-space character
    kind: str  # blank | ts | label | speaker | text | comment
    label: str | None = None
    text_start: int = 0
    ts: float | None = None


def _classify(text: str) -> list[_Line]:
    out = []
    pos = 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw.rstrip())
        pos += len(raw) + 1
        if not raw.strip():
            out.append(_Line(start, start, "blank"))
            continue
        if raw.lstrip().startswith("#"):
            out.append(_Line(start, end, "comment", text_start=start))
            continue
        if len(raw) <= _TS_ONLY_CHARS and (m := _TS_ONLY.match(raw)):
            out.append(_Line(start, end, "ts", ts=_seconds(m.group(1))))
            continue
        line = _match_label(raw, start, end)
        out.append(line or _Line(start, end, "text", text_start=start + len(raw) - len(raw.lstrip())))
    return out


# A label sits at the start of its line: the patterns only ever look at the line's head,
# so a line of megabytes costs no more than a short one (whitespace runs made the
# speaker-line pattern backtrack over the whole line: 3.6 s per MB of tabs).
_HEAD_CHARS = 240
_TS_ONLY_CHARS = 40
_SPEAKER_LINE_CHARS = 120


def _match_label(raw: str, start: int, end: int) -> _Line | None:
    head = raw[:_HEAD_CHARS]
    for pattern, kind in ((_CHAT, "label"), (_VOICE, "label"), (_BRACKET, "label"), (_COLON, "label")):
        m = pattern.match(head)
        if m:
            label = m.group("label").strip()
            if pattern is _BRACKET and _ANNOTATIONS.fullmatch(label):
                return None
            ts = m.groupdict().get("ts") or m.groupdict().get("ts2")
            text_start = start + m.start("text")
            line_end = end
            if pattern is _VOICE and raw.rstrip().endswith("</v>"):
                line_end = start + len(raw.rstrip()) - 4
            return _Line(start, line_end, kind, label, text_start, _seconds(ts) if ts else None)
    if len(raw) <= _SPEAKER_LINE_CHARS and (m := _SPEAKER_LINE.match(raw)):
        return _Line(start, end, "speaker", m.group("label").strip(), end, _seconds(m.group("ts")))
    return None


def _accepted_labels(lines: list[_Line], text: str, rules: SpeakerRules, legend: dict[str, str]) -> set[str]:
    counts = Counter(normalise_label(line.label) for line in lines if line.kind in ("label", "speaker"))
    # a bare name line followed by a timestamp line (Zoom "Save transcript")
    for i, line in enumerate(lines[:-1]):
        if line.kind == "text" and lines[i + 1].kind == "ts":
            raw_label = text[line.start : line.end].strip()
            if rules.looks_like_name(raw_label):
                line.kind, line.label, line.text_start = "speaker", raw_label, line.end
                counts[normalise_label(raw_label)] += 1
    accepted = set()
    for label, n in counts.items():
        if not label or rules.is_metadata_key(label) or _ANNOTATIONS.fullmatch(label):
            continue
        if label in legend or rules.is_conventional(label):
            accepted.add(label)
        elif n >= 2 and rules.looks_like_name(label):
            accepted.add(label)
    return accepted


def _from_lines(
    path: Path, fmt: str, text: str, encoding: str, rules: SpeakerRules, *, paragraphs: bool = False
) -> Transcript:
    """Turns of a line-based transcript.

    ``paragraphs`` says each line is a paragraph (Word, OpenDocument), not a wrapped
    line of one: when only the interviewer is labelled, the text after an interviewer's
    paragraph is the participant's answer.
    """
    lines = _classify(text)
    legend: dict[str, str] = {}
    for line in lines[:40]:
        if line.kind in ("text", "label", "comment"):
            legend.update(rules.legend_roles(text[line.start : line.end]))
    accepted = _accepted_labels(lines, text, rules, legend)
    warnings: list[str] = []
    if not accepted:
        turns = _paragraph_turns(text, lines)
        if not turns:
            raise InputDataError(path, "holds no text.", "Check that the export is not empty.")
        warnings.append("no speaker labels found: each paragraph is one turn of an unnamed participant")
        return Transcript(path, fmt, text, tuple(turns), encoding, tuple(warnings))

    lone = _lone_interviewer(lines, text, accepted, rules, legend)
    if lone:
        legend = {**legend, **{label: INTERVIEWER for label in lone}}
    turns: list[Turn] = []
    current: dict | None = None  # the speaker turn being built
    other: dict | None = None  # a run of non-dialogue lines before the dialogue
    dialogue_started = False
    answers = 0  # unlabelled participant turns made when only the interviewer is labelled

    def close_current():
        nonlocal current
        if current is not None and current["end"] > current["start"]:
            turns.append(_turn(len(turns), current, text))
        current = None

    def close_other():
        nonlocal other
        if other is not None:
            turns.append(_turn(len(turns), other, text))
        other = None

    def start_answer(line: _Line):
        nonlocal current, answers
        close_current()
        answers += 1
        start = line.text_start if line.kind == "text" else line.start
        current = {"speaker": None, "role": PARTICIPANT, "start": start, "end": line.end, "time": None}

    for line in lines:
        label = normalise_label(line.label) if line.label else None
        asking = bool(lone) and current is not None and current["speaker"] is not None
        if line.kind in ("label", "speaker") and label in accepted:
            value = text[line.text_start : line.end].strip()
            if not dialogue_started and _is_header(label, value, rules, line.kind):
                close_other()
                other = {"speaker": None, "role": OTHER, "start": line.start, "end": line.end, "time": None}
                close_other()
                continue
            close_other()
            close_current()
            dialogue_started = True
            start = line.text_start
            while start < line.end and text[start] in " \t":
                start += 1
            current = {
                "speaker": label,
                "role": None,
                "start": start,
                "end": line.end if line.end > start else start,
                "time": line.ts,
                "last_time": line.ts,
            }
        elif line.kind == "ts":
            if current is not None:
                if current["end"] <= current["start"] and current["time"] is None:
                    current["time"] = line.ts
                current["last_time"] = line.ts
        elif line.kind == "blank":
            close_other()
            if asking:
                close_current()  # the interviewer's paragraph ends; what follows is the answer
        elif asking and current["end"] > current["start"] and (paragraphs or _asks(text, current)):
            start_answer(line)
        elif current is not None:
            if current["end"] <= current["start"]:
                current["start"] = line.text_start if line.kind == "text" else line.start
            current["end"] = line.end
        elif lone and dialogue_started:
            start_answer(line)
        else:
            if other is None:
                other = {"speaker": None, "role": OTHER, "start": line.start, "end": line.end, "time": None}
            else:
                other["end"] = line.end
    close_other()
    close_current()
    if not any(t.role != OTHER for t in turns):
        raise InputDataError(path, "has speaker labels but no speech after them.", "Check the export.")
    if lone and not answers:
        warnings.append(
            f"only the interviewer is labelled ({', '.join(repr(x) for x in sorted(lone))}) and there is no "
            "unlabelled text between their turns, so this transcript has no participant speech to code. Label the "
            "participant's turns (for example 'P1:') and run again"
        )
    turns, role_warnings = assign_roles(turns, rules, legend=legend)
    warnings.extend(role_warnings)
    return Transcript(path, fmt, text, tuple(turns), encoding, tuple(warnings))


def _lone_interviewer(
    lines: list[_Line], text: str, accepted: set[str], rules: SpeakerRules, legend: dict[str, str]
) -> set[str]:
    """The labels, when every labelled speaker is an interviewer (the participant's text is unlabelled).

    Also one named speaker of unknown role whose turns are mostly questions: a moderator
    labelled by name, with the participant's answers unlabelled between them.
    """
    roles = {label: legend.get(label) or rules.role_of_label(label) for label in accepted}
    if all(role == INTERVIEWER for role in roles.values()):
        return set(accepted)
    if len(accepted) == 1 and None in roles.values():
        (label,) = accepted
        said = [
            text[line.text_start : line.end].strip()
            for line in lines
            if line.kind in ("label", "speaker") and normalise_label(line.label or "") == label
        ]
        said = [x for x in said if x]
        if said and sum("?" in x for x in said) * 2 >= len(said):
            return {label}
    return set()


def _asks(text: str, turn: dict) -> bool:
    """The turn so far ends with a question mark: the next line is its answer."""
    return text[turn["start"] : turn["end"]].rstrip().endswith("?")


def _is_header(label: str, value: str, rules: SpeakerRules, kind: str) -> bool:
    """'Interviewer: Dr Rosalind Fairweather' before the dialogue is a header, not a turn."""
    if kind != "label" or not value:
        return False
    if rules.looks_like_name(value, min_words=2):
        return True
    return len(value.split()) <= 4 and not value.endswith((".", "?", "!", ",")) and bool(rules.role_of_label(label))


def _turn(index: int, spec: dict, text: str) -> Turn:
    start, end = spec["start"], spec["end"]
    return Turn(
        index=index,
        speaker=spec["speaker"],
        role=spec["role"] or PARTICIPANT,
        start=start,
        end=end,
        text=text[start:end],
        start_time=spec.get("time"),
        end_time=None,
    )


def _paragraph_turns(text: str, lines: list[_Line]) -> list[Turn]:
    turns: list[Turn] = []
    start = end = None
    for line in lines + [_Line(len(text), len(text), "blank")]:
        if line.kind == "blank":
            if start is not None:
                turns.append(Turn(len(turns), None, PARTICIPANT, start, end, text[start:end]))
            start = end = None
        elif line.kind not in ("ts",):
            begin = line.start + (len(text[line.start : line.end]) - len(text[line.start : line.end].lstrip()))
            start = begin if start is None else start
            end = line.end
    return turns


# --------------------------------------------------------------------------- cue formats
@dataclass
class _Cue:
    start: float | None
    end: float | None
    text: str
    speaker: str | None = None


_TIMING = re.compile(
    r"^\s*(?P<s>(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)\s*-->\s*(?P<e>(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)"
)
_TAG = re.compile(r"<[^>]*>")
_SSA = re.compile(r"\{\\[^}]*\}")
_VOICE_TAG = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")


def _parse_vtt(text: str, path: Path) -> list[_Cue]:
    body = text.lstrip("\ufeff").lstrip()
    if not body.startswith("WEBVTT"):
        raise InputDataError(
            path,
            "is not a WebVTT file: its first line should be 'WEBVTT'.",
            "Export the transcript again as .vtt, or rename it if it is really .srt or .txt.",
        )
    blocks = re.split(r"\n[ \t]*\n", body)
    cues = []
    for block in blocks[1:]:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines or lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        cue = _cue_from_lines(lines)
        if cue is not None:
            cues.append(cue)
    return cues


def _parse_srt(text: str, path: Path) -> list[_Cue]:
    blocks = re.split(r"\n[ \t]*\n", text.lstrip("\ufeff").strip())
    cues = []
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        cue = _cue_from_lines(lines) if lines else None
        if cue is not None:
            cues.append(cue)
    if not cues and text.strip():
        raise InputDataError(
            path,
            "has no subtitle cues ('00:00:01,000 --> 00:00:02,000' lines).",
            "Check that it is an .srt export; a plain transcript should be saved as .txt.",
        )
    return cues


def _cue_from_lines(lines: list[str]) -> _Cue | None:
    for i, line in enumerate(lines[:3]):
        m = _TIMING.match(line)
        if m:
            body = lines[i + 1 :]
            break
    else:
        return None
    speaker = None
    parts = []
    for line in body:
        voice = _VOICE_TAG.search(line)
        if voice and speaker is None:
            speaker = normalise_label(voice.group(1))
        clean = html.unescape(_SSA.sub("", _TAG.sub("", line))).strip()
        if clean:
            parts.append(clean)
    text = " ".join(parts).strip()
    if not text:
        return None
    return _Cue(_seconds(m.group("s")), _seconds(m.group("e")), text, speaker)


_CUE_COLON = re.compile(r"^(?P<label>[^:\[\]]{1,48}?)\s?:\s+(?P<text>.*)$")
_CUE_BRACKET = re.compile(r"^\[(?P<label>[^\]]{1,40})\]\s*(?P<text>.*)$")


def _cue_speakers(cues: list[_Cue], rules: SpeakerRules) -> None:
    """Find speakers given as 'Name: text' or '[Name] text' prefixes inside cues."""
    if any(c.speaker for c in cues):
        return
    for pattern in (_CUE_COLON, _CUE_BRACKET):
        found = [(c, pattern.match(c.text)) for c in cues]
        counts = Counter(m.group("label").strip() for _, m in found if m)
        good = {
            label
            for label, n in counts.items()
            if not _ANNOTATIONS.fullmatch(label)
            and not rules.is_metadata_key(label)
            and (rules.is_conventional(label) or (n >= 2 and rules.looks_like_name(label)))
        }
        if good:
            for cue, m in found:
                if m and m.group("label").strip() in good:
                    cue.speaker = m.group("label").strip()
                    cue.text = m.group("text").strip()
            return


def _from_cues(path: Path, fmt: str, cues: list[_Cue], encoding: str, rules: SpeakerRules) -> Transcript:
    warnings: list[str] = []
    cues = _drop_rolling_repeats(cues)
    if not cues:
        raise InputDataError(path, "has no cues with text.", "Check that the export is not empty.")
    _cue_speakers(cues, rules)
    has_speakers = any(c.speaker for c in cues)
    if not has_speakers:
        warnings.append("no speakers named in the cues: consecutive cues are joined into paragraphs")
    groups: list[list[_Cue]] = []
    for cue in cues:
        if groups and _same_turn(groups[-1], cue, has_speakers):
            groups[-1].append(cue)
        else:
            groups.append([cue])
    pieces: list[str] = []
    turns: list[Turn] = []
    pos = 0
    for group in groups:
        speaker = group[0].speaker
        if pieces:
            pieces.append("\n\n")
            pos += 2
        prefix = f"{speaker}: " if speaker else ""
        body = " ".join(c.text for c in group)
        pieces.append(prefix + body)
        start = pos + len(prefix)
        pos += len(prefix) + len(body)
        turns.append(Turn(len(turns), speaker, PARTICIPANT, start, pos, body, group[0].start, group[-1].end))
    text = "".join(pieces)
    turns, role_warnings = assign_roles(turns, rules)
    warnings.extend(role_warnings)
    return Transcript(path, fmt, text, tuple(turns), encoding, tuple(warnings))


def _same_turn(group: list[_Cue], cue: _Cue, has_speakers: bool) -> bool:
    last = group[-1]
    if has_speakers:
        return cue.speaker == last.speaker
    gap = (cue.start or 0) - (last.end or 0)
    length = sum(len(c.text) for c in group)
    return gap <= 2.0 and not (length > 600 and last.text.endswith((".", "?", "!")))


def _drop_rolling_repeats(cues: list[_Cue]) -> list[_Cue]:
    """YouTube auto-captions repeat the previous cue's line at the start of the next."""
    out: list[_Cue] = []
    for cue in cues:
        if out and cue.speaker == out[-1].speaker:
            prev = out[-1].text
            if cue.text == prev:
                out[-1].end = cue.end
                continue
            if cue.text.startswith(prev + " ") and len(prev) > 10:
                cue.text = cue.text[len(prev) + 1 :]
        out.append(cue)
    return out


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.replace(",", ".").split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for n in numbers:
        seconds = seconds * 60 + n
    return round(seconds, 3)
