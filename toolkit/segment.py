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

import bisect
import hashlib
import re
from collections.abc import Iterable, Iterator
from functools import partial

import pandas as pd

from toolkit import schema as s
from toolkit.nlp_workers import NlpWorkers, cut_batches, read_texts

MIN_WORDS = 4
"""Sentences with fewer words than this are joined to a neighbour."""


def normalise_text(text: str) -> str:
    """A passage's text as anchors compare it: whitespace collapsed, case and curly quotes folded."""
    return " ".join(str(text).replace("\u2019", "'").replace("\u2018", "'").split()).casefold()


def segment_key(source_uid: str, unit: str, text: str, occurrence: int = 0) -> str:
    """A segment's id, anchored by content: the source's uid, the unit it is in, its text, and which occurrence.

    Offsets are left out on purpose: adding a line at the top of a transcript, renaming
    the file (the source keeps its uid) or adding a survey row leaves every other
    segment's key, and so every decision made on it, where it was. ``unit`` is empty for
    transcripts and the question for survey answers; ``occurrence`` tells apart the same
    sentence said twice in one source ("Yes, exactly.").

    Examples
    --------
    >>> segment_key("a1", "", "The charter helped.") == segment_key("a1", "", "The  charter helped. ")
    True
    >>> segment_key("a1", "", "The charter helped.") == segment_key("a1", "", "The charter helped.", 1)
    False
    """
    digest = hashlib.sha1(f"{source_uid}\x1f{unit}\x1f{normalise_text(text)}\x1f{occurrence}".encode()).hexdigest()
    return digest[:16]


