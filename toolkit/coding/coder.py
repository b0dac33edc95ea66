"""The machine coder: a theme (or none) and a polarity for each unit, with calibrated confidence and the evidence.

Evidence, each stored with every coding:

* **model**: a logistic regression over sentence embeddings of the unit read in context (its
  own words, plus the question it answers, plus the sentence before when it is a follow-on),
  trained on the codebook's definitions and examples and on every reviewed coding;
* **similarity**: cosine similarity to the theme's definition, examples and reviewed codings;
* **pattern**: the codebook's phrases and token patterns, which only support a theme that the
  model already ranks among its first three (one word, two meanings: "hub" is an office in one
  place and a data warehouse in another);
* **exclusion**: a theme's ``exclude`` note ("...: other_theme") moves a unit that reads more like
  the note than like the definition to the theme the note names;
* **polarity**: cue words read clause by clause (:mod:`toolkit.coding.polarity`), the question's
  lean, and a second model; combined by a small model fitted on out-of-fold scores.

Confidence is calibrated separately for theme and polarity (:mod:`toolkit.coding.calibration`) on
cross-validated scores of the training rows; below ``min_confidence`` the coder abstains rather
than guessing, and a unit with no theme never gets a polarity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.coding.calibration import Calibrator
from toolkit.coding.polarity import PolarityRules, _phrase_regex, load_polarity_rules, prompt_lean, read_polarity
from toolkit.coding.units import PREVIOUS, PROMPT, is_follow_on, not_codable
from toolkit.errors import NotFittedError

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]

NONE = "(none)"
"""The theme model's class for reviewed units that have no theme."""

_GOOD_PRACTICE_ACTION = re.compile(
    r"\b(?:we|they|the council|the icb|the trust|the hub|our team|our council)\s+(?:have\s+|'ve\s+|had\s+|then\s+|just\s+|also\s+)?"
    r"(?:set up|introduced|created|built|agreed|developed|started|launched|appointed|seconded|co-located|established|"
    r"brought in|put in place|wrote|drafted|signed|trained|ran|run|moved|adopted|designed|funded|invested|piloted|"
    r"commissioned|rolled out|made sure|changed|replaced|switched)\b",
    re.IGNORECASE,
)
_EXCLUSION = re.compile(r"([^.:;]{8,}?):\s*([a-z][a-z0-9_]*)\b")
EXCLUSION_MARGIN = 0.05
"""How much closer to an exclusion note than to the theme itself a unit must be to be moved."""
STACK_MIN_REVIEWED = 60
"""Reviewed units with a polarity needed before the weights of cues and question are learnt, not fixed."""
OFF_TOPIC_QUANTILE = 0.05
"""A unit less similar to its theme's training units than this share of training units is off topic."""
COLUMNS = ["index", s.THEME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.EVIDENCE]


