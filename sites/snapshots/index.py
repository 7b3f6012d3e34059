"""A scratch table of entries by item id, on disk, for the work that needs to look items up by id
across a whole collection: comparing a snapshot with the one before it (what changed, what was
removed) and reading a base segment with its deltas laid over it.

SQLite in a private temporary file (Python's standard library; deleted when closed), so memory
stays that of its page cache whatever the collection's size: a Python dict of 100,000 entries
would cost some 20 MB, and the worker's memory must be the same for 10,000 items as for 100,000.
Look-ups go by batches of a page, one query each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType

# SQLite's default limit on the parameters of one statement is 32,766; a page is at most 1000.
BATCH = 1000


class EntryIndex:
    """(item id → digest, line) for one collection at a time, with a `seen` mark per id."""

    def __init__(self) -> None:
        # "" opens a private temporary database that SQLite removes when it is closed.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -4096;
            CREATE TABLE entry (
                id TEXT PRIMARY KEY, digest TEXT, line BLOB, seen INTEGER NOT NULL DEFAULT 0,
                ord INTEGER NOT NULL
            );
            """
        )
        self._ord = 0
        self.size = 0

    def __enter__(self) -> EntryIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def clear(self) -> None:
        self._db.execute("DELETE FROM entry")
        self.size = 0

    def add(self, rows: Iterable[tuple[str, str | None, bytes]]) -> None:
        """(id, digest or None for a removal, line); a later row for an id replaces the earlier,
        and moves to the end of the order."""
        self._db.execute("BEGIN")
        for start in _chunks(rows):
            numbered = []
            for item_id, digest, line in start:
                self._ord += 1
                numbered.append((item_id, digest, line, self._ord))
            self._db.executemany(
                "INSERT OR REPLACE INTO entry (id, digest, line, ord) VALUES (?, ?, ?, ?)",
                numbered,
            )
        self._db.execute("COMMIT")
        self.size = self._db.execute("SELECT count(*) FROM entry").fetchone()[0]

    def lookup(self, ids: Sequence[str]) -> dict[str, tuple[str | None, bytes]]:
        """{id: (digest, line)} of the ids held (at most BATCH ids a call)."""
        if not ids or not self.size:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT id, digest, line FROM entry WHERE id IN ({marks})",  # noqa: S608 - marks only
            list(ids),
        )
        return {item_id: (digest, line) for item_id, digest, line in rows}

    def mark_seen(self, ids: Sequence[str]) -> None:
        if not ids or not self.size:
            return
        marks = ",".join("?" * len(ids))
        self._db.execute(
            f"UPDATE entry SET seen = 1 WHERE id IN ({marks})",  # noqa: S608 - marks only
            list(ids),
        )

    def reset_seen(self) -> None:
        self._db.execute("UPDATE entry SET seen = 0")

    def unseen(self) -> Iterator[tuple[str, str | None, bytes]]:
        """(id, digest, line) of every id not marked seen, in the order they were added."""
        rows = self._db.execute("SELECT id, digest, line FROM entry WHERE seen = 0 ORDER BY ord")
        yield from rows


def _chunks(rows: Iterable[tuple[str, str | None, bytes]]) -> Iterator[list]:
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH * 10:
            yield batch
            batch = []
    if batch:
        yield batch
