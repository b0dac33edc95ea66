"""The command line: exit codes, messages without tracebacks, and the commands' output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.ingest.test_study import NO_PSEUDO, make_study
from toolkit.cli import main
from toolkit.config import load_config


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_prints_turns(tmp_path, capsys):
    path = tmp_path / "x.txt"
    path.write_text("I: What helped?\nR: The charter.\nI: Why?\nR: Everyone signed it.\n", encoding="utf-8")
    code, out, err = run(capsys, "read", path)
    assert code == 0
    assert "4 turns, speakers: I, R" in out
    assert "R (participant): The charter." in out


def test_read_json_and_csv(tmp_path, capsys):
    path = tmp_path / "x.txt"
    path.write_text("I: What helped?\nR: The charter.\n", encoding="utf-8")
    code, out, _ = run(capsys, "read", path, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["speakers"] == ["I", "R"]
    assert data["turns"][1]["text"] == "The charter." and data["turns"][1]["speaker_role"] == "participant"
    code, out, _ = run(capsys, "read", path, "--format", "csv")
    assert out.splitlines()[0] == "turn_index,speaker,speaker_role,start_char,end_char,start_time,end_time,text"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.docx", b"garbage", "broken.docx: is not a readable Word .docx file"),
        ("empty.vtt", b"", "empty.vtt: the file is empty"),
        ("notes.pdf", b"%PDF", "notes.pdf: is not a readable PDF"),
        ("audio.mp3", b"ID3", "audio.mp3: has the suffix '.mp3'"),
    ],
)
def test_read_bad_input_exits_2_with_one_clear_message(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(capsys, "read", path)
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and out == ""


def test_read_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "read", tmp_path / "nope.txt")
    assert code == 2 and "nope.txt: does not exist" in err


def test_unexpected_errors_are_reported_without_traceback(tmp_path, capsys, monkeypatch):
    import toolkit.ingest

    def boom(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(toolkit.ingest, "read_file", boom)
    path = tmp_path / "x.txt"
    path.write_text("I: a\n", encoding="utf-8")
    code, _, err = run(capsys, "read", path)
    assert code == 1 and "unexpected ZeroDivisionError" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "read", str(path)])


def test_init_creates_a_loadable_study_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "my_study"
    code, out, _ = run(capsys, "init", target)
    assert code == 0 and (target / "study.toml").exists() and (target / "manifest.csv").exists()
    config = load_config(target)
    assert config.name == "my_study" and config.pseudonymisation.enabled
    assert "store/" in (target / ".gitignore").read_text()
    code, _, err = run(capsys, "init", target)
    assert code == 2 and "already exists" in err


def test_ingest_then_status(tmp_path, capsys):
    root = make_study(tmp_path / "s", NO_PSEUDO)
    code, out, _ = run(capsys, "ingest", root)
    assert code == 0 and "Ingest: 3 added, 0 updated, 0 unchanged, 0 removed." in out
    assert "Skipped 1 file(s) in formats the toolkit does not read: Southmere/consent_form.rtf" in out
    code, out, _ = run(capsys, "status", root)
    assert code == 0
    assert "Northfold" in out and "Southmere" in out and "Totals: 3 sources, 10 turns" in out
    assert "ingest" in out and "ok" in out
    code, out, _ = run(capsys, "ingest", root)
    assert "0 added, 0 updated, 3 unchanged" in out


def test_ingest_with_a_bad_file_names_it(tmp_path, capsys):
    root = make_study(tmp_path / "s", NO_PSEUDO)
    (root / "Northfold" / "bad.docx").write_bytes(b"nope")
    code, out, err = run(capsys, "ingest", root)
    assert code == 2 and "bad.docx: is not a readable Word .docx file" in err and "nothing was stored" in err
    code, out, err = run(capsys, "ingest", root, "--skip-bad")
    assert code == 2 and "Ingest: 3 added" in out and "Not stored: bad.docx" in err


def test_status_without_a_store_says_what_to_run(tmp_path, capsys):
    (tmp_path / "study.toml").write_text("", encoding="utf-8")
    code, out, _ = run(capsys, "status", tmp_path)
    assert code == 0 and "No store yet" in out and "toolkit ingest" in out


def test_bad_config_exits_2(tmp_path, capsys):
    (tmp_path / "study.toml").write_text("[study]\nnmae = 'x'\n", encoding="utf-8")
    code, _, err = run(capsys, "status", tmp_path)
    assert code == 2 and "Did you mean 'study.name'?" in err


def test_python_dash_m_toolkit_runs():
    result = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("toolkit ")


from tests.conftest import realfile_params  # noqa: E402


@pytest.mark.parametrize("path", realfile_params("txt", "vtt", "srt", "docx", "csv", "xlsx"))
def test_read_sweeps_every_real_file_without_a_traceback(path, capsys):
    code = main(["read", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in err and "unexpected" not in err
    if code == 0:
        data = json.loads(out)
        assert data.get("turns") or data.get("respondents")
    else:
        assert path.name in err


def test_codebook_lists_themes_and_writes_an_editable_copy(tmp_path, capsys):
    assert main(["codebook"]) == 0
    out = capsys.readouterr().out
    assert "12 themes" in out and "trust_relationships" in out
    target = tmp_path / "codebook.yaml"
    assert main(["codebook", "--out", str(target)]) == 0
    from toolkit.codebook import load_codebook

    assert len(load_codebook(target).themes) == 12
    assert main(["codebook", "--out", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