class ThemeCoder:
    """Code units into codebook themes with a polarity, stating the evidence and a calibrated confidence.

    Follows scikit-learn's contract: settings in ``__init__``, ``fit`` learns from the codebook
    (definitions, and examples when it has them) and from human codings; learned state ends in ``_``.

    Parameters
    ----------
    codebook : a :class:`toolkit.codebook.Codebook`.
    embedder : texts -> L2-normalised vectors (see :data:`toolkit.embed.Encoder`).
    nlp : a spaCy pipeline for the codebook's patterns (and clause scope when it parses); ``None``
        skips pattern evidence.
    min_confidence : calibrated theme confidence below which the coder abstains.
    max_themes, second_ratio : a second theme is coded when its model probability is at least
        ``second_ratio`` times the first's (several codes on one passage).
    context_weight : weight of the question's embedding beside the unit's own.
    follow_on_weight : weight of the previous sentence for a follow-on ("That makes it easy.").
    pattern_weight : how much a pattern hit adds to a theme the model ranks in its first three.
    prompt_weight : how far a question's lean moves polarity (log-odds) before reviews have taught it.
    cue_weight : how far each clause-level cue moves polarity (log-odds) before reviews have taught it.
    similarity_weight : share of the theme score that comes from similarity to each theme's units (a
        nearest-prototype reading, which learns from a handful of reviews) rather than the model.
    seed : random seed of the models.
    min_score : old name of ``min_confidence`` (kept for old study files).

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
        min_confidence: float = 0.35,
        max_themes: int = 2,
        second_ratio: float = 0.6,
        context_weight: float = 0.3,
        follow_on_weight: float = 0.8,
        pattern_weight: float = 0.15,
        prompt_weight: float = 1.0,
        cue_weight: float = 1.0,
        similarity_weight: float = 0.5,
        seed: int = 42,
        min_score: float | None = None,
    ):
        self.codebook = codebook
        self.embedder = embedder
        self.nlp = nlp
        self.polarity_rules = polarity_rules
        self.min_confidence = min_confidence
        self.max_themes = max_themes
        self.second_ratio = second_ratio
        self.context_weight = context_weight
        self.follow_on_weight = follow_on_weight
        self.pattern_weight = pattern_weight
        self.prompt_weight = prompt_weight
        self.cue_weight = cue_weight
        self.similarity_weight = similarity_weight
        self.seed = seed
        self.min_score = min_score

    # ------------------------------------------------------------------ fit
    def fit(self, human: pd.DataFrame | None = None) -> ThemeCoder:
        """Learn from the codebook and, if given, human codings.

        ``human`` has ``text``, ``theme`` (``None`` for a reviewed unit with no theme) and
        ``polarity``, and may have ``prompt`` and ``previous`` (see :func:`training_frame`).
        """
        rows = self._training_rows(human)
        self.theme_ids_ = list(self.codebook.ids)
        self.rules_ = self.polarity_rules or load_polarity_rules()
        vectors = self._vectors(rows)
        self.theme_model_, theme_cal_rows = _fit_with_oof(vectors, rows[s.THEME].to_numpy(), _theme_model, self.seed)
        self.prototypes_ = {t: vectors[(rows[s.THEME] == t).to_numpy()] for t in self.theme_model_.classes_}
        self.matchers_ = self._build_matchers() if self.nlp is not None else None
        self.exclusions_ = self._exclusions()
        # theme calibration on out-of-fold scores: P(top theme right | top probability, margin, similarity)
        oof, labels, done = theme_cal_rows
        oof = self._theme_scores_loo(vectors, rows[s.THEME].to_numpy(), np.flatnonzero(done), oof)
        top, margin, right, predicted = _top_margin(oof, labels, self.theme_model_.classes_)
        similarity = _loo_similarity(vectors, rows[s.THEME].to_numpy(), np.flatnonzero(done), predicted)
        keep = self._calibration_rows(rows)[done]
        # off-topic guard: a unit less like any training row of its theme than almost every training row is
        self.min_similarity_ = float(np.quantile(similarity, OFF_TOPIC_QUANTILE)) if len(similarity) else -1.0
        self.theme_calibrator_ = Calibrator(seed=self.seed).fit(
            np.column_stack([top, margin, similarity])[keep], right[keep])
        self.uses_polarity_ = bool(getattr(self.codebook, "uses_polarity", True))
        if self.uses_polarity_:
            self._fit_polarity(rows, vectors)
        self.good_practice_regex_ = _phrase_regex(tuple(getattr(self.codebook, "good_practice_cues", ())))
        self.n_training_ = {"codebook": int((rows["_origin"] == "codebook").sum()),
                            "human": int((rows["_origin"] == "human").sum())}
        return self

    def _training_rows(self, human: pd.DataFrame | None) -> pd.DataFrame:
        examples = self.codebook.examples_frame().rename(columns={"theme_id": s.THEME})
        definitions = pd.DataFrame(
            {s.THEME: list(self.codebook.ids), s.POLARITY: None,
             s.TEXT: [definition_text(t) for t in self.codebook.themes]}
        )
        parts = [definitions.assign(_origin="codebook"), examples.assign(_origin="codebook")]
        if human is not None and not human.empty:
            h = human.copy()
            h[s.THEME] = h[s.THEME].where(h[s.THEME].notna() & h[s.THEME].isin(self.codebook.ids), NONE)
            parts.append(h.assign(_origin="human"))
        rows = pd.concat(parts, ignore_index=True)
        for col in (PROMPT, PREVIOUS):
            rows[col] = rows[col].where(rows[col].notna(), "") if col in rows.columns else ""
        return rows

    def _theme_scores_loo(self, vectors, themes, rows, oof) -> np.ndarray:
        """The blended scores of training rows, each row's own vector left out of its prototypes."""
        if not self.similarity_weight:
            return oof
        classes = list(self.theme_model_.classes_)
        sims = vectors[rows] @ vectors.T
        sims[np.arange(len(rows)), rows] = -np.inf
        columns = []
        for c in classes:
            own = sims[:, themes == c]
            k = min(3, own.shape[1])
            columns.append(np.sort(own, axis=1)[:, -k:].mean(axis=1) if k else np.zeros(len(rows)))
        s_ = np.column_stack(columns)
        s_[~np.isfinite(s_)] = 0.0
        z = (s_ - s_.mean(axis=1, keepdims=True)) / (s_.std(axis=1, keepdims=True) + 1e-6)
        soft = np.exp(2.0 * z)
        soft /= soft.sum(axis=1, keepdims=True)
        return (1 - self.similarity_weight) * oof + self.similarity_weight * soft

    def _calibration_rows(self, rows: pd.DataFrame) -> np.ndarray:
        """Calibrate on reviewed units once there are enough: they look like the study's text; examples do not."""
        human = (rows["_origin"] == "human").to_numpy()
        return human if human.sum() >= 40 else np.ones(len(rows), dtype=bool)

    def _fit_polarity(self, rows: pd.DataFrame, vectors: np.ndarray) -> None:
        polar = rows[s.POLARITY].isin(s.POLARITIES).to_numpy() & (rows[s.THEME] != NONE).to_numpy()
        labels = rows.loc[polar, s.POLARITY].to_numpy()
        if len(set(labels)) < 2:
            self.polarity_model_ = None
            return
        own = self._own_vectors(rows[polar])
        self.polarity_model_, (oof, oof_labels, done) = _fit_with_oof(own, labels, _polarity_model, self.seed)
        polar_rows = rows[polar]
        readings = self._readings(polar_rows[done])
        prompts = polar_rows.loc[done, PROMPT].tolist()
        reviewed = int((polar_rows["_origin"] == "human").sum())
        # with enough reviewed units, a small model learns how far cues, advice and the question count;
        # before that, fixed priors (one cue moves the odds by e^cue_weight) and a calibrator
        self.stacked_ = reviewed >= STACK_MIN_REVIEWED
        if self.stacked_:
            from sklearn.linear_model import LogisticRegression

            features = _polarity_features(oof, self.polarity_model_.classes_, readings, prompts, self.rules_)
            self.polarity_stacker_ = LogisticRegression(C=1.0, max_iter=2000, random_state=self.seed).fit(features, oof_labels)
            self.polarity_classes_ = list(self.polarity_stacker_.classes_)
        else:
            self.polarity_classes_ = list(self.polarity_model_.classes_)
            prior = self._prior_polarity(oof, readings, prompts)
            right = np.asarray(self.polarity_classes_)[prior.argmax(axis=1)] == np.asarray(oof_labels)
            self.polarity_calibrator_ = Calibrator(seed=self.seed).fit(prior.max(axis=1), right.astype(int))

    def _prior_polarity(self, proba: np.ndarray, readings: list, prompts: list) -> np.ndarray:
        """The polarity model's odds moved by the clause-level cues and the question's lean (fixed weights)."""
        labels = self.polarity_classes_
        logits = np.log(np.clip(proba, 1e-6, 1.0))
        cue = np.array([np.clip(r.score, -3, 3) for r in readings])
        lean = np.array([prompt_lean(p, self.rules_) for p in prompts])
        shift = self.cue_weight * cue + self.prompt_weight * lean
        if s.ENABLER in labels:
            logits[:, labels.index(s.ENABLER)] += shift / 2
        if s.BARRIER in labels:
            logits[:, labels.index(s.BARRIER)] -= shift / 2
        if s.NEUTRAL in labels:
            logits[:, labels.index(s.NEUTRAL)] -= self.cue_weight * np.abs(cue) / 2
        out = np.exp(logits - logits.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)

    def _build_matchers(self):
        from spacy.matcher import Matcher, PhraseMatcher

        phrase = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        token = Matcher(self.nlp.vocab)
        lemmas = "lemmatizer" in self.nlp.pipe_names
        for theme in self.codebook.themes:
            if theme.phrases:
                phrase.add(theme.id, [self.nlp.make_doc(p) for p in theme.phrases])
            usable = [list(p) for p in theme.token_patterns if lemmas or not _uses_lemma(p)]
            if usable:
                token.add(theme.id, usable)
        return phrase, token

    def _exclusions(self) -> dict[str, list[tuple[np.ndarray, str, np.ndarray]]]:
        """Per theme: (embedded exclusion note, the theme it names, the theme's definition vector)."""
        notes = []
        for theme in self.codebook.themes:
            for text, target in _EXCLUSION.findall(theme.exclude or ""):
                if target in self.codebook.ids and target != theme.id:
                    notes.append((theme.id, text.strip(), target))
        if not notes:
            return {}
        vectors = self.embedder([n[1] for n in notes] + [definition_text(t) for t in self.codebook.themes])
        definition = {t: vectors[len(notes) + i] for i, t in enumerate(self.codebook.ids)}
        out: dict = {}
        for (theme, _, target), v in zip(notes, vectors):
            out.setdefault(theme, []).append((v, target, definition[theme]))
        return out

    # ------------------------------------------------------------------ vectors
    def _vectors(self, frame: pd.DataFrame) -> np.ndarray:
        """Each unit read in context: its words, the question it answers, the sentence it completes."""
        texts = frame[s.TEXT].fillna("").astype(str).tolist()
        prompts = frame[PROMPT].fillna("").astype(str).tolist() if PROMPT in frame.columns else [""] * len(texts)
        previous = frame[PREVIOUS].fillna("").astype(str).tolist() if PREVIOUS in frame.columns else [""] * len(texts)
        unique = list(dict.fromkeys([t for t in texts + prompts + previous if t]))
        table = dict(zip(unique, self.embedder(unique))) if unique else {}
        dim = len(next(iter(table.values()))) if table else 1
        zero = np.zeros(dim, dtype=np.float32)
        out = np.vstack([table.get(t, zero) for t in texts]).astype(np.float32)
        for i, (p, b, t) in enumerate(zip(prompts, previous, texts)):
            if p:
                out[i] += self.context_weight * table[p]
            if b and is_follow_on(t):
                out[i] += self.follow_on_weight * table[b]
        return _normalise(out)

    def _own_vectors(self, frame: pd.DataFrame) -> np.ndarray:
        """Polarity reads the unit's own words (and the claim it completes), not the question."""
        return self._vectors(frame.assign(**{PROMPT: ""}))

    def _readings(self, frame: pd.DataFrame) -> list:
        texts = frame[s.TEXT].fillna("").astype(str).tolist()
        parses = self.nlp is not None and "parser" in getattr(self.nlp, "pipe_names", ())
        space = _TEXT_CACHE.space("readings", self.nlp if parses else None, self.rules_)

        def read(todo: list[str]) -> list:
            docs = self._docs(todo) if parses else [None] * len(todo)
            return [read_polarity(t, self.rules_, doc=d) for t, d in zip(todo, docs)]

        return _TEXT_CACHE.get_many(space, texts, read)

    def _docs(self, texts: list[str]) -> list:
        return list(self.nlp.pipe(texts, batch_size=256))

    # ------------------------------------------------------------------ predict
    def predict(self, texts, *, vectors: np.ndarray | None = None) -> pd.DataFrame:
        """Code units. One row per (unit, coded theme); a unit with no theme gets one row with theme None.

        ``texts`` is a list of strings, or a frame with ``text`` and optionally ``prompt`` and
        ``previous``. Columns: ``index`` (position), ``theme``, ``polarity``, ``confidence``
        (calibrated theme confidence), ``rank`` (1 = primary), ``good_practice``, ``evidence``
        (dict, with ``polarity_confidence``).
        """
        if not hasattr(self, "theme_model_"):
            raise NotFittedError("ThemeCoder is not fitted yet: call fit() first.")
        frame = texts.reset_index(drop=True) if isinstance(texts, pd.DataFrame) else pd.DataFrame({s.TEXT: list(texts)})
        if frame.empty:
            return pd.DataFrame(columns=COLUMNS)
        frame[s.TEXT] = frame[s.TEXT].fillna("").astype(str)
        for col in (PROMPT, PREVIOUS):
            frame[col] = frame[col].where(frame[col].notna(), "") if col in frame.columns else ""
        x = self._vectors(frame) if vectors is None else vectors
        classes = list(self.theme_model_.classes_)
        proba = self._theme_scores(x, self.theme_model_.predict_proba(x), classes, self.prototypes_)
        patterns = self._pattern_hits(frame[s.TEXT].tolist())
        readings = self._readings(frame)
        choices = [self._choose(x[i], proba[i], classes, patterns[i]) for i in range(len(frame))]
        # calibrated in one call for every unit (per unit it cost more than the choosing)
        calibrated = self.theme_calibrator_.predict(np.array([c[3:6] for c in choices], dtype=float).reshape(-1, 3))
        rows = []
        for i, text in enumerate(frame[s.TEXT]):
            rows.extend(self._code_one(i, text, choices[i], float(calibrated[i]), patterns[i], readings[i]))
        if self.uses_polarity_ and self.polarity_model_ is not None:
            self._add_polarity(rows, frame, readings)
        return pd.DataFrame(rows, columns=COLUMNS)

    def _choose(self, x, p, classes, hits) -> tuple:
        """A unit's best theme before calibration: (scores, ranked themes, exclusion move, top, margin, similarity)."""
        scores = {c: float(v) for c, v in zip(classes, p)}
        ranked = sorted((c for c in classes if c != NONE), key=scores.get, reverse=True)
        for theme in ranked[:3]:  # a pattern supports only a theme the model already considers
            if hits.get(theme):
                scores[theme] += self.pattern_weight
        ranked = sorted(ranked, key=scores.get, reverse=True)
        best = ranked[0]
        moved = self._apply_exclusion(best, x, scores)
        if moved:
            best = moved
            ranked = [moved] + [t for t in ranked if t != moved]
        total = sum(scores.values()) or 1.0
        top = scores[best] / total
        margin = top - scores[ranked[1]] / total if len(ranked) > 1 else top
        similarity = float(np.max(self.prototypes_[best] @ x)) if len(self.prototypes_[best]) else 0.0
        return scores, ranked, moved, top, margin, similarity, float(p[classes.index(best)])

    def _code_one(self, i, text, choice, confidence, hits, reading) -> list[dict]:
        scores, ranked, moved, _, _, similarity, model_p = choice
        best = ranked[0]
        evidence = {"best_theme": best, "model": round(model_p, 3),
                    "similarity": round(similarity, 3), "patterns": sorted(hits.get(best, [])),
                    "cues": reading.cues, "confidence": round(confidence, 3)}
        reason = not_codable(text, has_cue=bool(reading.cues) or bool(hits))
        none_wins = NONE in scores and scores[NONE] >= scores[best]
        evidence["answer"] = "none" if none_wins else best  # what the confidence is the probability of
        off_topic = similarity < self.min_similarity_ and not hits
        if reason or none_wins or off_topic or confidence < self._threshold():
            evidence["uncoded"] = reason or ("reviewed as none" if none_wins else "off topic: unlike any training unit"
                                             if off_topic else "abstained: confidence below threshold")
            return [{"index": i, s.THEME: None, s.POLARITY: None, s.CONFIDENCE: round(confidence, 3), s.RANK: 1,
                     s.GOOD_PRACTICE: False, s.EVIDENCE: evidence}]
        fired = ["model", "similarity"] + (["pattern"] if hits.get(best) else []) + (["exclusion"] if moved else [])
        out = [{"index": i, s.THEME: best, s.POLARITY: None, s.CONFIDENCE: round(confidence, 3), s.RANK: 1,
                s.GOOD_PRACTICE: False, s.EVIDENCE: {**evidence, "fired": fired}}]
        for rank, theme in enumerate(ranked[1: self.max_themes], start=2):
            if scores[theme] >= self.second_ratio * scores[best]:
                conf = confidence * min(1.0, scores[theme] / scores[best])
                out.append({"index": i, s.THEME: theme, s.POLARITY: None, s.CONFIDENCE: round(conf, 3), s.RANK: rank,
                            s.GOOD_PRACTICE: False,
                            s.EVIDENCE: {**evidence, "best_theme": theme, "fired": ["model"], "confidence": round(conf, 3)}})
        return out

    def _theme_scores(self, x: np.ndarray, proba: np.ndarray, classes: list, prototypes: dict) -> np.ndarray:
        """Blend the model's probabilities with a nearest-prototype reading (softmax of standardised similarity)."""
        if not self.similarity_weight:
            return proba
        sims = np.column_stack([_top_similarity(x, prototypes.get(c)) for c in classes])
        z = (sims - sims.mean(axis=1, keepdims=True)) / (sims.std(axis=1, keepdims=True) + 1e-6)
        soft = np.exp(2.0 * z)
        soft /= soft.sum(axis=1, keepdims=True)
        return (1 - self.similarity_weight) * proba + self.similarity_weight * soft

    def _threshold(self) -> float:
        return self.min_confidence if self.min_score is None else self.min_score

    def _apply_exclusion(self, theme: str, x: np.ndarray, scores: dict) -> str | None:
        """The theme an exclusion note sends this unit to, when the unit reads more like the note than the definition."""
        best, gain = None, EXCLUSION_MARGIN
        own = self.prototypes_.get(theme)
        closest_own = float(np.max(own @ x)) if own is not None and len(own) else -1.0
        for note, target, definition in self.exclusions_.get(theme, []):
            # the unit must read more like the note than like the theme's definition and any of its units
            lead = float(note @ x) - max(float(definition @ x), closest_own)
            if lead > gain and target in scores:
                best, gain = target, lead
        return best

    def _add_polarity(self, rows: list[dict], frame: pd.DataFrame, readings: list) -> None:
        coded = sorted({r["index"] for r in rows if r[s.THEME] is not None})
        if not coded:
            return
        sub = frame.loc[coded]
        proba = self.polarity_model_.predict_proba(self._own_vectors(sub))
        prompts = sub[PROMPT].tolist()
        mine = [readings[i] for i in coded]
        labels = self.polarity_classes_
        if self.stacked_:
            features = _polarity_features(proba, list(self.polarity_model_.classes_), mine, prompts, self.rules_)
            stacked = self.polarity_stacker_.predict_proba(features)
            confidence = stacked.max(axis=1)
        else:
            stacked = self._prior_polarity(proba, mine, prompts)
            confidence = self.polarity_calibrator_.predict(stacked.max(axis=1))
        choice = {i: (labels[int(np.argmax(p))], float(c), p) for i, p, c in zip(coded, stacked, confidence)}
        for row in rows:
            if row[s.THEME] is None:
                continue
            label, conf, p = choice[row["index"]]
            row[s.POLARITY] = label
            row[s.EVIDENCE]["polarity"] = {"label": label, "confidence": round(conf, 3),
                                          "probabilities": {c: round(float(v), 3) for c, v in zip(labels, p)},
                                          "advice": readings[row["index"]].advice,
                                          "prompt_lean": prompt_lean(frame.loc[row["index"], PROMPT], self.rules_)}
            row[s.EVIDENCE]["polarity_confidence"] = round(conf, 3)
            row[s.GOOD_PRACTICE] = bool(label == s.ENABLER and self._good_practice(frame.loc[row["index"], s.TEXT]))

    def _pattern_hits(self, texts: list[str]) -> list[dict[str, set[str]]]:
        if self.matchers_ is None:
            return [{} for _ in texts]
        phrase, token = self.matchers_
        matchers = [m for m in (phrase, token) if len(m)]
        if not matchers:
            return [{} for _ in texts]
        vocab = self.nlp.vocab

        def match(todo: list[str]) -> list[dict[str, set[str]]]:
            hits: list[dict[str, set[str]]] = [{} for _ in todo]
            # only passages some pattern could match are tagged (see toolkit.coding.gate: exact, not a guess)
            rows = [i for i, ok in enumerate(self._gate().possible(todo)) if ok]
            for i, doc in zip(rows, self.nlp.pipe([todo[i] for i in rows], batch_size=256)):
                for match_id, start, end in [m for matcher in matchers for m in matcher(doc)]:
                    hits[i].setdefault(vocab.strings[match_id], set()).add(doc[start:end].text.lower())
            return hits

        # the same text, codebook patterns and pipeline always match alike: a review session's refits
        # (a predict after every decision) match each passage once, not on every decision
        return [dict(h) for h in _TEXT_CACHE.get_many(_TEXT_CACHE.space("patterns", self.nlp, _patterns_key(self.codebook)), texts, match)]

    def _gate(self):
        """The pre-filter for the pattern matchers, built once from the codebook's phrases and patterns."""
        if getattr(self, "gate_", None) is None:
            from toolkit.coding.gate import PatternGate

            lemmas = "lemmatizer" in self.nlp.pipe_names
            self.gate_ = PatternGate(
                self.nlp, [p for t in self.codebook.themes for p in t.phrases],
                [list(p) for t in self.codebook.themes for p in t.token_patterns if lemmas or not _uses_lemma(p)])
        return self.gate_

    def _good_practice(self, text: str) -> bool:
        return bool(self.good_practice_regex_.search(text) or _GOOD_PRACTICE_ACTION.search(text))


