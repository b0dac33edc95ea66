"""Transcript readers: every format, every label convention, every error path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from tests.conftest import realfile_params, realfiles_dir
from toolkit.errors import InputDataError
from toolkit.ingest.speakers import load_speaker_rules
from toolkit.ingest.transcripts import read_transcript
from toolkit.schema import INTERVIEWER, OTHER, PARTICIPANT, Transcript


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def assert_offsets(t: Transcript) -> None:
    for turn in t.turns:
        assert t.text[turn.start : turn.end] == turn.text
        assert turn.text == turn.text.strip() or turn.role == OTHER


def dialogue(t: Transcript) -> list[tuple[str | None, str]]:
    return [(turn.speaker, turn.role) for turn in t.turns if turn.role != OTHER]


# --------------------------------------------------------------------------- txt
def test_txt_i_r_labels_with_header_and_continuation(tmp_path):
    path = write(
        tmp_path,
        "bk03.txt",
        "Brackenford study - interview BK03\nDate: 16 February 2026\nI = interviewer, R = respondent\n\n"
        "I: Could you tell me about your role?\n\n"
        "R: I match families across systems.\n\nIt takes, um, most of my week.\n\n"
        "I: And the NHS number?\n\nR: We have it for about 80 per cent.\n",
    )
    t = read_transcript(path)
    assert_offsets(t)
    assert dialogue(t) == [("I", INTERVIEWER), ("R", PARTICIPANT), ("I", INTERVIEWER), ("R", PARTICIPANT)]
    answer = [turn for turn in t.turns if turn.speaker == "R"][0]
    assert answer.text == "I match families across systems.\n\nIt takes, um, most of my week."
    assert t.turns[0].role == OTHER and "Date: 16 February 2026" in t.turns[0].text


def test_txt_space_before_colon_and_numbered_interviewers(tmp_path):
    path = write(
        tmp_path,
        "fr.txt",
        "Interviewer1 : Bonjour, on commence ?\nInterviewee1 : Oui.\nInterviewer2 : Merci.\n"
        "Interviewee1 : De rien, vraiment.\n",
    )
    t = read_transcript(path)
    assert dialogue(t) == [
        ("Interviewer1", INTERVIEWER),
        ("Interviewee1", PARTICIPANT),
        ("Interviewer2", INTERVIEWER),
        ("Interviewee1", PARTICIPANT),
    ]
    assert t.turns[1].text == "Oui."


def test_txt_bracketed_names_and_annotations_are_not_speakers(tmp_path):
    path = write(
        tmp_path,
        "fm04.txt",
        "[Tobias Pennywhistle] How do schools fit in?\n\n"
        "[Clementine Saltmarsh] [laughs] Well, it depends on the school.\n\n"
        "[crosstalk] sorry, go on\n\n"
        "[Tobias Pennywhistle] Please, go on.\n\n"
        "[Clementine Saltmarsh] The academies are harder.\n",
    )
    t = read_transcript(path, rules=load_speaker_rules((), ("Tobias Pennywhistle",)))
    assert_offsets(t)
    assert [s for s, _ in dialogue(t)] == [
        "Tobias Pennywhistle",
        "Clementine Saltmarsh",
        "Tobias Pennywhistle",
        "Clementine Saltmarsh",
    ]
    assert dialogue(t)[0][1] == INTERVIEWER
    second = t.turns[1]
    assert second.text.startswith("[laughs] Well") and "[crosstalk] sorry, go on" in second.text


def test_txt_otter_speaker_lines_give_timestamps(tmp_path):
    path = write(
        tmp_path,
        "otter.txt",
        "Rosalind Fairweather  0:03\nThanks for joining. What does your practice share?\n\n"
        "Dr Hyacinth Marrowby  0:41\nVery little, honestly.\nWe are cautious.\n\n"
        "Rosalind Fairweather  1:02\nWhy is that?\n\n"
        "Dr Hyacinth Marrowby  1:15\nThe GMC, mostly.\n",
    )
    t = read_transcript(path)
    assert_offsets(t)
    assert dialogue(t)[0] == ("Rosalind Fairweather", INTERVIEWER)  # asks the questions
    assert [turn.start_time for turn in t.turns] == [3.0, 41.0, 62.0, 75.0]
    assert t.turns[1].text == "Very little, honestly.\nWe are cautious."
    assert any("took 'Rosalind Fairweather' as the interviewer" in w for w in t.warnings)


def test_txt_zoom_name_line_then_timestamp_line(tmp_path):
    path = write(
        tmp_path,
        "zoom.txt",
        "John Rachlin\n00:00:02\nRight, shall we start?\nIt is cold today.\nUnknown Speaker\n00:00:09\nYes.\n"
        "John Rachlin\n00:00:12\nGood.\n",
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["John Rachlin", "Unknown Speaker", "John Rachlin"]
    assert t.turns[0].text == "Right, shall we start?\nIt is cold today."
    assert t.turns[1].start_time == 9.0


def test_txt_zoom_chat_export(tmp_path):
    path = write(
        tmp_path,
        "chat.txt",
        "00:05:16\tRyan Sloan:\tPlease stay muted\n00:11:15\tRyan Sloan:\tGreat point!\n"
        "00:12:02\tDr. Melissa Ko:\tAgreed\n00:12:25\tDr. Melissa Ko:\tCould also consider peer review\n",
        newline="\r\n",
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Ryan Sloan"] * 2 + ["Dr. Melissa Ko"] * 2
    assert t.turns[0].start_time == 316.0 and t.turns[0].text == "Please stay muted"


def test_txt_legend_declares_labels(tmp_path):
    path = write(tmp_path, "da.txt", "I = interviewer; Y = informant\n\nI: Hej?\nY: Ja, hej.\nI: Godt.\nY: Ja.\n")
    t = read_transcript(path)
    assert dialogue(t) == [("I", INTERVIEWER), ("Y", PARTICIPANT)] * 2


def test_txt_header_line_naming_the_interviewer_is_not_a_turn(tmp_path):
    path = write(
        tmp_path,
        "hm01.txt",
        "Interview HM01\nInterviewer: Dr Rosalind Fairweather\nParticipant: P1\n\n"
        "Interviewer: Shall we begin?\nP1: Yes, happy to.\nInterviewer: Great.\nP1: Right.\n",
    )
    t = read_transcript(path)
    assert [turn.role for turn in t.turns[:3]] == [OTHER, OTHER, OTHER]
    assert dialogue(t)[:2] == [("Interviewer", INTERVIEWER), ("P1", PARTICIPANT)]


def test_txt_without_labels_is_paragraphs_of_one_participant(tmp_path):
    path = write(tmp_path, "statement.txt", "I like the course.\nIt helps.\n\nThe slides are busy.\n")
    t = read_transcript(path)
    assert [(turn.speaker, turn.role, turn.text) for turn in t.turns] == [
        (None, PARTICIPANT, "I like the course.\nIt helps."),
        (None, PARTICIPANT, "The slides are busy."),
    ]
    assert t.warnings


def test_txt_colon_in_a_sentence_is_not_a_label(tmp_path):
    path = write(
        tmp_path,
        "x.txt",
        "I: What matters most?\nR: Two things: trust and time. The answer is: people.\nI: Thanks.\nR: Sure.\n",
    )
    t = read_transcript(path)
    assert t.turns[1].text == "Two things: trust and time. The answer is: people."


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("cp1252", b"")],
)
def test_txt_encodings_and_crlf(tmp_path, encoding, bom):
    text = "I: Café or tea – which?\r\nR: Café, naturally. £5 well spent.\r\nI: Fine.\r\nR: Yes.\r\n"
    path = tmp_path / "enc.txt"
    path.write_bytes(bom + text.encode(encoding))
    t = read_transcript(path)
    assert t.turns[1].text == "Café, naturally. £5 well spent."
    assert "\r" not in t.text and not t.text.startswith("\ufeff")


def test_forced_encoding_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes("I: Café?\n".encode("utf-16"))
    with pytest.raises(InputDataError, match=r"x.txt: cannot be decoded as ascii.*ingest.encoding"):
        read_transcript(path, encoding="ascii")


def test_empty_file_is_refused(tmp_path):
    path = write(tmp_path, "empty.txt", "  \n\n")
    with pytest.raises(InputDataError, match=r"empty.txt: the file is empty"):
        read_transcript(path)


def test_binary_file_named_txt_is_refused(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputDataError, match=r"image.txt"):
        read_transcript(path)


@pytest.mark.parametrize("suffix", [".doc", ".rtf", ".mp3"])
def test_unsupported_suffixes_are_refused_with_a_fix(tmp_path, suffix):
    path = tmp_path / f"interview{suffix}"
    path.write_bytes(b"whatever")
    with pytest.raises(InputDataError, match=rf"interview\{suffix}: .*(\.docx|transcript format)"):
        read_transcript(path)


# --------------------------------------------------------------------------- docx
def make_docx(path: Path, paragraphs: list[tuple[str, str]], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    document.add_heading("Interview transcript - programme lead - Brackenford", level=1)
    for label, text in paragraphs:
        p = document.add_paragraph()
        if label:
            p.add_run(label).bold = True
        p.add_run(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(str(path))
    return path


def test_docx_bold_labels_in_separate_runs(tmp_path):
    path = make_docx(
        tmp_path / "bk01.docx",
        [
            ("", "Date: 9 February 2026"),
            ("Interviewer:", " Dr Rosalind Fairweather"),
            ("", ""),
            ("Interviewer:", " So, how did the hub start?"),
            ("Respondent:", " Honestly, it started with a coffee."),
            ("Interviewer:", " Really?"),
            ("Respondent:", " Really. The DPH just said yes."),
        ],
    )
    t = read_transcript(path)
    assert_offsets(t)
    assert t.format == "docx"
    assert dialogue(t) == [("Interviewer", INTERVIEWER), ("Respondent", PARTICIPANT)] * 2
    assert t.turns[0].role == OTHER and t.turns[0].text.startswith("Interview transcript")
    assert [turn.text for turn in t.turns if turn.speaker == "Respondent"][0] == "Honestly, it started with a coffee."


def test_docx_transcript_in_a_table(tmp_path):
    path = make_docx(
        tmp_path / "table.docx",
        [],
        table=[["Interviewer", "What helped?"], ["Respondent", "The charter."], ["Interviewer", "Why?"], ["Respondent", "Everyone signed it."]],
    )
    t = read_transcript(path)
    assert dialogue(t) == [("Interviewer", INTERVIEWER), ("Respondent", PARTICIPANT)] * 2
    assert t.turns[-1].text == "Everyone signed it."


def test_corrupt_docx_is_refused(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(InputDataError, match=r"broken.docx: is a damaged Word file: it is not a readable zip archive.*save it again as .docx"):
        read_transcript(path)


def test_docx_without_document_part_is_refused(tmp_path):
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InputDataError, match=r"hollow.docx"):
        read_transcript(path)


def test_empty_docx_is_refused(tmp_path):
    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(InputDataError, match=r"blank.docx: holds no text"):
        read_transcript(path)


# --------------------------------------------------------------------------- vtt / srt
TEAMS_VTT = """WEBVTT

