"""Names of tables and columns, and the records that flow between stages.

Every table and column name is declared here once; stages, the store, the CLI,
the dashboard and the notebooks import them instead of retyping strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is only needed by callers that build frames
    import pandas as pd

# --------------------------------------------------------------------------- tables
SOURCES = "sources"
TURNS = "turns"
SURVEY_QUESTIONS = "survey_questions"
RESPONDENTS = "respondents"
LIKERT_ANSWERS = "likert_answers"
TEXT_ANSWERS = "text_answers"
RUNS = "runs"
SEGMENTS = "segments"
CODINGS = "codings"
HUMAN_CODINGS = "human_codings"
EMBEDDINGS = "embeddings"
TOPICS = "topics"
SEGMENT_TOPICS = "segment_topics"
TOPIC_EDITS = "topic_edits"
SUMMARIES = "summaries"
PRACTICES = "practices"
COMMENTS = "comments"
QA_SAMPLES = "qa_samples"
QA_ITEMS = "qa_items"
ASSIGNMENTS = "assignments"
MEMOS = "memos"
PRACTICE_GROUPS = "practice_groups"

# --------------------------------------------------------------------------- columns
SOURCE_ID = "source_id"
SOURCE_UID = "source_uid"
"""A source's stable identity: kept when its file is edited in place or renamed (same content)."""
SOURCE_KIND = "source_kind"
"""A segment's source kind (``transcript`` or ``survey``) in the store's segment reads."""
PATH_KEY = "path_key"
"""A keyed hash of the raw file's path: finds the file again without storing a name it may hold."""
SETTINGS_HASH = "settings_hash"
"""Fingerprint of the settings that produced a stored source (reading and pseudonymisation)."""
PATH = "path"
PLACE = "place"
KIND = "kind"
FORMAT = "format"
CONTENT_HASH = "content_hash"
SIZE_BYTES = "size_bytes"
TEXT = "text"
ENCODING = "encoding"
PARTICIPANT_ID = "participant_id"
ORGANISATION_TYPE = "organisation_type"
SECTOR = "sector"
ROLE = "role"
INTERVIEW_DATE = "interview_date"
N_ITEMS = "n_items"
INGESTED_AT = "ingested_at"
RUN_ID = "run_id"

TURN_ID = "turn_id"
TURN_INDEX = "turn_index"
SPEAKER = "speaker"
SPEAKER_ROLE = "speaker_role"
START_CHAR = "start_char"
END_CHAR = "end_char"
START_TIME = "start_time"
END_TIME = "end_time"

QUESTION_ID = "question_id"
QUESTION_KEY = "question_key"
QUESTION_TEXT = "question_text"
POSITION = "position"
SCALE = "scale"

RESPONDENT_ID = "respondent_id"
RESPONDENT_KEY = "respondent_key"
ROW_NUMBER = "row_number"
ATTRIBUTES = "attributes"

LABEL = "label"
VALUE = "value"
TEXT_ANSWER_ID = "text_answer_id"

STAGE = "stage"
STARTED_AT = "started_at"
FINISHED_AT = "finished_at"
STATUS = "status"
TOOLKIT_VERSION = "toolkit_version"
CONFIG_HASH = "config_hash"
SUMMARY = "summary"

SEGMENT_ID = "segment_id"
SEGMENT_KEY = "segment_key"
SEGMENT_INDEX = "segment_index"
IS_EVIDENCE = "is_evidence"
LEMMAS = "lemmas"
PROMPT = "prompt"
"""A segment's context: the interviewer's preceding question, or the survey question it answers."""
ANCHOR_TEXT = "anchor_text"
"""The text of the passage a piece of human work was made on (what re-attaches it)."""
SEGMENTED_WITH = "segmented_with"
"""Fingerprint of the segment settings a source was last segmented with (empty: not yet)."""
ANCHOR = "anchor"
"""How a piece of human work is attached to its segment now: see ANCHOR_STATES."""

CODING_ID = "coding_id"
THEME = "theme"
POLARITY = "polarity"
CONFIDENCE = "confidence"
RANK = "rank"
EVIDENCE = "evidence"
GOOD_PRACTICE = "good_practice"
CODER = "coder"
CODEBOOK_VERSION = "codebook_version"
DECISION = "decision"
NOTE = "note"
CREATED_AT = "created_at"

UNIT_ID = "unit_id"
PRIMARY = "primary"

TEXT_HASH = "text_hash"
MODEL = "model"
DIM = "dim"
VECTOR = "vector"

