"""The pseudonymisation stage: pure functions the pipeline, the write model and the importers call.

* :func:`pseudonymise_records` - records in (transcripts and surveys with their source paths),
  pseudonymised records out in the same order, with their pseudonymised paths, the updated key
  and the report. No file is read or written: the caller loads the key with
  :func:`~toolkit.pseudonymise.keyfile.load_key` and writes it with
  :func:`~toolkit.pseudonymise.keyfile.key_bytes` once its store writes commit.
* :func:`pseudonymise_text` - free text written by researchers (notes, memos, summaries):
  known people keep their pseudonyms, new identifiers get new ones, the updated key is returned.
* :func:`pseudonymise_path` - a relative path whose file or folder names carry identifiers.
* :func:`pseudonymise_values` - short values about a source (manifest roles, organisation types, attributes).
* :func:`pseudonymise_sources` - the old entry point of ingestion (reads and writes the key
  itself); a thin wrapper over :func:`pseudonymise_records`, kept until ingestion moves over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigError
from toolkit.pseudonymise import apply, keyfile
from toolkit.pseudonymise.mapping import PseudonymKey
from toolkit.pseudonymise.pseudonymiser import Pseudonymiser
from toolkit.pseudonymise.records import (
    PATH_PART,
    SUB_SOURCE,
    Document,
    documents_from_survey,
    documents_from_transcript,
    participant_ids,
)
from toolkit.pseudonymise.report import PseudonymisationReport
from toolkit.schema import Survey, Transcript

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRecord:
    """One record to pseudonymise, with what the manifest says about it.

    ``source`` is the path relative to the study (it fixes the order of numbering and keys the
    speakers' ids); ``place`` prefixes survey respondent ids (``BK_R001``).
    """

    source: str
    record: Transcript | Survey
    interviewers: tuple[str, ...] = ()
    participant_id: str | None = None
    place: str | None = None
    meta: Any = None
    """The manifest's row for the file (a :class:`~toolkit.schema.SourceMeta`): its free-text fields
    (role, organisation type, sector, case attributes) are pseudonymised like the text."""


META_FIELDS = ("role", "organisation_type", "sector")
"""Free-text fields of a manifest row that are pseudonymised (place, ids and dates are the study's own)."""


def meta_texts(meta: Any) -> dict[str, str]:
    """The free-text values of a manifest row that may name someone: ``{field or extra:<name>: text}``."""
    if meta is None:
        return {}
    out = {name: getattr(meta, name) for name in META_FIELDS if isinstance(getattr(meta, name, None), str)}
    extra = getattr(meta, "extra", None) or {}
    out.update({f"extra:{k}": v for k, v in extra.items() if isinstance(v, str)})
    return {k: v for k, v in out.items() if v.strip()}


def _pseudonymised_meta(pseudonymiser: Pseudonymiser, meta: Any, source: str) -> Any:
    texts = meta_texts(meta)
    if not texts:
        return meta
    new = {k: pseudonymiser.transform(v, source=source).text for k, v in texts.items()}
    changes = {k: v for k, v in new.items() if not k.startswith("extra:")}
    extra = getattr(meta, "extra", None)
    if extra:
        changes["extra"] = {k: new.get(f"extra:{k}", v) for k, v in extra.items()}
    return replace(meta, **changes)


@dataclass(frozen=True)
class PseudonymisationResult:
    """What :func:`pseudonymise_records` returns.

    ``records`` are the inputs in the same order and of the same type (a ``ReadSource`` or
    :class:`SourceRecord` with its record replaced, or a bare record); ``paths`` their source
    paths with identifiers replaced; ``key`` the updated key (save it only after the store commit);
    ``report`` the counts and residual-risk list (personal data: keep it with the key).
    """

    records: tuple[Any, ...]
    paths: tuple[str, ...]
    key: PseudonymKey
    report: PseudonymisationReport
    style: str = "tag"
    new_values: int = field(default=0)

    def summary(self) -> dict[str, Any]:
        """Counts only (no raw text): for the run record and the ingest report."""
        return {"enabled": True, "replaced": self.report.totals(), "residual_risks": len(self.report.residuals)}


@dataclass(frozen=True)
class PseudonymisedNote:
    """What :func:`pseudonymise_text` and :func:`pseudonymise_path` return: the new text and the updated key."""

    text: str
    key: PseudonymKey
    replaced: dict[str, int] = field(default_factory=dict)


def pseudonymise_records(
    records: Sequence[Any],
    options: Any,
    *,
    key: PseudonymKey | None = None,
    nlp: Language | None = None,
    names: Iterable[str] = (),
    interviewers: Iterable[str] = (),
    progress: bool = False,
    workers: int | str = 1,
) -> PseudonymisationResult:
    """Pseudonymise every record of a run, consistently with the key. Pure: no file I/O.

    Parameters
    ----------
    records : :class:`SourceRecord` s, ingestion's ``ReadSource`` items (``file.relative``,
        ``file.place``, ``meta``, ``record``), or bare :class:`~toolkit.schema.Transcript` /
        :class:`~toolkit.schema.Survey` records (their ``path`` is the source).
    options : the study's :class:`~toolkit.config.PseudonymisationOptions`.
    key : the study's key so far (``None`` on a first run): every pseudonym in it is kept.
    nlp : a spaCy ``Language`` to use instead of ``options.ner_model``.
    names : more names known to belong to people (the study's interviewers, manifest names).
    interviewers : names of the study's interviewers (they get interviewer ids ``I01``...).
    workers : worker processes for spaCy's pass (``[performance] workers``: ``"auto"`` or a number; 1, the
        default, keeps it in this process). The result is the same either way.

    Returns
    -------
    PseudonymisationResult

    Examples
    --------
    >>> import spacy
    >>> from pathlib import Path
    >>> from toolkit.config import PseudonymisationOptions
    >>> from toolkit.schema import Transcript, Turn
    >>> text = "P1: Ring Aled Pryce on 07700 900123."
    >>> t = Transcript(Path("x.txt"), "txt", text, (Turn(0, "P1", "participant", 4, len(text), text[4:]),))
    >>> result = pseudonymise_records([SourceRecord("BK/Aled Pryce.txt", t)], PseudonymisationOptions(),
    ...                               nlp=spacy.blank("en"), names=("Aled Pryce",))
    >>> result.records[0].record.text, result.paths[0]
    ('P01: Ring [PERSON_01] on [PHONE_01].', 'BK/[PERSON_01].txt')
    """
    items = [_as_source(r) for r in records]
    known = tuple(dict.fromkeys((*options.known_names, *names, *interviewers)))
    pseudonymiser = Pseudonymiser.from_options(options, known_names=known, key=key, nlp=nlp, progress=progress,
                                               workers=workers)
    docs: list[Document] = []
    for item in items:
        record = item.record
        if isinstance(record, Transcript):
            docs.append(documents_from_transcript(
                record, source=item.source, interviewers=tuple(dict.fromkeys((*item.interviewers, *interviewers))),
                participant_ids=participant_ids(record, item.participant_id),
            ))
        else:
            docs.extend(documents_from_survey(record, source=item.source))
        docs.append(Document(f"{item.source}{PATH_PART}", apply.path_document_text(item.source)))
        docs.extend(Document(f"{item.source}#meta:{name}", text) for name, text in meta_texts(item.meta).items())
    pseudonymiser.fit(docs)
    out, paths = [], []
    for original, item in zip(records, items):
        record = item.record
        if isinstance(record, Transcript):
            new = pseudonymiser.transform_transcript(record, source=item.source)
        else:
            prefix = f"{item.place or Path(item.source).stem}_R"
            new = pseudonymiser.transform_survey(record, respondent_prefix=prefix, source=item.source)
        out.append(_with_record(original, new, _pseudonymised_meta(pseudonymiser, item.meta, item.source)))
        paths.append(pseudonymiser.transform_path(item.source))
    return PseudonymisationResult(
        records=tuple(out), paths=tuple(paths), key=pseudonymiser.to_key(), report=pseudonymiser.report(),
        style=options.style, new_values=pseudonymiser.mapping_.new_values,
    )


def pseudonymise_text(
    text: str,
    *,
    key: PseudonymKey | None,
    options: Any,
    nlp: Language | None = None,
    names: Iterable[str] = (),
    source: str = "note",
) -> PseudonymisedNote:
    """Pseudonymise free text written by a researcher (a note, memo, summary, imported comment).

    People and values already in the key keep their pseudonyms; new identifiers get the next
    numbers, and the returned key holds them: the caller saves it with its store write.

    Examples
    --------
    >>> import spacy
    >>> from toolkit.config import PseudonymisationOptions
    >>> options = PseudonymisationOptions()
    >>> first = pseudonymise_text("Aled Pryce rang.", key=None, options=options, nlp=spacy.blank("en"),
    ...                           names=("Aled Pryce",))
    >>> pseudonymise_text("Aled said to call 07700 900123.", key=first.key, options=options,
    ...                   nlp=spacy.blank("en")).text
    '[PERSON_01] said to call [PHONE_01].'
    """
    if not isinstance(text, str):
        raise ConfigError(f"pseudonymise_text: expected a string, found {type(text).__name__}.")
    known = tuple(dict.fromkeys((*options.known_names, *names)))
    p = Pseudonymiser.from_options(options, known_names=known, key=key, nlp=nlp).fit([Document(source, text)])
    out = p.transform(text, source=source)
    return PseudonymisedNote(text=out.text, key=p.to_key(), replaced=out.counts())


def pseudonymise_values(
    values: Sequence[str],
    *,
    key: PseudonymKey | None,
    options: Any,
    nlp: Language | None = None,
    names: Iterable[str] = (),
    source: str = "manifest",
) -> tuple[list[str], PseudonymKey]:
    """Short values written about a source (a manifest's roles, organisation types, text attributes).

    Pseudonymised together and consistently with the key (a person already in it keeps their
    pseudonym); returns the values in the same order and the updated key. Added for issue 15:
    manifest values can hold names.

    Examples
    --------
    >>> import spacy
    >>> from toolkit.config import PseudonymisationOptions
    >>> values, _ = pseudonymise_values(["GP partner", "Deputy to Aled Pryce"], key=None,
    ...                                 options=PseudonymisationOptions(), nlp=spacy.blank("en"), names=("Aled Pryce",))
    >>> values
    ['GP partner', 'Deputy to [PERSON_01]']
    """
    known = tuple(dict.fromkeys((*options.known_names, *names)))
    p = Pseudonymiser.from_options(options, known_names=known, key=key, nlp=nlp)
    docs = [Document(f"{source}{SUB_SOURCE}v{i:05d}", str(v)) for i, v in enumerate(values)]
    p.fit(docs)
    out = [p.transform(str(v), source=doc.source).text for v, doc in zip(values, docs)]
    return out, p.to_key()


def pseudonymise_path(
    relative_path: str,
    *,
    key: PseudonymKey | None,
    options: Any,
    nlp: Language | None = None,
    names: Iterable[str] = (),
) -> PseudonymisedNote:
    """A relative path with identifiers in its file and folder names replaced, consistent with the key.

    Examples
    --------
    >>> import spacy
    >>> from toolkit.config import PseudonymisationOptions
    >>> pseudonymise_path("Brackenford/BK05 Siobhan Ni Dhomhnaill interview.txt", key=None,
    ...                   options=PseudonymisationOptions(), nlp=spacy.blank("en"),
    ...                   names=("Siobhan Ni Dhomhnaill",)).text
    'Brackenford/BK05 [PERSON_01] interview.txt'
    """
    known = tuple(dict.fromkeys((*options.known_names, *names)))
    p = Pseudonymiser.from_options(options, known_names=known, key=key, nlp=nlp)
    p.fit([Document(f"{relative_path}{PATH_PART}", apply.path_document_text(relative_path))])
    return PseudonymisedNote(text=p.transform_path(relative_path), key=p.to_key())


def pseudonymise_sources(
    config: Any, read: list[Any], *, nlp: Language | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """Pseudonymise every record read by ingestion, and write the key and its report (the old entry point).

    A thin wrapper over :func:`pseudonymise_records` with the key read and written here
    (:mod:`~toolkit.pseudonymise.keyfile`); the pipeline calls the pure function instead.

    Parameters
    ----------
    config : the study's :class:`~toolkit.config.StudyConfig`.
    read : ingestion's ``ReadSource`` items (``file.relative``, ``file.place``, ``meta``, ``record``).
    nlp : a spaCy ``Language`` to use instead of the configured pipeline.
    """
    options = config.pseudonymisation
    key_path = config.key_path
    if not read:
        return read, {"enabled": True, "replaced": {}, "residual_risks": 0, "key_path": str(key_path)}
    keyfile.check_key_path(key_path)
    result = pseudonymise_records(
        read, options, key=keyfile.load_key_if_any(key_path), nlp=nlp, names=config.ingest.interviewers
    )
    keyfile.save_key(key_path, result.key, style=options.style)
    report_path = keyfile.save_report(keyfile.report_path(key_path), result.report.to_markdown())
    summary = {**result.summary(), "key_path": str(key_path), "report_path": str(report_path)}
    return list(result.records), summary


def _as_source(item: Any) -> SourceRecord:
    if isinstance(item, SourceRecord):
        return item
    if isinstance(item, (Transcript, Survey)):
        return SourceRecord(str(item.path), item)
    record = getattr(item, "record", None)
    file = getattr(item, "file", None)
    if isinstance(record, (Transcript, Survey)) and file is not None:
        meta = getattr(item, "meta", None)
        return SourceRecord(
            source=str(file.relative),
            record=record,
            interviewers=tuple(getattr(meta, "interviewers", ()) or ()),
            participant_id=getattr(meta, "participant_id", None),
            place=getattr(meta, "place", None) or getattr(file, "place", None),
            meta=meta,
        )
    raise ConfigError(
        "pseudonymise_records: expected SourceRecord, ingestion's ReadSource, Transcript or Survey items, "
        f"found {type(item).__name__}."
    )


def _with_record(original: Any, new: Transcript | Survey, meta: Any = None) -> Any:
    if isinstance(original, (Transcript, Survey)):
        return new
    if isinstance(original, SourceRecord):
        return replace(original, record=new, meta=meta)
    if is_dataclass(original):
        extra = {"meta": meta} if meta is not None and hasattr(original, "meta") else {}
        return replace(original, record=new, **extra)
    raise ConfigError(f"pseudonymise_records: cannot rebuild a {type(original).__name__} item.")  # pragma: no cover
