"""Copies of a store (never into the live database) and the dashboard's read-only PostgreSQL role."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from toolkit import schema as s
from toolkit.errors import InputDataError, StoreError
from toolkit.store import Store, copy_store

RELEASE_STORE = Path(__file__).resolve().parents[1] / "data" / "stores" / "release-0.1.0.sqlite"


@pytest.fixture
def release(tmp_path) -> Store:
    path = tmp_path / "src" / "study.sqlite"
    path.parent.mkdir()
    shutil.copyfile(RELEASE_STORE, path)
    return Store(f"sqlite:///{path}")


def _rows(store: Store) -> dict[str, int]:
    return {k: v for k, v in store.counts().items()}


def test_a_sqlite_store_is_copied_to_a_new_file_and_not_over_itself_or_another(release, tmp_path):
    copy = copy_store(release, tmp_path / "copy" / "study.sqlite")
    assert _rows(copy) == _rows(release)
    copy.add_summary("place", "Ashby", "trust_relationships", "Only in the copy.", author="ana")
    assert release.counts()[s.SUMMARIES] == 1
    with pytest.raises(InputDataError, match="is the store being copied"):
        copy_store(release, release.url.removeprefix("sqlite:///"))
    with pytest.raises(InputDataError, match="already exists"):
        copy_store(release, tmp_path / "copy" / "study.sqlite")


def test_a_sqlite_study_moves_to_postgresql_and_back(release, postgres_url, tmp_path):
    server = copy_store(release, postgres_url)
    assert server.backend == "postgresql" and _rows(server) == _rows(release)
    assert server.table(s.HUMAN_CODINGS).sort_values(s.CREATED_AT)[s.DECISION].tolist() == ["accept", "recode"]
    new_id = server.add_summary("place", "Ashby", "trust_relationships", "After the move.", author="ana")
    assert new_id == int(release.table(s.SUMMARIES)["summary_id"].max()) + 1  # ids carry on after the copied ones
    back = copy_store(server, tmp_path / "back.sqlite")
    assert back.counts()[s.SUMMARIES] == 2 and back.counts()[s.SEGMENTS] == release.counts()[s.SEGMENTS]


def test_a_url_store_is_never_copied_into_its_live_database(release, postgres_url, postgres_cluster):
    server = copy_store(release, postgres_url)
    with pytest.raises(InputDataError, match="live database of the store being copied"):
        copy_store(server, postgres_url)
    same_db_other_spelling = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with pytest.raises(InputDataError, match="live database"):
        copy_store(server, same_db_other_spelling)
    other = postgres_cluster.url(postgres_cluster.create_database())
    Store(other).close()  # an existing store there
    with pytest.raises(InputDataError, match="already holds a store"):
        copy_store(server, other)
    assert server.counts()[s.SEGMENTS] == release.counts()[s.SEGMENTS]


def test_a_read_only_role_opens_the_store_for_the_dashboard(release, postgres_url, postgres_cluster):
    server = copy_store(release, postgres_url)
    postgres_cluster.execute("CREATE ROLE dashboard_reader LOGIN")
    try:
        server.grant_reader("dashboard_reader")
        reader_url = postgres_url.replace("postgres@", "dashboard_reader@", 1)
        reader = Store(reader_url, read_only=True)
        assert reader.counts() == server.counts()
        assert len(reader.segments_frame(evidence_only=True)) > 0
        with pytest.raises(StoreError, match="open read-only"):
            reader.add_comment("No.", author="x", author_role="reviewer")
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction|permission denied"), \
                reader.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM comments"))
        # even a session that is not read-only cannot write with this role
        writer_attempt = sa.create_engine(reader_url)
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"), writer_attempt.begin() as conn:
            conn.execute(sa.text("INSERT INTO store_info (key, value) VALUES ('x', 'y')"))
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"), writer_attempt.begin() as conn:
            conn.execute(sa.text("CREATE TABLE sneaky (id integer)"))
        writer_attempt.dispose()
        reader.close()
        # while the role reads, the run lock is the writer's business and still works for it
        with server.run_lock():
            assert server.holds_run_lock
    finally:
        server.close()
        postgres_cluster.execute("DROP OWNED BY dashboard_reader CASCADE",
                                 database=sa.engine.make_url(postgres_url).database)
        postgres_cluster.execute("DROP ROLE dashboard_reader")


def test_a_reader_role_never_creates_a_store(postgres_url):
    with pytest.raises(StoreError, match="No project store .* yet"):
        Store(postgres_url, read_only=True)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()
