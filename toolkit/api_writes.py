"""The write methods of :class:`toolkit.api.Study`: every one goes through the write model, :mod:`toolkit.review`.

Kept apart from :mod:`toolkit.api` (the reads) so each stays small; :class:`~toolkit.api.Study`
inherits :class:`StudyWrites`. Running the pipeline (:meth:`StudyWrites.run`), copying a study and
exporting are writes too: they are here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import schema as s
from toolkit.errors import ConfigError, InputDataError

if TYPE_CHECKING:  # only for type hints
    from toolkit.api import Study
    from toolkit.config import StudyConfig
    from toolkit.store import Store

log = logging.getLogger(__name__)


class StudyWrites:
    """The write methods of :class:`Study`: each goes through the write model, :mod:`toolkit.review`.

    Every piece of human work is validated there once (theme against the codebook, polarity,
    segment, author; free text pseudonymised with the study's key) and anchored by content.
    """

    config: StudyConfig
    store: Store
    _memo: dict[str, tuple[str, Any]]

    def review_context(self):
        """The write model's context for this study (store, codebook, pseudonymiser for free text)."""
        from toolkit.review.context import context_for

        return context_for(self.config, self.store, codebook=self.codebook)

    def record_decision(self, segment_key: str, *, decision: str, coder: str, theme: str | None = None,
                        polarity: str | None = None, note: str | None = None,
                        good_practice: bool | None = None) -> int:
        """Record a person's decision on a segment (appended; the latest wins). Returns 1.

        ``accept`` keeps the machine's coding (its theme and polarity are stored with the
        decision); ``reject`` takes it away; ``recode`` and ``add`` need a codebook ``theme``
        (and a ``polarity`` when the codebook uses them).

        Raises
        ------
        InputDataError
            Unknown segment, theme (with the closest match), decision or polarity, no coder
            name, or nothing to accept.

        Examples
        --------
        >>> study.record_decision("2c0c2c8f415e7260", decision="recode", coder="ana", theme="trust_relationships",
        ...                       polarity="enabler", note="about the charter")  # doctest: +SKIP
        1
        """
        return self.record_decisions([segment_key], decision=decision, coder=coder, theme=theme, polarity=polarity,
                                     note=note, good_practice=good_practice)

    def record_decisions(self, segment_keys: Iterable[str], *, decision: str, coder: str, theme: str | None = None,
                         polarity: str | None = None, note: str | None = None,
                         good_practice: bool | None = None) -> int:
        """Record the same decision on several segments at once (one transaction; all or nothing).

        Examples
        --------
        >>> study.record_decisions(["k1", "k2"], decision="accept", coder="ana")  # doctest: +SKIP
        2
        """
        from toolkit import review

        return review.record_decisions(self.review_context(), segment_keys, decision=decision, coder=coder,
                                       theme=theme, polarity=polarity, note=note, good_practice=good_practice)

    def import_codings(self, path: str | Path, *, coder: str | None = None):
        """Bring a person's codings made elsewhere into the study: a CSV of codings or a REFI-QDA project.

        A CSV has ``text`` (a passage of any length; with ``file`` naming its transcript) or
        ``segment_key``, ``theme`` and ``polarity`` (and optionally ``decision``, ``note``,
        ``good_practice``, ``coder``). A ``.qdpx`` project's codes become themes when they are
        ours or name a theme of the codebook. Returns an :class:`toolkit.review.ImportReport`.

        Examples
        --------
        >>> study.import_codings("ana_codings.csv", coder="ana").summary()  # doctest: +SKIP
        'stored 40 coding(s) from 38 passage(s).'
        """
        from toolkit import review
        from toolkit.review.context import file_finder
        from toolkit.review.imports import csv_passages, project_passages

        path = Path(path)
        context = self.review_context()
        segments = self.store.segments_frame(evidence_only=True)
        if segments.empty:
            raise InputDataError(self._store_name(), "the study has no segments yet.", "Run the pipeline first.")
        sources = self.store.table(s.SOURCES)
        finder = file_finder(self.config, self.store)
        if path.suffix.lower() == ".qdpx":
            from toolkit.exchange.refi import read_qdpx

            passages, foreign = project_passages(read_qdpx(path), segments, sources, codebook=context.codebook,
                                                 redact=context.redact, source_of=finder)
            report = review.import_codings(context, passages, coder=coder, origin=str(path), require_polarity=False)
            report.not_in_codebook = foreign
            return report
        frame = _read_codings_csv(path)
        passages = csv_passages(frame, segments, sources, redact=context.redact, source_of=finder)
        return review.import_codings(context, passages, coder=coder, origin=str(path))

    def curate_practice(self, segment_key: str, *, included: bool, author: str, theme: str | None = None,
                        title: str | None = None, note: str | None = None) -> int:
        """Put a segment in the good-practice library (or take it out), with a title and note.

        Examples
        --------
        >>> study.curate_practice("k1", included=True, author="ana", title="Single IG contact")  # doctest: +SKIP
        """
        from toolkit import review

        return review.add_practice(self.review_context(), segment_key, included=included, author=author, theme=theme,
                                   title=title, note=note)

    def add_summary(self, *, row_dimension: str, row_value: str, theme: str, text: str, author: str) -> int:
        """Save a researcher's summary of one framework-matrix cell (the latest one is shown).

        Examples
        --------
        >>> study.add_summary(row_dimension="place", row_value="Brackenford", theme="trust_relationships",
        ...                   text="Trust grew via the hub.", author="ana")  # doctest: +SKIP
        """
        from toolkit import review

        return review.add_summary(self.review_context(), row_dimension=row_dimension, row_value=row_value,
                                  theme=theme, text=text, author=author, dimensions=self.row_dimensions())

    def add_comment(self, text: str, *, author: str, author_role: str, segment_key: str | None = None,
                    theme: str | None = None, topic: int | None = None) -> int:
        """Save a comment (reviewers and researchers both comment) on a segment, theme or topic.

        Examples
        --------
        >>> study.add_comment("Is this about consent?", author="bo", author_role="reviewer", segment_key="k1")  # doctest: +SKIP
        """
        from toolkit import review

        return review.add_comment(self.review_context(), text, author=author, author_role=author_role,
                                  segment_key=segment_key, theme=theme, topic=topic)

    def rename_topic(self, topic: int, *, name: str, author: str) -> int:
        """Give a topic a researcher's name, kept across re-runs. Returns the edit's id.

        Examples
        --------
        >>> study.rename_topic(3, name="Trust built in co-located teams", author="R. Fairweather")  # doctest: +SKIP
        """
        from toolkit import review

        return review.rename_topic(self.review_context(), int(topic), self._topic_members(topic), name=name,
                                   author=author)

    def merge_topics(self, topics: Sequence[int], *, author: str, name: str | None = None):
        """Merge two or more topics into one (the first keeps its number); re-fits and returns the run's report."""
        from toolkit import review
        from toolkit.pipeline import fit_and_store_topics

        chosen = list(dict.fromkeys(int(t) for t in topics))
        if len(chosen) < 2:
            raise InputDataError(self._store_name(), "a merge needs at least two topics.", "Choose two or more.")
        review.add_topic_edit(self.review_context(), "merge", [self._topic_members(t) for t in chosen],
                              author=author, label=name)
        return fit_and_store_topics(self.config, self.store)

    def split_topic(self, topic: int, *, author: str, parts: int = 2):
        """Split a topic into ``parts`` by its segments' meaning; re-fits and returns the run's report."""
        from toolkit import review
        from toolkit.pipeline import fit_and_store_topics

        if int(parts) < 2:
            raise InputDataError(self._store_name(), "a topic is split into at least two parts.", "Use parts=2 or more.")
        review.add_topic_edit(self.review_context(), "split", [self._topic_members(topic)], author=author,
                              parts=int(parts))
        return fit_and_store_topics(self.config, self.store)

    def add_topic_to_codebook(self, topic: int, *, author: str, as_: str = "theme", parent: str | None = None,
                              name: str | None = None, theme_id: str | None = None):
        """Append a topic to the study's codebook as a draft theme (or sub-theme of ``parent``) to edit.

        Returns :class:`toolkit.topics.candidates.AddedTheme` (its ``message()`` says what to do next).
        See :func:`toolkit.topics.candidates.add_topic_to_codebook`.

        Examples
        --------
        >>> study.add_topic_to_codebook(10, author="R. Fairweather").message()  # doctest: +SKIP
        """
        from toolkit.topics.candidates import add_topic_to_codebook

        added = add_topic_to_codebook(self.config, self.store, int(topic), author=author, as_=as_, parent=parent,
                                      name=name, theme_id=theme_id)
        self._codebook = None  # the codebook is read again on next use
        return added

    def _topic_members(self, topic: int) -> list[str]:
        assigned = self.store.table(s.SEGMENT_TOPICS)
        if int(topic) == s.OUTLIER_TOPIC:
            raise InputDataError(self._store_name(), "topic -1 holds the outliers: it cannot be renamed, merged or split.",
                                 "Choose a topic number from study.topics().")
        members = assigned.loc[assigned[s.TOPIC] == int(topic), s.SEGMENT_KEY].tolist() if not assigned.empty else []
        if not members:
            known = sorted(t for t in assigned[s.TOPIC].unique().tolist() if t != s.OUTLIER_TOPIC) if not assigned.empty else []
            raise InputDataError(self._store_name(), f"there is no topic {topic}.",
                                 f"Topics now: {', '.join(map(str, known)) or 'none (run toolkit topics)'}.")
        return members

    def run(self, *, stages: Sequence[str] | None = None, progress=None, force: bool = False) -> Any:
        """Run the pipeline on this study (the only method that loads language models).

        ``stages`` None runs every stage (:func:`toolkit.pipeline.run_study`); otherwise
        a subset of :data:`toolkit.pipeline.STAGES`, run in pipeline order.

        Examples
        --------
        >>> report = study.run()  # doctest: +SKIP
        """
        from toolkit import pipeline

        self._memo.clear()
        return pipeline.run_study(self.config, store=self.store, stages=stages, progress=progress, force=force)

    def copy(self, folder: str | Path) -> Study:
        """A working copy of the study in ``folder``: settings, raw files, store and topic model.

        The pseudonymisation key and the exports are left behind (the copy keeps its own key, in
        its own private folder, if it is run). The store is copied consistently, even while someone
        is reviewing (SQLite's online backup); a study whose store is a database server is refused
        (make a new database and copy into it with :func:`toolkit.store.copy_store`).
        Use a copy to try settings or add a second coder without touching the study itself.

        Examples
        --------
        >>> work = study.copy(tmp_path / "study")  # doctest: +SKIP
        >>> work.root != study.root  # doctest: +SKIP
        True
        """
        import shutil

        from toolkit.store import copy_store

        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise InputDataError(folder, "the folder is not empty", "copy the study into a new or empty folder")
        if self.config.store.url:
            raise ConfigError(
                f"{self.config.config_path}: the store is a database ({self.store.redacted_url()}); a folder copy "
                "cannot hold it. Create a new database and copy into it with toolkit.store.copy_store."
            )
        if self.config.pseudonymisation.key_path and Path(self.config.pseudonymisation.key_path).is_absolute():
            raise ConfigError(
                f"{self.config.config_path}: pseudonymisation.key_path is an absolute path, so a copy would write "
                "to the real key. Make it relative to the study folder, or leave it out, before copying."
            )
        skip = {"store", "private", "exports"}
        shutil.copytree(self.root, folder, dirs_exist_ok=True,
                        ignore=lambda d, names: [n for n in names if Path(d) == self.root and n in skip])
        source = self.config.resolve(self.config.store.path)
        target = folder / source.relative_to(self.root)
        copy_store(self.store, f"sqlite:///{target}").close()
        from toolkit.topics.stage import model_dir

        model = model_dir(self.config)
        if model.exists():
            shutil.copytree(model, folder / model.relative_to(self.root))
        from toolkit.api import open_study

        return open_study(folder)

    def export(self, fmt: str, out: str | Path | None = None) -> list[Path]:
        """Write one export (xlsx, csv, parquet, qdpx, qdc, report); returns the files written.

        Examples
        --------
        >>> study.export("report", "findings.html")  # doctest: +SKIP
        [PosixPath('findings.html')]
        """
        from toolkit.export import export_study

        return export_study(self.config, self.store, fmt, out)


def _read_codings_csv(path: Path) -> pd.DataFrame:
    """A CSV of codings, as text (UTF-8 with or without BOM, or Windows-1252)."""
    from toolkit.ingest.encoding import read_text_file

    if not path.is_file():
        raise InputDataError(path, "does not exist.", "Check the path.")
    import io

    text, _ = read_text_file(path)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "theme" not in frame.columns or ("text" not in frame.columns and "segment_key" not in frame.columns):
        raise InputDataError(path, f"needs a 'theme' column and a 'text' or 'segment_key' column. "
                                   f"Found: {', '.join(frame.columns)}.", "Add them.")
    return frame


# --------------------------------------------------------------------------- reads