TOPIC = "topic"
TOPIC_LABEL = "topic_label"
AUTO_LABEL = "auto_label"
KEYWORDS = "keywords"
SIZE = "size"
REPRESENTATIVE = "representative"
NEAREST_THEME = "nearest_theme"
THEME_SIMILARITY = "theme_similarity"
CODED_THEME = "coded_theme"
CODED_SHARE = "coded_share"
SEEDED_THEME = "seeded_theme"
CANDIDATE_NEW = "candidate_new"
MAP_X = "x"
MAP_Y = "y"
PROBABILITY = "probability"
ASSIGNED_BY = "assigned_by"
LABEL_PASSAGE = "label_passage"
THEME_AFFINITY = "theme_affinity"
UNCODED_SHARE = "uncoded_share"
RESTATES_THEME = "restates_theme"
CANDIDATE_KIND = "candidate_kind"
CANDIDATE_PARENT = "candidate_parent"
STABILITY = "stability"
STRUCTURE = "structure"
PHRASES = "phrases"
EDIT_ID = "edit_id"
ACTION = "action"
MEMBERS = "members"
PARTS = "parts"
AUTHOR = "author"
AUTHOR_ROLE = "author_role"
ROW_DIMENSION = "row_dimension"
ROW_VALUE = "row_value"
TITLE = "title"
INCLUDED = "included"
COMMENT_ID = "comment_id"
CONTEXT = "context"
"""Where a human coding was made: ``review``, ``import:<file>``, ``qa:<sample>``, ``double:<batch>``, ``resolution:<batch>``."""
BLIND = "blind"
"""True when the coder did not see the machine's coding before deciding (quality-assurance samples)."""
SAMPLE_ID = "sample_id"
ITEM_ID = "item_id"
STRATUM = "stratum"
SEED = "seed"
TARGET_WIDTH = "target_width"
SETTINGS = "settings"
ASSIGNMENT_ID = "assignment_id"
BATCH_ID = "batch_id"
MEMO_ID = "memo_id"
SCOPE = "scope"
TARGET = "target"
GROUP_ID = "group_id"
DESCRIPTION = "description"
WHO_RUNS = "who_runs"
TRANSFERABILITY = "transferability"

# --------------------------------------------------------------------------- vocabularies
SOURCE_KINDS = ("transcript", "survey")
TRANSCRIPT_FORMATS = ("docx", "odt", "pdf", "txt", "vtt", "srt")
SURVEY_FORMATS = ("xlsx", "csv")

INTERVIEWER = "interviewer"
PARTICIPANT = "participant"
OTHER = "other"
SPEAKER_ROLES = (INTERVIEWER, PARTICIPANT, OTHER)
"""``other`` marks text that is not a speaker's turn: a title, a legend, a note."""

BARRIER = "barrier"
ENABLER = "enabler"
NEUTRAL = "neutral"
POLARITIES = (BARRIER, ENABLER, NEUTRAL)
"""Every coded segment is a barrier, an enabler, or neutral/mixed."""

IDENTIFIER_KINDS = (
    "person",
    "email",
    "phone",
    "nhs_number",
    "ni_number",
    "postcode",
    "date_of_birth",
    "address",
    "url",
    "school",
    "gp_practice",
    "bank_card",
    "iban",
    "sort_code",
    "account_number",
    "ip_address",
)
"""Kinds of identifier pseudonymisation replaces by default."""

ANCHOR_STATES = ("attached", "moved", "orphaned")
"""``attached``: its segment is as it was; ``moved``: re-attached by its text after the source changed;
``orphaned``: its text is no longer in the study (reported, never dropped)."""

MACHINE_CODER = "machine"
DECISIONS = ("accept", "reject", "recode", "add")
"""What a researcher can do with a segment: accept or reject the machine's coding, recode it, or add one."""

OUTLIER_TOPIC = -1
"""The topic of segments that fit no topic (kept visible, never hidden)."""
TOPIC_ACTIONS = ("rename", "merge", "split")
"""What a researcher can do to topics; stored as decisions and replayed on every re-run."""
ASSIGNED_BY_KINDS = ("theme", "cluster", "outlier_reduced", "outlier", "split", "merge", "structure", "short",
                     "joined")
"""How a segment got its topic: near a codebook theme, clustered, moved in from the outliers,
joined the fitted topics as a new segment (nearest topic centroid), left out
(an outlier, structure such as an introduction or logistics, or too short to say anything alone)."""
MEMO_SCOPES = ("project", "case", "theme", "cell", "source", "passage")
"""What a memo is about: the whole study, a case (participant), a theme, a framework-matrix cell, a source, a passage."""
PRACTICE_STATUSES = ("candidate", "reviewed", "confirmed", "not_a_practice")
ROLES = ("researcher", "reviewer")
"""Dashboard roles: researchers do everything; reviewers read pseudonymised text and comment."""

