"""The review queue may start from the stored codings only because they are what a refit would read.

On the sample study coded by the real pipeline (real embedder, spaCy and codebook), a review session that
starts from the stored codings (no fit, no prediction) ranks exactly as one that refits and re-predicts every
segment: same themes, polarities, confidences and priorities.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.conftest import SAMPLE_STUDY
from toolkit import schema as s
from toolkit.analysis import ranking

pytestmark = [pytest.mark.slow, pytest.mark.model]


def test_a_refit_reads_every_segment_as_the_coding_run_stored_it(tmp_path):
    from toolkit.api import open_study
    from toolkit.config import load_config
    from toolkit.pipeline import codings_are_current, run_study
    from toolkit.review.queue import ReviewSession

    folder = tmp_path / "interviews"
    shutil.copytree(SAMPLE_STUDY, folder, ignore=shutil.ignore_patterns("store", "private", "exports"))
    run_study(load_config(folder), stages=("ingest", "segment", "code"))
    study = open_study(folder)
    assert codings_are_current(study.config, study.store, codebook=study.codebook)

    stored = ReviewSession(study)
    stored.refresh()
    assert not hasattr(stored.learner, "coder_")
    assert stored.learner.nlp._nlp is None  # spaCy was not even loaded
    refit = ReviewSession(study)
    refit.refresh(force=True)
    assert refit.learner.coder_ is not None

    a = stored._scored.set_index(s.SEGMENT_KEY).sort_index()
    b = refit._scored.set_index(s.SEGMENT_KEY).sort_index()
    assert len(a) > 1000 and a.index.equals(b.index)
    for column in (s.THEME, s.POLARITY, ranking.SECOND_THEME, ranking.BEST_THEME, ranking.CUE_CONFLICT,
                   ranking.PATTERN_CONFLICT):
        assert a[column].fillna("").astype(str).equals(b[column].fillna("").astype(str)), column
    for column in (ranking.THEME_CONFIDENCE, ranking.POLARITY_CONFIDENCE, ranking.PRIORITY):
        pd.testing.assert_series_equal(pd.to_numeric(a[column], errors="coerce"),
                                       pd.to_numeric(b[column], errors="coerce"), atol=1e-9, check_names=False)
    assert (b[ranking.CHANGED] == 0).all()
