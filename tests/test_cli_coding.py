"""The coding commands end to end on a copy of the sample study (real spaCy pipeline and embedder)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.conftest import SAMPLE_STUDY
from toolkit.cli import main

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("run") / "interviews"
    shutil.copytree(SAMPLE_STUDY, root, ignore=shutil.ignore_patterns("store", "private"))
    assert main(["run", str(root)]) == 0
    return root


def test_run_codes_every_place_with_barriers_and_enablers(study, capsys):
    assert main(["run", str(study)]) == 0
    out = capsys.readouterr().out
    assert "15 unchanged" in out and "Coding is up to date" in out and "Topics are up to date" in out
    import sqlite3

    con = sqlite3.connect(study / "store" / "study.sqlite")
    table = pd.read_sql(
        "select src.place, c.polarity, count(distinct c.theme) themes from codings c "
        "join segments g using (segment_key) join sources src using (source_id) group by 1, 2",
        con,
    )
    for place in ("Brackenford", "Fernmouth", "Hollowmere"):
        rows = table[table.place == place].set_index("polarity")
        assert rows.loc["barrier", "themes"] >= 3 and rows.loc["enabler", "themes"] >= 3


def test_run_finds_topics_beside_the_codebook_or_flagged_new_per_place(study, capsys):
    import sqlite3

    con = sqlite3.connect(study / "store" / "study.sqlite")
    topics = pd.read_sql("select * from topics", con)
    assigned = pd.read_sql(
        "select t.topic, t.assigned_by, src.place from segment_topics t join segments g using (segment_key) "
        "join sources src using (source_id)", con
    )
    real = topics[topics.topic >= 0]
    assert len(real) >= 5
    # inductive by default: every topic is set beside a codebook theme, none is seeded from one
    assert (real.nearest_theme.notna()).all()
    assert real.seeded_theme.isna().all()
    # a candidate new theme restates no theme, and at least one topic restates one
    assert real[real.candidate_new == 1].restates_theme.isna().all()
    assert real.restates_theme.notna().any()
    # topic -1 holds structure, short segments and a minority of true outliers; every place is in several topics
    outside = assigned[assigned.topic == -1]
    assert set(outside.assigned_by) <= {"structure", "short", "outlier"}
    assert (assigned.assigned_by == "outlier").mean() < 0.25
    assert (assigned[assigned.topic >= 0].groupby("place").topic.nunique() >= 5).all()
    assert (study / "store" / "topic_model" / "topics.json").exists()
    assert main(["topics", str(study), "--by", "polarity"]) == 0
    out = capsys.readouterr().out
    assert "Topics are up to date" in out and "barrier" in out and "enabler" in out


def test_topic_rename_survives_a_forced_refit(study, capsys):
    assert main(["topics", str(study), "--rename", "0", "Everyday partnership work", "--author", "tester"]) == 0
    assert main(["topics", str(study), "--force"]) == 0
    assert "Everyday partnership work" in capsys.readouterr().out
    assert main(["topics", str(study), "--rename", "-1", "x"]) == 2
    assert "outliers" in capsys.readouterr().err


def test_code_text_adds_columns(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2], "answer": ["GPs are terrified of the GMC so they won't share.", "Lunch was nice."]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["code-text", str(src), "--text-column", "answer", "--out", str(out)]) == 0
    coded = pd.read_csv(out)
    assert list(coded.columns[:2]) == ["id", "answer"]
    assert {"theme", "polarity", "confidence", "secondary_theme", "good_practice"} <= set(coded.columns)
    assert coded.loc[0, "theme"] == "confidentiality_caution" and coded.loc[0, "polarity"] == "barrier"
    assert pd.isna(coded.loc[1, "theme"])


def test_code_text_missing_column_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    assert main(["code-text", str(src), "--text-column", "answer", "--out", str(tmp_path / "o.csv")]) == 2
    assert "in.csv: has no column 'answer'. Found: id, text" in capsys.readouterr().err


def test_import_codings_then_agreement(study, tmp_path, capsys):
    import sqlite3

    con = sqlite3.connect(study / "store" / "study.sqlite")
    coded = pd.read_sql(
        "select g.segment_key, g.text, c.theme, c.polarity from codings c join segments g using (segment_key) where c.rank = 1 and c.theme is not null limit 40",
        con,
    )
    human = coded.copy()
    human.loc[human.index[:10], "theme"] = "resources_capacity"  # disagree on a quarter
    human[["text", "theme", "polarity"]].to_csv(tmp_path / "ana.csv", index=False)
    assert main(["import-codings", str(tmp_path / "ana.csv"), str(study), "--coder", "ana"]) == 0
    assert "stored 40 coding(s) from 40 passage(s)" in capsys.readouterr().out
    assert main(["agreement", str(study)]) == 0
    out = capsys.readouterr().out
    assert "between 'machine' and 'ana' over 40 segments" in out
    assert "Cohen's kappa" in out and "Krippendorff's alpha" in out
    assert main(["agreement", str(study), "--coders", "machine", "bob"]) == 2
    assert "No codings by 'bob'" in capsys.readouterr().err


def test_evaluate_prints_f1_per_theme_and_polarity(tmp_path, capsys):
    gold = tmp_path / "gold.csv"
    pd.DataFrame(
        {
            "text": ["They just don't trust us.", "Our IG lead answers the same day.", "I had pasta."],
            "theme": ["trust_relationships", "ig_capacity_advice", "none"],
            "polarity": ["barrier", "enabler", "neutral"],
        }
    ).to_csv(gold, index=False)
    assert main(["evaluate", str(gold)]) == 0
    out = capsys.readouterr().out
    assert "Theme (3 segments)" in out and "macro avg" in out and "Polarity" in out


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet", "report", "qdpx"])
def test_export_writes_files_without_any_planted_identifier(study, fmt, capsys):
    import re
    import zipfile

    from tests.test_privacy import planted

    assert main(["export", str(study), "--format", fmt]) == 0
    written = [line.removeprefix("Wrote ").strip() for line in capsys.readouterr().out.splitlines() if line.startswith("Wrote ")]
    assert written
    blob = []
    for name in written:
        if name.endswith((".xlsx", ".docx", ".qdpx")):
            with zipfile.ZipFile(name) as z:
                blob += [z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith((".xml", ".qde", ".txt"))]
        elif name.endswith(".parquet"):
            blob.append(pd.read_parquet(name).to_csv())
        else:
            blob.append(open(name, encoding="utf-8-sig").read())
    text = "\n".join(blob)
    leaked = [v for v in planted()["value"] if re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", text)]
    assert leaked == []


def test_export_unknown_format_and_empty_store(tmp_path, capsys):
    (tmp_path / "study.toml").write_text("", encoding="utf-8")
    assert main(["export", str(tmp_path), "--format", "xlsx"]) == 2
    assert "is empty. Run first: toolkit run" in capsys.readouterr().err


def test_qdpx_export_imports_back_as_human_codings(study, tmp_path, capsys):
    import sqlite3

    from toolkit.coding import resolve_codings

    con = sqlite3.connect(study / "store" / "study.sqlite")
    shown = resolve_codings(pd.read_sql("select * from codings", con), pd.read_sql("select * from human_codings", con))
    exported = set(map(tuple, shown[["segment_key", "theme", "polarity"]].values))
    target = tmp_path / "project.qdpx"
    assert main(["export", str(study), "--format", "qdpx", "--out", str(target)]) == 0
    capsys.readouterr()
    assert main(["import-qdpx", str(target), str(study), "--coder", "nvivo-team"]) == 0
    out = capsys.readouterr().out
    human = pd.read_sql("select segment_key, theme, polarity from human_codings where coder = 'nvivo-team'", con)
    assert f"stored {len(human)} coding(s)" in out
    assert len(human) > 0 and set(map(tuple, human.values)) <= exported
