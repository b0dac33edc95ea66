"""Units: which are evidence, which complete the sentence before, and the question each answers."""

from __future__ import annotations

import pandas as pd

from toolkit import schema as s
from toolkit.coding.units import is_follow_on, not_codable, prompts_from_turns


def test_short_pleasantries_are_not_evidence_but_long_sentences_that_open_with_them_can_be():
    assert not_codable("Thank you, that's really kind.") == "pleasantry"
    long = "Thank you, and the thing I'd stress is that the GP practices still send everything by fax to us."
    assert not_codable(long) is None


def test_a_backchannel_is_only_a_backchannel_when_it_is_short():
    assert not_codable("Right, exactly.") == "backchannel"
    assert not_codable("Right, so the agreement took eighteen months to sign off.") is None


def test_follow_on():
    assert is_follow_on("That's been a game changer.")
    assert not is_follow_on("That meeting with the practice managers every month changed how the GPs saw us.")


def test_prompts_from_turns():
    turns = pd.DataFrame({
        s.TURN_ID: [1, 2, 3, 4, 5],
        s.SOURCE_ID: [1, 1, 1, 1, 2],
        s.TURN_INDEX: [0, 1, 2, 3, 0],
        s.SPEAKER_ROLE: ["interviewer", "participant", "interviewer", "participant", "participant"],
        s.TEXT: ["What helped?", "The clinic.", "What got in the way?", "The systems.", "No question before me."],
    })
    segments = pd.DataFrame({s.TURN_ID: [2, 4, 4, 5]})
    assert prompts_from_turns(turns, segments).tolist() == ["What helped?", "What got in the way?",
                                                            "What got in the way?", None]


def test_add_context_gives_prompt_and_previous_for_turns_and_survey_answers():
    from toolkit.coding.units import add_context

    turns = pd.DataFrame({s.TURN_ID: [1, 2], s.SOURCE_ID: [1, 1], s.TURN_INDEX: [0, 1],
                          s.SPEAKER_ROLE: ["interviewer", "participant"], s.TEXT: ["What helped?", "x"]})
    segments = pd.DataFrame({
        s.TURN_ID: [2, 2, None], s.TEXT_ANSWER_ID: [None, None, 7], s.SEGMENT_INDEX: [0, 1, 0],
        s.TEXT: ["We set up a clinic.", "That made it easy.", "Nothing gets in the way now."],
    })
    answers = pd.DataFrame({s.TEXT_ANSWER_ID: [7], s.QUESTION_ID: [3]})
    questions = pd.DataFrame({s.QUESTION_ID: [3], s.QUESTION_TEXT: ["What gets in the way?"]})
    out = add_context(segments, turns=turns, answers=answers, questions=questions)
    assert out["prompt"].tolist() == ["What helped?", "What helped?", "What gets in the way?"]
    assert out["previous"].tolist() == [None, "We set up a clinic.", None]
