"""A spaCy pass over many texts, in this process or in worker processes that send back compact readings.

    texts -> batches (cut as in this process) -> shares -> N workers, each loading the pipeline once
          -> per text a small reading (spans, offsets, sentence bounds, lemmas) -> in the texts' order

Two stages use it for their spaCy pass: pseudonymisation (named entities and proper nouns,
:meth:`toolkit.pseudonymise.layers.SpanDetector.ner`) and segmentation (sentences and lemmas,
:func:`toolkit.segment.segment_sources`). A stage gives a *plan*: a function that takes the loaded pipeline
and returns the components to leave off and a ``read(doc, context)`` function that turns each Doc into what
the stage keeps. Workers never send Docs back (spaCy's own ``n_process`` does, and pickling them costs much
of what a second process gains).

Each batch a worker is given is exactly a batch this process would give ``nlp.pipe``, and the worker reads
each Doc with the same ``read``, so the readings are the same with and without workers (the tests assert it
on real text). Workers start only when the work is big enough (:data:`MIN_CHARS`) and more than one CPU is
usable; ``[performance] workers`` in ``study.toml`` sets how many (``"auto"``, or a number: 1 switches them
off). They are started with ``spawn`` (a forked copy of a process running torch or onnxruntime threads can
hang), use one BLAS thread each, and are shut down before :func:`read_texts` returns, however it returns.
"""

from __future__ import annotations

import logging
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigError, WorkerError

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

AUTO = "auto"
MIN_CHARS = 200_000
"""Worker processes start only for more characters than this: below it, starting them (about 2 s each,
in parallel: Python, spaCy and the model) costs more than they save."""
AUTO_MAX = 4
"""``"auto"`` starts at most this many workers (each holds its own copy of the pipeline: about 400 MB)."""
SHARES_PER_WORKER = 4
"""Each worker is given about this many shares of the batches (large messages, a little load balancing)."""

Item = tuple[str, Any]
"""A text and its context (handed to ``read`` with the text's Doc)."""
Read = Callable[[Any, Any], Any]
Plan = Callable[["Language"], tuple[Sequence[str], Read]]


def check_workers(value: object, where: str = "workers") -> int | str:
    """``value`` if it is a valid worker setting (``"auto"`` or a whole number from 1), else a clear error.

    Examples
    --------
    >>> check_workers("auto"), check_workers(2)
    ('auto', 2)
    >>> check_workers(0)
    Traceback (most recent call last):
    toolkit.errors.ConfigError: workers is 0; expected "auto" (one worker process per usable CPU, for big studies) \
or a whole number of processes from 1 (1: no worker processes, everything in one process).
    """
    if isinstance(value, str) and value == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} is {value!r}; expected \"auto\" (one worker process per usable CPU, for big "
                          "studies) or a whole number of processes from 1 (1: no worker processes, everything in "
                          "one process).")
    return value


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a container's share), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(workers: int | str, chars: int, *, min_chars: int = MIN_CHARS) -> int:
    """How many worker processes should read ``chars`` characters of text: 0 means this process reads them.

    ``"auto"`` uses one per usable CPU (at most :data:`AUTO_MAX`), and none on one CPU; a number is used as
    given (at least 2).

    Examples
    --------
    >>> worker_count(2, 1_000_000), worker_count(2, 1_000), worker_count(1, 10**9)
    (2, 0, 0)
    """
    workers = check_workers(workers)
    wanted = min(usable_cpus(), AUTO_MAX) if workers == AUTO else int(workers)
    return wanted if wanted >= 2 and chars > min_chars else 0