# --------------------------------------------------------------------------- per-text results, cached
def _patterns_key(codebook) -> str:
    """What the pattern matchers are built from: each theme's phrases and token patterns."""
    import hashlib
    import json

    spec = [[t.id, list(t.phrases), [list(p) for p in t.token_patterns]] for t in codebook.themes]
    return hashlib.blake2b(json.dumps(spec, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


class _TextCache:
    """Results that depend only on a text and a fixed setting (``space``), kept for the process.

    Bounded: when it holds ``limit`` texts it is emptied (a study's passages fit many times over;
    a review session re-predicts the same passages after every decision). Values are never
    mutated by their users. A space names the pipeline and rules objects by ``id()``, and the
    cache keeps those objects alive while it holds results for them, so an id is never reused."""

    def __init__(self, limit: int = 400_000):
        self.limit = limit
        self._items: dict[tuple, object] = {}
        self._pinned: dict[int, object] = {}

    def space(self, name: str, *parts: object) -> tuple:
        """A key for results computed with these objects (strings and None are taken as they are)."""
        key: list = [name]
        for part in parts:
            if part is None or isinstance(part, str):
                key.append(part)
            else:
                self._pinned[id(part)] = part
                key.append(id(part))
        return tuple(key)

    def get_many(self, space: tuple, texts: list[str], compute: Callable[[list[str]], list]) -> list:
        todo = list(dict.fromkeys(t for t in texts if (space, t) not in self._items))
        if todo:
            if len(self._items) + len(todo) > self.limit:
                self._items.clear()  # the pinned objects stay: spaces handed out before still name them
            self._items.update({(space, t): v for t, v in zip(todo, compute(todo))})
        return [self._items[(space, t)] for t in texts]


_TEXT_CACHE = _TextCache()


# --------------------------------------------------------------------------- models and their out-of-fold scores
def _theme_model(seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.02, max_iter=5000, random_state=seed))


def _polarity_model(seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.02, max_iter=5000, class_weight="balanced",
                                                              random_state=seed))


