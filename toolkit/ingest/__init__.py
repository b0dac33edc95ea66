"""Reading raw files: transcripts and surveys, into records the pipeline can store.

Only this package reads raw files; it never modifies them.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.config import StudyConfig
from toolkit.errors import InputDataError
from toolkit.schema import Survey, Transcript

__all__ = ["read_file", "read_transcript", "read_survey"]


def read_file(path: str | Path, config: StudyConfig | None = None, *, interviewers: tuple[str, ...] = ()) -> Transcript | Survey:
    """Read one transcript or survey file, by its suffix.

    Parameters
    ----------
    path : the file.
    config : the study's settings (encoding, speaker labels, survey overrides); defaults otherwise.
    interviewers : names of this file's interviewers as they appear as speakers.

    Examples
    --------
    >>> from toolkit.ingest import read_file
    >>> t = read_file("interviews/Hollowmere/HM01_programme_lead.txt")  # doctest: +SKIP
    >>> len(t.turns) > 10  # doctest: +SKIP
    True
    """
    from toolkit.ingest.files import kind_of
    from toolkit.ingest.speakers import load_speaker_rules
    from toolkit.ingest.transcripts import REFUSED_SUFFIXES

    path = Path(path)
    if not path.exists():
        raise InputDataError(path, "does not exist.", "Check the path.")
    if path.is_dir():
        raise InputDataError(path, "is a folder, not a file.", "Give one transcript or survey file.")
    kind = kind_of(path)
    if kind is None and path.suffix.lower() in REFUSED_SUFFIXES:
        raise InputDataError(path, REFUSED_SUFFIXES[path.suffix.lower()])
    if kind is None:
        raise InputDataError(
            path,
            f"has the suffix '{path.suffix}', which the toolkit does not read.",
            "Transcripts: .docx, .odt, .pdf (with a text layer), .txt, .vtt, .srt. Surveys: .xlsx, .csv.",
        )
    if kind[0] == "survey":
        return read_survey(path, options=config.surveys if config else None)
    names = tuple(config.ingest.interviewers) if config else ()
    labels = tuple(config.ingest.interviewer_labels) if config else ()
    rules = load_speaker_rules(labels, names + tuple(interviewers))
    encoding = (config.ingest.encoding or None) if config else None
    return read_transcript(path, encoding=encoding, rules=rules)


def read_transcript(path, **kwargs) -> Transcript:
    """See :func:`toolkit.ingest.transcripts.read_transcript`."""
    from toolkit.ingest.transcripts import read_transcript as _read

    return _read(path, **kwargs)


def read_survey(path, **kwargs) -> Survey:
    """See :func:`toolkit.ingest.surveys.read_survey`."""
    from toolkit.ingest.surveys import read_survey as _read

    return _read(path, **kwargs)
