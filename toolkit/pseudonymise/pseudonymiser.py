"""The :class:`Pseudonymiser`: learns one mapping across a study (``fit``) and applies it (``transform*``).

It composes the parts: a :class:`~toolkit.pseudonymise.layers.SpanDetector` (what the detectors
found, cached per text), a :class:`~toolkit.pseudonymise.names.NameBook` (the study's names and
their forms) and a :class:`~toolkit.pseudonymise.mapping.PseudonymMapping` (their codes).
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigError, NotFittedError
from toolkit.nlp_workers import NlpWorkers, check_workers
from toolkit.pseudonymise import apply, keyfile
from toolkit.pseudonymise.detectors import inside, terms_pattern
from toolkit.pseudonymise.layers import SpanDetector
from toolkit.pseudonymise.mapping import PseudonymKey, PseudonymMapping, render
from toolkit.pseudonymise.names import Lexicon, NameBook, clean_label
from toolkit.pseudonymise.records import PATH_PART, SUB_SOURCE, Document, PseudonymisedText, as_documents, text_hash
from toolkit.pseudonymise.report import PseudonymisationReport
from toolkit.pseudonymise.rules import ALWAYS_ON, KINDS, load_rules
from toolkit.schema import Survey, Transcript

if TYPE_CHECKING:
    import pandas as pd
    from spacy.language import Language

log = logging.getLogger(__name__)


class Pseudonymiser:
    """Learns one mapping of identifiers to pseudonyms across a study, and applies it.

    Follows scikit-learn's contract: settings are keyword-only and stored as given;
    :meth:`fit` learns the mapping and returns ``self``; learned state ends in ``_``;
    ``transform`` before ``fit`` raises :class:`~toolkit.errors.NotFittedError`.

    Parameters
    ----------
    style : ``"tag"`` gives ``[PERSON_07]``, ``"alias"`` gives ``Person 7``.
    known_names : names always replaced (staff, families); their parts too.
    allow : words and phrases never replaced (added to the rules' allow list).
    deny : words always replaced wherever they appear, in any case.
    replace_organisations : replace organisation and place names (``[ORG_03]``, ``[PLACE_02]``).
    organisations : the study's organisation and place names: replaced only with
        ``replace_organisations``, else kept and never mistaken for people.
    entities : the kinds replaced (see :data:`KINDS`).
    ner_model : the spaCy pipeline for names (see :func:`toolkit.models.load_spacy`).
    nlp : a spaCy ``Language`` to use instead (tests inject ``spacy.blank("en")``).
    key : an existing :class:`PseudonymKey`: its pseudonyms are kept, new values get the next numbers.
    rules : a rules file to use instead of the packaged ``identifiers.toml``.
    progress : show a progress bar (tqdm) while names are found.
    workers : worker processes for spaCy's pass over the texts: ``"auto"`` (one per usable CPU, for more
        than :data:`toolkit.nlp_workers.MIN_CHARS` characters) or a number; 1 (the default) keeps it in this
        process, as does an injected ``nlp``. The result is the same either way.

    Examples
    --------
    >>> import spacy
    >>> docs = [Document("b.txt", "P1: Mail me at jo@example.org.", speakers=("P1",)),
    ...         Document("a.txt", "Jo Bloggs: Hello.", speakers=("Jo Bloggs",))]
    >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit(docs)
    >>> p.speaker_ids_[("a.txt", "Jo Bloggs")], p.speaker_ids_[("b.txt", "P1")]
    ('P01', 'P02')
    >>> p.transform("Jo wrote from jo@example.org").text
    '[P01] wrote from [EMAIL_01]'
    """

    def __init__(
        self,
        *,
        style: str = "tag",
        known_names: Sequence[str] = (),
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        replace_organisations: bool = False,
        organisations: Sequence[str] = (),
        entities: Sequence[str] = KINDS,
        ner_model: str = "",
        nlp: Language | None = None,
        key: PseudonymKey | None = None,
        rules: str | Path | None = None,
        progress: bool = False,
        workers: int | str = 1,
    ):
        self.style = style
        self.known_names = known_names
        self.allow = allow
        self.deny = deny
        self.replace_organisations = replace_organisations
        self.organisations = organisations
        self.entities = entities
        self.ner_model = ner_model
        self.nlp = nlp
        self.key = key
        self.rules = rules
        self.progress = progress
        self.workers = workers

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_options(cls, options: Any, **overrides: Any) -> Pseudonymiser:
        """Build one from :class:`toolkit.config.PseudonymisationOptions` (``[pseudonymisation]``)."""
        kwargs = {
            "style": options.style,
            "known_names": tuple(options.known_names),
            "allow": tuple(options.allow),
            "deny": tuple(options.deny),
            "replace_organisations": options.replace_organisations,
            "organisations": tuple(options.organisations),
            "entities": tuple(options.entities),
            "ner_model": options.ner_model,
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items() if n != "self"}
        changed = [f"{n}={v!r}" for n, v in self.get_params().items() if n not in ("key", "nlp") and v != defaults[n]]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------------ fit
    def fit(self, documents: Iterable[Document | Transcript | Survey]) -> Pseudonymiser:
        """Learn the mapping across the whole study.

        Runs the detectors once per distinct text (spaCy's NER included) and caches
        the spans, so ``transform`` on the same texts does not run them again.

        Parameters
        ----------
        documents : :class:`Document` s, or :class:`~toolkit.schema.Transcript` s and
            :class:`~toolkit.schema.Survey` s (turned into documents with their path as source).

        Returns
        -------
        self
        """
        self._check_params()
        rules = load_rules(self.rules)
        docs = as_documents(documents)
        lexicon = Lexicon.build(rules, self.allow)
        self.rules_ = rules
        self.entities_ = frozenset(self.entities)
        shields = [a for a in lexicon.allow if " " in a] + [o.strip() for o in self.organisations if o.strip()]
        self.terms_ = {
            "shields": terms_pattern(shields),
            "organisations": terms_pattern(o.strip() for o in self.organisations if o.strip()),
            "deny": terms_pattern(self.deny, ignore_case=True),
        }
        self.names_ = NameBook(lexicon, rules)
        self.mapping_ = PseudonymMapping(self.names_)
        self.speaker_ids_ = self.mapping_.speakers
        self.detector_ = SpanDetector(rules, lexicon, language=self._language, progress=self.progress,
                                      lower_words=self.names_.lower_words, inside=self.names_.capitalised_inside,
                                      shields=self.terms_["shields"], extend=self.names_.extend_back,
                                      workers=self._workers())
        self.mapping_.load(self.key)

        texts: dict[str, str] = {}
        for doc in docs:
            if doc.text:
                texts.setdefault(text_hash(doc.text), doc.text)
        # file names are no evidence of how the study writes words ("gideon_ashworth.docx")
        self.names_.observe(dict.fromkeys(d.text for d in docs if d.text and not d.source.endswith(PATH_PART)))
        self.detector_.detect(texts)
        self.spans_ = self.detector_.spans
        self.mapping_.learn_speakers(docs, self.is_speaker_label)
        self.names_.learn_known(
            docs, lambda text: self.detector_.spans.get(text_hash(text), ()), known_names=self.known_names,
            deny=self.deny, is_speaker_label=self.is_speaker_label,
        )
        if "person" in self.entities_:
            # names written in lower case in file names ("interview_with_gideon_ashworth.docx"), as names
            self.names_.learn([sp.text.title() for d in docs if d.source.endswith(PATH_PART)
                               for sp in apply.lowercase_path_names(self, d.text)])
            self.names_.learn_nicknames(texts.values())
            if rules.heuristics.get("capitalised_pairs", False):
                self.names_.learn_capitalised_pairs(
                    texts.values(), lambda text: apply.residuals(self, text, apply.final_spans(self, text))
                )
        self.names_.learn_pending()

        counts: Counter = Counter()
        residuals: list[tuple[str, int, str, str]] = []
        guesses: list[tuple[str, int, str, str, str]] = []
        lower_words = self.names_.lower_words
        for doc in docs:
            if not doc.text:
                continue
            spans = apply.final_spans(self, doc.text)
            source = doc.source.split(SUB_SOURCE)[0]
            for span in spans:
                self.mapping_.code_for(span)
                counts[(source, span.kind)] += 1
            # what only a weak detector found, and was replaced: listed for review (over-redaction)
            guessed = [sp for sp in spans if sp.detector in ALWAYS_ON
                       or self.names_.lexicon.core(sp.text) in self.names_.guessed]
            weak = [sp for sp in self.detector_.spans_for(doc.text)[0] if sp.detector in ALWAYS_ON]
            guesses += [(source, sp.start, sp.text, sp.kind, sp.detector) for sp in weak if inside(sp, guessed)]
            residuals += [
                (source, start, token, hint)
                for start, _, token, hint, initial in apply.residuals(self, doc.text, spans)
                if not initial and token.lower() not in lower_words
            ]
        self.counts_ = dict(counts)
        self.residuals_ = residuals
        self.guesses_ = guesses
        self.mapping_.sync_persons()
        log.info(
            "pseudonymiser fitted on %d documents (%d distinct texts): %d values, %d speakers, %d residual risks",
            len(docs), len(texts), len(self.mapping_.codes), len(self.speaker_ids_), len(self.residuals_),
        )
        return self

    def _check_params(self) -> None:
        if self.style not in ("tag", "alias"):
            raise ConfigError(f"Pseudonymiser: style is '{self.style}'; expected 'tag' or 'alias'.")
        unknown = [e for e in self.entities if e not in KINDS]
        if unknown:
            raise ConfigError(
                f"Pseudonymiser: unknown entities {', '.join(map(repr, unknown))}. Known: {', '.join(KINDS)} "
                "(organisations and places are switched on with replace_organisations)."
            )
        if self.key is not None and not isinstance(self.key, PseudonymKey):
            raise ConfigError(
                "Pseudonymiser: key must be a PseudonymKey (from Pseudonymiser.load_key), "
                f"found {type(self.key).__name__}."
            )
        check_workers(self.workers, "Pseudonymiser: workers")
        for name in ("known_names", "allow", "deny", "organisations", "entities"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ConfigError(f"Pseudonymiser: {name} must be a list of strings, found a single string.")

    def _workers(self) -> NlpWorkers | None:
        """How worker processes load the names pipeline (``None``: an injected ``nlp`` stays in this process)."""
        if self.nlp is not None or self.workers == 1:
            return None
        from toolkit.models import load_spacy, needs_torch

        return NlpWorkers(load=partial(load_spacy, self.ner_model), count=self.workers,
                          without_torch=not needs_torch(self.ner_model))

    def _language(self) -> Language:
        if self.nlp is not None:
            return self.nlp
        from toolkit.models import load_spacy

        return load_spacy(self.ner_model)

    def _check_fitted(self) -> None:
        if not hasattr(self, "mapping_") or not hasattr(self, "residuals_"):
            raise NotFittedError(
                "This Pseudonymiser is not fitted yet: call fit(documents) with every transcript and survey of "
                "the study first, so that pseudonyms are consistent across them."
            )

    def is_speaker_label(self, label: str) -> bool:
        """Whether a speaker label is a role ("Interviewer", "P1", "[m1]") rather than a name."""
        rules = getattr(self, "rules_", None) or load_rules(self.rules)
        return bool(rules.speaker_label.fullmatch(clean_label(label)))

    # ------------------------------------------------------------------ transform
    def pseudonym(self, kind: str, value: str) -> str | None:
        """The pseudonym of a value already in the mapping (``None`` if it is not there)."""
        self._check_fitted()
        code = self.mapping_.code_of(kind, value)
        return render(code, self.style) if code else None

    def transform(self, text: str, *, source: str = "") -> PseudonymisedText:
        """Replace every identifier in ``text``.

        Values not seen in ``fit`` are still replaced: they get the next numbers and
        join the mapping (save the key again), and a warning says how many.

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en"), known_names=("Ffion Marchbank",)).fit([])
        >>> out = p.transform("Ffion: NHS 943 476 5919.")
        >>> out.text, [r.kind for r in out.replacements]
        ('[PERSON_01]: NHS [NHS_NUMBER_01].', ['person', 'nhs_number'])
        """
        self._check_fitted()
        return apply.apply_spans(self, text, apply.final_spans(self, text), source=source)

    def transform_transcript(self, transcript: Transcript, *, source: str | None = None) -> Transcript:
        """Pseudonymise a transcript: its text, its turns (offsets remapped) and its speakers.

        Speaker labels become study ids (``turn.speaker == "P01"``), in the turns and
        where the label stands in the text; ``turn.text == new_text[start:end]`` holds;
        timestamps and roles are kept. ``source`` (default: the transcript's path) must
        be the source it was fitted under, so its speakers get their ids.

        Examples
        --------
        >>> import spacy
        >>> from pathlib import Path
        >>> from toolkit.schema import Transcript, Turn
        >>> text = "Jo Bloggs: Ring 07700 900123."
        >>> t = Transcript(Path("a.txt"), "txt", text, (Turn(0, "Jo Bloggs", "participant", 11, 29, text[11:]),))
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([t])
        >>> out = p.transform_transcript(t)
        >>> out.text, out.turns[0].speaker, out.turns[0].text
        ('P01: Ring [PHONE_01].', 'P01', 'Ring [PHONE_01].')
        """
        self._check_fitted()
        return apply.transform_transcript(self, transcript, source if source is not None else str(transcript.path))

    def transform_survey(self, survey: Survey, *, respondent_prefix: str, source: str | None = None) -> Survey:
        """Pseudonymise a survey: free-text answers, respondent keys, personal columns.

        Respondent keys become ``f"{respondent_prefix}{n:03d}"``, numbered by row order
        (kept from the key when it has them); the ``personal`` frame is emptied (its
        names and e-mails were learnt in ``fit``); attributes holding personal values
        are removed, and the other text attributes are pseudonymised.
        """
        self._check_fitted()
        source = source if source is not None else str(survey.path)
        return apply.transform_survey(self, survey, respondent_prefix=respondent_prefix, source=source)

    def transform_path(self, path: str) -> str:
        """A relative path with identifiers in its file and folder names replaced (``/`` kept).

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en"), known_names=("Sarah Thornton",)).fit([])
        >>> p.transform_path("Leeds/sarah_thornton_interview.docx")
        'Leeds/[PERSON_01]_interview.docx'
        """
        self._check_fitted()
        return apply.transform_path(self, path)

    # ------------------------------------------------------------------ key and report
    def key_frame(self) -> pd.DataFrame:
        """The key as a table: ``original``, ``kind``, ``pseudonym`` (and ``source`` for speakers).

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([Document("a.txt", "Ring 07700 900123.")])
        >>> p.key_frame()[["original", "kind", "pseudonym"]].values.tolist()
        [['07700 900123', 'phone', '[PHONE_01]']]
        """
        import pandas as pd

        self._check_fitted()
        return pd.DataFrame(self.mapping_.rows(self.style), columns=["original", "kind", "pseudonym", "source"])

    def to_key(self) -> PseudonymKey:
        """The learnt mapping as a :class:`PseudonymKey` (what :meth:`save_key` writes)."""
        self._check_fitted()
        return self.mapping_.to_key()

    def save_key(self, path: str | Path) -> Path:
        """Write the key (see :func:`toolkit.pseudonymise.keyfile.save_key`): atomic, private (0600).

        Refuses to write inside a folder named ``store``: the key must live apart from the data.

        Examples
        --------
        >>> p.save_key("private/pseudonymisation_key.json")  # doctest: +SKIP
        >>> key = Pseudonymiser.load_key("private/pseudonymisation_key.json")  # doctest: +SKIP
        >>> Pseudonymiser(key=key).fit(documents)  # keeps every earlier pseudonym  # doctest: +SKIP
        """
        keyfile.check_key_path(path)
        return keyfile.save_key(path, self.to_key(), style=self.style)

    @classmethod
    def load_key(cls, path: str | Path) -> PseudonymKey:
        """Read a key written by :meth:`save_key`, to pass as ``Pseudonymiser(key=...)``."""
        return keyfile.load_key(path)

    def report(self) -> PseudonymisationReport:
        """Counts of replacements by source and kind, and the residual-risk list, for the fitted documents.

        Examples
        --------
        >>> import spacy
        >>> p = Pseudonymiser(nlp=spacy.blank("en")).fit([Document("a.txt", "Mail jo@example.org, said Xanthe.")])
        >>> report = p.report()
        >>> report.totals(), list(report.residuals["token"])
        ({'email': 1}, ['Xanthe'])
        """
        self._check_fitted()
        return PseudonymisationReport.build(self.counts_, self.residuals_, self.guesses_)