def _fit_with_oof(x: np.ndarray, y: np.ndarray, make, seed: int):
    """The model fitted on everything, and out-of-fold probabilities (for calibration, never for training)."""
    from sklearn.model_selection import StratifiedKFold

    model = make(seed).fit(x, y)
    classes = list(model.classes_)
    counts = pd.Series(y).value_counts()
    folds = int(min(5, counts.max()))
    oof = np.zeros((len(y), len(classes)))
    # classes with a single row (a definition alone) stay in every training fold
    single = np.isin(y, counts[counts < 2].index)
    index = np.flatnonzero(~single)
    if folds < 2 or len(index) < 10 or len(set(y[index])) < 2:
        log.info("too few rows to cross-validate (%d); confidence is calibrated on the training rows", len(y))
        return model, (model.predict_proba(x), y, np.ones(len(y), dtype=bool))
    splitter = StratifiedKFold(n_splits=min(folds, int(counts[counts >= 2].min()) if (counts >= 2).any() else 2),
                               shuffle=True, random_state=seed)
    done = np.zeros(len(y), dtype=bool)
    for train, test in splitter.split(index, y[index]):
        train_rows = np.concatenate([index[train], np.flatnonzero(single)])
        fold = make(seed).fit(x[train_rows], y[train_rows])
        p = fold.predict_proba(x[index[test]])
        for j, c in enumerate(fold.classes_):
            oof[index[test], classes.index(c)] = p[:, j]
        done[index[test]] = True
    return model, (oof[done], y[done], done)


