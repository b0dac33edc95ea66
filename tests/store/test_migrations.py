"""Migrations: the baseline equals the tables, a store written by release 0.1.0 upgrades with its
data, a store that is behind or ahead is handled, and readers never write."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from toolkit import schema as s
from toolkit.errors import StoreError
from toolkit.store import BASELINE, Store, head_revision, metadata, migrate, store_revision, upgrade_store

RELEASE_STORE = Path(__file__).resolve().parents[1] / "data" / "stores" / "release-0.1.0.sqlite"
RELEASE_COUNTS = {
    "sources": 3, "turns": 16, "survey_questions": 6, "respondents": 3, "likert_answers": 6, "text_answers": 3,
    "segments": 22, "codings": 14, "human_codings": 2, "summaries": 1, "practices": 1, "comments": 1, "runs": 2,
    "embeddings": 0, "topics": 0, "segment_topics": 0, "topic_edits": 0, "store_info": 1,
}


@pytest.fixture
def release_store(tmp_path) -> Path:
    """A working copy of the store written by release 0.1.0 (the committed file is never touched)."""
    target = tmp_path / "store" / "study.sqlite"
    target.parent.mkdir()
    shutil.copyfile(RELEASE_STORE, target)
    return target


def _dump(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every toolkit table, read with sqlite3 itself (not the code under test).

    ``columns``: only these columns of each table (a later revision adds columns to old rows).
    """
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        out = {}
        for table in metadata.sorted_tables:
            if table.name not in present or (columns is not None and table.name not in columns):
                continue  # a table a later revision adds
            names = columns[table.name] if columns else None
            select = ", ".join(f'"{n}"' for n in names) if names else "*"
            out[table.name] = sorted(conn.execute(f"SELECT {select} FROM {table.name}").fetchall(), key=repr)
        return out


def _old_tables(counts: dict[str, int]) -> dict[str, int]:
    """Row counts of the tables release 0.1.0 had (later revisions add empty tables)."""
    return {name: n for name, n in counts.items() if name in RELEASE_COUNTS}