def text_hash(text: str) -> str:
    """Hash of a text, used to cache work (embeddings) across runs."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


PROMPT = s.PROMPT
MAX_PROMPT_CHARS = 400


def segment_sources(
    turns: pd.DataFrame,
    answers: pd.DataFrame,
    nlp,
    *,
    min_words: int = MIN_WORDS,
    batch_size: int = 256,
    workers: NlpWorkers | None = None,
) -> pd.DataFrame:
    """The segment stage: split turns and free-text answers into segments with content-anchored keys.

    A pure function of its inputs: the pipeline reads the turns and answers of the sources
    to (re)segment and writes what this returns. See :func:`segment_turns` and
    :func:`segment_answers` for the columns each input needs. With ``workers`` (how worker processes
    load the same pipeline as ``nlp``, see :mod:`toolkit.nlp_workers`), spaCy's pass over both may run in
    worker processes, which send back only each sentence's bounds and lemmas: the segments are the same.
    """
    turn_texts = turns[s.TEXT].tolist() if not turns.empty else []
    answer_texts = answers[s.TEXT].tolist() if not answers.empty else []
    read = read_sentences([turn_texts, answer_texts], nlp, min_words=min_words, batch_size=batch_size,
                          workers=workers)
    frames = [_turn_rows(turns, read[0]), _answer_rows(answers, read[1])]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else _frame([])


def segment_turns(
    turns: pd.DataFrame,
    nlp,
    *,
    min_words: int = MIN_WORDS,
    batch_size: int = 256,
    workers: NlpWorkers | None = None,
) -> pd.DataFrame:
    """Split turns into sentence segments with offsets into their source's text.

    Parameters
    ----------
    turns : columns ``turn_id``, ``source_id``, ``source_uid``, ``start_char``, ``text``,
        ``speaker_role``, in the order of the transcript (``turn_index`` within a source).
    nlp : a spaCy pipeline that sets sentence boundaries (``senter``, ``parser`` or
        ``sentencizer``); see :func:`toolkit.models.load_segmenter`.
    min_words : sentences shorter than this are joined to a neighbour.
    workers : see :func:`segment_sources`.

    Returns
    -------
    One row per segment: ``segment_key``, ``source_id``, ``turn_id``,
    ``text_answer_id`` (empty), ``segment_index``, ``start_char``, ``end_char``,
    ``text``, ``speaker_role``, ``is_evidence``, ``lemmas`` and ``prompt`` (the
    interviewer's last turn before a participant's, as context for coding).

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("en"); _ = nlp.add_pipe("sentencizer")
    >>> turns = pd.DataFrame({"turn_id": [1], "source_id": [1], "source_uid": ["u1"], "start_char": [10],
    ...     "text": ["Yeah. The charter really helped us. But IT is hopeless."], "speaker_role": ["participant"]})
    >>> segment_turns(turns, nlp)[["start_char", "text"]].values.tolist()
    [[10, 'Yeah. The charter really helped us.'], [46, 'But IT is hopeless.']]
    """
    if turns.empty:
        return _frame([])
    read = read_sentences([turns[s.TEXT].tolist()], nlp, min_words=min_words, batch_size=batch_size, workers=workers)
    return _turn_rows(turns, read[0])


def _turn_rows(turns: pd.DataFrame, sentences: list[list[Sentence]]) -> pd.DataFrame:
    rows: list[dict] = []
    if turns.empty:
        return _frame(rows)
    records = turns.to_dict("records")
    seen: dict[tuple[str, str], int] = {}
    prompt_of: dict[object, str | None] = {}
    for turn, spans in zip(records, sentences):
        uid = str(turn[s.SOURCE_UID])
        if turn[s.SPEAKER_ROLE] == s.INTERVIEWER:
            prompt_of[uid] = " ".join(turn[s.TEXT].split())[-MAX_PROMPT_CHARS:]
        base = int(turn[s.START_CHAR])
        for index, (start, end, lemmas) in enumerate(spans):
            text = turn[s.TEXT][start:end]
            occurrence = _occurrence(seen, uid, "", text)
            rows.append(
                {
                    s.SEGMENT_KEY: segment_key(uid, "", text, occurrence),
                    s.SOURCE_ID: turn[s.SOURCE_ID],
                    s.TURN_ID: turn[s.TURN_ID],
                    s.TEXT_ANSWER_ID: None,
                    s.SEGMENT_INDEX: index,
                    s.START_CHAR: base + start,
                    s.END_CHAR: base + end,
                    s.TEXT: text,
                    s.SPEAKER_ROLE: turn[s.SPEAKER_ROLE],
                    s.IS_EVIDENCE: turn[s.SPEAKER_ROLE] == s.PARTICIPANT,
                    s.LEMMAS: lemmas,
                    PROMPT: prompt_of.get(uid) if turn[s.SPEAKER_ROLE] == s.PARTICIPANT else None,
                }
            )
    return _frame(rows)


def segment_answers(answers: pd.DataFrame, nlp, *, min_words: int = MIN_WORDS, batch_size: int = 256,
                    workers: NlpWorkers | None = None) -> pd.DataFrame:
    """Split free-text survey answers into segments; offsets are into the answer's text.

    ``answers`` needs ``text_answer_id``, ``source_id``, ``source_uid``, ``question_key``,
    ``question_text`` and ``text``. A segment's key is anchored by the question and its
    text, not the respondent's row, so adding a row to the survey moves no decision.
    """
    if answers.empty:
        return _frame([])
    read = read_sentences([answers[s.TEXT].tolist()], nlp, min_words=min_words, batch_size=batch_size,
                          workers=workers)
    return _answer_rows(answers, read[0])


def _answer_rows(answers: pd.DataFrame, sentences: list[list[Sentence]]) -> pd.DataFrame:
    rows: list[dict] = []
    if answers.empty:
        return _frame(rows)
    records = answers.to_dict("records")
    seen: dict[tuple[str, str], int] = {}
    for answer, spans in zip(records, sentences):
        uid = str(answer[s.SOURCE_UID])
        unit = str(answer.get(s.QUESTION_KEY) or "")
        question = answer.get(s.QUESTION_TEXT)
        for index, (start, end, lemmas) in enumerate(spans):
            text = answer[s.TEXT][start:end]
            occurrence = _occurrence(seen, uid, unit, text)
            rows.append(
                {
                    s.SEGMENT_KEY: segment_key(uid, unit, text, occurrence),
                    s.SOURCE_ID: answer[s.SOURCE_ID],
                    s.TURN_ID: None,
                    s.TEXT_ANSWER_ID: answer[s.TEXT_ANSWER_ID],
                    s.SEGMENT_INDEX: index,
                    s.START_CHAR: start,
                    s.END_CHAR: end,
                    s.TEXT: text,
                    s.SPEAKER_ROLE: s.PARTICIPANT,
                    s.IS_EVIDENCE: True,
                    s.LEMMAS: lemmas,
                    PROMPT: str(question)[:MAX_PROMPT_CHARS] if isinstance(question, str) and question else None,
                }
            )
    return _frame(rows)


BATCH_CHARS = 50_000
"""Characters of text given to spaCy at once (with at most ``batch_size`` texts): what bounds its memory."""

Sentence = tuple[int, int, str]
"""A segment as spaCy's pass gives it: start and end offsets into the text, and its content lemmas."""


