"""Who is speaking: speaker-label rules (kept as data) and speaker roles.

The rules live in ``toolkit/rules/speakers.toml``. This module only applies them:
it says whether a label is a speaker, a metadata key or neither, and whether a
speaker is the interviewer or a participant.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from toolkit.schema import INTERVIEWER, OTHER, PARTICIPANT, Turn


@dataclass(frozen=True)
class SpeakerRules:
    """Compiled speaker-label rules.

    Build it with :func:`load_speaker_rules`; the extra labels and names come from
    ``study.toml`` (``[ingest] interviewer_labels`` and ``interviewers``).
    """

    interviewer: re.Pattern
    participant: re.Pattern
    neutral: re.Pattern
    metadata_keys: frozenset[str]
    legend: tuple[tuple[str, re.Pattern], ...]
    titles: frozenset[str]
    particles: frozenset[str]
    interviewer_names: frozenset[str] = frozenset()

    def role_of_label(self, label: str) -> str | None:
        """``interviewer``/``participant`` for a conventional label, else ``None``.

        Examples
        --------
        >>> rules = load_speaker_rules()
        >>> rules.role_of_label("Interviewer 2"), rules.role_of_label("P1"), rules.role_of_label("Jo Bloggs")
        ('interviewer', 'participant', None)
        """
        clean = normalise_label(label)
        if clean.casefold() in self.interviewer_names:
            return INTERVIEWER
        if self.interviewer.fullmatch(clean):
            return INTERVIEWER
        if self.participant.fullmatch(clean):
            return PARTICIPANT
        return None

    def is_conventional(self, label: str) -> bool:
        """True for labels that are speakers by convention: roles, or diarisation ids (S01, Speaker 2)."""
        return self.role_of_label(label) is not None or bool(self.neutral.fullmatch(normalise_label(label)))

    def is_metadata_key(self, label: str) -> bool:
        return normalise_label(label).casefold() in self.metadata_keys

    def looks_like_name(self, text: str, *, min_words: int = 1, max_words: int = 5) -> bool:
        """True for 'Rosalind Fairweather', 'Dr. Melissa Ko', 'S01'; false for sentences."""
        text = text.strip()
        if not text or len(text) > 48:
            return False
        words = text.split()
        if not (min_words <= len(words) <= max_words):
            return False
        for i, word in enumerate(words):
            if word in self.titles and i < len(words) - 1:
                continue
            if word.casefold() in self.particles and 0 < i < len(words) - 1:
                continue
            head = word[0]
            if not (head.isupper() or head.isdigit()):
                return False
            if not re.fullmatch(r"[\w'’.\-]+", word):
                return False
            if word.endswith(".") and not re.fullmatch(r"\w\.|\w+\.\w\.", word):
                return False  # a full stop ends a sentence, not a name (titles handled above)
        return True

    def legend_roles(self, line: str) -> dict[str, str]:
        """Labels declared by a legend line: ``"I = interviewer; Y = informant"``."""
        found: dict[str, str] = {}
        for match in re.finditer(r"\b([A-Za-z]{1,3}\d{0,2})\s*[=:–-]\s*([A-Za-z]+)", line):
            label, word = match.group(1), match.group(2)
            for role, pattern in self.legend:
                if pattern.fullmatch(word):
                    found[label] = role
        return found


def normalise_label(label: str) -> str:
    """Strip brackets, colons and spaces around a speaker label."""
    return label.strip().strip("[]<>").strip().lstrip("/").rstrip(":").strip()


@functools.lru_cache(maxsize=16)
def load_speaker_rules(
    extra_interviewer_labels: tuple[str, ...] = (),
    interviewer_names: tuple[str, ...] = (),
) -> SpeakerRules:
    """Read ``rules/speakers.toml`` and add a study's own labels and interviewer names."""
    raw = tomllib.loads(resources.files("toolkit.rules").joinpath("speakers.toml").read_text(encoding="utf-8"))
    interviewer = list(raw["interviewer"]) + [re.escape(label) for label in extra_interviewer_labels]
    legend = tuple(
        (role, re.compile(pattern, re.IGNORECASE)) for role, pattern in raw.get("legend_roles", {}).items()
    )
    return SpeakerRules(
        interviewer=re.compile("|".join(f"(?:{p})" for p in interviewer), re.IGNORECASE),
        participant=re.compile("|".join(f"(?:{p})" for p in raw["participant"]), re.IGNORECASE),
        neutral=re.compile("|".join(f"(?:{p})" for p in raw["neutral"]), re.IGNORECASE),
        metadata_keys=frozenset(k.casefold() for k in raw["metadata_keys"]),
        legend=legend,
        titles=frozenset(raw["titles"]),
        particles=frozenset(raw["name_particles"]),
        interviewer_names=frozenset(n.casefold() for n in interviewer_names),
    )


