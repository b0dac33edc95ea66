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

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.coding.polarity import PolarityRules, _phrase_regex, polarity_cues
from toolkit.errors import NotFittedError

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]

_GOOD_PRACTICE_ACTION = re.compile(
    r"\b(?:we|they|the council|the icb|the trust|the hub|our team|our council)\s+(?:have\s+|'ve\s+|had\s+|then\s+|just\s+|also\s+)?"
    r"(?:set up|introduced|created|built|agreed|developed|started|launched|appointed|seconded|co-located|established|"
    r"brought in|put in place|wrote|drafted|signed|trained|ran|run|moved|adopted|designed|funded|invested|piloted|"
    r"commissioned|rolled out|made sure|changed|replaced|switched)\b",
    re.IGNORECASE,
)


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
        self.n_training_ = {"examples": len(examples), "human": 0 if human is None else len(human)}
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
