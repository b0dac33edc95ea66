"""What the pseudonymiser reads and returns: documents to learn from, and texts with their replacements.

A transcript is one :class:`Document`; a survey is several (its personal values, each
free-text answer, each text attribute). :class:`PseudonymisedText` is a text after
replacement, with where each replacement went (to remap offsets).
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from toolkit import schema as s
from toolkit.errors import ConfigError
from toolkit.pseudonymise.detectors import Span
from toolkit.schema import INTERVIEWER, OTHER, Survey, Transcript

SUB_SOURCE = "#"
"""Separates a file's source from the part of it (a survey answer): ``survey.xlsx#t000012``."""
RESPONDENT_TEXT_COLUMNS = (s.ROLE, s.ORGANISATION_TYPE)
"""Survey respondents' grouping columns written as free text ("PA to Dr Okafor"): pseudonymised like answers."""
PATH_PART = f"{SUB_SOURCE}path"
"""The source suffix under which a record's own path is learnt (``Brackenford/BK05.txt#path``)."""


@dataclass(frozen=True)
class Document:
    """One text to learn from: a transcript, or one answer of a survey.

    Parameters
    ----------
    source : where it comes from (a path relative to the study); documents are
        processed sorted by source, which fixes the numbering of pseudonyms.
    text : the plain text.
    speakers : the speaker labels used in it (``"Interviewer"``, ``"P1"``, ``"Sarah Thornton"``).
    interviewers : which of the speakers, or which names, are the study's interviewers.
    participant_ids : speaker label (or name) -> study id, from the manifest (``{"P1": "HM01"}``).
    names : names and e-mails known to belong to people (survey name/e-mail columns).
    """

    source: str
    text: str
    speakers: tuple[str, ...] = ()
    interviewers: tuple[str, ...] = ()
    participant_ids: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """One replacement: ``original`` at ``[start, end)`` became ``pseudonym`` at ``[new_start, new_end)``."""

    start: int
    end: int
    new_start: int
    new_end: int
    kind: str
    pseudonym: str
    original: str = field(repr=False)


@dataclass(frozen=True)
class PseudonymisedText:
    """A text after pseudonymisation, with what was replaced and where.

    Examples
    --------
    >>> out = PseudonymisedText.build("Hi Jo!", [Span(3, 5, "person", "Jo")], ["[PERSON_01]"])
    >>> out.text, out.map_offset(5), out.map_offset(4, side="right")
    ('Hi [PERSON_01]!', 14, 14)
    """

    text: str
    replacements: tuple[Replacement, ...]
    original_length: int
    source: str = ""

    @classmethod
    def build(
        cls, text: str, spans: Sequence[Span], pseudonyms: Sequence[str], *, source: str = ""
    ) -> PseudonymisedText:
        """Apply non-overlapping ``spans`` (sorted) with their ``pseudonyms``."""
        parts: list[str] = []
        replacements = []
        pos = 0
        new_pos = 0
        for span, pseudonym in zip(spans, pseudonyms):
            if span.start < pos:
                raise ValueError("spans overlap; resolve them first")
            parts.append(text[pos:span.start])
            new_pos += span.start - pos
            replacements.append(
                Replacement(span.start, span.end, new_pos, new_pos + len(pseudonym), span.kind, pseudonym,
                            text[span.start:span.end])
            )
            parts.append(pseudonym)
            new_pos += len(pseudonym)
            pos = span.end
        parts.append(text[pos:])
        return cls("".join(parts), tuple(replacements), len(text), source)

    def map_offset(self, offset: int, *, side: str = "left") -> int:
        """Where an offset of the original text lies in the new text.

        An offset inside a replaced span goes to the start of its pseudonym
        (``side="left"``, for the start of a range) or its end (``side="right"``).
        """
        if not 0 <= offset <= self.original_length:
            raise ValueError(f"offset {offset} is outside the original text (0..{self.original_length})")
        starts = [r.start for r in self.replacements]
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return offset
        r = self.replacements[i]
        if offset >= r.end:
            return r.new_end + offset - r.end
        if offset == r.start:
            return r.new_start
        return r.new_start if side == "left" else r.new_end

    def counts(self) -> dict[str, int]:
        """Number of replacements by kind."""
        return dict(Counter(r.kind for r in self.replacements))