def _top_margin(proba: np.ndarray, labels: np.ndarray, classes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    classes = np.asarray(classes)
    themed = classes != NONE
    order = np.argsort(-np.where(themed, proba, -1), axis=1)
    top = proba[np.arange(len(proba)), order[:, 0]]
    second = proba[np.arange(len(proba)), order[:, 1]] if proba.shape[1] > 1 else np.zeros(len(proba))
    none_wins = (proba[:, list(classes).index(NONE)] >= top) if NONE in classes else np.zeros(len(proba), bool)
    predicted = np.where(none_wins, NONE, classes[order[:, 0]])
    return top, top - second, (predicted == np.asarray(labels)).astype(int), classes[order[:, 0]]


def _loo_similarity(vectors: np.ndarray, themes: np.ndarray, rows: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """For each row, its highest similarity to another training row of the theme predicted for it (itself left out)."""
    sims = vectors[rows] @ vectors.T
    sims[np.arange(len(rows)), rows] = -1.0
    out = np.zeros(len(rows))
    for k, theme in enumerate(predicted):
        same = themes == theme
        out[k] = float(sims[k, same].max()) if same.any() else 0.0
    return out


def _polarity_features(proba: np.ndarray, classes, readings: list, prompts: list, rules) -> np.ndarray:
    """Model log-odds, the clause-level cue score, advice, and the question's lean: the stacker's inputs."""
    classes = list(classes)
    logp = np.log(np.clip(proba, 1e-6, 1.0))

    def col(name):
        return logp[:, classes.index(name)] if name in classes else np.full(len(proba), np.log(1e-6))

    cue = np.array([np.clip(r.score, -3, 3) for r in readings])
    against = np.array([1.0 if r.advice == "against" else 0.0 for r in readings])
    favour = np.array([1.0 if r.advice == "for" else 0.0 for r in readings])
    lean = np.array([prompt_lean(p, rules) for p in prompts])
    return np.column_stack([col(s.ENABLER) - col(s.BARRIER), col(s.NEUTRAL) - np.maximum(col(s.ENABLER), col(s.BARRIER)),
                            cue, np.abs(cue), against, favour, lean])


def _top_similarity(x: np.ndarray, prototypes: np.ndarray | None, k: int = 3) -> np.ndarray:
    if prototypes is None or not len(prototypes):
        return np.zeros(len(x))
    sims = x @ prototypes.T
    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def _uses_lemma(pattern) -> bool:
    return any("LEMMA" in token for token in pattern)


def definition_text(theme) -> str:
    """A theme as one sentence for the embedder: its name and definition (coder and topic prototypes)."""
    return f"{theme.name}. {theme.definition}"
