"""From a topic to a codebook entry: the one action that adds a candidate new theme to the codebook.

:func:`draft_theme` writes a theme (or sub-theme) entry from a topic's keyphrases, label and
representative passages, marked as a draft for the researcher to edit; :func:`add_topic_to_codebook`
appends it to the study's codebook YAML through the codebook's own validator and writer
(:func:`toolkit.codebook.codebook_from_dict`, :func:`toolkit.codebook.save_codebook`, which writes
the file whole or not at all). Nothing else in the codebook changes. The next ``toolkit run`` codes
the study with the new theme (the codebook's fingerprint changed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from toolkit import schema as s
from toolkit.errors import ConfigError, InputDataError

log = logging.getLogger(__name__)

STUDY_CODEBOOK = "codebook.yaml"
"""Where a study that used the toolkit's default codebook gets its own copy."""
AS_CHOICES = ("theme", "sub_theme")
MAX_EXAMPLES = 4


@dataclass
class AddedTheme:
    """What :func:`add_topic_to_codebook` did."""

    theme_id: str
    name: str
    parent: str | None
    path: Path
    copied_default: bool
    """True when the study had no codebook of its own: the toolkit's was copied, with the new theme."""

    def message(self) -> str:
        where = f"as a sub-theme of {self.parent}" if self.parent else "as a theme"
        text = f"Added '{self.theme_id}' {where} to {self.path.name}. Edit its definition, then run the study again."
        if self.copied_default:
            text += (f" The study used the toolkit's default codebook, so it now has its own copy: set "
                     f"[coding] codebook = \"{self.path.name}\" in study.toml to use it.")
        return text


def slug(text: str) -> str:
    """A theme id from a name: lower-case letters, digits and underscores, starting with a letter.

    Examples
    --------
    >>> slug("Misdirected e-mail & the breach")
    'misdirected_e_mail_the_breach'
    >>> slug("0-19 services")
    'theme_0_19_services'
    """
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60].rstrip("_")
    return out if re.match(r"^[a-z]", out) else f"theme_{out}".rstrip("_")


def draft_theme(topic: Mapping, passages: Mapping[str, str], *, existing: Sequence[str], as_: str = "theme",
                parent: str | None = None, name: str | None = None, theme_id: str | None = None,
                polarity_examples: Mapping[str, Sequence[str]] | None = None, author: str = "") -> dict:
    """A codebook entry (a dict in the codebook's YAML layout) drafted from one topic.

    Parameters
    ----------
    topic : a row of :func:`toolkit.analysis.topics.topics_frame`.
    passages : segment key -> text, for the topic's representative passages (pseudonymised text).
    existing : the codebook's theme ids (the new id must differ).
    as_ : ``theme`` or ``sub_theme`` (then ``parent`` names the theme it belongs to).
    polarity_examples : barrier / enabler sentences to add (codebooks that require them).

    Examples
    --------
    >>> row = {"topic": 10, "topic_label": "Misdirected email", "keywords": ["misdirected email", "secure email"],
    ...        "representative": ["k1"], "size": 46}
    >>> entry = draft_theme(row, {"k1": "After the misdirected email, everyone double checks."}, existing=[])
    >>> entry["id"], entry["examples"]["neutral"]
    ('misdirected_email', ['After the misdirected email, everyone double checks.'])
    """
    if as_ not in AS_CHOICES:
        raise ConfigError(f"A topic is added as 'theme' or 'sub_theme', not '{as_}'.")
    if as_ == "sub_theme" and not parent:
        raise ConfigError("A sub-theme needs its parent theme: pass parent=<theme id>.")
    keywords = [str(k) for k in topic.get(s.KEYWORDS) or []]
    label = str(topic.get(s.TOPIC_LABEL) or "").strip()
    given = (name or "").strip()
    name = given or (keywords[0][:1].upper() + keywords[0][1:] if keywords else label) or f"Topic {topic[s.TOPIC]}"
    wanted = theme_id or slug(given or (keywords[0] if keywords else name))  # the id follows a name given
    if not re.match(r"^[a-z][a-z0-9_]*$", wanted):
        raise ConfigError(f"Theme id '{wanted}' must be lower-case letters, digits and underscores; try '{slug(wanted)}'.")
    new_id, n = wanted, 2
    while new_id in existing:
        if theme_id:
            raise ConfigError(f"The codebook already has a theme '{theme_id}'. Choose another id.")
        new_id, n = f"{wanted}_{n}", n + 1
    examples = [passages[k] for k in topic.get(s.REPRESENTATIVE) or [] if k in passages][:MAX_EXAMPLES]
    by = f" by {author}" if author else ""
    entry = {
        "id": new_id,
        "name": name,
        "definition": (f"DRAFT{by} on {date.today().isoformat()}, from topic {topic[s.TOPIC]} "
                       f"({topic.get(s.SIZE, '?')} segments): what participants say about "
                       f"{', '.join(keywords[:3]) or label}. Rewrite this: what the theme covers, and why it matters "
                       "to the research question."),
        "include": f"Segments about {', '.join(keywords[:6])}." if keywords else "",
        "exclude": "",
        "examples": {"barrier": list((polarity_examples or {}).get("barrier", ()))[:MAX_EXAMPLES],
                     "enabler": list((polarity_examples or {}).get("enabler", ()))[:MAX_EXAMPLES],
                     "neutral": examples},
        "patterns": {"phrases": [], "tokens": []},
    }
    if as_ == "sub_theme":
        entry["parent"] = parent
    return entry


