"""Segmentation: sentence units, short sentences joined, offsets into the source text."""

from __future__ import annotations

import pandas as pd
import pytest
import spacy

from toolkit import schema as s
from toolkit.segment import segment_answers, segment_key, segment_turns


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def turns_frame(texts, roles=None, starts=None):
    n = len(texts)
    return pd.DataFrame(
        {
            s.TURN_ID: range(1, n + 1),
            s.SOURCE_ID: [7] * n,
            s.SOURCE_UID: ["u7"] * n,
            s.PATH: ["Place/x.txt"] * n,
            s.START_CHAR: starts or [0] * n,
            s.TEXT: texts,
            s.SPEAKER_ROLE: roles or [s.PARTICIPANT] * n,
        }
    )


def test_sentences_become_segments_with_absolute_offsets(nlp):
    source = "I: Why?\nR: The charter helped a lot. But the systems still do not talk."
    start = source.index("The charter")
    turns = turns_frame([source[start:]], starts=[start])
    segs = segment_turns(turns, nlp)
    assert segs[s.TEXT].tolist() == ["The charter helped a lot.", "But the systems still do not talk."]
    for row in segs.itertuples():
        assert source[row.start_char : row.end_char] == row.text
    assert segs[s.IS_EVIDENCE].all()


def test_short_sentences_join_the_next_or_the_previous(nlp):
    segs = segment_turns(turns_frame(["Yeah. Mm-hmm. The hub made the difference for us. Right."]), nlp)
    assert segs[s.TEXT].tolist() == ["Yeah. Mm-hmm. The hub made the difference for us. Right."]
    segs = segment_turns(turns_frame(["Yeah."]), nlp)
    assert segs[s.TEXT].tolist() == ["Yeah."]


def test_interviewer_turns_are_kept_but_not_evidence(nlp):
    segs = segment_turns(turns_frame(["What helped you most here?", "The data clinic helped most."], roles=[s.INTERVIEWER, s.PARTICIPANT]), nlp)
    assert segs[s.IS_EVIDENCE].tolist() == [False, True]


def test_segment_keys_are_stable_and_distinct(nlp):
    turns = turns_frame(["The charter helped a lot. The charter helped a lot."])
    a = segment_turns(turns, nlp)
    b = segment_turns(turns, nlp)
    assert a[s.SEGMENT_KEY].tolist() == b[s.SEGMENT_KEY].tolist()
    assert a[s.SEGMENT_KEY].nunique() == 2
    assert segment_key("p", "", "abcde") != segment_key("q", "", "abcde")


def test_segment_keys_do_not_move_when_a_line_is_added_above(nlp):
    before = segment_turns(turns_frame(["The charter helped a lot.", "But the systems still do not talk."],
                                       starts=[0, 30]), nlp)
    after = segment_turns(turns_frame(["Good morning to everyone here.", "The charter helped a lot.",
                                       "But the systems still do not talk."], starts=[0, 40, 70]), nlp)
    assert set(before[s.SEGMENT_KEY]) <= set(after[s.SEGMENT_KEY])


def test_a_participant_segment_carries_the_question_it_answers(nlp):
    segs = segment_turns(turns_frame(["What gets in the way of sharing?", "The systems do not talk to each other."],
                                     roles=[s.INTERVIEWER, s.PARTICIPANT]), nlp)
    assert segs[s.PROMPT].isna().tolist() == [True, False]
    assert segs[s.PROMPT].iloc[1] == "What gets in the way of sharing?"


def test_survey_answers_are_segmented_with_offsets_into_the_answer(nlp):
    answers = pd.DataFrame(
        {s.TEXT_ANSWER_ID: [3], s.SOURCE_ID: [9], s.SOURCE_UID: ["u9"], s.PATH: ["P/survey.xlsx"],
         s.QUESTION_KEY: ["q2"], s.QUESTION_TEXT: ["What gets in the way?"],
         s.TEXT: ["IG advice is slow. Our champions are great though."]}
    )
    segs = segment_answers(answers, nlp)
    assert segs[s.TEXT].tolist() == ["IG advice is slow.", "Our champions are great though."]
    assert segs[s.START_CHAR].tolist() == [0, 19]
    assert segs[s.TEXT_ANSWER_ID].tolist() == [3, 3]
    assert segs[s.PROMPT].tolist() == ["What gets in the way?"] * 2


def test_empty_input(nlp):
    assert segment_turns(turns_frame([]), nlp).empty


def test_a_sentence_boundary_inside_a_pseudonym_tag_is_ignored():
    import spacy
    from spacy.language import Language

    from toolkit.segment import segment_turns

    @Language.component("split_in_tag")
    def split_in_tag(doc):  # a model that wrongly starts a sentence inside "[PHONE_05]"
        for token in doc:
            token.is_sent_start = token.i == 0 or token.text == "PHONE_05" or doc[token.i - 1].text == "."
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("split_in_tag")
    text = "Her number was wrong and [PHONE_05], was on our system. Then we rang the school nurse."
    turns = pd.DataFrame({"turn_id": [1], "source_id": [1], "source_uid": ["u1"], "path": ["a.txt"], "start_char": [0], "text": [text],
                          "speaker_role": ["participant"]})
    segments = segment_turns(turns, nlp)[s.TEXT].tolist()
    assert segments == ["Her number was wrong and [PHONE_05], was on our system.", "Then we rang the school nurse."]
