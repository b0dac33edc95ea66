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
    stages: Iterable[str] | None = None,
) -> RunReport:
    """Run every stage on a study: ingest (with pseudonymisation), code, then topics.

    Coding and topics re-run only when something they depend on changed (sources,
    codebook, settings, human codings, topic edits), so a warm re-run of an
    unchanged study does no model work. ``stages`` picks some of :data:`STAGES`
    (always run in pipeline order); a named stage runs even if nothing changed.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> report = run_study(load_config("interviews"))  # doctest: +SKIP
    """
    from toolkit.errors import ConfigError

    wanted = list(STAGES if stages is None else stages)
    unknown = [x for x in wanted if x not in STAGES]
    if unknown:
        raise ConfigError(f"Unknown stage(s): {', '.join(unknown)}. Stages: {', '.join(STAGES)}.")
    forced = stages is not None
    store = store or Store(config.store_url)
    kwargs: dict[str, Any] = {"store": store, "skip_bad": skip_bad}
    if progress is not None:
        kwargs["progress"] = progress
    report = RunReport()
    if "ingest" in wanted:
        report.ingest = ingest_study(config, **kwargs)
        report.stages.append("ingest")
    changed = bool(report.ingest and report.ingest.changed)
    if "code" in wanted:
        from toolkit.coding import code_study, coding_is_stale

        if forced or changed or coding_is_stale(config, store):
            report.coding = code_study(config, store)
            report.stages.append("code")
    if "topics" in wanted and (config.topics.enabled or forced):
        from toolkit.topics import model_topics, topics_are_stale

        if forced or report.coding is not None or topics_are_stale(config, store):
            report.topics = model_topics(config, store)
            report.stages.append("topics")
    return report