# Kinds of survey column.
Q_RESPONDENT_ID = "respondent_id"
Q_PLACE = "place"
Q_ROLE = "role"
Q_ORGANISATION_TYPE = "organisation_type"
Q_EMAIL = "email"
Q_NAME = "name"
Q_TIMESTAMP = "timestamp"
Q_METADATA = "metadata"
Q_LIKERT = "likert"
Q_FREE_TEXT = "free_text"
Q_CHOICE = "choice"
Q_NUMERIC = "numeric"
Q_IGNORED = "ignored"
QUESTION_KINDS = (
    Q_RESPONDENT_ID,
    Q_PLACE,
    Q_ROLE,
    Q_ORGANISATION_TYPE,
    Q_EMAIL,
    Q_NAME,
    Q_TIMESTAMP,
    Q_METADATA,
    Q_LIKERT,
    Q_FREE_TEXT,
    Q_CHOICE,
    Q_NUMERIC,
    Q_IGNORED,
)
PERSONAL_QUESTION_KINDS = (Q_EMAIL, Q_NAME)
"""Columns that identify a person: never stored as they are."""


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Turn:
    """One speaker turn of a transcript.

    ``text == transcript.text[start:end]`` always holds: offsets are 0-based
    Unicode code-point offsets into the transcript's plain text.
    """

    index: int
    speaker: str | None
    role: str
    start: int
    end: int
    text: str
    start_time: float | None = None
    end_time: float | None = None


@dataclass(frozen=True)
class Transcript:
    """A transcript read from one file: its plain text and its turns.

    The plain text is what the file says once markup is gone: for ``.txt`` the
    decoded file with normalised line ends; for ``.docx`` its paragraphs joined by
    newlines; for ``.vtt``/``.srt`` one ``Speaker: text`` line per turn (cue
    timings kept on the turns, not in the text).
    """

    path: Path
    format: str
    text: str
    turns: tuple[Turn, ...]
    encoding: str = "utf-8"
    warnings: tuple[str, ...] = ()

    @property
    def speakers(self) -> list[str]:
        """Distinct speaker labels in order of first appearance."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            if turn.speaker:
                seen.setdefault(turn.speaker, None)
        return list(seen)

    def to_frame(self) -> pd.DataFrame:
        """Turns as a DataFrame with the store's column names."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    TURN_INDEX: t.index,
                    SPEAKER: t.speaker,
                    SPEAKER_ROLE: t.role,
                    START_CHAR: t.start,
                    END_CHAR: t.end,
                    START_TIME: t.start_time,
                    END_TIME: t.end_time,
                    TEXT: t.text,
                }
                for t in self.turns
            ],
            columns=[TURN_INDEX, SPEAKER, SPEAKER_ROLE, START_CHAR, END_CHAR, START_TIME, END_TIME, TEXT],
        )


@dataclass(frozen=True)
class SurveyQuestion:
    """One column of a survey export, classified."""

    key: str
    text: str
    kind: str
    position: int
    scale: tuple[str, ...] = ()


@dataclass(frozen=True)
class Survey:
    """A survey read from one file.

    Attributes
    ----------
    respondents : one row per respondent: ``respondent_key``, ``row_number`` (1-based
        row in the file, header rows counted), ``place``, ``role``,
        ``organisation_type`` and ``attributes`` (dict of other metadata answers).
    likert : long format: ``respondent_key``, ``question_key``, ``label``, ``value``
        (1-based position on the scale, or NaN for labels off the scale).
    texts : long format, one row per non-empty free-text answer: ``respondent_key``,
        ``question_key``, ``text``.
    personal : long format, the values of columns that identify a person (email,
        name): ``respondent_key``, ``question_key``, ``text``. Pseudonymisation
        learns from them; they are never stored.
    """

    path: Path
    format: str
    vendor: str
    questions: tuple[SurveyQuestion, ...]
    respondents: pd.DataFrame
    likert: pd.DataFrame
    texts: pd.DataFrame
    personal: pd.DataFrame
    sheet: str | None = None
    warnings: tuple[str, ...] = ()

    def questions_of(self, kind: str) -> list[SurveyQuestion]:
        """The questions of one kind (see :data:`QUESTION_KINDS`)."""
        return [q for q in self.questions if q.kind == kind]


@dataclass(frozen=True)
class SourceMeta:
    """Who and where a source comes from: from its folder, the manifest or the survey."""

    place: str | None = None
    participant_id: str | None = None
    organisation_type: str | None = None
    sector: str | None = None
    role: str | None = None
    interview_date: str | None = None
    interviewers: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
