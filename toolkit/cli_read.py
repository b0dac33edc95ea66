"""``toolkit read FILE``: parse one transcript or survey and print it, without a study or a store.

A researcher checks a file here before a study uses it (as text, JSON or CSV).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any


def cmd_read(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.ingest import read_file
    from toolkit.schema import Transcript

    config = load_config(args.study) if args.study else None
    record = read_file(args.file, config)
    for warning in record.warnings:
        print(f"note: {args.file.name}: {warning}", file=sys.stderr)
    if isinstance(record, Transcript):
        _print_transcript(record, args.format)
    else:
        _print_survey(record, args.format)
    return 0


def _print_transcript(transcript, fmt: str) -> None:
    frame = transcript.to_frame()
    if fmt == "json":
        out: dict[str, Any] = {
            "file": str(transcript.path),
            "format": transcript.format,
            "encoding": transcript.encoding,
            "speakers": transcript.speakers,
            "warnings": list(transcript.warnings),
            "turns": json.loads(frame.to_json(orient="records")),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        print(
            f"{transcript.path.name}: {transcript.format}, {transcript.encoding}, {len(transcript.turns)} turns, "
            f"speakers: {', '.join(transcript.speakers) or '(none named)'}"
        )
        width = shutil.get_terminal_size((100, 20)).columns
        for turn in transcript.turns:
            when = f"[{_clock(turn.start_time)}] " if turn.start_time is not None else ""
            who = turn.speaker or "-"
            line = f"{turn.index:>4} {when}{who} ({turn.role}): {' '.join(turn.text.split())}"
            print(line if len(line) <= width else line[: width - 3] + "...")


def _print_survey(survey, fmt: str) -> None:
    if fmt == "json":
        out = {
            "file": str(survey.path),
            "vendor": survey.vendor,
            "sheet": survey.sheet,
            "warnings": list(survey.warnings),
            "questions": [
                {"key": q.key, "text": q.text, "kind": q.kind, "position": q.position, "scale": list(q.scale)}
                for q in survey.questions
            ],
            "respondents": json.loads(survey.respondents.to_json(orient="records")),
            "likert": json.loads(survey.likert.to_json(orient="records")),
            "texts": json.loads(survey.texts.to_json(orient="records")),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    wide = survey_wide_frame(survey)
    if fmt == "csv":
        wide.to_csv(sys.stdout, index=False)
        return
    kinds: dict[str, int] = {}
    for q in survey.questions:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    print(
        f"{survey.path.name}: {survey.vendor} export"
        + (f", sheet '{survey.sheet}'" if survey.sheet else "")
        + f", {len(survey.respondents)} respondents, "
        + ", ".join(f"{n} {k}" for k, n in kinds.items())
    )
    for q in survey.questions:
        label = q.key if q.text == q.key else f"{q.key}: {q.text}"
        print(f"  [{q.kind:<17}] {label[:110]}")
    print(f"{len(survey.likert)} Likert answers, {len(survey.texts)} free-text answers.")
    if not wide.empty:
        print(wide.head(10).to_string(index=False, max_colwidth=30))


def survey_wide_frame(survey):
    """One row per respondent: metadata, then every Likert label and free-text answer."""
    import pandas as pd

    from toolkit import schema as s

    base = survey.respondents.drop(columns=[s.ATTRIBUTES], errors="ignore")
    frames = [base.set_index(s.RESPONDENT_KEY)]
    if not survey.likert.empty:
        frames.append(survey.likert.pivot_table(index=s.RESPONDENT_KEY, columns=s.QUESTION_KEY, values=s.LABEL, aggfunc="first"))
    if not survey.texts.empty:
        frames.append(survey.texts.pivot_table(index=s.RESPONDENT_KEY, columns=s.QUESTION_KEY, values=s.TEXT, aggfunc="first"))
    wide = pd.concat(frames, axis=1)
    return wide.reset_index(names=s.RESPONDENT_KEY)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
