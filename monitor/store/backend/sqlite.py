"""The SQLite backend: one file, WAL journal, the embedded default.

Writers queue for the file's one write lock (``BEGIN IMMEDIATE``) for up to ``lock_timeout``; readers
never wait (WAL). A read-only open (``mode=ro``) never creates the file and never takes the write lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from monitor.store.backend import Backend, Cursor, StoreMissing


class SqliteBackend(Backend):
    """A connection to a SQLite file (or ``:memory:``)."""

    dialect: ClassVar[str] = "sqlite"
    DDL_WORDS: ClassVar[dict[str, str]] = {
        "pk_id": "INTEGER PRIMARY KEY",  # the rowid: numbered by SQLite
        "text": "TEXT",
        "int": "INTEGER",
        "deferrable": "",  # PRAGMA defer_foreign_keys defers any key
    }

    def __init__(self, path: str | Path, *, lock_timeout: float, readonly: bool = False) -> None:
        self.path = Path(path)
        self.memory = str(path) == ":memory:"
        self.location = str(path)
        self.lock_timeout = lock_timeout
        self.readonly = readonly
        if readonly:
            if self.memory or not self.path.is_file():
                raise StoreMissing(f"no database at {self.path}")
            # mode=ro: never creates the file, never takes the write lock; a WAL reader sees the last
            # commit and never waits for a writer.
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=lock_timeout, isolation_level=None)
        else:
            if not self.memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=lock_timeout, isolation_level=None)
        self.conn = conn
        try:
            # The CLI and the daemon share the file: writers queue for up to lock_timeout, then fail.
            conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
            if readonly:
                conn.execute("PRAGMA query_only = ON")
                return
            if not self.memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement (``?`` placeholders are SQLite's own)."""
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for every row of parameters."""
        self.conn.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self.conn.in_transaction

    def begin(self) -> None:
        """``BEGIN IMMEDIATE``: take the file's write lock now, not at the first write."""
        self.conn.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        """``BEGIN`` (deferred: a WAL reader's snapshot, never the write lock)."""
        self.conn.execute("BEGIN")

    def columns(self, table: str) -> set[str]:
        """``PRAGMA table_info``."""
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})").fetchall()}

    def lock(self, name: str) -> None:
        """The write transaction already holds the file's only write lock."""

    def schema_version(self) -> int:
        """``PRAGMA user_version``."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, version: int) -> None:
        """``PRAGMA user_version = N``."""
        self.conn.execute(f"PRAGMA user_version = {int(version)}")

    def table_names(self) -> set[str]:
        """Tables in the file."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    def defer_foreign_keys(self) -> None:
        """``PRAGMA defer_foreign_keys``: keys are checked at commit."""
        self.conn.execute("PRAGMA defer_foreign_keys = ON")

    def quick_check(self) -> str:
        """``PRAGMA quick_check``."""
        return str(self.conn.execute("PRAGMA quick_check").fetchone()[0])

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``."""
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def journal_mode(self) -> str:
        """The file's journal mode (``wal`` for a writable open)."""
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def reopen(self, lock_timeout: float) -> SqliteBackend:
        """A new connection to the same file."""
        return SqliteBackend(self.path, lock_timeout=lock_timeout, readonly=self.readonly)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @property
    def file(self) -> Path | None:
        """The database file (None in memory)."""
        return None if self.memory else self.path
