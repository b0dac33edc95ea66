"""The read model's own column names and vocabularies (the store's come from :mod:`toolkit.schema`).

Every frame :mod:`toolkit.analysis` returns uses these names; :mod:`toolkit.api` re-exports
them unchanged, so notebooks and the dashboard keep writing ``api.PARTICIPANTS``.
"""

from __future__ import annotations

from toolkit import schema as s

# --------------------------------------------------------------------------- derived columns
SOURCE_KIND = "source_kind"
"""transcript or survey (the source's kind; a column of Store.segments_frame)."""
TRANSCRIPT, SURVEY = s.SOURCE_KINDS
THEME_NAME = "theme_name"
REVIEW_STATUS = "review_status"
"""``reviewed`` once any person decided on the segment, else ``unreviewed``."""
REVIEWED_BY = "reviewed_by"
"""Who made the latest decision on the segment (same name as in toolkit.coding.resolve_codings)."""
REVIEWED_AT = "reviewed_at"
REFERENCE = "reference"
"""The one citation of a segment (:func:`toolkit.analysis.references.reference`)."""
PARTICIPANT = "participant"
"""Who said it: interview participant id, else survey respondent key, else the interview's file."""
PARTICIPANTS = "participants"
"""Distinct people (interviewees and survey respondents together)."""
INTERVIEWEES = "interviewees"
"""Distinct interviewees (people who spoke in a transcript)."""
SURVEY_RESPONDENTS = "survey_respondents"
"""Distinct survey respondents (kept apart from interviewees: a survey answer is not an interview)."""
SEGMENTS_COL = "segments"
SEGMENT_KEYS = "segment_keys"
SHARE = "share"
IS_SEGMENT = "is_segment"
ORIGIN = "origin"
UNIT = "unit"

# --------------------------------------------------------------------------- vocabularies
REVIEWED, UNREVIEWED = "reviewed", "unreviewed"
REVIEW_STATUSES = (UNREVIEWED, REVIEWED)
MACHINE, ACCEPTED, RECODED = "machine", "accepted", "recoded"
REJECTED, UNCODED = "rejected", "uncoded"
CODING_STATUSES = (MACHINE, ACCEPTED, RECODED, REJECTED, UNCODED)
"""The resolved status of a segment's primary coding."""
REVIEWED_CODINGS = (ACCEPTED, RECODED)
"""Coding statuses that mean a person has looked at the coding (and kept it)."""
ROW_DIMENSIONS = (s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT, s.ROLE, s.SECTOR)
"""What the rows of a framework matrix can be: places, organisation types, cases (participants), roles,
sectors; a study's own case attributes (manifest columns) are added by :func:`toolkit.analysis.cases.row_dimensions`."""
COUNT_BY = (s.PLACE, s.ORGANISATION_TYPE, s.ROLE, SOURCE_KIND)
"""What :func:`toolkit.analysis.matrix.theme_counts` can group by."""
DISTRIBUTION_BY = (s.PLACE, s.ORGANISATION_TYPE, s.POLARITY, s.ROLE)
"""What :func:`toolkit.analysis.topics.topic_distribution` can group by."""
COOCCURRENCE_UNITS = ("segment", PARTICIPANT)
NO_VALUE = "(not recorded)"
"""The row value of segments whose place (organisation type, role...) is not recorded."""
ALL = "all"

# Likert answers, grouped.
DISAGREE, NEUTRAL_ANSWER, AGREE = "Disagree", "Neutral", "Agree"
LIKERT_DIRECTIONS = (DISAGREE, NEUTRAL_ANSWER, AGREE)
N_ANSWERS = "n"
"""Answers placed on the scale (the base of the percentages)."""
OFF_SCALE = "off_scale"
"""Answers that sit on no point of the scale ("Don't know"), left out of the percentages."""
MEAN = "mean"
"""Mean position on the scale (1 = its first point), when every answer counted shares one scale."""
SCALE_POINTS = "scale_points"
"""How many points the question's stored scale has (None when the store has no scale)."""

# --------------------------------------------------------------------------- frames
SEGMENT_COLUMNS = [
    s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, SOURCE_KIND, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.PARTICIPANT_ID,
    s.RESPONDENT_KEY, PARTICIPANT, s.SPEAKER, s.QUESTION_TEXT, s.TURN_ID, s.TEXT_ANSWER_ID, s.START_CHAR,
    s.END_CHAR, s.START_TIME, s.THEME, THEME_NAME, s.POLARITY, s.CONFIDENCE, s.STATUS, s.GOOD_PRACTICE,
    REVIEW_STATUS, REVIEWED_BY, REVIEWED_AT, s.TOPIC, s.TOPIC_LABEL, REFERENCE, s.TEXT,
]
BASE_COLUMNS = [
    s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, SOURCE_KIND, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.PARTICIPANT_ID,
    s.RESPONDENT_KEY, PARTICIPANT, s.SPEAKER, s.QUESTION_TEXT, s.TURN_ID, s.TEXT_ANSWER_ID, s.START_CHAR,
    s.END_CHAR, s.START_TIME, REFERENCE, s.TEXT,
]
"""A segment without its coding: who said it, where, and its citation (what exports carry)."""
RESOLVED_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.STATUS, s.CODER, REVIEWED_BY,
]
CODING_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, THEME_NAME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.STATUS, s.CODER,
    REVIEWED_BY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT, SOURCE_KIND, s.PATH,
]
TOPIC_COLUMNS = [
    s.TOPIC, s.TOPIC_LABEL, s.AUTO_LABEL, s.KEYWORDS, s.SIZE, s.REPRESENTATIVE, s.SEEDED_THEME, s.NEAREST_THEME,
    s.THEME_SIMILARITY, s.CODED_THEME, s.CODED_SHARE, s.CANDIDATE_NEW, s.MAP_X, s.MAP_Y,
    s.LABEL_PASSAGE, s.THEME_AFFINITY, s.UNCODED_SHARE, s.RESTATES_THEME, s.CANDIDATE_KIND, s.CANDIDATE_PARENT,
    s.EVIDENCE, s.STABILITY,
]
CONTEXT_COLUMNS = [s.TURN_INDEX, s.SPEAKER, s.SPEAKER_ROLE, s.START_TIME, s.TEXT, IS_SEGMENT]
LIKERT_COLUMNS = [s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.LABEL, s.VALUE, s.SCALE]
"""One Likert answer; ``scale`` is the question's stored scale (its labels, lowest first) or None."""
PERCENTAGE_COLUMNS = [s.QUESTION_TEXT, s.PLACE, DISAGREE, NEUTRAL_ANSWER, AGREE, N_ANSWERS, OFF_SCALE, MEAN,
                      SCALE_POINTS]
