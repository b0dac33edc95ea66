"""Applying a fitted mapping: which spans of a text are replaced, and the transformed text, transcript or survey.

These functions are the body of :class:`~toolkit.pseudonymise.Pseudonymiser`'s ``transform*``
methods; they take the fitted pseudonymiser and read its learnt state.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from toolkit import schema as s
from toolkit.errors import ConfigError
from toolkit.pseudonymise.detectors import Span, find_identifiers, find_terms, inside, overlaps_any, resolve_overlaps
from toolkit.pseudonymise.mapping import render
from toolkit.pseudonymise.names import sentence_initial
from toolkit.pseudonymise.records import RESPONDENT_TEXT_COLUMNS, PseudonymisedText
from toolkit.pseudonymise.rules import ALWAYS_ON, ORG_KINDS, SHIELDED, SPEAKER
from toolkit.schema import INTERVIEWER, Survey, Transcript

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.pseudonymise.pseudonymiser import Pseudonymiser

log = logging.getLogger(__name__)

STRUCTURED = frozenset({"email", "url", "phone", "nhs_number", "ni_number", "postcode", "date_of_birth", "address",
                        "bank_card", "iban", "sort_code", "account_number", "ip_address"})
"""Kinds whose presence makes a survey attribute value personal (the value is removed)."""


# =========================================================================== spans of a text
def final_spans(p: Pseudonymiser, text: str) -> list[Span]:
    """The spans replaced in ``text``: cached detections + learnt names, overlaps resolved."""
    base, new = p.detector_.spans_for(text)
    names = p.names_
    if new:
        people = [names.lexicon.core(s.text) for s in base if s.kind == "person"]
        names.learn([c for c in people if c not in names])
    entities = p.entities_
    spans = []
    for span in base:
        if span.kind not in entities:
            continue
        if span.kind == "person" and span.detector == "ner":
            span = names.trim_ordinary(span, text)
            if span is None or span.text in names.not_persons or span.text in names.places:
                continue
        spans.append(span)
    if p.replace_organisations:
        spans += [s for s in base if s.kind in ORG_KINDS]
        spans += find_terms(text, p.terms_["organisations"], "organisation")
    elif "person" in entities:  # organisations and places that are not the study's own: always replaced
        spans += [s for s in base if s.kind in ORG_KINDS and s.detector in ALWAYS_ON]
    if "person" in entities:
        spans += names.place_spans(text)
    if "person" in entities:
        spans += names.spans(text)
        spans += find_terms(text, p.terms_["deny"], "person", "deny")
    shields = find_terms(text, p.terms_["shields"], "shield")
    if shields:
        spans = [s for s in spans if not (_hidden_by_shields(s) and inside(s, shields))]
    allow = names.lexicon.allow
    spans = [s for s in spans if not (s.kind in ORG_KINDS and s.text in allow)]
    return resolve_overlaps(spans)


def _hidden_by_shields(span: Span) -> bool:
    """Names, settings and places inside the study's own organisations and allowed phrases are not replaced
    (a denied word always is; organisations themselves are, with ``replace_organisations``)."""
    if span.detector == "deny" or span.kind not in SHIELDED:
        return False
    return span.kind == "person" or span.detector not in ("term", "ner")


def residuals(p: Pseudonymiser, text: str, spans: list[Span]) -> list[tuple[int, int, str, str, bool]]:
    """Capitalised words left in place that may be names: (start, end, token, hint, sentence-initial)."""
    pattern = p.rules_.patterns.get("capitalised_word")
    if pattern is None:
        return []
    lex = p.names_.lexicon
    covered = [(s.start, s.end) for s in spans]
    base, _ = p.detector_.spans_for(text)
    # an organisation spaCy found counts as known when it has an organisation word in it
    # ("Hollowmere Community Health"); "Peregrine Oakhollow" tagged ORG stays a candidate
    known = [(s.start, s.end) for s in base if s.kind in ORG_KINDS and " " in s.text
             and any(w in lex.common or w in lex.allow for w in s.text.split())]
    known += [(s.start, s.end) for s in find_terms(text, p.terms_["shields"], "shield")]
    known += [(s.start, s.end) for s in find_terms(text, p.terms_["organisations"], "organisation")]
    single = {(s.start, s.end): s.kind for s in base if s.kind in ORG_KINDS and " " not in s.text}
    starts = [c[0] for c in covered]
    out = []
    for m in pattern.finditer(text):
        token = m.group()
        if lex.is_ordinary(token) or token in lex.large_places:
            continue
        i = bisect.bisect_right(starts, m.start()) - 1
        if i >= 0 and covered[i][1] > m.start():
            continue
        if any(a <= m.start() and m.end() <= b for a, b in known):
            continue
        hint = single.get((m.start(), m.end()), "")
        out.append((m.start(), m.end(), token, f"spaCy thought: {hint}" if hint else "",
                    sentence_initial(text, m.start())))
    return out


# =========================================================================== replacing
def apply_spans(p: Pseudonymiser, text: str, spans: list[Span], *, source: str = "") -> PseudonymisedText:
    """Replace non-overlapping ``spans`` with their pseudonyms (numbering new values)."""
    mapping = p.mapping_
    before = mapping.new_values
    pseudonyms = []
    for span in spans:
        if span.kind == SPEAKER:
            pseudonyms.append(span.detector)  # the speaker's code travels in ``detector``
        else:
            pseudonyms.append(render(mapping.code_for(span), p.style))
    if mapping.new_values > before:
        mapping.sync_persons()
        log.warning(  # counts only: a raw file name may itself hold a name
            "%d value(s) not seen in fit were given new pseudonyms; save the key again",
            mapping.new_values - before,
        )
    return PseudonymisedText.build(text, spans, pseudonyms, source=source)


def transform_transcript(p: Pseudonymiser, transcript: Transcript, source: str) -> Transcript:
    """A transcript with its text, turns (offsets remapped) and speakers pseudonymised."""
    spans = final_spans(p, transcript.text)
    labels: list[Span] = []
    codes: dict[str, str] = {}
    prev = 0
    for turn in transcript.turns:
        if turn.speaker:
            code = speaker_id(p, source, turn.speaker, turn.role)
            codes[turn.speaker] = code
            gap = transcript.text[prev:turn.start]
            at = gap.rfind(turn.speaker)
            if at >= 0:
                start = prev + at
                labels.append(Span(start, start + len(turn.speaker), SPEAKER, turn.speaker, code))
        prev = max(prev, turn.end)
    if labels:
        spans = sorted([s for s in spans if not overlaps_any(s, labels)] + labels, key=lambda s: s.start)
    out = apply_spans(p, transcript.text, spans, source=source)
    turns = []
    for turn in transcript.turns:
        start = out.map_offset(turn.start, side="left")
        end = out.map_offset(turn.end, side="right")
        turns.append(replace(turn, start=start, end=end, text=out.text[start:end],
                             speaker=codes.get(turn.speaker, turn.speaker) if turn.speaker else turn.speaker))
    warnings = tuple(apply_spans(p, w, final_spans(p, w), source=source).text for w in transcript.warnings)
    return replace(transcript, text=out.text, turns=tuple(turns), warnings=warnings)


def speaker_id(p: Pseudonymiser, source: str, label: str, role: str) -> str:
    """The study id of a speaker label in a source (a new one, with a warning, if fit never saw it)."""
    mapping = p.mapping_
    code = mapping.speakers.get((source, label))
    if code is None:
        if not p.is_speaker_label(label):
            code = mapping.code_of("person", label)
        if code is None:
            code = mapping.speaker_code(label, role == INTERVIEWER, {}, p.is_speaker_label)
            log.warning("a speaker not seen in fit was given a new id; save the key again")  # no file name: it may hold one
        mapping.speakers[(source, label)] = code
    return code


def transform_survey(p: Pseudonymiser, survey: Survey, *, respondent_prefix: str, source: str) -> Survey:
    """A survey with free-text answers, respondent keys and personal columns pseudonymised."""
    if not respondent_prefix:
        raise ConfigError("transform_survey: respondent_prefix must not be empty (e.g. the place's code, 'BK').")
    keys: list[str] = []
    for frame in (survey.respondents, survey.texts, survey.likert, survey.personal):
        if s.RESPONDENT_KEY in frame:
            keys += [str(k) for k in frame[s.RESPONDENT_KEY]]
    ids = p.mapping_.respondent_codes(keys, source, respondent_prefix)

    def rekey(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if s.RESPONDENT_KEY in frame:
            frame[s.RESPONDENT_KEY] = [ids.get(str(k), k) for k in frame[s.RESPONDENT_KEY]]
        return frame

    def text_of(value: Any) -> Any:
        return p.transform(value, source=source).text if isinstance(value, str) else value

    texts = rekey(survey.texts)
    if s.TEXT in texts:
        texts[s.TEXT] = [text_of(t) for t in texts[s.TEXT]]
    respondents = rekey(survey.respondents)
    for column in RESPONDENT_TEXT_COLUMNS:  # "PA to Dr Okafor" in a job-title column
        if column in respondents:
            respondents[column] = [text_of(v) for v in respondents[column]]
    removed = 0
    if s.ATTRIBUTES in respondents:
        cleaned = []
        for attrs in respondents[s.ATTRIBUTES]:
            new, n = _clean_attributes(p, attrs, source)
            cleaned.append(new)
            removed += n
        respondents[s.ATTRIBUTES] = cleaned
    if removed:
        log.info("%s: %d survey attribute value(s) holding personal data removed", source, removed)
    return replace(
        survey,
        respondents=respondents,
        likert=rekey(survey.likert),
        texts=texts,
        personal=survey.personal.iloc[0:0].copy(),
        warnings=tuple(text_of(w) for w in survey.warnings),
    )


def _clean_attributes(p: Pseudonymiser, attrs: Any, source: str) -> tuple[Any, int]:
    if not isinstance(attrs, Mapping):
        return attrs, 0
    words = p.rules_.words.get("personal_attribute_words", ())
    personal_key = re.compile(r"(?i)\b(?:" + "|".join(re.escape(w) for w in words) + r")\b") if words else None
    out = {}
    removed = 0
    for name, value in attrs.items():
        text = value if isinstance(value, str) else None
        if personal_key is not None and personal_key.search(str(name)):
            removed += 1
            continue
        if text is not None:
            stripped = text.strip()
            structured = [sp for sp in find_identifiers(stripped, p.rules_) if sp.kind in STRUCTURED]
            if stripped in p.names_ or ("email", stripped.lower()) in p.mapping_.codes or structured:
                removed += 1
                continue
            out[name] = p.transform(text, source=source).text
        else:
            out[name] = value
    return out, removed


# =========================================================================== file and folder names
_PATH_SEPARATORS = re.compile(r"[_.+\-]")


def path_text(name: str) -> str:
    """A file or folder name with its separators as spaces (same length): ``sarah_thornton.docx`` ->
    ``sarah thornton docx``, so the detectors see its words."""
    return _PATH_SEPARATORS.sub(" ", name)


def path_document_text(path: str) -> str:
    """The text a path is learnt from: each of its parts, separators as spaces, one per line."""
    return "\n".join(path_text(part) for part in re.split(r"[/\\]", path) if part)


_LOWER_PATH_WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")


def lowercase_path_names(p: Pseudonymiser, text: str) -> list[Span]:
    """Words of a file or folder name typed in lower case that the study never writes as words: names
    (``interview_with_gideon_ashworth.docx``). A stop word, a word of the study's text, a word of file
    names (the rules' ``file_name_words``: suffixes, "interview", "feedback"...), a known word or acronym
    (``icb``), a large place or one of the study's places is no name; nor is a word another detector
    already found (a known name's username form). Neighbouring names (one separator apart) make one span."""
    names = p.names_
    lex = names.lexicon
    naming = p.rules_.wordset("file_name_words")
    taken = [s for s in final_spans(p, text)]
    found = []
    for m in _LOWER_PATH_WORD.finditer(text):
        word = m.group()
        title = word.title()
        if (word in lex.stop or word in names.lower_words or word in naming or lex.is_ordinary(title)
                or lex.is_ordinary(word.upper()) or title in lex.large_places or word.upper() in lex.allow
                or overlaps_any(Span(m.start(), m.end(), "person", word), taken)):
            continue
        found.append((m.start(), m.end()))
    spans: list[Span] = []
    for start, end in found:
        if spans and start - spans[-1].end == 1 and text[spans[-1].end] in " _.-":
            start = spans.pop().start
        spans.append(Span(start, end, "person", text[start:end], "capitalised"))
    return spans


def transform_path(p: Pseudonymiser, path: str) -> str:
    """A relative path with the identifiers in its file and folder names replaced; separators are kept.

    Names typed in lower case in a file name are replaced too (see :func:`lowercase_path_names`).
    """
    out = []
    for part in re.split(r"([/\\])", path):
        if not part or part in "/\\":
            out.append(part)
            continue
        spaced = path_text(part)
        spans = final_spans(p, spaced) if spaced != part else []
        seen = {(s.start, s.end) for s in spans}
        spans += [s for s in final_spans(p, part) if (s.start, s.end) not in seen]
        if "person" in p.entities_:
            spans += [s for s in lowercase_path_names(p, spaced) if not overlaps_any(s, spans)]
        # the spaced text names the value ("Siobhan Ni Dhomhnaill"); the original characters are replaced
        out.append(apply_spans(p, part, resolve_overlaps(spans), source="path").text)
    return "".join(out)
