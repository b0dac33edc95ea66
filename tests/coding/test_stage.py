"""The coding stage's pure functions: a codebook and frames in, a codings frame out, no store touched."""

from __future__ import annotations

import json

import pandas as pd
import spacy

from tests.test_coding import TfidfEmbedder
from toolkit import schema as s
from toolkit.codebook import load_codebook
from toolkit.coding import CODING_COLUMNS, build_coder, code_segments


def test_build_and_code_without_a_store():
    book = load_codebook()
    nlp = spacy.blank("en")
    training = pd.DataFrame(
        {s.TEXT: ["The GP practices still won't send anything without a signed form."],
         s.THEME: ["legal_basis_consent"], s.POLARITY: [s.BARRIER]}
    )
    coder = build_coder(book, None, training=training, embedder=TfidfEmbedder(book), nlp=nlp)
    assert coder.n_training_["human"] == 1
    segments = pd.DataFrame(
        {
            s.SEGMENT_KEY: ["a", "b", "c"],
            s.TEXT: [
                "Without NHS numbers we are matching families on name and date of birth and getting it wrong.",
                "Interviewer question that is not evidence.",
                "I had pasta for lunch on Tuesday.",
            ],
            s.IS_EVIDENCE: [True, False, True],
        }
    )
    codings = code_segments(segments, coder=coder)
    assert list(codings.columns) == CODING_COLUMNS
    assert "b" not in set(codings[s.SEGMENT_KEY])  # interviewer turns are not coded
    first = codings[(codings[s.SEGMENT_KEY] == "a") & (codings[s.RANK] == 1)].iloc[0]
    assert first[s.THEME] == "data_quality_matching"
    assert json.loads(first[s.EVIDENCE])["fired"]
    assert set(codings[s.CODEBOOK_VERSION]) == {book.fingerprint()}
