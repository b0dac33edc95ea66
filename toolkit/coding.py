"""Deductive coding: give each segment a theme and a polarity, and say why.

Three kinds of evidence are combined, and each coding stores which ones fired:

* **pattern**: the codebook's phrase and token patterns (spaCy matchers, rules kept as data);
* **similarity**: cosine similarity of the segment to the theme's definition and
  example sentences (all-MiniLM-L6-v2 embeddings);
* **model**: a logistic regression over embeddings, trained on the codebook's examples
  and on every human coding in the store (so each review improves the next run).

Polarity (barrier / enabler / neutral) combines cue words with negation handling
(``rules/polarity.yaml``: "not a problem" is an enabler, "no longer a barrier" too)
and a second logistic regression trained the same way. Enabler segments that
describe something a place did are flagged as good-practice candidates.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from toolkit import schema as s
from toolkit.errors import ConfigError, NotFittedError

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]

_GOOD_PRACTICE_ACTION = re.compile(
    r"\b(?:we|they|the council|the icb|the trust|the hub|our team|our council)\s+(?:have\s+|'ve\s+|had\s+|then\s+|just\s+|also\s+)?"
    r"(?:set up|introduced|created|built|agreed|developed|started|launched|appointed|seconded|co-located|established|"
    r"brought in|put in place|wrote|drafted|signed|trained|ran|run|moved|adopted|designed|funded|invested|piloted|"
    r"commissioned|rolled out|made sure|changed|replaced|switched)\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- polarity cues
@dataclass(frozen=True)
class PolarityRules:
    """Cue words for polarity, read from ``rules/polarity.yaml``."""

    barrier: tuple[str, ...]
    enabler: tuple[str, ...]
    negators: tuple[str, ...]
    fixed_barrier: tuple[str, ...]
    fixed_enabler: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def load_polarity_rules(path: str | None = None) -> PolarityRules:
    """Read polarity cues (default: the packaged ``rules/polarity.yaml``)."""
    if path is None:
        text = resources.files("toolkit.rules").joinpath("polarity.yaml").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    raw = yaml.safe_load(text)
    for key in ("barrier", "enabler", "negators"):
        bad = [v for v in raw.get(key, []) if not isinstance(v, str)]
        if bad:
            raise ConfigError(
                f"{path or 'rules/polarity.yaml'}: {key} holds {bad!r}, which YAML did not read as text. "
                "Put such words in quotes (YAML reads a bare no/yes/on/off as true or false)."
            )
    fixed = raw.get("fixed", {})
    return PolarityRules(
        barrier=tuple(raw["barrier"]),
        enabler=tuple(raw["enabler"]),
        negators=tuple(raw["negators"]),
        fixed_barrier=tuple(fixed.get("barrier", ())),
        fixed_enabler=tuple(fixed.get("enabler", ())),
    )


def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern:
    ordered = sorted(set(phrases), key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in ordered)
    return re.compile(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def _compiled(rules: PolarityRules):
    return (
        _phrase_regex(rules.fixed_barrier),
        _phrase_regex(rules.fixed_enabler),
        _phrase_regex(rules.barrier),
        _phrase_regex(rules.enabler),
        _phrase_regex(tuple(n for n in rules.negators if n != "n't")),
    )


def polarity_cues(text: str, rules: PolarityRules | None = None) -> tuple[float, list[str]]:
    """Score a text's polarity from cue words: positive = enabler, negative = barrier.

    A negator up to three words before a cue flips it; the rules' fixed phrases
    already carry their negation and are never flipped.

    Examples
    --------
    >>> polarity_cues("That is no longer a barrier for us.")[0] > 0
    True
    >>> polarity_cues("They just don't trust us.")[0] < 0
    True
    >>> polarity_cues("We couldn't have done it without the IG lead.")[0] > 0
    True
    """
    rules = rules or load_polarity_rules()
    fixed_barrier, fixed_enabler, barrier, enabler, negator = _compiled(rules)
    masked = text
    score = 0.0
    cues: list[str] = []
    for pattern, sign in ((fixed_enabler, 1.5), (fixed_barrier, -1.5)):
        for m in pattern.finditer(masked):
            score += sign
            cues.append(("+" if sign > 0 else "-") + m.group(0).lower())
            masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
    for pattern, sign in ((enabler, 1.0), (barrier, -1.0)):
        for m in pattern.finditer(masked):
            before = masked[max(0, m.start() - 40) : m.start()]
            window = " ".join(re.findall(r"[\w'’-]+", before)[-3:])
            flipped = bool(negator.search(window)) or bool(re.search(r"n['’]t\b", window, re.IGNORECASE))
            cue = m.group(0).lower()
            # a cue that is itself a negated verb ("can't") is not flipped by its own n't
            value = -sign if flipped and not re.search(r"n['’]t$", cue) else sign
            score += value
            cues.append(("+" if value > 0 else "-") + ("not " if value != sign else "") + cue)
    return score, cues


# --------------------------------------------------------------------------- the coder
class ThemeCoder:
    """Code segments into codebook themes with a polarity, stating the evidence.

    Follows scikit-learn's contract: settings in ``__init__``, ``fit`` learns
    from the codebook's examples (and human codings), learned state ends in ``_``.

    Parameters
    ----------
    codebook : a :class:`toolkit.codebook.Codebook`.
    embedder : texts -> L2-normalised vectors (e.g. :class:`toolkit.embed.CachedEmbedder`).
    nlp : a spaCy pipeline for the codebook's patterns (lemmas need the trained one);
        ``None`` skips pattern evidence.
    min_score : the combined score a theme needs to be coded.
    second_margin : a second theme is also coded when it scores within this margin of the first.
    max_themes : at most this many themes per segment.
    pattern_weight, model_weight : weights of pattern and model evidence beside similarity.
    cue_weight : how strongly each polarity cue shifts the polarity model's odds.
    neutral_weight : prior weight of the neutral polarity (below 1 favours barrier/enabler).
    seed : random seed of the models.

    Examples
    --------
    >>> coder = ThemeCoder(codebook=load_codebook(), embedder=embed).fit()  # doctest: +SKIP
    >>> coder.predict(["They just don't trust us with anything."])  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        codebook,
        embedder: Embedder,
        nlp=None,
        polarity_rules: PolarityRules | None = None,
        min_score: float = 0.45,
        second_margin: float = 0.04,
        max_themes: int = 2,
        pattern_weight: float = 0.3,
        model_weight: float = 0.35,
        cue_weight: float = 1.0,
        neutral_weight: float = 0.5,
        seed: int = 42,
    ):
        self.codebook = codebook
        self.embedder = embedder
        self.nlp = nlp
        self.polarity_rules = polarity_rules
        self.min_score = min_score
        self.second_margin = second_margin
        self.max_themes = max_themes
        self.pattern_weight = pattern_weight
        self.model_weight = model_weight
        self.cue_weight = cue_weight
        self.neutral_weight = neutral_weight
        self.seed = seed

    # ------------------------------------------------------------------ fit
    def fit(self, human: pd.DataFrame | None = None) -> ThemeCoder:
        """Learn from the codebook's examples and, if given, human codings.

        ``human`` has ``text``, ``theme`` and ``polarity`` columns (latest decision per
        segment; rejected codings excluded by :func:`training_frame`).
        """
        from sklearn.linear_model import LogisticRegression

        examples = self.codebook.examples_frame()
        rows = examples.rename(columns={"theme_id": s.THEME})[[s.THEME, s.POLARITY, s.TEXT]]
        definitions = pd.DataFrame(
            {s.THEME: [t.id for t in self.codebook.themes], s.TEXT: [definition_text(t) for t in self.codebook.themes]}
        )
        if human is not None and not human.empty:
            rows = pd.concat([rows, human[[s.THEME, s.POLARITY, s.TEXT]]], ignore_index=True)
        self.theme_ids_ = [t.id for t in self.codebook.themes]
        vectors = self.embedder(rows[s.TEXT].tolist())
        definition_vectors = self.embedder(definitions[s.TEXT].tolist())
        self.prototypes_ = {}
        for theme in self.theme_ids_:
            mask = (rows[s.THEME] == theme).to_numpy()
            own = vectors[mask]
            d = definition_vectors[self.theme_ids_.index(theme)][None, :]
            self.prototypes_[theme] = np.vstack([d, own]) if len(own) else d
        themed = rows[rows[s.THEME].isin(self.theme_ids_)]
        themed_vectors = vectors[rows[s.THEME].isin(self.theme_ids_).to_numpy()]
        self.theme_model_ = LogisticRegression(max_iter=2000, C=4.0, random_state=self.seed)
        self.theme_model_.fit(themed_vectors, themed[s.THEME].to_numpy())
        polar = rows[s.POLARITY].isin(s.POLARITIES).to_numpy()
        self.polarity_model_ = LogisticRegression(max_iter=2000, C=2.0, random_state=self.seed, class_weight="balanced")
        self.polarity_model_.fit(vectors[polar], rows.loc[polar, s.POLARITY].to_numpy())
        self.matchers_ = self._build_matchers() if self.nlp is not None else None
        self.good_practice_regex_ = _phrase_regex(tuple(self.codebook.good_practice_cues))
        self.n_training_ = {"examples": int(len(examples)), "human": 0 if human is None else int(len(human))}
        return self

    def _build_matchers(self):
        from spacy.matcher import Matcher, PhraseMatcher

        phrase = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        token = Matcher(self.nlp.vocab)
        lemmas = "lemmatizer" in self.nlp.pipe_names
        skipped = 0
        for theme in self.codebook.themes:
            if theme.phrases:
                phrase.add(theme.id, [self.nlp.make_doc(p) for p in theme.phrases])
            usable = [list(p) for p in theme.token_patterns if lemmas or not _uses_lemma(p)]
            skipped += len(theme.token_patterns) - len(usable)
            if usable:
                token.add(theme.id, usable)
        if skipped:
            log.info("%d token patterns need lemmas, which this spaCy pipeline does not make; skipped", skipped)
        return phrase, token

    # ------------------------------------------------------------------ predict
    def predict(self, texts: list[str], *, vectors: np.ndarray | None = None) -> pd.DataFrame:
        """Code texts. One row per (text, coded theme); texts with no theme get one row with theme None.

        Columns: ``index`` (position in ``texts``), ``theme``, ``polarity``, ``confidence``,
        ``rank`` (1 = primary), ``good_practice``, ``evidence`` (dict).
        """
        if not hasattr(self, "theme_model_"):
            raise NotFittedError("ThemeCoder is not fitted yet: call fit() first.")
        columns = ["index", s.THEME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.EVIDENCE]
        if not texts:
            return pd.DataFrame(columns=columns)
        vectors = self.embedder(list(texts)) if vectors is None else vectors
        similarity = np.column_stack(
            [np.sort(vectors @ self.prototypes_[t].T, axis=1)[:, -3:].mean(axis=1) for t in self.theme_ids_]
        )
        probabilities = self.theme_model_.predict_proba(vectors)
        model = np.column_stack(
            [probabilities[:, list(self.theme_model_.classes_).index(t)] for t in self.theme_ids_]
        )
        patterns = self._pattern_hits(texts)
        pattern_matrix = np.array([[1.0 if patterns[i].get(t) else 0.0 for t in self.theme_ids_] for i in range(len(texts))])
        combined = similarity + self.model_weight * model + self.pattern_weight * pattern_matrix
        polarity_proba = self.polarity_model_.predict_proba(vectors)
        polarity_classes = list(self.polarity_model_.classes_)
        rows = []
        for i, text in enumerate(texts):
            order = np.argsort(-combined[i])
            best = combined[i, order[0]]
            chosen = [j for j in order[: self.max_themes] if combined[i, j] >= self.min_score]
            chosen = [j for j in chosen if best - combined[i, j] <= self.second_margin or j == order[0]]
            polarity, polarity_evidence = self._polarity(text, polarity_proba[i], polarity_classes)
            good = polarity == s.ENABLER and self._good_practice(text)
            if not chosen:
                rows.append(
                    {
                        "index": i,
                        s.THEME: None,
                        s.POLARITY: polarity,
                        s.CONFIDENCE: float(_sigmoid(best - self.min_score)),
                        s.RANK: 1,
                        s.GOOD_PRACTICE: False,
                        s.EVIDENCE: {
                            "best_theme": self.theme_ids_[order[0]],
                            "score": round(float(best), 3),
                            "polarity": polarity_evidence,
                        },
                    }
                )
                continue
            for rank, j in enumerate(chosen, start=1):
                theme = self.theme_ids_[j]
                fired = ["similarity"]
                if model[i, j] >= 0.25:
                    fired.append("model")
                if patterns[i].get(theme):
                    fired.append("pattern")
                rows.append(
                    {
                        "index": i,
                        s.THEME: theme,
                        s.POLARITY: polarity,
                        s.CONFIDENCE: round(float(_sigmoid(combined[i, j] - self.min_score)), 3),
                        s.RANK: rank,
                        s.GOOD_PRACTICE: bool(good),
                        s.EVIDENCE: {
                            "fired": fired,
                            "similarity": round(float(similarity[i, j]), 3),
                            "model": round(float(model[i, j]), 3),
                            "patterns": sorted(patterns[i].get(theme, [])),
                            "score": round(float(combined[i, j]), 3),
                            "polarity": polarity_evidence,
                        },
                    }
                )
        return pd.DataFrame(rows, columns=columns)

    def _pattern_hits(self, texts: list[str]) -> list[dict[str, set[str]]]:
        hits: list[dict[str, set[str]]] = [dict() for _ in texts]
        if self.matchers_ is None:
            return hits
        phrase, token = self.matchers_
        vocab = self.nlp.vocab
        for i, doc in enumerate(self.nlp.pipe(texts, batch_size=256)):
            for match_id, start, end in list(phrase(doc)) + list(token(doc)):
                hits[i].setdefault(vocab.strings[match_id], set()).add(doc[start:end].text.lower())
        return hits

    def _polarity(self, text: str, proba: np.ndarray, classes: list[str]) -> tuple[str, dict]:
        """The model's odds, shifted by the cue score: each cue multiplies its side's odds by e^cue_weight.

        Neutral is down-weighted by ``neutral_weight``: a segment that carries a theme in
        interviews about barriers and enablers is usually one or the other.
        """
        score, cues = polarity_cues(text, self.polarity_rules)
        by_class = {c: float(p) for c, p in zip(classes, proba)}
        adjusted = dict(by_class)
        if s.ENABLER in adjusted:
            adjusted[s.ENABLER] *= float(np.exp(self.cue_weight * max(score, 0.0)))
        if s.BARRIER in adjusted:
            adjusted[s.BARRIER] *= float(np.exp(self.cue_weight * max(-score, 0.0)))
        if s.NEUTRAL in adjusted:
            adjusted[s.NEUTRAL] *= self.neutral_weight
        total = sum(adjusted.values()) or 1.0
        choice = max(adjusted, key=adjusted.get)
        source = "cues+model" if score else "model"
        evidence = {
            "label": choice,
            "source": source,
            "probability": round(adjusted[choice] / total, 3),
            "cue_score": score,
            "cues": cues,
            "model": {c: round(p, 3) for c, p in by_class.items()},
        }
        return choice, evidence

    def _good_practice(self, text: str) -> bool:
        return bool(self.good_practice_regex_.search(text) or _GOOD_PRACTICE_ACTION.search(text))


