"""The layered detector: every detector run once per distinct text, its spans tidied and cached.

Layers, high recall by design:

1. patterns (:mod:`~toolkit.pseudonymise.detectors`, :mod:`~toolkit.pseudonymise.numbers`,
   :mod:`~toolkit.pseudonymise.organisations`): numbers checked by their checksums, addresses,
   names from context (titles, "my son X", "called X"), schools, practices, employers, places after a cue;
2. a spaCy pipeline's named entities (and its proper-noun tags);
3. the capitalised-word rule (:mod:`~toolkit.pseudonymise.capitalised`) for whatever the others left.

Names the study already knows (speakers, manifest, settings, name variants) are added later, by
:class:`~toolkit.pseudonymise.names.NameBook`, in every text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from toolkit.nlp_workers import NlpWorkers, cut_batches, read_texts
from toolkit.pseudonymise.capitalised import CAPITALISED, find_capitalised, find_shouted
from toolkit.pseudonymise.detectors import Span, find_entities, find_identifiers, find_terms, inside
from toolkit.pseudonymise.names import Lexicon
from toolkit.pseudonymise.organisations import PLACE_CUE, SETTING
from toolkit.pseudonymise.records import text_hash
from toolkit.pseudonymise.rules import ORG_KINDS, SHIELDED, IdentifierRules

if TYPE_CHECKING:
    from spacy.language import Language


class SpanDetector:
    """Finds candidate spans in texts and caches them by the text's hash (``spans``).

    Parameters
    ----------
    rules, lexicon : the identifier rules and the word lists that tell names from words.
    language : a function returning the spaCy pipeline (called once, when first needed).
    progress : show a progress bar while names are found.
    lower_words, inside : the words seen in lower case in the study, and capitalised inside sentences
        (for the capitalised-word rule).
    shields : the study's own organisations and allowed phrases: no name, place or setting is found inside them.
    extend : grows a person span over the name before it (:meth:`~toolkit.pseudonymise.names.NameBook.extend_back`),
        given the text, the span and where spaCy's proper nouns start.
    workers : how worker processes load the same pipeline as ``language`` and how many may run spaCy's pass
        (:mod:`toolkit.nlp_workers`); ``None``: it runs in this process. The spans are the same either way.
    """

    def __init__(self, rules: IdentifierRules, lexicon: Lexicon, *, language: Callable[[], Language],
                 progress: bool = False, lower_words: Collection[str] = (), inside: Collection[str] = (),
                 shields: re.Pattern | None = None, extend: Callable[..., Span] | None = None,
                 workers: NlpWorkers | None = None):
        self.rules = rules
        self.lexicon = lexicon
        self.language = language
        self.progress = progress
        self.lower_words = lower_words
        self.inside = inside
        self.shields = shields
        self.extend = extend
        self.workers = workers
        self.capitalised = bool(rules.heuristics.get("capitalised_words", True))
        self.spans: dict[str, tuple[Span, ...]] = {}

    def detect(self, texts: Mapping[str, str]) -> None:
        """Run every detector once per distinct text (``{hash: text}``); cache the spans by hash."""
        rules = self.rules
        hashes = list(texts)
        # organisations found by NER also guide the residual-risk report, so NER always runs
        tagged = self.ner([texts[h] for h in hashes]) if hashes else []
        for h, (entities, proper_nouns) in zip(hashes, tagged):
            text = texts[h]
            spans = self._clean_spans(text, find_identifiers(text, rules) + entities)
            if self.capitalised:
                claimed = [s for s in spans if s.detector != "ner" or s.kind == "person"]
                found = find_capitalised(text, self.lexicon, claimed=claimed, entities=entities,
                                         lower_words=self.lower_words, proper_nouns=proper_nouns,
                                         inside=self.inside)
                spans += self._clean_spans(text, found)
                spans += find_shouted(text, self.lexicon, claimed=spans, lower_words=self.lower_words)
            if self.extend is not None:
                spans = [self.extend(text, s, proper_nouns) if s.kind == "person" else s for s in spans]
            shields = find_terms(text, self.shields, "shield")
            if shields:
                spans = [s for s in spans if not (_shielded(s) and inside(s, shields))]
            self.spans[h] = tuple(spans)

    def spans_for(self, text: str) -> tuple[tuple[Span, ...], bool]:
        """The cached spans of a text, detecting them first when the text is new (then ``True``)."""
        h = text_hash(text)
        if h in self.spans:
            return self.spans[h], False
        self.detect({h: text})
        return self.spans[h], True

    def ner(self, texts: list[str]) -> list[tuple[list[Span], set[int] | None]]:
        """spaCy's entities in each text (long texts in pieces), as spans, and where its proper nouns
        start (``None`` when the pipeline has no tagger).

        The pieces go to ``nlp.pipe`` shortest first, in batches (:func:`length_batches`), in this process or
        in worker processes (``workers``) that send back only these spans and offsets (:func:`ner_plan`).
        """
        out: list[tuple[list[Span], set[int] | None]] = [([], None) for _ in texts]
        limit = int(self.rules.numbers["ner_chunk_chars"])
        chunks = [(chunk, (i, off)) for i, text in enumerate(texts) for off, chunk in _chunks(text, limit)]
        if not chunks:
            return out
        batches = length_batches(chunks)
        plan = partial(ner_plan, rules=self.rules)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(chunks), desc="finding names", unit="chunk")
        try:
            readings = read_texts(batches, plan, language=self.language, workers=self.workers,
                                  stage="finding names (spaCy's named entities)",
                                  progress=bar.update if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        for (_, (i, _off)), (entities, proper_nouns) in zip((item for b in batches for item in b), readings):
            out[i][0].extend(entities)
            if proper_nouns is not None:
                found = out[i][1]
                out[i] = (out[i][0], proper_nouns if found is None else found | proper_nouns)
        return out

    def _clean_spans(self, text: str, spans: list[Span]) -> list[Span]:
        """Tidy name-like spans (titles kept, possessives and stray words dropped) and drop non-names."""
        out = []
        for span in spans:
            if span.kind == "person":
                cleaned = self._clean_person(text, span)
                if cleaned is not None:
                    out.append(cleaned)
            elif span.detector in (SETTING, PLACE_CUE):
                cleaned = self._clean_setting(span)
                if cleaned is not None:
                    out.append(cleaned)
            elif span.kind in ORG_KINDS and span.detector != CAPITALISED:
                cleaned = self._clean_org(span)
                if cleaned is not None:
                    out.append(cleaned)
            else:
                out.append(span)
        return out

    def _clean_person(self, text: str, span: Span) -> Span | None:
        words = list(re.finditer(r"[^\s,;:()\[\]\"“”]+", span.text))
        # drop lower-case words at either end ("the", "in"), possessive 's, trailing dots
        while words and not words[0].group()[0].isupper():
            words.pop(0)
        while words and not words[-1].group()[0].isupper():
            words.pop()
        if not words:
            return None
        start = span.start + words[0].start()
        end = span.start + words[-1].end()
        piece = text[start:end]
        trimmed = re.sub(r"(?:['’]s|['’])$", "", piece).rstrip(".")
        end = start + len(trimmed)
        if not self.lexicon.is_name(self.lexicon.core(trimmed), strict=span.detector == "ner"):
            return None
        return Span(start, end, "person", trimmed, span.detector)

    def _clean_setting(self, span: Span) -> Span | None:
        """A school, practice, employer or cued place keeps a distinctive word ("Riverside"), else it is dropped;
        leading ordinary words ("The", "Our") are trimmed."""
        words = list(re.finditer(r"\S+", span.text))
        lex = self.lexicon
        # "Our Lady of Lourdes RC Primary": capitalised words joined by "of" are one name; only an article goes
        named = any(w.group() in ("of", "and") for w in words[1:-1]) and words[0].group()[:1].isupper()
        while words and words[0].group() not in ("St", "St.", "Saint") and (
                lex.is_ordinary(words[0].group()) or words[0].group().lower() in lex.stop):
            if named and words[0].group() not in ("The", "the", "A", "An", "a", "an"):
                break
            words.pop(0)
        if not words or not any(lex.is_distinctive(w.group()) for w in words):
            return None
        piece = span.text[words[0].start():]
        tail = re.match(r"(.+?)[- ](?:on|upon|under|le|by|in|next|the|cum|en)[- ](?:the[- ])?(\S+)$", piece)
        if span.detector == PLACE_CUE and tail and not lex.is_distinctive(tail.group(2)):
            piece = tail.group(1)  # "Brackenford on Monday": the place is "Brackenford"
        if span.detector == PLACE_CUE and (piece in lex.large_places or piece in lex.allow
                                           or piece.lower() in self.lower_words):
            return None  # "in Leeds", "in Teams", "Children in Need"
        start = span.start + words[0].start()
        return Span(start, start + len(piece), span.kind, piece, span.detector)

    def _clean_org(self, span: Span) -> Span | None:
        piece = span.text
        lead = re.match(r"^(?:the|The|a|an)\s+", piece)
        start = span.start + (lead.end() if lead else 0)
        piece = piece[lead.end():] if lead else piece
        piece = re.sub(r"\s+(?:on|in|at|of|and|or)$", "", piece).rstrip(".,;:'’ ")
        piece = re.sub(r"['’]s$", "", piece)
        if not piece or not any(c.isupper() for c in piece) or piece in self.lexicon.allow:
            return None
        return Span(start, start + len(piece), span.kind, piece, span.detector)


BATCH_CHARS = 50_000
"""Characters of text spaCy is given at once: what bounds its memory (a batch of 200,000 characters
took over 1 GB). A longer text goes alone."""
BATCH_TEXTS = 256


def length_batches(items: list[tuple[str, Any]], *, max_chars: int = BATCH_CHARS,
                   max_texts: int = BATCH_TEXTS) -> list[list[tuple[str, Any]]]:
    """``(text, context)`` pairs, shortest first, cut into batches of at most ``max_chars`` characters
    (or ``max_texts`` texts): the batches spaCy is given, in this process or in a worker."""
    return cut_batches(sorted(items, key=lambda item: len(item[0])), max_chars=max_chars, max_texts=max_texts)


def ner_plan(nlp: Language, *, rules: IdentifierRules) -> tuple[list[str], Callable[[Any, Any], Any]]:
    """What the names pass runs and keeps (:func:`toolkit.nlp_workers.read_texts`): the components left off,
    and a function giving a piece's entity spans and where its proper nouns start (``None``: no tagger)."""
    keep = _ner_components(nlp)
    disable = [name for name in nlp.pipe_names if name not in keep]
    return disable, partial(_read_entities, rules=rules, entities=bool(keep), tagger="tagger" in keep)


