"""Building the write model's context for a study: its store, codebook and pseudonymiser for free text."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable

from toolkit.review import ReviewContext


def context_for(config, store, *, codebook=None) -> ReviewContext:
    """The :class:`ReviewContext` of a study: free text is pseudonymised with the study's own key.

    People already in the key get their pseudonyms; identifiers the key does not hold yet are
    replaced too. With pseudonymisation switched off in ``study.toml``, text is stored as written.
    """
    if codebook is None:
        from toolkit.codebook import load_codebook

        path = config.resolve(config.coding.codebook) if config.coding.codebook else None
        codebook = load_codebook(path, check_patterns=False)
    redact = shared_redactor(config) if config.pseudonymisation.enabled else None
    where = config.store.path if not config.store.url else "project store"
    return ReviewContext(store=store, codebook=codebook, redact=redact, where=where)


def redactor(config) -> Callable[[str], str]:
    """A function that pseudonymises a researcher's text with the study's key (loaded on first use).

    People and values already in the key get their pseudonyms, so a note names the same
    ``[PERSON_07]`` as the transcript. An identifier the key does not hold gets an unnumbered
    tag (``[PERSON]``): giving it a number would mean writing the key from the dashboard while a
    run may be writing it too, and two people could end up with one pseudonym.
    """
    import re

    @functools.lru_cache(maxsize=1)
    def prepared():
        from dataclasses import replace

        from toolkit.pseudonymise import Pseudonymiser
        from toolkit.pseudonymise.keyfile import load_key_if_any
        from toolkit.pseudonymise.mapping import render

        options = config.pseudonymisation
        kept = tuple(p for p in config.places if p and p not in options.allow)  # places stay, as in the sources
        options = replace(options, allow=(*options.allow, *kept))
        key = load_key_if_any(config.key_path)
        known = tuple(dict.fromkeys((*options.known_names, *config.ingest.interviewers)))
        pseudonymiser = Pseudonymiser.from_options(options, known_names=known, key=key).fit([])
        codes = [row["code"] for row in (key.entries if key is not None else ())]
        return pseudonymiser, {render(code, options.style) for code in codes}

    tag = re.compile(r"\[([A-Z]+(?:_[A-Z]+)*)_\d+\]")

    def redact(text: str) -> str:
        pseudonymiser, known_tags = prepared()
        out = pseudonymiser.transform(text).text
        return tag.sub(lambda m: m.group(0) if m.group(0) in known_tags else f"[{m.group(1)}]", out)

    return redact


_REDACTORS: dict[tuple, Callable[[str], str]] = {}
_REDACTORS_LOCK = threading.Lock()


def shared_redactor(config) -> Callable[[str], str]:
    """:func:`redactor` of a study, made once per process and key version and shared by every write.

    Preparing it reads the key and builds the patterns of every name in it (0.6 s of CPU on a
    25,000-segment study): too much for each decision of each reviewer. It is made again when
    the key file changes (a run added people) or the pseudonymisation settings do. Calls are
    serialised: the pseudonymiser learns the new names it meets, which must not happen in two
    threads at once (a name learnt from one note is then found in the next by pattern as well as
    by the name model, so a later note is redacted at least as much).
    """
    path = config.key_path
    try:
        stat = os.stat(path)
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = None
    key = (str(config.root), str(path), version, repr(config.pseudonymisation), repr(config.ingest.interviewers))
    with _REDACTORS_LOCK:
        made = _REDACTORS.get(key)
        if made is None:
            if len(_REDACTORS) >= 8:  # a long-lived process that opened many studies or key versions
                _REDACTORS.clear()
            made = _REDACTORS[key] = _one_at_a_time(redactor(config))
    return made


def _one_at_a_time(redact: Callable[[str], str]) -> Callable[[str], str]:
    lock = threading.Lock()

    @functools.wraps(redact)
    def serialised(text: str) -> str:
        with lock:
            return redact(text)

    return serialised


def file_finder(config, store) -> Callable[[str], int | None]:
    """Finds the ``source_id`` of a raw file by its path relative to the study (the store keeps only a keyed hash)."""
    from toolkit import schema as s
    from toolkit.ingest.study import path_key
    from toolkit.pipeline import key_secret

    secret = key_secret(config)
    sources = store.sources_for_ingest()
    by_key = dict(zip(sources[s.PATH_KEY], sources[s.SOURCE_ID]))

    def find(relative: str) -> int | None:
        hit = by_key.get(path_key(relative, secret))
        return None if hit is None else int(hit)

    return find
