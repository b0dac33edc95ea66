"""spaCy's names pass in worker processes finds exactly what it finds in this process (real model, real text)."""

from __future__ import annotations

from functools import partial

import pytest

from tests.conftest import REALFILES, SAMPLE_STUDY, readable_records
from toolkit.models import load_spacy
from toolkit.nlp_workers import NlpWorkers
from toolkit.pseudonymise.layers import SpanDetector
from toolkit.pseudonymise.names import Lexicon
from toolkit.pseudonymise.rules import load_rules
from toolkit.schema import Transcript

pytestmark = [pytest.mark.model, pytest.mark.slow]


def texts_of(folders) -> list[str]:
    """The text of every transcript and every free-text survey answer in ``folders`` (never printed)."""
    texts = []
    for _, record in readable_records(folders):
        if isinstance(record, Transcript):
            texts.append(record.text)
        else:
            texts.extend(t for t in record.texts["text"].tolist() if isinstance(t, str) and t.strip())
    return texts


@pytest.mark.parametrize("corpus", ["sample", "realfiles"])
def test_names_found_in_workers_are_identical(corpus):
    if corpus == "sample":
        texts = texts_of([SAMPLE_STUDY])
    else:
        folders = [REALFILES / sub for sub in ("txt", "vtt", "docx") if (REALFILES / sub).is_dir()]
        if not folders:
            pytest.skip(f"real-world files not available at {REALFILES}")
        texts = texts_of(folders)
    assert texts
    rules = load_rules()
    lexicon = Lexicon.build(rules, ())
    here = SpanDetector(rules, lexicon, language=partial(load_spacy, "")).ner(texts)
    workers = NlpWorkers(load=partial(load_spacy, ""), count=2, min_chars=0, without_torch=True)
    there = SpanDetector(rules, lexicon, language=partial(load_spacy, ""), workers=workers).ner(texts)
    assert sum(len(entities) for entities, _ in here) > 20  # the comparison is not vacuous
    assert all(proper is not None for _, proper in here)
    assert there == here
