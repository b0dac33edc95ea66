"""Polarity cues with negation: the clear cases must come out right."""

from __future__ import annotations

import numpy as np
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


# --------------------------------------------------------------------------- the error patterns of issue 13, in our own words
from toolkit.coding.polarity import prompt_lean, read_polarity


@pytest.mark.parametrize(
    "text",
    [
        "The Early Help team sits on the second floor.",
        "Referrals go to the Family Help hub first.",
        "I rang the help desk about my login.",
        "Supporting Families funds two posts in the team.",
    ],
)
def test_programme_names_are_not_cues(text):
    assert read_polarity(text).score == 0.0


def test_a_programme_name_does_not_hide_a_real_cue():
    assert read_polarity("Early Help has really helped the GPs trust us.").score > 0


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Don't launch a sharing agreement this big with one IG officer.", -1),
        ("Never assume the practice manager has read the protocol.", -1),
        ("My advice would be: don't wait for the perfect system.", -1),
        ("Make sure every practice has a named contact from day one.", 1),
        ("I'd recommend getting the Caldicott Guardians in the room early.", 1),
    ],
)
def test_advice_reads_as_the_barrier_or_enabler_it_names(text, sign):
    reading = read_polarity(text)
    assert np.sign(reading.score) == sign and reading.advice == ("against" if sign < 0 else "for")


@pytest.mark.parametrize(
    "text",
    [
        "The regulator isn't going to come after you for a careful, written-down decision.",
        "Nobody gets into trouble for sharing to protect a child.",
        "You won't be struck off for a reasonable judgement.",
    ],
)
def test_a_denied_threat_is_an_enabler(text):
    assert read_polarity(text).score > 0


def test_negation_stays_in_its_clause():
    # the negator belongs to the first clause; the cue in the second is not flipped
    assert read_polarity("It wasn't the GPs, and the delays came from our side.").score < 0
    # a cue negated in the first clause, conceded by "but": most of them are duplicates
    assert read_polarity("They aren't all duplicates, but a big chunk are.").score < 0
    # both sides of one verb: mixed, no net direction
    assert read_polarity("Some practices would and some wouldn't share.").score == 0.0


def test_the_parse_gives_clause_scope_when_there_is_one():
    """With a dependency parse, a clause is a verb and what it governs (here built by hand)."""
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    words = ["We", "do", "n't", "worry", "now", "but", "the", "delays", "are", "a", "problem"]
    heads = [3, 3, 3, 3, 3, 3, 7, 8, 3, 10, 8]
    deps = ["nsubj", "aux", "neg", "ROOT", "advmod", "cc", "det", "nsubj", "conj", "det", "attr"]
    spaces = [True, False, True, True, True, True, True, True, True, True, False]
    doc = Doc(Vocab(), words=words, spaces=spaces, heads=heads, deps=deps)
    reading = read_polarity(doc.text, doc=doc)
    assert "+not worry" in reading.cues and "-problem" in reading.cues


@pytest.mark.parametrize(
    ("prompt", "lean"),
    [
        ("What gets in the way of sharing information about families?", -1.0),
        ("What has made it harder?", -1.0),
        ("What has helped you share information with partners?", 1.0),
        ("Is there anything other places could learn from?", 1.0),
        ("Tell me about your role.", 0.0),
        ("What helped, and what got in the way?", 0.0),
        ("", 0.0),
    ],
)
def test_the_question_leans(prompt, lean):
    assert prompt_lean(prompt) == lean


def test_cue_files_refuse_yaml_booleans(tmp_path):
    from toolkit.coding import load_polarity_rules
    from toolkit.errors import ConfigError

    path = tmp_path / "polarity.yaml"
    path.write_text("barrier: [problem]\nenabler: [helped]\nnegators: [not]\nadvice_against: [no]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"advice_against holds \[False\].*Put such words in quotes"):
        load_polarity_rules(str(path))