def assign_roles(
    turns: Sequence[Turn],
    rules: SpeakerRules,
    *,
    legend: dict[str, str] | None = None,
) -> tuple[list[Turn], list[str]]:
    """Give every turn a speaker role.

    Order of evidence: a legend line in the file, the study's interviewer names,
    conventional labels (``Interviewer``, ``I``, ``R``, ``P1``...). When named
    speakers remain and no interviewer is known, the speaker who asks the most
    questions is taken as the interviewer and a warning says so.

    Returns
    -------
    (turns, warnings)
    """
    legend = legend or {}
    speakers = _ordered({t.speaker for t in turns if t.speaker and t.role != OTHER}, turns)
    roles: dict[str, str | None] = {}
    for speaker in speakers:
        role = legend.get(normalise_label(speaker)) or rules.role_of_label(speaker)
        roles[speaker] = role
    warnings: list[str] = []
    unknown = [s for s, r in roles.items() if r is None]
    unlabelled = any(t.speaker is None and t.role != OTHER for t in turns)
    if unknown == speakers and len(speakers) == 1 and unlabelled and _mostly_questions(turns, speakers[0]):
        roles[speakers[0]] = INTERVIEWER  # a moderator named, the participant's answers unlabelled
        unknown = []
    if unknown:
        if INTERVIEWER not in roles.values() and len(speakers) >= 2:
            guess = _most_questioning(turns, unknown)
            if guess is not None:
                roles[guess] = INTERVIEWER
                warnings.append(
                    f"took '{guess}' as the interviewer (asks the most questions); "
                    "name the interviewers in study.toml ([ingest] interviewers) or the manifest to be sure"
                )
        for speaker in unknown:
            if roles[speaker] is None:
                roles[speaker] = PARTICIPANT
    if unlabelled and speakers and all(roles[s] == INTERVIEWER for s in speakers):
        answers = sum(1 for t in turns if t.speaker is None and t.role != OTHER)
        warnings.append(
            f"only the interviewer is labelled ({', '.join(repr(s) for s in speakers)}): the {answers} unlabelled "
            "passage(s) between interviewer turns were taken as the participant's answers. Check a few; if the "
            "participant's turns should be told apart, label them in the transcript (for example 'P1:')"
        )
    out = []
    for turn in turns:
        if turn.role == OTHER:
            out.append(turn)
            continue
        role = roles.get(turn.speaker, PARTICIPANT) if turn.speaker else PARTICIPANT
        out.append(_replace_role(turn, role))
    return out, warnings


def _ordered(speakers: set[str], turns: Iterable[Turn]) -> list[str]:
    order: dict[str, None] = {}
    for t in turns:
        if t.speaker in speakers:
            order.setdefault(t.speaker, None)
    return list(order)


def _mostly_questions(turns: Sequence[Turn], speaker: str) -> bool:
    own = [t for t in turns if t.speaker == speaker]
    return bool(own) and sum("?" in t.text for t in own) * 2 >= len(own)


def _most_questioning(turns: Sequence[Turn], candidates: list[str]) -> str | None:
    stats = {}
    for speaker in candidates:
        own = [t for t in turns if t.speaker == speaker]
        if not own:
            continue
        questions = sum(t.text.rstrip().endswith("?") for t in own)
        words = sum(len(t.text.split()) for t in own) / len(own)
        stats[speaker] = (questions / len(own), -words)
    if len(stats) < 1:
        return None
    ranked = sorted(stats.items(), key=lambda kv: kv[1], reverse=True)
    best, (ratio, _) = ranked[0]
    if ratio == 0 or (len(ranked) > 1 and ranked[1][1][0] >= ratio):
        return None
    return best


def _replace_role(turn: Turn, role: str) -> Turn:
    from dataclasses import replace

    return replace(turn, role=role)