def read_sentences(groups: list[list[str]], nlp, *, min_words: int = MIN_WORDS, batch_size: int = 256,
                   workers: NlpWorkers | None = None) -> list[list[list[Sentence]]]:
    """For each text of each group, its segments' ``(start, end, content lemmas)``: one spaCy pass over all
    the groups (turns and answers), in this process or in worker processes (``workers``).

    Each group is cut into batches as :func:`pipe_bounded` cuts it, and every Doc is read by
    :func:`_read_segments` wherever it was made, so workers change nothing in the result.

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("en"); _ = nlp.add_pipe("sentencizer")
    >>> read_sentences([["Yeah. The charter really helped us."], []], nlp)
    [[[(0, 35, 'yeah charter helped')]], []]
    """
    batches = [batch for texts in groups
               for batch in cut_batches([(text, None) for text in texts], max_chars=BATCH_CHARS, max_texts=batch_size)]
    flat = read_texts(batches, partial(_segments_plan, min_words=min_words), language=lambda: nlp, workers=workers,
                      stage="segmenting (spaCy's sentences and lemmas)")
    out, at = [], 0
    for texts in groups:
        out.append(flat[at:at + len(texts)])
        at += len(texts)
    return out


def _segments_plan(nlp, *, min_words: int):
    """Segmenting runs the whole segmenter and keeps each sentence's bounds and lemmas."""
    return [], partial(_read_segments, min_words=min_words)


def _read_segments(doc, _context, *, min_words: int) -> list[Sentence]:
    return [(start, end, content_lemmas(doc, start, end)) for start, end in _sentence_spans(doc, min_words)]


def pipe_bounded(nlp, texts: list[str], *, batch_size: int = 256, max_chars: int = BATCH_CHARS) -> Iterator:
    """``nlp.pipe`` over ``texts``, in order, in batches of at most ``batch_size`` texts and ``max_chars``
    characters (a longer text goes alone). spaCy annotates each text on its own, so the docs are the same
    as one ``nlp.pipe`` call gives; a batch of long turns no longer takes a gigabyte.

    Examples
    --------
    >>> import spacy
    >>> [d.text for d in pipe_bounded(spacy.blank("en"), ["a b", "c", "d e f"], max_chars=4)]
    ['a b', 'c', 'd e f']
    """
    for batch in cut_batches([(text, None) for text in texts], max_chars=max_chars, max_texts=batch_size):
        yield from nlp.pipe([text for text, _ in batch], batch_size=len(batch))


def _occurrence(seen: dict, uid: str, unit: str, text: str) -> int:
    """How many times this text was already segmented in this source and unit (0 the first time)."""
    key = (uid, unit + "\x1f" + normalise_text(text))
    count = seen.get(key, 0)
    seen[key] = count + 1
    return count


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
    tags = [m.span() for m in PSEUDONYM_TAG.finditer(doc.text)]  # sorted, never overlapping
    starts = [a for a, _ in tags]

    def inside_tag(offset: int) -> bool:  # binary search: linear overall however many tags a turn holds
        i = bisect.bisect_left(starts, offset) - 1
        return i >= 0 and tags[i][0] < offset < tags[i][1]

    for sent in doc.sents:
        text = sent.text.strip()
        if not text:
            continue
        start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
        end = sent.start_char + len(sent.text.rstrip())
        words = sum(1 for token in sent if not (token.is_punct or token.is_space))
        if raw and (inside_tag(start) or inside_tag(raw[-1][1])):
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
        PROMPT,
    ]
    return pd.DataFrame(list(rows), columns=columns)
