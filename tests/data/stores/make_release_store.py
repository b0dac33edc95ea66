"""Make ``release-0.1.0.sqlite``: a store written by the toolkit as released (schema version 2).

Run it with the code of the release on the path, never with newer code (the point of the
fixture is that it was written by the old release):

    mkdir /tmp/toolkit-0.1.0 && git archive 86df8ab | tar -x -C /tmp/toolkit-0.1.0
    PYTHONPATH=/tmp/toolkit-0.1.0 python tests/data/stores/make_release_store.py

It copies ``study_v2/`` (two short invented interviews and a three-row survey) to a temporary
folder, runs the real pipeline (ingest with pseudonymisation, then coding), records a human
decision, a summary, a good-practice entry and a comment through the public API, drops the
cached embeddings (large and recomputable) and writes the store beside this script.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "release-0.1.0.sqlite"


def main() -> None:
    from toolkit import api
    from toolkit import schema as s
    from toolkit.store import SCHEMA_VERSION

    assert SCHEMA_VERSION == 2, f"run this with the release's code (schema 2), not schema {SCHEMA_VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "study"
        shutil.copytree(HERE / "study_v2", folder)
        study = api.open_study(folder)
        study.run(["ingest", "code"])
        segments = study.segments()
        coded = segments[segments[s.THEME].notna()]
        first, second = coded[s.SEGMENT_KEY].iloc[0], coded[s.SEGMENT_KEY].iloc[1]
        study.record_decisions([first], "accept", "ana", note="Clear example.")
        study.record_decisions([second], "recode", "ana", theme="trust_relationships", polarity="enabler")
        study.add_summary("place", "Ashby", "trust_relationships", "Trust grew through fortnightly meetings.", "ana")
        study.curate_practice(first, True, "ana", title="A signed agreement", note="Cited in the report.")
        study.add_comment("Is this about the agreement or the people?", "ben", "reviewer", segment_key=first)
        study.store.close()
        store = folder / "store" / "study.sqlite"
        conn = sqlite3.connect(store, isolation_level=None)
        conn.execute("DELETE FROM embeddings")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copyfile(store, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
