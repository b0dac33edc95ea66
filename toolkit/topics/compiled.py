"""Keep UMAP's numba-compiled functions on disk, so a new process does not compile them again.

UMAP's layout and graph functions are ``numba.njit`` without ``cache=True``: every process that fits
topics compiled them anew, 5 to 13 s on this 2-core machine, as much as the layout itself at 25,000
segments (pynndescent's functions, by contrast, are cached). numba's own
:meth:`~numba.core.dispatcher.Dispatcher.enable_caching` turns on the same on-disk cache that
``cache=True`` gives: compiled machine code is written beside the package (``__pycache__``), or to the
user's cache folder when that is read-only, and reused while UMAP, numba and the CPU stay the same.
What the functions compute does not change.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

__all__ = ["cache_umap_compilations"]

_UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.spectral", "umap.distances", "umap.sparse")
_done: list[int] = []


def cache_umap_compilations() -> int:
    """Turn on numba's disk cache for UMAP's compiled functions (once per process); returns how many.

    A function that cannot be cached (no writable cache folder) is left as it is: it compiles in
    memory, as before.
    """
    if _done:
        return _done[0]
    import importlib

    from numba.core.dispatcher import Dispatcher

    count = 0
    for name in _UMAP_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for function in list(vars(module).values()):
            if not isinstance(function, Dispatcher) or type(function._cache).__name__ != "NullCache":
                continue
            try:
                function.enable_caching()
            except RuntimeError as exc:  # no locator: neither the package folder nor a user cache is writable
                log.debug("numba cannot cache %s: %s", getattr(function, "__name__", "?"), exc)
                continue
            count += 1
    _done.append(count)
    log.debug("numba disk cache turned on for %d UMAP functions", count)
    return count
