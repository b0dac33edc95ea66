"""Run the stages of the analysis, in order. Nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from toolkit.config import StudyConfig
from toolkit.ingest.study import IngestReport, ingest_study
from toolkit.store import Store

log = logging.getLogger(__name__)

STAGES = ("ingest", "code", "topics")
"""The stages that exist, in the order :func:`run_study` runs them."""


@dataclass
class RunReport:
    """What each stage of a run reported."""

    ingest: IngestReport | None = None
    coding: Any = None
    topics: Any = None
    stages: list[str] = field(default_factory=list)


def run_study(
    config: StudyConfig,
    *,
    store: Store | None = None,
    progress: Callable[..., Iterable] | None = None,
    skip_bad: bool = False,
) -> RunReport:
    """Run every stage on a study: ingest (with pseudonymisation), code, then topics.

    Coding and topics re-run only when something they depend on changed (sources,
    codebook, settings, human codings, topic edits), so a warm re-run of an
    unchanged study does no model work.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> report = run_study(load_config("interviews"))  # doctest: +SKIP
    """
    store = store or Store(config.store_url)
    kwargs: dict[str, Any] = {"store": store, "skip_bad": skip_bad}
    if progress is not None:
        kwargs["progress"] = progress
    report = RunReport()
    report.ingest = ingest_study(config, **kwargs)
    report.stages.append("ingest")
    from toolkit.coding import code_study, coding_is_stale

    if report.ingest.changed or coding_is_stale(config, store):
        report.coding = code_study(config, store)
        report.stages.append("code")
    if config.topics.enabled:
        from toolkit.topics import model_topics, topics_are_stale

        if report.coding is not None or topics_are_stale(config, store):
            report.topics = model_topics(config, store)
            report.stages.append("topics")
    return report