def _uses_lemma(pattern) -> bool:
    return any("LEMMA" in token for token in pattern)


def definition_text(theme) -> str:
    """A theme as one sentence for the embedder: its name and definition (coder and topic prototypes)."""
    return f"{theme.name}. {theme.definition}"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-12.0 * x))


# --------------------------------------------------------------------------- human and machine codings together
def latest_human(human: pd.DataFrame) -> pd.DataFrame:
    """The latest decision of each coder on each segment (earlier ones are kept in the store as history)."""
    if human.empty:
        return human
    ordered = human.sort_values([s.CREATED_AT, s.CODING_ID])
    return ordered.groupby([s.SEGMENT_KEY, s.CODER], as_index=False).tail(1)


def training_frame(human: pd.DataFrame) -> pd.DataFrame:
    """Human codings that teach the coder: accepted, recoded or added ones with a theme and polarity."""
    latest = latest_human(human)
    if latest.empty:
        return pd.DataFrame(columns=[s.TEXT, s.THEME, s.POLARITY])
    keep = latest[latest[s.DECISION].isin(("accept", "recode", "add")) & latest[s.THEME].notna() & latest[s.TEXT].notna()]
    return keep[[s.TEXT, s.THEME, s.POLARITY]].reset_index(drop=True)


def resolve_codings(machine: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """The codings a reader should see: a human decision wins over the machine's.

    For each segment, the most recent human decision (any coder) applies: ``reject``
    removes the machine's coding, ``accept`` keeps it (marked reviewed), ``recode`` and
    ``add`` replace it with the human's theme and polarity. Segments nobody reviewed
    keep the machine's codings. Adds a ``status`` column (machine, accepted, recoded)
    and ``reviewed_by``. Vectorised: linear in the store's size (the dashboard
    re-resolves after every decision).

    Examples
    --------
    >>> resolved = resolve_codings(store.table("codings"), store.table("human_codings"))  # doctest: +SKIP
    """
    machine = machine[machine[s.THEME].notna()].copy() if not machine.empty else machine.copy()
    machine[s.STATUS] = "machine"
    machine["reviewed_by"] = None
    latest = latest_human(human)
    if latest.empty:
        return machine.reset_index(drop=True)
    last = latest.sort_values([s.CREATED_AT, s.CODING_ID]).groupby(s.SEGMENT_KEY).tail(1)
    keep = machine[~machine[s.SEGMENT_KEY].isin(set(last[s.SEGMENT_KEY]))]
    frames = [keep]
    order = {key: i for i, key in enumerate(last[s.SEGMENT_KEY])}
    accepted = last[last[s.DECISION] == "accept"].set_index(s.SEGMENT_KEY)
    rows = machine[machine[s.SEGMENT_KEY].isin(set(accepted.index))].copy()
    rows[s.STATUS] = "accepted"
    rows["reviewed_by"] = rows[s.SEGMENT_KEY].map(accepted[s.CODER])
    rows["_order"] = rows[s.SEGMENT_KEY].map(order)
    recoded = last[~last[s.DECISION].isin(("accept", "reject"))]
    notes = recoded[s.NOTE] if s.NOTE in recoded.columns else pd.Series(None, index=recoded.index)
    flags = recoded[s.GOOD_PRACTICE] if s.GOOD_PRACTICE in recoded.columns else pd.Series(None, index=recoded.index)
    human_rows = pd.DataFrame(
        {
            s.SEGMENT_KEY: recoded[s.SEGMENT_KEY].values,
            s.THEME: recoded[s.THEME].values,
            s.POLARITY: recoded[s.POLARITY].values,
            s.CONFIDENCE: 1.0,
            s.RANK: 1,
            s.GOOD_PRACTICE: [bool(v or False) for v in flags],
            s.EVIDENCE: [json.dumps({"fired": ["human"], "note": n}) for n in notes],
            s.CODER: recoded[s.CODER].values,
            s.STATUS: "recoded",
            "reviewed_by": recoded[s.CODER].values,
        }
    )
    human_rows["_order"] = human_rows[s.SEGMENT_KEY].map(order)
    reviewed = pd.concat([r for r in (rows, human_rows) if not r.empty], ignore_index=True) if not (
        rows.empty and human_rows.empty) else None
    if reviewed is not None:
        frames.append(reviewed.sort_values("_order", kind="stable").drop(columns="_order"))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- the stage
@dataclass
class CodingReport:
    """What a coding run did."""

    run_id: str
    segments: int
    evidence_segments: int
    coded_segments: int
    codings: int
    human_codings_used: int
    codebook_version: str
    embeddings_computed: int
    embeddings_cached: int

    def summary(self) -> dict:
        return dict(self.__dict__)


NOT_CODING = ("topics",)
"""Config sections that do not change coding: editing them never re-codes."""


def coding_is_stale(config, store) -> bool:
    """True when coding must run again: nothing coded yet, a new codebook, new human codings,
    or sources changed since the last coding run."""
    from toolkit.codebook import load_codebook

    runs = store.runs_frame(limit=50)
    done = runs[(runs[s.STAGE] == "code") & (runs[s.STATUS] == "ok")]
    if done.empty or store.counts()[s.SEGMENTS] == 0:
        return True
    last = done.iloc[0]
    summary = json.loads(last[s.SUMMARY] or "{}")
    codebook = load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
    if summary.get("codebook_version") != codebook.fingerprint() or last[s.CONFIG_HASH] != config.fingerprint(exclude=NOT_CODING):
        return True
    if summary.get("human_codings_used") != len(training_frame(store.table(s.HUMAN_CODINGS))):
        return True
    ingests = runs[(runs[s.STAGE] == "ingest") & (runs[s.STATUS] == "ok")]
    return bool(not ingests.empty and ingests.iloc[0][s.STARTED_AT] > last[s.STARTED_AT])


def code_study(config, store, *, embedder=None, nlp=None, codebook=None) -> CodingReport:
    """Segment every turn and free-text answer, and code the participants' segments.

    Machine codings are replaced on each run; human codings are never touched and
    teach the coder. Everything is written in one transaction.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> from toolkit.store import Store
    >>> config = load_config("interviews")  # doctest: +SKIP
    >>> code_study(config, Store(config.store_url)).coded_segments  # doctest: +SKIP
    """
    from toolkit import __version__
    from toolkit.codebook import load_codebook
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_answers, segment_turns

    codebook = codebook or load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model)
    embedder = embedder or CachedEmbedder(store)
    segments = pd.concat(
        [
            segment_turns(store.turns_for_segmenting(), nlp, min_words=config.coding.min_words),
            segment_answers(store.answers_for_segmenting(), nlp, min_words=config.coding.min_words),
        ],
        ignore_index=True,
    )
    human = store.table(s.HUMAN_CODINGS)
    training = training_frame(human)
    coder = ThemeCoder(
        codebook=codebook,
        embedder=embedder,
        nlp=nlp,
        min_score=config.coding.min_score,
        max_themes=config.coding.max_themes,
        seed=config.seed,
    ).fit(training)
    evidence = segments[segments[s.IS_EVIDENCE].astype(bool)].reset_index(drop=True)
    predictions = coder.predict(evidence[s.TEXT].tolist())
    predictions[s.SEGMENT_KEY] = evidence[s.SEGMENT_KEY].to_numpy()[predictions["index"].to_numpy(dtype=int)]
    predictions[s.CODEBOOK_VERSION] = codebook.fingerprint()
    predictions[s.EVIDENCE] = predictions[s.EVIDENCE].map(lambda e: json.dumps(e, default=str))
    coded = predictions[predictions[s.THEME].notna()]
    run_id = store.start_run("code", config_hash=config.fingerprint(exclude=NOT_CODING), version=__version__)
    try:
        with store.transaction() as conn:
            store.replace_segments(conn, segments, run_id)
            store.replace_machine_codings(conn, coded.drop(columns=["index"]), s.MACHINE_CODER, run_id)
    except Exception as exc:
        store.finish_run(run_id, "failed", {"error": type(exc).__name__})
        raise
    report = CodingReport(
        run_id=run_id,
        segments=len(segments),
        evidence_segments=len(evidence),
        coded_segments=int(coded[s.SEGMENT_KEY].nunique()),
        codings=len(coded),
        human_codings_used=len(training),
        codebook_version=codebook.fingerprint(),
        embeddings_computed=getattr(embedder, "computed", 0),
        embeddings_cached=getattr(embedder, "cached", 0),
    )
    store.finish_run(run_id, "ok", report.summary())
    return report


