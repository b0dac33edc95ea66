"""The review loop's commands: review-queue, qa-sample, validation."""

from __future__ import annotations

from toolkit import schema as s
from toolkit.cli import main


def test_review_queue_qa_sample_and_validation_commands(loop_study, capsys):
    root = str(loop_study.root)
    assert main(["review-queue", root, "-n", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("reasons:") == 3 and "retrained on 0 decision(s)" in out
    assert "The charter helped" not in out  # text only with --text
    assert main(["review-queue", root, "--missed", "-n", "2", "--text"]) == 0
    assert "\u201c" in capsys.readouterr().out

    assert main(["qa-sample", root, "--width", "0.6", "--plan"]) == 0
    assert "total:" in capsys.readouterr().out
    assert loop_study.store.table(s.QA_SAMPLES).empty
    assert main(["qa-sample", root, "--width", "0.6"]) == 2
    assert "needs your name" in capsys.readouterr().err
    assert main(["qa-sample", root, "--width", "0.6", "--author", "ana", "--seed", "4"]) == 0
    assert "Drew QA sample qa-4-" in capsys.readouterr().out
    assert len(loop_study.store.table(s.QA_SAMPLES)) == 1

    assert main(["validation", root]) == 0
    out = capsys.readouterr().out
    assert "Reviewed by people: 0 of 16 passages (0%)" in out and "Limitation 1:" in out