def _read_entities(doc: Any, context: tuple[int, int], *, rules: IdentifierRules, entities: bool,
                   tagger: bool) -> tuple[list[Span], set[int] | None]:
    _, off = context
    found = find_entities(doc, rules, offset=off) if entities else []
    return found, {off + t.idx for t in doc if t.tag_ in ("NNP", "NNPS")} if tagger else None


def _shielded(span: Span) -> bool:
    """Whether the study's own organisations and allowed phrases hide this span (spaCy's organisations and
    places inside them are kept: ``replace_organisations`` replaces them, and they guide the report)."""
    return span.kind in SHIELDED and not (span.detector == "ner" and span.kind in ORG_KINDS)


def _chunks(text: str, limit: int) -> Iterable[tuple[int, str]]:
    """Pieces of at most ``limit`` characters, cut at blank lines, line ends or spaces."""
    pos = 0
    n = len(text)
    while pos < n:
        end = min(pos + limit, n)
        if end < n:
            for sep in ("\n\n", "\n", " "):
                cut = text.rfind(sep, pos + limit // 2, end)
                if cut > pos:
                    end = cut + len(sep)
                    break
        yield pos, text[pos:end]
        pos = end


def _ner_components(nlp: Any) -> list[str]:
    """The components that set entities, and the tok2vec layers they listen to."""
    keep = []
    for name in nlp.pipe_names:
        factory = nlp.get_pipe_meta(name).factory
        if factory in ("ner", "beam_ner", "entity_ruler") or name in ("ner", "entity_ruler"):
            keep.append(name)
    if not keep:
        return []
    if "tagger" in nlp.pipe_names:  # its proper-noun tags let a sentence-initial word join a name
        keep.append("tagger")
    for name, proc in nlp.pipeline:
        listening = getattr(proc, "listening_components", None) or []
        if any(k in listening for k in keep):
            keep.append(name)
    return keep