@dataclass(frozen=True)
class NlpWorkers:
    """How a stage's spaCy pass may run in worker processes.

    Parameters
    ----------
    load : returns the spaCy pipeline; called once in each worker. It is sent to the workers, so it must
        pickle: a module-level function, or a ``functools.partial`` of one (``partial(load_spacy, name)``).
    count : the ``[performance] workers`` setting: ``"auto"`` or a number (1: no workers).
    min_chars : workers start only for more characters than this (tests set 0 to force them).
    without_torch : the pipeline needs no torch (spaCy's small English pipelines): workers do not import it
        (thinc does whenever it is installed), which saves each about 1 s of start-up and 180 MB.
    """

    load: Callable[[], Language]
    count: int | str = AUTO
    min_chars: int = MIN_CHARS
    without_torch: bool = False

    def processes(self, chars: int) -> int:
        """Worker processes for ``chars`` characters of text (0: read in this process)."""
        return worker_count(self.count, chars, min_chars=self.min_chars)


def cut_batches(items: Sequence[Item], *, max_chars: int, max_texts: int) -> list[list[Item]]:
    """``items`` in their order, cut into batches of at most ``max_texts`` texts and ``max_chars`` characters
    (a longer text goes alone): what bounds spaCy's memory.

    Examples
    --------
    >>> [[t for t, _ in b] for b in cut_batches([("a b", 0), ("c", 1), ("d e f", 2)], max_chars=4, max_texts=9)]
    [['a b', 'c'], ['d e f']]
    """
    batches: list[list[Item]] = []
    batch: list[Item] = []
    size = 0
    for item in items:
        if batch and (size + len(item[0]) > max_chars or len(batch) >= max_texts):
            batches.append(batch)
            batch, size = [], 0
        batch.append(item)
        size += len(item[0])
    if batch:
        batches.append(batch)
    return batches


def read_texts(batches: Sequence[Sequence[Item]], plan: Plan, *, language: Callable[[], Language],
               workers: NlpWorkers | None = None, stage: str = "spaCy",
               progress: Callable[[int], object] | None = None) -> list[Any]:
    """Each text's reading, in the order of the batches' items: ``read(doc, context)`` of its Doc.

    Parameters
    ----------
    batches : ``(text, context)`` items, cut into the batches ``nlp.pipe`` is given (see :func:`cut_batches`).
    plan : ``plan(nlp) -> (disable, read)``: the components to leave off, and what to keep of each Doc
        (small and picklable: spans, offsets, strings). With workers it is sent to them, so it must pickle.
    language : returns the pipeline, when this process reads the texts.
    workers : how workers load the pipeline and how many to start; ``None``: this process reads the texts.
    stage : what the pass is for, named in errors ("finding names").
    progress : called with the number of texts read after each batch (each share, with workers).

    Examples
    --------
    >>> import spacy
    >>> plan = lambda nlp: ([], lambda doc, context: (context, len(doc)))
    >>> read_texts([[("a b", "x")], [("c d e", "y")]], plan, language=lambda: spacy.blank("en"))
    [('x', 2), ('y', 3)]
    """
    chars = sum(len(text) for batch in batches for text, _ in batch)
    processes = workers.processes(chars) if workers is not None else 0
    processes = min(processes, len(batches))
    if processes < 2:
        return _read_here(batches, plan, language(), progress)
    return _read_in_workers(batches, plan, workers, processes, stage, progress)


def _read_here(batches, plan: Plan, nlp, progress) -> list[Any]:
    disable, read = plan(nlp)
    out: list[Any] = []
    for batch in batches:
        out.extend(_read_batch(nlp, batch, disable, read))
        if progress is not None:
            progress(len(batch))
    return out


def _read_batch(nlp, batch: Sequence[Item], disable: Sequence[str], read: Read) -> list[Any]:
    docs = nlp.pipe(list(batch), as_tuples=True, batch_size=len(batch), disable=list(disable))
    return [read(doc, context) for doc, context in docs]


