"""The store's database connection, one class per database engine: SQLite (the embedded default) and
PostgreSQL (``storage.url: postgresql://…``, for a province's many sites and several workers).

The :class:`~monitor.store.database.Store` and its migrations are written once, in SQL both engines read:
``?`` placeholders, ``INSERT … ON CONFLICT … DO UPDATE``, ``INSERT … RETURNING id``; the few words that
differ in table definitions come from :meth:`Backend.ddl`. What only one engine has (SQLite's PRAGMAs,
read-only file opens, the online backup API; PostgreSQL's advisory locks) stays in its class.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol


class Cursor(Protocol):
    """What a statement gives back (a DB-API cursor of either engine)."""

    @property
    def rowcount(self) -> int:
        """Rows an UPDATE/DELETE changed."""
        ...

    def fetchone(self) -> Any:
        """The next row as a tuple, or None."""
        ...

    def fetchall(self) -> list[Any]:
        """The remaining rows as tuples."""
        ...

    def __iter__(self) -> Iterator[Any]: ...


class StoreMissing(Exception):
    """A read-only open found no database (read-only commands never create one)."""


class Backend(ABC):
    """One open connection to the monitor's database.

    Statements run in autocommit unless inside :meth:`transaction`; a nested ``transaction`` joins the
    outer one. ``location`` names the database in messages (a path, or a URL without its password).
    """

    dialect: ClassVar[str]
    location: str

    # -- statements ---------------------------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement written with ``?`` placeholders."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for every row of parameters."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts keyed by column name."""
        cursor: Any = self.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row (None without rows)."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # -- transactions and locks -----------------------------------------------------------------------
    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""

    @abstractmethod
    def begin(self) -> None:
        """Open a write transaction (SQLite: ``BEGIN IMMEDIATE``, the file's one write lock)."""

    def commit(self) -> None:
        """Commit the open transaction."""
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll the open transaction back."""
        self.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction: committed when the block ends, rolled back when it raises; a block inside
        another one joins it."""
        if self.in_transaction:
            yield
            return
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    @abstractmethod
    def lock(self, name: str) -> None:
        """Inside a transaction: wait for, then hold until it ends, the lock called ``name``, so writers in
        other processes (other machines, on PostgreSQL) that take it run one after the other. SQLite's
        write transaction already holds the whole file's lock: nothing to do there."""

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` across several transactions (one process at a time does the work in the
        block). SQLite: nothing (one machine; the work's own files keep it safe)."""
        yield

    # -- schema -------------------------------------------------------------------------------------
    #: Words of table definitions that differ between engines: ``{pk_id}`` (an auto-numbered integer key),
    #: ``{text}`` (text compared byte by byte), ``{int}`` (a 64-bit integer), ``{deferrable}`` (a foreign
    #: key checked at commit when :meth:`defer_foreign_keys` asks).
    DDL_WORDS: ClassVar[dict[str, str]]

    def ddl(self, sql: str) -> str:
        """A table definition with this engine's words for ``{pk_id}``, ``{text}``, ``{int}``…"""
        return sql.format(**self.DDL_WORDS)

    @abstractmethod
    def schema_version(self) -> int:
        """How many migrations the database has (0: a new, empty database)."""

    @abstractmethod
    def set_schema_version(self, version: int) -> None:
        """Record the number of migrations applied (inside the migration's transaction)."""

    @abstractmethod
    def table_names(self) -> set[str]:
        """The tables of the monitor's schema."""

    @abstractmethod
    def columns(self, table: str) -> set[str]:
        """The column names of one table."""

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: the block's queries see one state of the database and never wait for a
        writer (SQLite: a deferred transaction in WAL mode; PostgreSQL: repeatable read, read only). Inside
        another transaction it joins it."""
        if self.in_transaction:
            yield
            return
        self.begin_read()
        try:
            yield
        finally:
            self.commit()

    @abstractmethod
    def begin_read(self) -> None:
        """Open a read transaction (see :meth:`snapshot`)."""

    @abstractmethod
    def defer_foreign_keys(self) -> None:
        """Inside a transaction: check foreign keys at commit, not statement by statement."""

    # -- health -------------------------------------------------------------------------------------
    @abstractmethod
    def quick_check(self) -> str:
        """``ok``, or what is wrong with the database (cheap: for the daemon's start)."""

    @abstractmethod
    def integrity_check(self) -> str:
        """``ok``, or what is wrong with the database (thorough)."""

    # -- connections --------------------------------------------------------------------------------
    @abstractmethod
    def reopen(self, lock_timeout: float) -> Backend:
        """A second, new connection to the same database (waiting at most ``lock_timeout`` for locks)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @property
    def file(self) -> Path | None:
        """The database file (SQLite); None for a server database."""
        return None


def is_postgresql_url(location: object) -> bool:
    """Whether ``location`` is a PostgreSQL URL (``postgresql://…`` or ``postgres://…``)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def connect(
    location: str | Path, *, lock_timeout: float, readonly: bool = False, password: str | None = None
) -> Backend:
    """Open the database at ``location``: a PostgreSQL URL, else a SQLite file path (or ``:memory:``).

    ``password`` (PostgreSQL) comes from the environment, never from the URL or the config file.
    """
    if is_postgresql_url(location):
        from monitor.store.backend.postgresql import PostgresBackend

        return PostgresBackend(str(location), lock_timeout=lock_timeout, readonly=readonly, password=password)
    from monitor.store.backend.sqlite import SqliteBackend

    return SqliteBackend(location, lock_timeout=lock_timeout, readonly=readonly)
