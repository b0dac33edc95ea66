"""The read model: every number, count and citation a person sees is computed here, once.

Pure functions over frames read from the store (no store, no files, no models). The front
doors (:class:`toolkit.api.Study` for notebooks and the dashboard, the exports, ``toolkit
status``) read the store and call these, so the dashboard, the workbook and the report count
and cite alike.

Modules, in the order data flows through them:

- :mod:`~toolkit.analysis.references`: the one citation of a segment, and who said it.
- :mod:`~toolkit.analysis.codings`: resolved codings (people's decisions over the machine's).
- :mod:`~toolkit.analysis.segments`: evidence segments with who/where, primary coding, topic, review status.
- :mod:`~toolkit.analysis.matrix`: framework matrix, theme counts, co-occurrence (people counted,
  interviewees and survey respondents apart).
- :mod:`~toolkit.analysis.surveys`: Likert percentages on each question's stored scale.
- :mod:`~toolkit.analysis.quotes`: filters, balanced quote selection, the good-practice library.
- :mod:`~toolkit.analysis.topics`: topics and their distribution.
- :mod:`~toolkit.analysis.overview`: the study's size, per place, and review progress.
- :mod:`~toolkit.analysis.columns`: the column names these frames add to :mod:`toolkit.schema`'s.

>>> from toolkit.analysis import reference
>>> reference({"participant_id": "BK01", "place": "Brackenford", "source_kind": "transcript", "start_time": 75})
'BK01, Brackenford, interview 1:15'
"""

from toolkit.analysis.codings import coded_segments, coding_view, resolved_codings
from toolkit.analysis.matrix import cell_text, cooccurrence, framework_matrix, matrix_cells, theme_counts
from toolkit.analysis.overview import CorpusCounts, corpus_counts, places_table, review_progress
from toolkit.analysis.quotes import filter_quotes, good_practice, select_quotes
from toolkit.analysis.references import reference, with_references
from toolkit.analysis.segments import base_segments, evidence_segments
from toolkit.analysis.surveys import likert_answers, likert_percentages
from toolkit.analysis.topics import topic_distribution, topics_frame

__all__ = [
    "CorpusCounts",
    "base_segments",
    "cell_text",
    "coded_segments",
    "coding_view",
    "cooccurrence",
    "corpus_counts",
    "evidence_segments",
    "filter_quotes",
    "framework_matrix",
    "good_practice",
    "likert_answers",
    "likert_percentages",
    "matrix_cells",
    "places_table",
    "reference",
    "resolved_codings",
    "review_progress",
    "select_quotes",
    "theme_counts",
    "topic_distribution",
    "topics_frame",
    "with_references",
]