# --------------------------------------------------------------------------- outside a study, evaluation, import
def build_coder(config=None, *, store=None, embedder=None, nlp=None, codebook=None) -> ThemeCoder:
    """A fitted coder with a study's settings (or the defaults), trained on its human codings if a store is given."""
    from toolkit.codebook import load_codebook
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_segmenter

    if codebook is None:
        path = config.resolve(config.coding.codebook) if config is not None and config.coding.codebook else None
        codebook = load_codebook(path)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model if config else "")
    embedder = embedder or CachedEmbedder(store)
    training = training_frame(store.table(s.HUMAN_CODINGS)) if store is not None else None
    return ThemeCoder(
        codebook=codebook,
        embedder=embedder,
        nlp=nlp,
        min_score=config.coding.min_score if config else 0.45,
        max_themes=config.coding.max_themes if config else 2,
        seed=config.seed if config else 42,
    ).fit(training)


def code_texts(texts: list[str], coder: ThemeCoder) -> pd.DataFrame:
    """Code free-standing texts: one row per text with its primary and secondary theme.

    Columns: ``theme``, ``polarity``, ``confidence``, ``secondary_theme``, ``good_practice``, ``evidence`` (JSON).

    Examples
    --------
    >>> coded = code_texts(["They just don't trust us."], build_coder())  # doctest: +SKIP
    >>> coded.loc[0, "polarity"]  # doctest: +SKIP
    'barrier'
    """
    predictions = coder.predict(list(texts))
    out = pd.DataFrame(
        {
            s.THEME: [None] * len(texts),
            s.POLARITY: [None] * len(texts),
            s.CONFIDENCE: [None] * len(texts),
            "secondary_theme": [None] * len(texts),
            s.GOOD_PRACTICE: [False] * len(texts),
            s.EVIDENCE: [None] * len(texts),
        }
    )
    for row in predictions.itertuples(index=False):
        i = int(row.index)
        if row.rank == 1:
            out.at[i, s.THEME] = row.theme
            out.at[i, s.POLARITY] = row.polarity
            out.at[i, s.CONFIDENCE] = row.confidence
            out.at[i, s.GOOD_PRACTICE] = bool(row.good_practice)
            out.at[i, s.EVIDENCE] = json.dumps(row.evidence, default=str)
        elif row.rank == 2:
            out.at[i, "secondary_theme"] = row.theme
    return out


