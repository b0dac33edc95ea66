"""How long opening a store takes: new (created at head by the migrations), existing, read-only.

    PYTHONPATH=. .venv/bin/python benchmarks/store_open.py [--postgres URL_OF_AN_EMPTY_DATABASE]

Prints milliseconds per open (mean of 20). With ``--postgres`` the same on that server (its
database must be empty: the first open creates the store there; drop it afterwards).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from toolkit.store import Store


def _mean_ms(open_once, n: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(n):
        open_once()
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    args = parser.parse_args()
    Store("sqlite://").close()  # imports and the migration scripts, once
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        counter = iter(range(10_000))
        print(f"SQLite, new store (migrations to head): {_mean_ms(lambda: Store(f'sqlite:///{folder}/n{next(counter)}.sqlite').close()):7.1f} ms")
        existing = f"sqlite:///{folder}/existing.sqlite"
        Store(existing).close()
        print(f"SQLite, existing store, writer:          {_mean_ms(lambda: Store(existing).close()):7.1f} ms")
        print(f"SQLite, existing store, read-only:       {_mean_ms(lambda: Store(existing, read_only=True).close()):7.1f} ms")
    if args.postgres:
        first = time.perf_counter()
        Store(args.postgres).close()
        print(f"PostgreSQL, new store (migrations):      {(time.perf_counter() - first) * 1000:7.1f} ms")
        print(f"PostgreSQL, existing store, writer:      {_mean_ms(lambda: Store(args.postgres).close()):7.1f} ms")
        print(f"PostgreSQL, existing store, read-only:   {_mean_ms(lambda: Store(args.postgres, read_only=True).close()):7.1f} ms")


if __name__ == "__main__":
    main()
