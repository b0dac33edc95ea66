"""Polarity cues with negation: the clear cases must come out right."""

from __future__ import annotations

import pytest

from toolkit.coding import polarity_cues


@pytest.mark.parametrize(
    "text",
    [
        "That's no longer a barrier for us.",
        "We couldn't have done it without the IG lead.",
        "Honestly it was not a problem once the charter was signed.",
        "The data clinic really helped.",
        "We trust each other now.",
        "I can't speak highly enough of the hub.",
        "It has made all the difference to families.",
        "Sharing is much easier since we moved in together.",
    ],
)
def test_enablers(text):
    score, cues = polarity_cues(text)
    assert score > 0, cues


@pytest.mark.parametrize(
    "text",
    [
        "They just don't trust us.",
        "The systems don't talk to each other.",
        "The IG advice doesn't help at all.",
        "GPs are worried about the GMC.",
        "It's not easy to get hold of anyone in IG.",
        "There is a real lack of capacity in the team.",
        "We can't share without consent, or so people think.",
        "It was never clear who the data controller was.",
    ],
)
def test_barriers(text):
    score, cues = polarity_cues(text)
    assert score < 0, cues


def test_negation_flips_a_cue_but_not_a_fixed_phrase():
    assert polarity_cues("It helped.")[0] > 0
    assert polarity_cues("It never helped.")[0] < 0
    assert polarity_cues("No longer a problem.")[0] > 0


def test_neutral_text_has_no_cues():
    assert polarity_cues("I have been in post for about three years.") == (0.0, [])
