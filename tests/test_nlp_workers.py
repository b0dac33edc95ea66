"""Worker processes for spaCy's passes (toolkit/nlp_workers.py): when they start, that they change nothing,
that a failure in one surfaces as an error naming the stage, and that none is left running."""

from __future__ import annotations

import multiprocessing
from functools import partial

import psutil
import pytest
import spacy

from toolkit import nlp_workers
from toolkit.errors import ConfigError, WorkerError
from toolkit.models import load_spacy
from toolkit.nlp_workers import AUTO, NlpWorkers, check_workers, cut_batches, read_texts, worker_count


def _no_children_left() -> None:
    """No worker is left: only multiprocessing's resource tracker (one per process, ends with it) may remain."""
    assert multiprocessing.active_children() == []
    left = [p for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]
    assert left == []


@pytest.mark.parametrize("value", [AUTO, 1, 2, 16])
def test_valid_worker_settings(value):
    assert check_workers(value) == value


@pytest.mark.parametrize("value", [0, -2, "two", "Auto", True, 1.5, None, [2]])
def test_a_wrong_worker_setting_says_what_is_expected(value):
    with pytest.raises(ConfigError, match=r'performance.workers is .*expected "auto" .* whole number'):
        check_workers(value, "performance.workers")


def test_workers_start_only_for_big_work_and_more_than_one_cpu(monkeypatch):
    assert worker_count(2, 10**6) == 2
    assert worker_count(2, nlp_workers.MIN_CHARS) == 0  # not above the threshold
    assert worker_count(1, 10**9) == 0  # switched off
    assert worker_count(3, 1_000, min_chars=0) == 3
    monkeypatch.setattr(nlp_workers, "usable_cpus", lambda: 1)
    assert worker_count(AUTO, 10**9) == 0
    assert worker_count(2, 10**9) == 2  # a number is used as given
    monkeypatch.setattr(nlp_workers, "usable_cpus", lambda: 3)
    assert worker_count(AUTO, 10**9) == 3
    assert worker_count(AUTO, 10) == 0
    monkeypatch.setattr(nlp_workers, "usable_cpus", lambda: 64)
    assert worker_count(AUTO, 10**9) == nlp_workers.AUTO_MAX  # each worker holds a copy of the model
    assert worker_count(8, 10**9) == 8


def test_usable_cpus_is_this_process_affinity():
    assert 1 <= nlp_workers.usable_cpus() <= (psutil.cpu_count() or 1)


def test_batches_keep_order_and_bounds():
    items = [("a" * n, i) for i, n in enumerate([3, 1, 5, 2, 2, 9, 1])]
    batches = cut_batches(items, max_chars=5, max_texts=2)
    assert [item for batch in batches for item in batch] == items
    assert all(len(b) <= 2 and (sum(len(t) for t, _ in b) <= 5 or len(b) == 1) for b in batches)


def _count_plan(nlp):
    return [], _count


def _count(doc, context):
    return context, len(doc), [s.start_char for s in doc.sents]


def _bad_plan(nlp):
    raise ValueError("no such component")


def _blank():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _items(n: int = 40) -> list[tuple[str, int]]:
    return [(f"Sentence {i} here. " * (1 + i % 7) + "And one more.", i) for i in range(n)]


def test_in_this_process_when_no_workers_are_asked_for():
    batches = cut_batches(_items(), max_chars=200, max_texts=8)
    out = read_texts(batches, _count_plan, language=_blank)
    assert [context for context, _, _ in out] == list(range(40))
    _no_children_left()


@pytest.mark.slow
def test_workers_give_the_same_readings_in_the_same_order():
    batches = cut_batches(_items(), max_chars=200, max_texts=8)
    here = read_texts(batches, _count_plan, language=_blank)
    seen: list[int] = []
    there = read_texts(batches, _count_plan, language=_blank, workers=NlpWorkers(load=_blank, count=2, min_chars=0),
                       progress=seen.append)
    assert there == here
    assert sum(seen) == 40 and len(seen) > 1  # progress per share
    _no_children_left()


@pytest.mark.slow
def test_a_model_that_does_not_load_in_a_worker_is_an_error_naming_the_stage():
    workers = NlpWorkers(load=partial(load_spacy, "no_such_spacy_pipeline"), count=2, min_chars=0)
    batches = cut_batches(_items(), max_chars=200, max_texts=8)
    with pytest.raises(WorkerError, match=r"finding names failed in a worker process: ConfigError: No spaCy .*"
                                          r"no_such_spacy_pipeline.*workers = 1"):
        read_texts(batches, _count_plan, language=_blank, workers=workers, stage="finding names")
    _no_children_left()


@pytest.mark.slow
def test_a_failure_while_reading_is_an_error_and_no_worker_is_left():
    batches = cut_batches(_items(), max_chars=200, max_texts=8)
    with pytest.raises(WorkerError, match=r"segmenting failed in a worker process: ValueError: no such component"):
        read_texts(batches, _bad_plan, language=_blank, workers=NlpWorkers(load=_blank, count=2, min_chars=0),
                   stage="segmenting")
    _no_children_left()


def _blas_plan(nlp):
    return [], _blas_threads


def _blas_threads(doc, context):
    from threadpoolctl import threadpool_info

    return sorted({info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"})


@pytest.mark.slow
def test_each_worker_uses_one_blas_thread():
    """Two workers with a BLAS thread pool each would share the CPUs with threads that spin (and cost more)."""
    batches = cut_batches(_items(8), max_chars=60, max_texts=2)
    out = read_texts(batches, _blas_plan, language=_blank, workers=NlpWorkers(load=_blank, count=2, min_chars=0))
    assert out and all(threads == [1] for threads in out)
    _no_children_left()


@pytest.mark.slow
def test_workers_do_not_run_the_parents_main_script(tmp_path, monkeypatch):
    """A spawned process runs the parent's main script first: under Streamlit that is the dashboard's page,
    and a user's unguarded script would start its run again. Workers start from a bare ``__main__``."""
    import sys
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('the main script ran in a worker')\n",
                      encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    batches = cut_batches(_items(), max_chars=200, max_texts=8)
    out = read_texts(batches, _count_plan, language=_blank, workers=NlpWorkers(load=_blank, count=2, min_chars=0))
    assert [context for context, _, _ in out] == list(range(40))
    assert not marker.exists() and sys.modules["__main__"] is main  # put back after the workers started
    _no_children_left()