TEXT_ANSWER_COLUMNS = [
    s.TEXT_ANSWER_ID, s.SEGMENT_KEY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT,
    s.THEME, THEME_NAME, s.POLARITY, s.STATUS, s.TEXT,
]
DECISION_COLUMNS = [
    s.CODING_ID, s.SEGMENT_KEY, s.CODER, s.DECISION, s.THEME, s.POLARITY, s.GOOD_PRACTICE, s.NOTE, s.CREATED_AT,
    s.CONTEXT, s.BLIND,
]
SUMMARY_COLUMNS = [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME, s.TEXT, s.AUTHOR, s.CREATED_AT]
COMMENT_COLUMNS = [s.COMMENT_ID, s.SEGMENT_KEY, s.THEME, s.TOPIC, s.TEXT, s.AUTHOR, s.AUTHOR_ROLE, s.CREATED_AT]
PRACTICE_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, THEME_NAME, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT, s.TITLE, s.NOTE, s.AUTHOR,
    s.INCLUDED, ORIGIN, s.STATUS, REFERENCE, s.TEXT,
]
MATRIX_COUNTS = [PARTICIPANTS, INTERVIEWEES, SURVEY_RESPONDENTS, s.BARRIER, s.ENABLER, s.NEUTRAL]
"""The number columns of a framework matrix cell: people (together and apart), then segments by polarity."""
PROGRESS_COLUMNS = [s.THEME, SEGMENTS_COL, REVIEWED, UNREVIEWED, SHARE]

# --------------------------------------------------------------------------- framework analysis (issue 15)
PARENT = "parent"
"""The theme a sub-theme belongs to (None for a top-level theme)."""
REFERENCES = "references"
"""The citations of the segments behind a framework-matrix cell (a list, in reading order)."""
SUMMARY_AUTHOR = "summary_author"
SUMMARY_AT = "summary_at"
CASE_COLUMNS = [PARTICIPANT, SOURCE_KIND, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.SECTOR, s.PATH]
"""One row per case (an interviewee or a survey respondent); a study's case attributes follow these."""
ABOUT = "about"
"""What a memo is about, in words (``Theme: Trust and relationships``, ``Case BK01``...)."""
MEMO_COLUMNS = [s.MEMO_ID, s.SCOPE, s.TARGET, ABOUT, s.TITLE, s.TEXT, s.AUTHOR, s.CREATED_AT, s.SEGMENT_KEY,
                s.SOURCE_UID, s.ANCHOR, REFERENCE, s.THEME, s.ROW_DIMENSION, s.ROW_VALUE, s.PATH]
SCREEN = "screen"
"""Why a good-practice candidate is not a practice (hypothetical, barrier, aside), else None."""
PROPOSAL = "proposal"
"""The machine's proposed practice group of a candidate (a stable id), before a researcher curates it."""
PASSAGES = "passages"
"""The segment keys linked to a practice (the evidence that it helped)."""
N_PASSAGES = "n_passages"
CURATED, PROPOSED = "curated", "proposed"
PRACTICE_GROUP_COLUMNS = [
    s.GROUP_ID, s.TITLE, s.DESCRIPTION, s.PLACE, s.WHO_RUNS, s.EVIDENCE, s.STATUS, s.TRANSFERABILITY, s.THEME,
    THEME_NAME, s.AUTHOR, s.CREATED_AT, ORIGIN, PASSAGES, REFERENCES, N_PASSAGES, PARTICIPANTS, "themes",
]
ACROSS_PLACES = "All places"
"""The framework matrix's last row by place, over every place: its summary is the theme's cross-place synthesis."""
BARRIER_PLACE = "barrier_place"
OTHER_PLACE = "other_place"
REMEDY_COLUMNS = [
    s.THEME, THEME_NAME, BARRIER_PLACE, "barrier_people", "barrier_segments", "barrier_quote", "barrier_reference",
    OTHER_PLACE, "enabler_people", "enabler_segments", "enabler_quote", "enabler_reference", "practices",
    "practice_ids",
]
"""One row per (theme, place reporting a barrier, other place reporting enablers or practices on that theme)."""