5b2c7e1a-3d4f-4a8b-9c0d-1e2f3a4b5c6d/1-0
00:00:01.000 --> 00:00:04.000
<v Rosalind Fairweather>Thanks for joining.</v>

5b2c7e1a-3d4f-4a8b-9c0d-1e2f3a4b5c6d/2-0
00:00:04.200 --> 00:00:06.000
<v Rosalind Fairweather>What changed in Brackenford?</v>

NOTE this is a comment
spanning two lines

5b2c7e1a-3d4f-4a8b-9c0d-1e2f3a4b5c6d/3-0
00:00:06.500 --> 00:00:09.000
<v Marigold Featherstonehaugh>The hub, mostly. We sit together &amp; talk.</v>

5b2c7e1a-3d4f-4a8b-9c0d-1e2f3a4b5c6d/4-0
00:00:09.000 --> 00:00:11.000
<v Marigold Featherstonehaugh>It's no longer a barrier.</v>
"""


def test_teams_vtt_merges_cues_into_turns(tmp_path):
    t = read_transcript(write(tmp_path, "bk02.vtt", TEAMS_VTT))
    assert_offsets(t)
    assert dialogue(t) == [("Rosalind Fairweather", INTERVIEWER), ("Marigold Featherstonehaugh", PARTICIPANT)]
    first, second = t.turns
    assert first.text == "Thanks for joining. What changed in Brackenford?"
    assert (first.start_time, first.end_time) == (1.0, 6.0)
    assert second.text == "The hub, mostly. We sit together & talk. It's no longer a barrier."
    assert t.text.startswith("Rosalind Fairweather: Thanks for joining.")


def test_vtt_utf16_with_bom(tmp_path):
    path = tmp_path / "u16.vtt"
    path.write_bytes(TEAMS_VTT.replace("\n", "\r\n").encode("utf-16"))
    t = read_transcript(path)
    assert t.encoding.startswith("utf-16") and len(t.turns) == 2


def test_vtt_zoom_name_prefixes(tmp_path):
    text = "WEBVTT\n\n1\n00:00:00.050 --> 00:00:01.790\nSrijani Ghosh: Hi!\n\n2\n00:00:02.070 --> 00:00:04.050\nConor Healy: Hello there.\n\n3\n00:00:05.000 --> 00:00:06.000\nSrijani Ghosh: Why so dark?\n\n4\n00:00:06.500 --> 00:00:07.000\nConor Healy: Lights.\n"
    t = read_transcript(write(tmp_path, "zoom.vtt", text))
    assert [turn.speaker for turn in t.turns] == ["Srijani Ghosh", "Conor Healy", "Srijani Ghosh", "Conor Healy"]
    assert t.turns[0].text == "Hi!"


def test_vtt_without_header_is_refused(tmp_path):
    with pytest.raises(InputDataError, match=r"notvtt.vtt: is not a WebVTT file: its first line should be 'WEBVTT'"):
        read_transcript(write(tmp_path, "notvtt.vtt", "1\n00:00:01,000 --> 00:00:02,000\nHello\n"))


def test_vtt_with_no_cues_is_refused(tmp_path):
    with pytest.raises(InputDataError, match=r"nocues.vtt: has no cues with text"):
        read_transcript(write(tmp_path, "nocues.vtt", "WEBVTT\n\nNOTE nothing here\n"))


def test_srt_cp1252_crlf_with_name_prefixes(tmp_path):
    text = (
        "1\n00:00:03,120 --> 00:00:07,480\nRosalind Fairweather: Shall we start? It's café time.\n\n"
        "2\n00:00:08,000 --> 00:00:12,000\nPeregrine Oakhollow: Yes – go ahead.\n\n"
        "3\n00:00:12,500 --> 00:00:14,000\nPeregrine Oakhollow: <i>Really</i> {\\an8}fine.\n\n"
        "4\n00:00:15,000 --> 00:00:16,000\nRosalind Fairweather: Good?\n"
    )
    t = read_transcript(write(tmp_path, "hm04.srt", text, encoding="cp1252", newline="\r\n"))
    assert t.encoding == "cp1252"
    assert_offsets(t)
    assert [turn.speaker for turn in t.turns] == ["Rosalind Fairweather", "Peregrine Oakhollow", "Rosalind Fairweather"]
    assert t.turns[1].text == "Yes – go ahead. Really fine."
    assert t.turns[1].start_time == 8.0 and t.turns[1].end_time == 14.0


def test_srt_without_cues_is_refused(tmp_path):
    with pytest.raises(InputDataError, match=r"plain.srt: has no subtitle cues"):
        read_transcript(write(tmp_path, "plain.srt", "Just some text\nwith no timings\n"))


def test_interviewer_names_from_the_study_decide_roles(tmp_path):
    text = TEAMS_VTT.replace("What changed in Brackenford?", "Tell me more.").replace("It's no longer a barrier.", "Why do you ask?")
    rules = load_speaker_rules((), ("Rosalind Fairweather",))
    t = read_transcript(write(tmp_path, "x.vtt", text), rules=rules)
    assert dialogue(t)[0] == ("Rosalind Fairweather", INTERVIEWER)
    assert not t.warnings


# --------------------------------------------------------------------------- real files
@pytest.mark.parametrize("path", realfile_params("txt", "vtt", "srt", "docx"))
def test_every_real_transcript_reads_or_is_refused_clearly(path):
    try:
        t = read_transcript(path)
    except InputDataError as exc:
        assert path.name in str(exc)
        return
    assert t.turns, path
    assert_offsets(t)
    assert all(turn.role in (INTERVIEWER, PARTICIPANT, OTHER) for turn in t.turns)


@pytest.mark.parametrize(
    ("relative", "speakers", "interviewer"),
    [
        ("txt/Interview 3.txt", {"Interviewer 1", "Interviewer 2", "Interviewee"}, "Interviewer 1"),
        ("txt/Interview 2.txt", {"Interviewer1", "Interviewer2", "Interviewee1"}, "Interviewer1"),
        ("txt/pii_horror_transcript.txt", {"m1", "p1"}, "m1"),
        ("txt/transcript.txt", {"id1", "id2", "id3"}, None),
        ("txt/02-03-23.txt", {"John Rachlin", "Unknown Speaker"}, None),
        ("vtt/Climbing Research S1.vtt", {"Sarah Chen", "Tom Baker"}, "Sarah Chen"),
        ("vtt/555-marimo-pair.vtt", {"Michael Kennedy", "Trevor Manz"}, "Michael Kennedy"),
        ("vtt/GMT20240124-202901_Recording.transcript.vtt", {"Srijani Ghosh", "Conor Healy", "Ryan Sloan"}, None),
        ("vtt/netflix_chicas_del_cable.vtt", {"Alba", "Sara", "Carlos"}, None),
        ("vtt/teams_timeframe.vtt", {"Yuri Bakulin", "Adrian Petrescu"}, None),
        ("docx/Interview 04.docx", {"I", "Y"}, "I"),
        ("docx/Interview 08.docx", {"I", "I2", "X"}, "I"),
    ],
)
def test_real_transcripts_find_their_speakers(relative, speakers, interviewer):
    t = read_transcript(realfiles_dir() / relative)
    assert speakers <= set(t.speakers)
    if interviewer:
        assert {turn.speaker for turn in t.turns if turn.role == INTERVIEWER} >= {interviewer}


@pytest.mark.parametrize(
    ("relative", "encoding"),
    [("srt/windows-1252.srt", "cp1252"), ("srt/bom-utf-16-le.srt", "utf-16-le"), ("vtt/captions_with_bom.vtt", "utf-8")],
)
def test_real_encodings(relative, encoding):
    t = read_transcript(realfiles_dir() / relative)
    assert t.encoding == encoding
    assert "\ufeff" not in t.text and "\x00" not in t.text


# --------------------------------------------------------------------------- unlabelled participants
def test_only_interviewer_labelled_txt_gives_participant_turns(tmp_path):
    # issue 13: the participant's text was folded into the interviewer's turns, nothing coded, no warning
    text = (
        "Interviewer: How did the charter start?\n\n"
        "Honestly, it started with a coffee.\nThen the DPH said yes.\n\n"
        "And it stuck.\n\n"
        "Interviewer: What got in the way?\n"
        "The systems don't talk to each other.\n"
    )
    t = read_transcript(write(tmp_path, "m.txt", text))
    assert_offsets(t)
    assert dialogue(t) == [(("Interviewer"), INTERVIEWER), (None, PARTICIPANT)] * 2
    answers = [turn.text for turn in t.turns if turn.role == PARTICIPANT]
    assert answers == [
        "Honestly, it started with a coffee.\nThen the DPH said yes.\n\nAnd it stuck.",
        "The systems don't talk to each other.",
    ]
    (warning,) = [w for w in t.warnings if "only the interviewer is labelled" in w]
    assert "2 unlabelled passage(s)" in warning and "label them" in warning


def test_only_moderator_labelled_docx_paragraphs(tmp_path):
    path = make_docx(
        tmp_path / "focus.docx",
        [("Moderator:", " What helped?"), ("", "The charter, mostly."), ("", "And trust."),
         ("Moderator:", " Anything else"), ("", "No.")],
    )
    t = read_transcript(path)
    assert [(s, r) for s, r in dialogue(t)] == [("Moderator", INTERVIEWER), (None, PARTICIPANT)] * 2
    assert [turn.text for turn in t.turns if turn.role == PARTICIPANT] == ["The charter, mostly.\nAnd trust.", "No."]


def test_one_named_speaker_asking_questions_is_the_interviewer(tmp_path):
    text = (
        "Dana Whitlock: How did it start?\n\nWith a coffee.\n\n"
        "Dana Whitlock: And then?\n\nThe DPH said yes.\n"
    )
    t = read_transcript(write(tmp_path, "n.txt", text))
    assert dialogue(t) == [("Dana Whitlock", INTERVIEWER), (None, PARTICIPANT)] * 2
    assert any("only the interviewer is labelled ('Dana Whitlock')" in w for w in t.warnings)


def test_labelled_participants_are_unchanged(tmp_path):
    text = "I: What helped?\n\nR: The charter.\nIt really did.\n\nI: Why?\n\nR: Trust.\n"
    t = read_transcript(write(tmp_path, "ok.txt", text))
    assert dialogue(t) == [("I", INTERVIEWER), ("R", PARTICIPANT)] * 2
    assert not any("only the interviewer" in w for w in t.warnings)


def test_only_interviewer_and_no_answers_is_flagged(tmp_path):
    t = read_transcript(write(tmp_path, "q.txt", "Interviewer: What helped?\nInterviewer: Why?\n"))
    assert any("no participant speech to code" in w for w in t.warnings)


# --------------------------------------------------------------------------- huge input
def test_long_turns_are_split_at_sentence_ends(tmp_path):
    from toolkit.ingest.limits import Limits

    sentence = "We shared the data with the council and it went well. "
    t = read_transcript(write(tmp_path, "one.txt", sentence * 100), limits=Limits(max_turn_chars=1000))
    assert_offsets(t)
    assert len(t.turns) >= 6 and all(len(turn.text) <= 1000 for turn in t.turns)
    assert all(turn.text.endswith("well.") for turn in t.turns)
    assert [turn.index for turn in t.turns] == list(range(len(t.turns)))
    assert any("split at sentence ends" in w for w in t.warnings)


def test_text_past_the_size_limit_is_refused_before_reading(tmp_path):
    from toolkit.ingest.limits import Limits

    with pytest.raises(InputDataError, match=r"big\.txt: is 5,000 bytes, larger than the limit of 1,000 bytes for a text transcript"):
        read_transcript(write(tmp_path, "big.txt", "x" * 5000), limits=Limits(max_text_bytes=1000))


def test_vtt_with_only_the_interviewer_named(tmp_path):
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Rosalind Fairweather>What helped?</v>\n\n"
        "00:00:03.500 --> 00:00:06.000\nThe charter, mostly.\n\n"
        "00:00:06.500 --> 00:00:08.000\n<v Rosalind Fairweather>And what got in the way?</v>\n\n"
        "00:00:08.500 --> 00:00:10.000\nThe systems.\n"
    )
    t = read_transcript(write(tmp_path, "v.vtt", text))
    assert dialogue(t) == [("Rosalind Fairweather", INTERVIEWER), (None, PARTICIPANT)] * 2
    assert any("only the interviewer is labelled ('Rosalind Fairweather')" in w for w in t.warnings)