def documents_from_transcript(
    transcript: Transcript,
    *,
    source: str | None = None,
    interviewers: Sequence[str] = (),
    participant_ids: Mapping[str, str] | None = None,
) -> Document:
    """A :class:`Document` for a transcript: its text, speakers, and who interviews.

    Speakers whose turns have the interviewer role count as interviewers, with the
    names given in ``interviewers`` (from the manifest).
    """
    turn_interviewers = tuple(t.speaker for t in transcript.turns if t.speaker and t.role == INTERVIEWER)
    return Document(
        source=source if source is not None else str(transcript.path),
        text=transcript.text,
        speakers=tuple(transcript.speakers),
        interviewers=tuple(dict.fromkeys((*turn_interviewers, *interviewers))),
        participant_ids=dict(participant_ids or {}),
    )


def documents_from_survey(survey: Survey, *, source: str | None = None) -> list[Document]:
    """Documents for a survey: one holding its personal values (names, e-mails) as
    ``names``, one per free-text answer, one per text attribute value."""
    src = source if source is not None else str(survey.path)
    names: list[str] = []
    if s.TEXT in survey.personal:
        names = [str(v).strip() for v in survey.personal[s.TEXT] if isinstance(v, str) and v.strip()]
    docs = [Document(source=src, text="", names=tuple(dict.fromkeys(names)))]
    if s.TEXT in survey.texts:
        for i, text in enumerate(survey.texts[s.TEXT]):
            if isinstance(text, str) and text.strip():
                docs.append(Document(source=f"{src}{SUB_SOURCE}t{i:06d}", text=text))
    for column in RESPONDENT_TEXT_COLUMNS:
        if column in survey.respondents:
            for i, value in enumerate(survey.respondents[column]):
                if isinstance(value, str) and value.strip():
                    docs.append(Document(source=f"{src}{SUB_SOURCE}r{i:06d}:{column}", text=value))
    if s.ATTRIBUTES in survey.respondents:
        for i, attrs in enumerate(survey.respondents[s.ATTRIBUTES]):
            if isinstance(attrs, Mapping):
                for name, value in attrs.items():
                    if isinstance(value, str) and value.strip():
                        docs.append(Document(source=f"{src}{SUB_SOURCE}a{i:06d}:{name}", text=value))
    return docs


def participant_ids(transcript: Transcript, participant_id: str | None) -> dict[str, str]:
    """The manifest's participant id for a transcript's participant speaker(s)."""
    if not participant_id:
        return {}
    labels = list(dict.fromkeys(
        t.speaker for t in transcript.turns if t.speaker and t.role not in (INTERVIEWER, OTHER)
    ))
    if len(labels) == 1:
        return {labels[0]: participant_id}
    return {label: f"{participant_id}-{i}" for i, label in enumerate(labels, start=1)}


def as_documents(documents: Iterable[Document | Transcript | Survey]) -> list[Document]:
    """Documents for a list of records, sorted by source (which fixes the numbering of pseudonyms)."""
    if isinstance(documents, (Document, Transcript, Survey, str)):
        raise ConfigError("Pseudonymiser.fit: pass a list of documents, not a single one.")
    docs: list[Document] = []
    for item in documents:
        if isinstance(item, Document):
            docs.append(item)
        elif isinstance(item, Transcript):
            docs.append(documents_from_transcript(item))
        elif isinstance(item, Survey):
            docs.extend(documents_from_survey(item))
        else:
            raise ConfigError(
                f"Pseudonymiser.fit: expected Document, Transcript or Survey records, found {type(item).__name__}."
            )
    return sorted(docs, key=lambda d: (d.source, text_hash(d.text)))


def text_hash(text: str) -> str:
    """SHA-256 of a text: the key of the span cache."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
