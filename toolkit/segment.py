"""Split turns and free-text answers into coding units (segments).

The unit is one sentence. A sentence is where a practitioner makes one claim with
one polarity ("the charter helped", "but the systems don't talk"), so it is the
smallest span a theme and a polarity can be given to without mixing them; windows
of several sentences blur exactly the barrier/enabler contrasts the study is after.
Very short sentences ("Yeah.", "Mm-hmm.", "Right, so.") carry no claim of their own
and are joined to the sentence that follows them in the same turn (or to the one
before, at the end of a turn), so every unit is readable as a quote.

Interviewer turns are segmented too and kept for context, but marked as not
evidence (``is_evidence = False``): they are never coded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import pandas as pd

from toolkit import schema as s

MIN_WORDS = 4
"""Sentences with fewer words than this are joined to a neighbour."""


def segment_key(source_path: str, start: int, end: int, text: str) -> str:
    """A stable id for a segment: the same span of the same source gets the same key on every run."""
    digest = hashlib.sha1(f"{source_path}\x1f{start}\x1f{end}\x1f{text}".encode()).hexdigest()
    return digest[:16]


def text_hash(text: str) -> str:
    """Hash of a text, used to cache work (embeddings) across runs."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def segment_turns(
    turns: pd.DataFrame,
    nlp,
    *,
    min_words: int = MIN_WORDS,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Split turns into sentence segments with offsets into their source's text.

    Parameters
    ----------
    turns : columns ``turn_id``, ``source_id``, ``path``, ``start_char``, ``text``,
        ``speaker_role`` (as read from the store).
    nlp : a spaCy pipeline that sets sentence boundaries (``senter``, ``parser`` or
        ``sentencizer``); see :func:`toolkit.models.load_segmenter`.
    min_words : sentences shorter than this are joined to a neighbour.

    Returns
    -------
    One row per segment: ``segment_key``, ``source_id``, ``turn_id``,
    ``text_answer_id`` (empty), ``segment_index``, ``start_char``, ``end_char``,
    ``text``, ``speaker_role``, ``is_evidence``.

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("en"); _ = nlp.add_pipe("sentencizer")
    >>> turns = pd.DataFrame({"turn_id": [1], "source_id": [1], "path": ["a.txt"], "start_char": [10],
    ...     "text": ["Yeah. The charter really helped us. But IT is hopeless."], "speaker_role": ["participant"]})
    >>> segment_turns(turns, nlp)[["start_char", "text"]].values.tolist()
    [[10, 'Yeah. The charter really helped us.'], [46, 'But IT is hopeless.']]
    """
    rows: list[dict] = []
    if turns.empty:
        return _frame(rows)
    texts = turns[s.TEXT].tolist()
    records = turns.to_dict("records")
    for turn, doc in zip(records, nlp.pipe(texts, batch_size=batch_size)):
        spans = _sentence_spans(doc, min_words)
        base = int(turn[s.START_CHAR])
        for index, (start, end) in enumerate(spans):
            text = turn[s.TEXT][start:end]
            rows.append(
                {
                    s.SEGMENT_KEY: segment_key(turn[s.PATH], base + start, base + end, text),
                    s.SOURCE_ID: turn[s.SOURCE_ID],
                    s.TURN_ID: turn[s.TURN_ID],
                    s.TEXT_ANSWER_ID: None,
                    s.SEGMENT_INDEX: index,
                    s.START_CHAR: base + start,
                    s.END_CHAR: base + end,
                    s.TEXT: text,
                    s.SPEAKER_ROLE: turn[s.SPEAKER_ROLE],
                    s.IS_EVIDENCE: turn[s.SPEAKER_ROLE] == s.PARTICIPANT,
                    s.LEMMAS: content_lemmas(doc, start, end),
                }
            )
    return _frame(rows)


def segment_answers(answers: pd.DataFrame, nlp, *, min_words: int = MIN_WORDS, batch_size: int = 256) -> pd.DataFrame:
    """Split free-text survey answers into segments; offsets are into the answer's text.

    ``answers`` needs ``text_answer_id``, ``source_id``, ``path`` and ``text``.
    """
    rows: list[dict] = []
    if answers.empty:
        return _frame(rows)
    records = answers.to_dict("records")
    for answer, doc in zip(records, nlp.pipe(answers[s.TEXT].tolist(), batch_size=batch_size)):
        for index, (start, end) in enumerate(_sentence_spans(doc, min_words)):
            text = answer[s.TEXT][start:end]
            rows.append(
                {
                    s.SEGMENT_KEY: segment_key(f"{answer[s.PATH]}#{answer[s.TEXT_ANSWER_ID]}", start, end, text),
                    s.SOURCE_ID: answer[s.SOURCE_ID],
                    s.TURN_ID: None,
                    s.TEXT_ANSWER_ID: answer[s.TEXT_ANSWER_ID],
                    s.SEGMENT_INDEX: index,
                    s.START_CHAR: start,
                    s.END_CHAR: end,
                    s.TEXT: text,
                    s.SPEAKER_ROLE: s.PARTICIPANT,
                    s.IS_EVIDENCE: True,
                    s.LEMMAS: content_lemmas(doc, start, end),
                }
            )
    return _frame(rows)


LEMMA_FIXES = {"datum": "data", "medium": "media"}
"""Lemmas the English model gets wrong for this domain ("data" is not the plural of "datum" here)."""


def content_lemmas(doc, start: int, end: int) -> str:
    """Lower-case lemmas of the content words in ``doc.text[start:end]``, space-separated.

    Stop words, punctuation, numbers and words under three letters are left out;
    the topic model's keywords are counted over these (one spaCy pass, at segmenting).
    A pipeline without a lemmatizer gives lower-case words.
    """
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return ""
    words = []
    for token in span:
        if not token.is_alpha or token.is_stop or len(token.text) < 3:
            continue
        lemma = (token.lemma_ or token.text).lower()
        lemma = LEMMA_FIXES.get(lemma, lemma)
        if len(lemma) > 2 and not doc.vocab[lemma].is_stop:
            words.append(lemma)
    return " ".join(words)


PSEUDONYM_TAG = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*_\d+\]")
"""A pseudonymisation tag such as ``[PERSON_07]``: never split between two segments."""


def _sentence_spans(doc, min_words: int) -> list[tuple[int, int]]:
    """Character spans of sentences, short ones joined to a neighbour.

    A sentence boundary the model puts inside a pseudonym tag ("...and [" / "PHONE_05], was
    wrong") is removed: the two halves are one sentence.
    """
    raw: list[list[int]] = []  # [start, end, words]
    tags = [m.span() for m in PSEUDONYM_TAG.finditer(doc.text)]
    for sent in doc.sents:
        text = sent.text.strip()
        if not text:
            continue
        start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
        end = sent.start_char + len(sent.text.rstrip())
        words = sum(1 for token in sent if not (token.is_punct or token.is_space))
        if raw and any(a < start < b or a < raw[-1][1] < b for a, b in tags):
            raw[-1][1] = end
            raw[-1][2] += words
            continue
        raw.append([start, end, words])
    spans: list[list[int]] = []
    pending: int | None = None  # start of short sentences waiting for the next one
    for start, end, words in raw:
        if pending is not None:
            start = pending
            pending = None
        if words < min_words:
            pending = start
            continue
        spans.append([start, end])
    if pending is not None:
        end = len(doc.text.rstrip())
        if spans:
            spans[-1][1] = end
        elif end > pending:
            spans.append([pending, end])
    return [(a, b) for a, b in spans]


def _frame(rows: Iterable[dict]) -> pd.DataFrame:
    columns = [
        s.SEGMENT_KEY,
        s.SOURCE_ID,
        s.TURN_ID,
        s.TEXT_ANSWER_ID,
        s.SEGMENT_INDEX,
        s.START_CHAR,
        s.END_CHAR,
        s.TEXT,
        s.SPEAKER_ROLE,
        s.IS_EVIDENCE,
        s.LEMMAS,
    ]
    return pd.DataFrame(list(rows), columns=columns)