def add_topic_to_codebook(config, store, topic: int, *, author: str, as_: str = "theme", parent: str | None = None,
                          name: str | None = None, theme_id: str | None = None) -> AddedTheme:
    """Append a topic to the study's codebook as a draft theme or sub-theme; returns what was written.

    The study's codebook (``[coding] codebook``) gets the entry; a study on the toolkit's default
    codebook gets its own copy (``codebook.yaml`` beside ``study.toml``), never the packaged file.
    The new codebook is validated whole before it is written; a codebook that cannot take the entry
    is left as it was, and the error says why.

    Examples
    --------
    >>> add_topic_to_codebook(config, store, 10, author="ana").message()  # doctest: +SKIP
    "Added 'misdirected_email' as a theme to codebook.yaml. Edit its definition, then run the study again."
    """
    from toolkit.analysis.topics import topics_frame
    from toolkit.codebook import Theme, codebook_from_dict, load_codebook, save_codebook

    if not str(author or "").strip():
        raise InputDataError(s.TOPICS, "Adding a topic to the codebook needs the researcher's name.", "Pass author='your name'.")
    topics = topics_frame(store.table(s.TOPICS))
    found = topics[topics[s.TOPIC] == int(topic)]
    if int(topic) == s.OUTLIER_TOPIC or found.empty:
        known = ", ".join(map(str, topics.loc[topics[s.TOPIC] != s.OUTLIER_TOPIC, s.TOPIC].tolist())) or "none"
        raise InputDataError(s.TOPICS, f"There is no topic {topic} to add to the codebook.", f"Topics now: {known}.")
    row = found.iloc[0].to_dict()
    configured = bool(config.coding.codebook)
    path = config.resolve(config.coding.codebook) if configured else config.root / STUDY_CODEBOOK
    if not configured and path.exists():
        raise ConfigError(f"{path.name} already exists in {config.root.name} but study.toml does not use it "
                          f"(its [coding] codebook is empty). Set [coding] codebook = \"{path.name}\", or move the file.")
    book = load_codebook(path if configured else None, check_patterns=False)
    parent = parent or (none_str(row.get(s.CANDIDATE_PARENT)) if as_ == "sub_theme" else None)
    if as_ == "sub_theme":
        if "parent" not in getattr(Theme, "__dataclass_fields__", {}):
            raise ConfigError("This toolkit's codebook has no sub-themes yet (a theme's `parent`): add the topic as a "
                              "theme and name the theme it belongs to in its definition.")
        if parent not in book.ids:
            raise ConfigError(f"'{parent}' is not a theme of the codebook; a sub-theme's parent must be one of: "
                              f"{', '.join(book.ids)}.")
    passages = _passages(store, row[s.REPRESENTATIVE])
    entry = draft_theme(row, passages, existing=book.ids, as_=as_, parent=parent, name=name, theme_id=theme_id,
                        author=author.strip())
    data = book.to_dict()
    data["themes"].append(entry)
    try:
        new_book = codebook_from_dict(data, source=path, check_patterns=False)
    except ConfigError as first:
        if "examples." not in str(first):
            raise
        # an older codebook format wants barrier and enabler example sentences: take them from the
        # topic's segments the coder (or a researcher) gave that polarity
        entry = draft_theme(row, passages, existing=book.ids, as_=as_, parent=parent, name=name, theme_id=theme_id,
                            polarity_examples=_polarity_examples(store, int(topic)), author=author.strip())
        data["themes"][-1] = entry
        try:
            new_book = codebook_from_dict(data, source=path, check_patterns=False)
        except ConfigError as second:
            raise ConfigError(f"Topic {topic} could not be added to {path.name}: {second} Add the theme by hand "
                              "(toolkit codebook --out), or review some of the topic's segments first.") from None
    save_codebook(new_book, path)
    log.info("topic %s added to the codebook %s as %s '%s'", topic, path.name, as_, entry["id"])
    return AddedTheme(entry["id"], entry["name"], entry.get("parent"), path, copied_default=not configured)


def none_str(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _passages(store, keys: Sequence[str]) -> dict[str, str]:
    segments = store.segments_frame(evidence_only=True)
    found = segments[segments[s.SEGMENT_KEY].isin(list(keys))]
    return dict(zip(found[s.SEGMENT_KEY], found[s.TEXT]))


def _polarity_examples(store, topic: int) -> dict[str, list[str]]:
    """The topic's segments resolved (human over machine) as barrier or enabler, most central first."""
    from toolkit.coding import resolve_codings

    assigned = store.table(s.SEGMENT_TOPICS)
    members = assigned[assigned[s.TOPIC] == topic].sort_values(s.PROBABILITY, ascending=False)
    codings = resolve_codings(store.table(s.CODINGS), store.table(s.HUMAN_CODINGS))
    if codings.empty:
        return {}
    primary = codings[codings[s.RANK] == 1].set_index(s.SEGMENT_KEY)[s.POLARITY]
    text = dict(zip(*(lambda f: (f[s.SEGMENT_KEY], f[s.TEXT]))(store.segments_frame(evidence_only=True))))
    out: dict[str, list[str]] = {s.BARRIER: [], s.ENABLER: []}
    for key in members[s.SEGMENT_KEY]:
        polarity = primary.get(key)
        if polarity in out and key in text and len(out[polarity]) < MAX_EXAMPLES:
            out[polarity].append(text[key])
    return out