NO_THEME = "none"


def evaluate_coder(gold: pd.DataFrame, coded: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Score machine codings against a gold standard.

    ``gold`` has ``theme`` (a theme id or ``none``) and ``polarity``; ``coded`` is the
    output of :func:`code_texts` on the same rows. Returns precision/recall/F1 tables:
    ``theme`` (every row, uncoded = ``none``) and ``polarity`` (rows the gold codes
    with a theme).
    """
    from toolkit.agreement import classification_report_frame

    gold_theme = gold[s.THEME].fillna(NO_THEME).astype(str).str.strip().replace("", NO_THEME)
    predicted_theme = coded[s.THEME].fillna(NO_THEME).astype(str)
    themed = (gold_theme != NO_THEME).to_numpy()
    gold_polarity = gold[s.POLARITY].fillna(s.NEUTRAL).astype(str).str.strip()[themed]
    predicted_polarity = coded[s.POLARITY].fillna(s.NEUTRAL).astype(str)[themed]
    return {
        "theme": classification_report_frame(gold_theme.tolist(), predicted_theme.tolist()),
        "polarity": classification_report_frame(
            gold_polarity.tolist(), predicted_polarity.tolist(), labels=list(s.POLARITIES)
        ),
    }


def match_segments(frame: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """Find the segment key of each row of ``frame`` by its ``segment_key`` or its text.

    Text is matched exactly (whitespace-normalised) against segments of the same
    file when a ``file`` column is given, else against all segments; failing that, a
    segment that contains the text. Unmatched rows get ``None``.
    """
    if s.SEGMENT_KEY in frame.columns:
        known = set(segments[s.SEGMENT_KEY])
        return frame[s.SEGMENT_KEY].where(frame[s.SEGMENT_KEY].isin(known), None)
    norm = lambda t: " ".join(str(t).split())  # noqa: E731
    seg = segments.assign(_norm=segments[s.TEXT].map(norm))
    keys = []
    for row in frame.to_dict("records"):
        text = norm(row.get(s.TEXT, ""))
        pool = seg
        if "file" in row and row["file"] and s.PATH in seg.columns:
            same = seg[seg[s.PATH] == str(row["file"]).replace("\\", "/")]
            pool = same if not same.empty else seg
        exact = pool[pool["_norm"] == text]
        if exact.empty and text:
            exact = pool[pool["_norm"].str.contains(text, regex=False)]
        keys.append(exact.iloc[0][s.SEGMENT_KEY] if not exact.empty else None)
    return pd.Series(keys, index=frame.index, dtype=object)


def agreement_codings(store) -> pd.DataFrame:
    """Every coder's codings in long form for :func:`toolkit.agreement.agreement_report`.

    Columns ``unit_id`` (segment key), ``coder``, ``theme``, ``polarity``, ``primary``.
    The machine coder saw every evidence segment (uncoded ones get a row with no
    theme); a human coder saw the segments they decided on (a rejection is a row with
    no theme; an acceptance repeats the machine's coding).
    """
    segments = store.segments_frame(evidence_only=True)[[s.SEGMENT_KEY]]
    machine = store.table(s.CODINGS)
    rows = []
    coded = set()
    for row in machine.sort_values([s.SEGMENT_KEY, s.RANK]).itertuples():
        rows.append((row.segment_key, row.coder, row.theme, row.polarity, row.rank == 1))
        coded.add(row.segment_key)
    for key in segments[s.SEGMENT_KEY]:
        if key not in coded:
            rows.append((key, s.MACHINE_CODER, None, None, True))
    latest = latest_human(store.table(s.HUMAN_CODINGS))
    for row in latest.itertuples():
        if row.decision == "reject":
            rows.append((row.segment_key, row.coder, None, None, True))
        elif row.decision == "accept":
            own = machine[machine[s.SEGMENT_KEY] == row.segment_key].sort_values(s.RANK)
            for m in own.itertuples():
                rows.append((row.segment_key, row.coder, m.theme, m.polarity, m.rank == 1))
        else:
            rows.append((row.segment_key, row.coder, row.theme, row.polarity, True))
    return pd.DataFrame(rows, columns=[s.UNIT_ID, s.CODER, s.THEME, s.POLARITY, s.PRIMARY])


@dataclass
class CoderComparison:
    """Two coders compared on the segments both coded (see :func:`compare_coders`)."""

    coder_a: str
    coder_b: str
    field: str
    report: object
    """The :class:`toolkit.agreement.AgreementReport` (per theme, overall, confusion)."""
    primary: pd.DataFrame
    """One row per shared segment (index ``unit_id``): each coder's primary label, ``(uncoded)`` for none."""

    @property
    def disagreements(self) -> pd.DataFrame:
        """The shared segments whose primary labels differ."""
        return self.primary[self.primary[self.coder_a] != self.primary[self.coder_b]]


def compare_coders(
    store, coder_a: str | None = None, coder_b: str | None = None, *, field: str = s.THEME, ignore_uncoded: bool = False
) -> CoderComparison:
    """Agreement between two coders of a study, on the segments both coded.

    Without names, compares the machine with the human coder who decided most segments.

    Examples
    --------
    >>> comparison = compare_coders(store, "machine", "gold")  # doctest: +SKIP
    >>> comparison.report.overall["kappa"], len(comparison.disagreements)  # doctest: +SKIP
    """
    from toolkit.agreement import agreement_report
    from toolkit.errors import ToolkitError

    if field not in (s.THEME, s.POLARITY):
        raise ToolkitError(f"Agreement is on 'theme' or 'polarity', not '{field}'.")
    codings = agreement_codings(store)
    coders = codings[s.CODER].value_counts()
    if coder_a is None or coder_b is None:
        humans = coders.drop(s.MACHINE_CODER, errors="ignore")
        if humans.empty:
            raise ToolkitError(
                "Only the machine has coded this study, so there is nothing to compare. Review segments in the "
                "dashboard or add a coder's work with: toolkit import-codings FILE.csv --coder NAME"
            )
        coder_a, coder_b = s.MACHINE_CODER, humans.index[0]
    for coder in (coder_a, coder_b):
        if coder not in coders.index:
            raise ToolkitError(f"No codings by '{coder}'. Coders in the store: {', '.join(coders.index)}.")
    units_a = set(codings.loc[codings[s.CODER] == coder_a, s.UNIT_ID])
    units_b = set(codings.loc[codings[s.CODER] == coder_b, s.UNIT_ID])
    shared = codings[codings[s.UNIT_ID].isin(units_a & units_b)]
    report = agreement_report(shared, coder_a, coder_b, label_col=field, ignore_uncoded=ignore_uncoded)
    first = shared[shared[s.PRIMARY].astype(bool)].drop_duplicates([s.UNIT_ID, s.CODER])
    primary = (
        first.pivot(index=s.UNIT_ID, columns=s.CODER, values=field)
        .reindex(columns=[coder_a, coder_b])
        .fillna("(uncoded)")
    )
    return CoderComparison(coder_a, coder_b, field, report, primary)
