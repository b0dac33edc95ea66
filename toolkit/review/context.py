"""Building the write model's context for a study: its store, codebook and pseudonymiser for free text."""

from __future__ import annotations

import functools
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
    redact = redactor(config) if config.pseudonymisation.enabled else None
    where = config.store.path if not config.store.url else "project store"
    return ReviewContext(store=store, codebook=codebook, redact=redact, where=where)


def redactor(config) -> Callable[[str], str]:
    """A function that pseudonymises a researcher's text with the study's key (loaded on first use)."""

    @functools.lru_cache(maxsize=1)
    def pseudonymiser():
        from toolkit.pseudonymise import Pseudonymiser

        options = config.pseudonymisation
        key = Pseudonymiser.load_key(config.key_path) if config.key_path.exists() else None
        known = tuple(dict.fromkeys((*options.known_names, *config.ingest.interviewers)))
        return Pseudonymiser.from_options(options, known_names=known, key=key).fit([])

    def redact(text: str) -> str:
        return pseudonymiser().transform(text).text

    return redact


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