def _column_names(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        found = {t.name: [r[1] for r in conn.execute(f"PRAGMA table_info({t.name})")] for t in metadata.sorted_tables}
        return {name: cols for name, cols in found.items() if cols}


def _columns(store: Store, table: str) -> set[str]:
    with store.engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def _diffs(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_one_head_and_the_migrations_build_exactly_the_declared_tables(store_url):
    assert head_revision() == "0004"  # raise this when a revision is added, with a test of its upgrade
    store = Store(store_url)
    assert _diffs(store.engine) == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        assert conn.execute(sa.text("SELECT value FROM store_info WHERE key = 'schema_version'")).scalar() == "2"


def test_the_committed_fixture_is_what_release_0_1_0_wrote():
    with sqlite3.connect(f"{RELEASE_STORE.as_uri()}?mode=ro", uri=True) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "alembic_version" not in names
        assert conn.execute("SELECT value FROM store_info").fetchall() == [("2",)]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RELEASE_COUNTS}
    assert counts == RELEASE_COUNTS


def test_a_store_written_by_release_0_1_0_is_upgraded_and_keeps_every_row(release_store):
    before, columns = _dump(release_store), _column_names(release_store)
    state, after = upgrade_store(f"sqlite:///{release_store}")
    assert state.legacy and state.revision == BASELINE
    assert after.current and after.revision == head_revision()
    assert _dump(release_store, columns) == before
    store = Store(f"sqlite:///{release_store}")
    assert _diffs(store.engine) == []
    assert _old_tables(store.counts()) == RELEASE_COUNTS
    human = store.table(s.HUMAN_CODINGS).sort_values(s.CREATED_AT)
    assert human[s.DECISION].tolist() == ["accept", "recode"] and human[s.NOTE].iloc[0] == "Clear example."
    assert store.latest(s.SUMMARIES, [s.ROW_VALUE])[s.TEXT].tolist() == ["Trust grew through fortnightly meetings."]
    assert len(store.segments_frame(evidence_only=True)) > 0
    store.add_summary("place", "Ashby", "trust_relationships", "Written after the upgrade.", author="ana")
    assert store.counts()[s.SUMMARIES] == 2


def test_a_writer_stamps_a_release_store_when_it_opens_it(release_store):
    store = Store(f"sqlite:///{release_store}")
    assert store.schema.current
    assert store_revision(f"sqlite:///{release_store}").current
    assert _old_tables(store.counts()) == RELEASE_COUNTS


def test_a_reader_opens_a_read_only_file_and_never_writes(release_store):
    upgrade_store(f"sqlite:///{release_store}")
    for leftover in release_store.parent.glob("study.sqlite-*"):
        leftover.unlink()
    os.chmod(release_store, 0o444)
    digest, mtime = hashlib.sha256(release_store.read_bytes()).hexdigest(), release_store.stat().st_mtime_ns
    reader = Store(f"sqlite:///{release_store}", read_only=True)
    assert _old_tables(reader.counts()) == RELEASE_COUNTS
    assert len(reader.segments_frame()) == 22
    with pytest.raises(StoreError, match="open read-only"):
        reader.add_summary("place", "Ashby", "trust_relationships", "No.", author="ana")
    with pytest.raises(sa.exc.OperationalError, match="readonly"), reader.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM comments"))  # even past the Store, SQLite refuses (we run as root)
    reader.close()
    assert hashlib.sha256(release_store.read_bytes()).hexdigest() == digest
    assert release_store.stat().st_mtime_ns == mtime


def test_a_reader_runs_no_ddl_on_a_release_store(release_store):
    before = _dump(release_store)
    with pytest.raises(StoreError, match=r"revision 0001; this toolkit needs 0004\. Run: toolkit db upgrade"):
        Store(f"sqlite:///{release_store}", read_only=True)
    with sqlite3.connect(release_store) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "alembic_version" not in names
    assert _dump(release_store) == before


def test_a_reader_needs_a_store_that_exists(tmp_path):
    with pytest.raises(StoreError, match="No project store at .* Run the pipeline first"):
        Store(f"sqlite:///{tmp_path / 'none.sqlite'}", read_only=True)
    assert not (tmp_path / "none.sqlite").exists()


# ---------------------------------------------------------------------------- a revision after the baseline
NEXT_REVISION = textwrap.dedent('''
    """test: runs.host (a revision after the baseline, only for the tests)"""
    import sqlalchemy as sa
    from alembic import op

    revision = "9001"
    down_revision = "0004"
    branch_labels = None
    depends_on = None


    def upgrade():
        with op.batch_alter_table("runs") as batch:
            batch.add_column(sa.Column("host", sa.String(100)))
        op.execute("UPDATE store_info SET value = '3' WHERE key = 'schema_version'")


    def downgrade():
        with op.batch_alter_table("runs") as batch:
            batch.drop_column("host")
''')


@pytest.fixture
def next_release(tmp_path, monkeypatch):
    """Call it to make the code's head a revision after the baseline (as after a future release)."""
    folder = tmp_path / "more_versions"
    folder.mkdir()
    (folder / "9001_runs_host.py").write_text(NEXT_REVISION, encoding="utf-8")
    extra = (str(folder),)
    real_script, real_config = migrate._script, migrate.alembic_config

    def switch() -> str:
        monkeypatch.setattr(migrate, "_script", lambda locations=(): real_script(extra))
        monkeypatch.setattr(migrate, "alembic_config", lambda connection=None, version_locations=None:
                            real_config(connection, version_locations=list(extra)))
        script = real_script(extra)
        monkeypatch.setattr(migrate, "_packaged_revisions", lambda: (
            frozenset(rev.revision for rev in script.walk_revisions()), script.get_current_head()))
        return "9001"

    return switch


def test_a_store_behind_the_code_is_refused_by_readers_and_upgraded_by_db_upgrade(store_url, next_release):
    old = Store(store_url)  # at the baseline, as the previous release left it
    old.add_summary("place", "Ashby", "trust_relationships", "Kept.", author="ana")
    old.close()
    head = next_release()
    with pytest.raises(StoreError, match=r"revision 0004; this toolkit needs 9001\. Run: toolkit db upgrade"):
        Store(store_url, read_only=True)
    with pytest.raises(StoreError, match="Run: toolkit db upgrade"):
        Store(store_url, upgrade=False)
    before, after = upgrade_store(store_url)
    assert before.revision == "0004" and after.revision == head and after.current
    store = Store(store_url, read_only=True)
    assert "host" in _columns(store, s.RUNS)
    assert store.table(s.SUMMARIES)[s.TEXT].tolist() == ["Kept."]
    store.close()


def test_a_sqlite_writer_upgrades_a_release_file_through_every_revision(release_store, next_release):
    head = next_release()
    store = Store(f"sqlite:///{release_store}")
    assert store.schema.revision == head
    assert store.counts()[s.HUMAN_CODINGS] == 2 and "host" in _columns(store, s.RUNS)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM store_info WHERE key = 'schema_version'")).scalar() == "3"


def test_a_server_writer_does_not_migrate_implicitly(postgres_url, next_release):
    Store(postgres_url).close()
    next_release()
    with pytest.raises(StoreError, match="Run: toolkit db upgrade"):
        Store(postgres_url)
    upgrade_store(postgres_url)
    assert Store(postgres_url).schema.current


def test_a_store_from_a_newer_toolkit_is_refused(tmp_path):
    path = tmp_path / "study.sqlite"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff0000'")
    for read_only in (False, True):
        with pytest.raises(StoreError, match="written by a newer toolkit .*ffff0000.* Upgrade the toolkit"):
            Store(f"sqlite:///{path}", read_only=read_only)


def test_a_database_with_foreign_tables_is_not_taken_for_a_store(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sources (id INTEGER)")
    with pytest.raises(StoreError, match="toolkit tables .*sources.* but no store_info"):
        Store(f"sqlite:///{path}")


def test_a_reader_falls_back_to_immutable_when_sqlite_cannot_open_the_wal_index(release_store, monkeypatch):
    """As in a read-only folder with no writer: mode=ro fails on the WAL index, immutable reads the file."""
    upgrade_store(f"sqlite:///{release_store}")
    from toolkit.store import engine

    real = sqlite3.connect
    opened = []

    class Refusing:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, *args):
            raise sqlite3.OperationalError("attempt to write a readonly database")

        def close(self):
            self.conn.close()

    def connect(database, *args, **kwargs):
        opened.append(database)
        conn = real(database, *args, **kwargs)
        return conn if "immutable=1" in database else Refusing(conn)

    monkeypatch.setattr(engine.sqlite3, "connect", connect)
    reader = Store(f"sqlite:///{release_store}", read_only=True)
    assert _old_tables(reader.counts()) == RELEASE_COUNTS
    assert opened[0].endswith("?mode=ro") and opened[1].endswith("?mode=ro&immutable=1")
    reader.close()


@pytest.mark.model
def test_the_next_run_on_a_release_store_keeps_every_piece_of_human_work(tmp_path):
    """The anchors revision: a 0.1.0 store's decisions, practice and comment re-attach by their text."""
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    study = tmp_path / "study_v2"
    shutil.copytree(RELEASE_STORE.parent / "study_v2", study)
    (study / "store").mkdir()
    shutil.copyfile(RELEASE_STORE, study / "store" / "study.sqlite")
    config = load_config(study)
    store = Store(config.store_url)
    report = run_study(config, store=store, stages=("ingest", "segment"))
    assert sorted(report.ingest.renamed) == sorted(store.sources_frame()[s.PATH])  # recognised by content
    keys = set(store.segment_keys())
    for table in (s.HUMAN_CODINGS, s.PRACTICES):
        frame = store.table(table)
        assert frame[s.SEGMENT_KEY].isin(keys).all(), table
        assert set(frame[s.ANCHOR]) <= {"attached", "moved"}
    comments = store.table(s.COMMENTS)
    on_segments = comments[comments[s.SEGMENT_KEY].notna()]
    assert on_segments[s.SEGMENT_KEY].isin(keys).all()


def test_the_packaged_revisions_are_read_as_alembic_reads_them():
    known, head = migrate._packaged_revisions()
    script = migrate._script()
    assert head == script.get_current_head()
    assert known == {rev.revision for rev in script.walk_revisions()}


def test_opening_a_current_store_does_not_import_alembic(tmp_path):
    """Alembic costs 0.4 s at start; a run with nothing to do (issue 18) must not pay it."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    Store(url).table(s.SOURCES)  # creates it at head
    code = (f"import sys; from toolkit.store import Store; Store({url!r}).table('sources'); "
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2],
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert out.stdout.strip() == "False"