def _read_in_workers(batches, plan: Plan, workers: NlpWorkers, processes: int, stage: str, progress) -> list[Any]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    count = min(len(batches), processes * SHARES_PER_WORKER)
    shares = [[(i, batches[i]) for i in range(k, len(batches), count)] for k in range(count)]
    results: list[list[Any] | None] = [None] * len(batches)
    peaks: dict[int, tuple[float, float]] = {}  # pid: (peak RSS MB, CPU seconds)
    log.info("%s: %d worker processes, %d batches", stage, processes, len(batches))
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
    clean = False
    try:
        with _bare_main():  # the workers start while the shares are handed out
            futures = {pool.submit(_read_share, workers, plan, share): share for share in shares}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    readings, pid, peak, seconds = future.result()
                except BrokenProcessPool:
                    raise WorkerError(
                        f"{stage}: a worker process ended without answering (out of memory, or stopped?). "
                        f"{_REMEDY}") from None
                except _WorkerFailed as exc:
                    raise WorkerError(f"{stage} failed in a worker process: {exc}. {_REMEDY}") from None
                except Exception as exc:  # noqa: BLE001 - e.g. what the worker was sent did not unpickle there
                    raise WorkerError(f"{stage} failed in a worker process: {type(exc).__name__}: "
                                      f"{str(exc)[:300]}. {_REMEDY}") from None
                for index, reading in readings:
                    results[index] = reading
                peaks[pid] = (max(peaks.get(pid, (0.0, 0.0))[0], peak), seconds)
                if progress is not None:
                    progress(sum(len(batch) for _, batch in futures[future]))
        clean = True
    finally:
        if not clean:  # a failure or Ctrl-C: stop the workers now rather than wait for their shares
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    log.info("%s: workers' peak RSS %s MB, CPU %s s", stage, ", ".join(f"{p:.0f}" for p, _ in peaks.values()),
             ", ".join(f"{c:.1f}" for _, c in peaks.values()))
    return [reading for batch in results for reading in batch]


_REMEDY = "Set workers = 1 under [performance] in study.toml to do this work in one process."


@contextmanager
def _bare_main() -> Iterator[None]:
    """While worker processes start, ``__main__`` is an empty module, so they do not run the parent's script.

    A ``spawn``-ed process first runs the parent's main script again (as ``__mp_main__``). The workers need
    nothing from it (they run this module's functions), and it may do harm there: in a Streamlit process the
    main module is the dashboard's page, and a script that calls the toolkit outside an
    ``if __name__ == "__main__":`` guard would start the whole run again in every worker.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class _WorkerFailed(Exception):
    """What went wrong in a worker, as type and message only (any exception pickles back as this)."""


_STATE: dict[str, Any] = {}
"""In a worker process: the loaded pipeline, the components left off and the read function."""


def _read_share(workers: NlpWorkers, plan: Plan, share: list[tuple[int, Sequence[Item]]]):
    """In a worker: read a share of the batches; returns ``[(batch index, readings)]``, the pid, the peak RSS
    (MB) and the CPU seconds of the worker so far."""
    import resource
    import sys

    try:
        if "nlp" not in _STATE:
            if workers.without_torch and "torch" not in sys.modules:
                sys.modules["torch"] = None  # type: ignore[assignment] - thinc then runs without it
            nlp = workers.load()
            disable, read = plan(nlp)
            _one_blas_thread()  # once numpy's BLAS is loaded: a limit applies to the libraries loaded
            _STATE.update(nlp=nlp, disable=list(disable), read=read)
        nlp, disable, read = _STATE["nlp"], _STATE["disable"], _STATE["read"]
        out = [(index, _read_batch(nlp, batch, disable, read)) for index, batch in share]
    except Exception as exc:  # noqa: BLE001 - sent back as type and message (some exceptions do not pickle)
        raise _WorkerFailed(f"{type(exc).__name__}: {str(exc)[:300]}") from None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return out, os.getpid(), _peak_rss_mb(), usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux's ``VmHWM``: ``ru_maxrss`` of a spawned process starts at its parent's
    peak (the fork before the exec keeps it), so it says nothing about the worker itself."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_blas_thread() -> None:
    """Each worker uses one BLAS thread: the workers already use the CPUs."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    _STATE["limits"] = threadpool_limits(limits=1)
