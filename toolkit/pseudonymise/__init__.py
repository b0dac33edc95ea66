"""Pseudonymise transcripts and surveys: find identifiers, replace them consistently.

Runs between reading and storing, so raw text never reaches the analysis store. The package
follows the data, in order:

* :mod:`~toolkit.pseudonymise.rules` - patterns and word lists (``toolkit/rules/identifiers.toml``);
* :mod:`~toolkit.pseudonymise.detectors` - small ``find_*`` functions returning :class:`Span` s,
  and :func:`resolve_overlaps`;
* :mod:`~toolkit.pseudonymise.layers` - every detector (and spaCy's NER) run once per text, cached;
* :mod:`~toolkit.pseudonymise.names` - the study's names, their parts, variants and nicknames;
* :mod:`~toolkit.pseudonymise.mapping` - the learnt original -> pseudonym mapping (no file I/O);
* :mod:`~toolkit.pseudonymise.apply` - the spans replaced in a text; transcripts, surveys, paths;
* :mod:`~toolkit.pseudonymise.pseudonymiser` - :class:`Pseudonymiser` (``fit`` / ``transform``);
* :mod:`~toolkit.pseudonymise.report` - counts and the residual-risk list;
* :mod:`~toolkit.pseudonymise.keyfile` - the only module that reads or writes the key;
* :mod:`~toolkit.pseudonymise.stage` - the pure stage :func:`pseudonymise_records`, and
  :func:`pseudonymise_text` / :func:`pseudonymise_path` for notes and file names.

The same person gets the same pseudonym in every file; speakers become participant ids
(``P01``, interviewers ``I01``) unless the manifest gives them. Numbering is deterministic:
documents sorted by source, values numbered by first appearance. Nothing here logs raw text:
log lines carry counts and kinds only. The key and the report are personal data: keep them
out of the store.

Examples
--------
>>> import spacy
>>> from toolkit.pseudonymise import Document, Pseudonymiser
>>> docs = [Document("a.txt", "Ring Cedric Bramblecote on 07700 900123.", names=("Cedric Bramblecote",))]
>>> p = Pseudonymiser(nlp=spacy.blank("en")).fit(docs)
>>> p.transform("Cedric said Bramblecote would ring 07700900123.").text
'[PERSON_01] said [PERSON_01] would ring [PHONE_01].'
"""

from __future__ import annotations

from toolkit.pseudonymise.detectors import (
    Span,
    find_addresses,
    find_context_names,
    find_dates_of_birth,
    find_emails,
    find_entities,
    find_identifiers,
    find_nhs_numbers,
    find_ni_numbers,
    find_phones,
    find_postcodes,
    find_terms,
    find_urls,
    nhs_number_is_valid,
    resolve_overlaps,
)
from toolkit.pseudonymise.keyfile import default_key_path, key_inside_study, load_key, save_key
from toolkit.pseudonymise.mapping import PseudonymKey
from toolkit.pseudonymise.pseudonymiser import Pseudonymiser
from toolkit.pseudonymise.records import (
    Document,
    PseudonymisedText,
    Replacement,
    documents_from_survey,
    documents_from_transcript,
)
from toolkit.pseudonymise.report import PseudonymisationReport
from toolkit.pseudonymise.rules import KINDS, IdentifierRules, load_rules
from toolkit.pseudonymise.stage import (
    PseudonymisationResult,
    PseudonymisedNote,
    SourceRecord,
    pseudonymise_path,
    pseudonymise_records,
    pseudonymise_sources,
    pseudonymise_text,
)

__all__ = [
    "KINDS",
    "Document",
    "IdentifierRules",
    "PseudonymKey",
    "PseudonymisationReport",
    "PseudonymisationResult",
    "PseudonymisedNote",
    "PseudonymisedText",
    "Pseudonymiser",
    "Replacement",
    # the stage (issue 12)
    "SourceRecord",
    "Span",
    "default_key_path",
    "documents_from_survey",
    "documents_from_transcript",
    "find_addresses",
    "find_context_names",
    "find_dates_of_birth",
    "find_emails",
    "find_entities",
    "find_identifiers",
    "find_nhs_numbers",
    "find_ni_numbers",
    "find_phones",
    "find_postcodes",
    "find_terms",
    "find_urls",
    "key_inside_study",
    "load_key",
    "load_rules",
    "nhs_number_is_valid",
    "pseudonymise_path",
    "pseudonymise_records",
    "pseudonymise_sources",
    "pseudonymise_text",
    "resolve_overlaps",
    "save_key",
]
