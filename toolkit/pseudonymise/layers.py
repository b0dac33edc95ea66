"""The layered detector: every detector run once per distinct text, its spans tidied and cached.

Layers: the pattern detectors of :mod:`toolkit.pseudonymise.detectors` (numbers checked by
their checksums, context names, addresses...) and a spaCy pipeline's named entities. Names
the study already knows are added later, by :class:`~toolkit.pseudonymise.names.NameBook`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from toolkit.pseudonymise.detectors import Span, find_entities, find_identifiers
from toolkit.pseudonymise.names import Lexicon
from toolkit.pseudonymise.records import text_hash
from toolkit.pseudonymise.rules import ORG_KINDS, IdentifierRules

if TYPE_CHECKING:
    from spacy.language import Language


class SpanDetector:
    """Finds candidate spans in texts and caches them by the text's hash (``spans``).

    Parameters
    ----------
    rules, lexicon : the identifier rules and the word lists that tell names from words.
    language : a function returning the spaCy pipeline (called once, when first needed).
    progress : show a progress bar while names are found.
    """

    def __init__(self, rules: IdentifierRules, lexicon: Lexicon, *, language: Callable[[], Language],
                 progress: bool = False):
        self.rules = rules
        self.lexicon = lexicon
        self.language = language
        self.progress = progress
        self.spans: dict[str, tuple[Span, ...]] = {}

    def detect(self, texts: Mapping[str, str]) -> None:
        """Run every detector once per distinct text (``{hash: text}``); cache the spans by hash."""
        rules = self.rules
        hashes = list(texts)
        found: dict[str, list[Span]] = {h: find_identifiers(texts[h], rules) for h in hashes}
        if hashes:  # organisations found by NER also guide the residual-risk report, so NER always runs
            for h, spans in zip(hashes, self.ner([texts[h] for h in hashes])):
                found[h] += spans
        for h in hashes:
            self.spans[h] = tuple(self._clean_spans(texts[h], found[h]))

    def spans_for(self, text: str) -> tuple[tuple[Span, ...], bool]:
        """The cached spans of a text, detecting them first when the text is new (then ``True``)."""
        h = text_hash(text)
        if h in self.spans:
            return self.spans[h], False
        self.detect({h: text})
        return self.spans[h], True

    def ner(self, texts: list[str]) -> list[list[Span]]:
        """spaCy's entities in each text (long texts in pieces), as spans."""
        nlp = self.language()
        keep = _ner_components(nlp)
        out: list[list[Span]] = [[] for _ in texts]
        if not keep:
            return out
        disable = [name for name in nlp.pipe_names if name not in keep]
        limit = int(self.rules.numbers["ner_chunk_chars"])
        chunks = [(chunk, (i, off)) for i, text in enumerate(texts) for off, chunk in _chunks(text, limit)]
        if not chunks:
            return out
        mean = sum(len(c) for c, _ in chunks) / len(chunks)
        batch_size = int(max(1, min(256, 200_000 // max(mean, 1))))
        stream: Iterable = nlp.pipe(chunks, as_tuples=True, batch_size=batch_size, disable=disable)
        if self.progress:
            from tqdm.auto import tqdm

            stream = tqdm(stream, total=len(chunks), desc="finding names", unit="chunk")
        for doc, (i, off) in stream:
            out[i] += find_entities(doc, self.rules, offset=off)
        return out

    def _clean_spans(self, text: str, spans: list[Span]) -> list[Span]:
        """Tidy name-like spans (titles kept, possessives and stray words dropped) and drop non-names."""
        out = []
        for span in spans:
            if span.kind == "person":
                cleaned = self._clean_person(text, span)
                if cleaned is not None:
                    out.append(cleaned)
            elif span.kind in ORG_KINDS:
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
    for name, proc in nlp.pipeline:
        listening = getattr(proc, "listening_components", None) or []
        if any(k in listening for k in keep):
            keep.append(name)
    return keep
