"""Database engines for the vault: SQLite (embedded default) or PostgreSQL (teams).

SQLite follows Datasette's discipline: one writer connection serialised by a lock, read-only
reader connections, WAL with ``synchronous=FULL`` (an acknowledged write survives power loss),
``secure_delete`` (deleted pages are zeroed, so shredded ciphertext does not linger) and
no temporary file on a disk: SQLite's temporary files (sorts, GROUP BY) go to a RAM file
system when there is one (:func:`ram_temp_directory`), else stay in SQLite's own memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool

from amparo.errors import StorageError
from amparo.store.group_commit import GroupCommit

__all__ = ["Store", "ram_temp_directory"]

# PostgreSQL: pauses before VACUUM FULL is repeated while older transactions are open.
VACUUM_RETRY_WAITS = (0.5, 1.0, 2.0)
SHREDDED_TABLES = (
    "cases", "defenders", "close_people", "consents", "incidents", "acts", "perpetrators",
    "involvements", "sources", "interventions", "incident_links", "record_versions",
    "attachments", "search_docs",
)  # fmt: skip

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    # Reads go through the memory map (the OS page cache, shared by every connection and
    # process, no copies); SQLite's own cache, private to each connection, then holds little
    # but pages past the map and those being written. Twenty pooled readers in each server
    # process at 64 MiB each made the heap grow for many minutes under load (the soak test):
    # 16 MiB bounds it at about 320 MiB a process.
    "PRAGMA cache_size=-16384",  # 16 MiB page cache per connection
    "PRAGMA mmap_size=1073741824",  # map up to 1 GiB of the database file
)
# Connections kept open for concurrent requests (the web server runs up to 40 at once in its
# thread pool). A connection beyond the pool is opened for one use and closed after it: with
# SQLite that is a cold page cache and seven pragmas, with PostgreSQL a new server process.
READER_POOL = 20
READER_OVERFLOW = 20
# The one writer touches every index of a bulk import: a larger cache keeps the B-trees' hot
# pages in memory as the registry grows past the reader's cache.
WRITER_CACHE = "PRAGMA cache_size=-262144"  # 256 MiB


RAM_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})
TEMP_DIRECTORY_VARIABLE = "AMPARO_SQLITE_TMPDIR"  # a RAM directory other than /dev/shm


def ram_temp_directory(mounts: str | None = None) -> str | None:
    """A writable directory on a RAM file system for SQLite's temporary files, or None.

    ``$AMPARO_SQLITE_TMPDIR`` if set, else ``/dev/shm``; either only if the mount it lies on
    is a tmpfs or ramfs (``mounts``: the text of /proc/mounts, read when not given). Why not
    just keep temporaries in SQLite's memory (``temp_store=MEMORY``), as before: its
    in-memory temporary B-trees sort a GROUP BY at half the speed of the same sort in a
    temporary file (0.98 s against 0.54 s, counting a million acts by act type), and a file
    on a RAM file system is memory too, so nothing reaches a disk either way.
    """
    # /dev/shm is shared with every local user: the files go in a private folder inside it.
    candidate = os.environ.get(TEMP_DIRECTORY_VARIABLE) or "/dev/shm"  # noqa: S108
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    real = os.path.realpath(candidate)
    best, kind = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    if kind not in RAM_FILE_SYSTEMS or not os.path.isdir(real) or not os.access(real, os.W_OK):
        return None
    return _private_folder(real)


def _private_folder(parent: str) -> str | None:
    """``parent/amparo-<uid>``, made 0700 if missing; None unless it is a real folder owned
    by this user that no one else may enter (SQLite's temporary files are readable by others
    for the moment between their creation and their unlinking)."""
    import stat

    folder = os.path.join(parent, f"amparo-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
    return folder if private and not info.st_mode & 0o077 else None


@functools.cache
def _temp_pragmas() -> tuple[str, ...]:
    """Where temporaries go, decided once a process (SQLite has one temporary directory per
    process): files in a RAM directory, or SQLite's memory."""
    directory = ram_temp_directory()
    if directory is None:
        return ("PRAGMA temp_store=MEMORY",)
    quoted = directory.replace("'", "''")
    return (f"PRAGMA temp_store_directory='{quoted}'", "PRAGMA temp_store=FILE")


def _on_writer_connect(dbapi_conn: Any, _record: Any) -> None:
    _apply_pragmas(dbapi_conn, ("PRAGMA journal_mode=WAL", *SQLITE_PRAGMAS, *_temp_pragmas(),
                                WRITER_CACHE))  # fmt: skip


def _on_reader_connect(dbapi_conn: Any, _record: Any) -> None:
    _apply_pragmas(dbapi_conn, (*SQLITE_PRAGMAS, *_temp_pragmas()))


def _apply_pragmas(dbapi_conn: Any, pragmas: tuple[str, ...]) -> None:
    # Let SQLAlchemy, not the driver, manage transactions (explicit BEGIN in _on_sqlite_*_begin).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in pragmas:
        cursor.execute(pragma)
    cursor.close()


def _on_sqlite_read_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _on_sqlite_write_begin(conn: Connection) -> None:
    # IMMEDIATE: take the write lock at BEGIN. A deferred transaction that reads (the audit
    # chain's head) and then writes fails with SQLITE_BUSY, whatever the busy timeout, when
    # another process (a second web worker, an import from the command line) committed in
    # between; waiting for the lock at BEGIN is what the busy timeout can do.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _FileLock:
    """An exclusive lock between processes (``flock`` on a file beside the database).

    SQLite serialises writers itself, but a writer that finds the database locked sleeps in
    steps of up to 100 ms before it tries again: with several web workers appending audit
    entries, that left cores idle and requests waiting. A blocked ``flock`` wakes as soon as
    the holder lets go.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def reopen(self) -> None:
        """Close the descriptor; the next ``acquire`` opens a new one. Needed after fork: a
        lock taken through an inherited descriptor is shared with the parent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite creates it with the
    process umask (usually 0644); SQLite gives its WAL and shared-memory files the same mode."""
    # An existing file is left as it is; a missing or read-only folder gets SQLite's own error.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))


class Store:
    """Connections to one vault database. Use :meth:`write` for changes, :meth:`read` else."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        self._write_lock = threading.Lock()
        self._write_lock_for_groups = threading.Lock()
        self._groups: dict[str, GroupCommit[Any, Any]] = {}
        if self.dialect == "sqlite":
            path = self.url.database
            if not path:
                raise StorageError("an in-memory SQLite database cannot hold a vault")
            self.path: Path | None = Path(path)
            _create_private(self.path)
            self._process_lock: _FileLock | None = _FileLock(Path(f"{path}-writer.lock"))
            self._writer = sa.create_engine(
                f"sqlite+pysqlite:///{path}", poolclass=QueuePool, pool_size=1, max_overflow=0
            )
            self._reader = sa.create_engine(
                # Pooled so each reader keeps its warm page cache between requests.
                f"sqlite+pysqlite:///file:{path}?mode=ro&uri=true",
                poolclass=QueuePool,
                pool_size=READER_POOL,
                max_overflow=READER_OVERFLOW,
            )
            event.listen(self._writer, "connect", _on_writer_connect)
            event.listen(self._reader, "connect", _on_reader_connect)
            event.listen(self._writer, "begin", _on_sqlite_write_begin)
            event.listen(self._reader, "begin", _on_sqlite_read_begin)
        elif self.dialect == "postgresql":
            if self.url.drivername == "postgresql":
                self.url = self.url.set(drivername="postgresql+psycopg")
            self.path = None
            self._process_lock = None
            self._writer = sa.create_engine(
                self.url, pool_pre_ping=True, pool_size=READER_POOL, max_overflow=READER_OVERFLOW
            )
            self._reader = self._writer
        else:
            raise StorageError(f"unsupported database '{self.dialect}': use sqlite or postgresql")

    def grouped(
        self, name: str, apply: Callable[[Connection, Sequence[Any]], Sequence[Any]]
    ) -> GroupCommit[Any, Any]:
        """The group commit named ``name`` for this store (created with ``apply`` once)."""
        with self._write_lock_for_groups:
            found = self._groups.get(name)
            if found is None:
                found = self._groups[name] = GroupCommit(self.write, apply)
            return found

    @property
    def engine(self) -> Engine:
        return self._writer

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back whole on any error."""
        if self.dialect != "sqlite":
            try:
                with self._writer.begin() as conn:
                    yield conn
            except (OperationalError, DBAPIError) as exc:
                raise StorageError(_describe(exc)) from exc
            return
        with self._write_lock:
            process_lock = self._process_lock
            if process_lock is not None:
                try:
                    process_lock.acquire()
                except OSError:  # a read-only directory: SQLite's own locking still holds
                    process_lock = self._process_lock = None
            try:
                with self._writer.begin() as conn:
                    yield conn
            except (OperationalError, DBAPIError) as exc:
                raise StorageError(_describe(exc)) from exc
            finally:
                if process_lock is not None:
                    process_lock.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self._reader.connect() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            raise StorageError(_describe(exc)) from exc

    def migrate(self) -> None:
        from amparo.store.migrate import upgrade_to_head

        with self.write() as conn:
            upgrade_to_head(conn)

    def integrity_problems(self) -> list[str]:
        """SQLite's integrity and foreign-key checks; an empty list means healthy."""
        if self.dialect != "sqlite":
            return []
        with self.write() as conn:
            problems = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            problems = [p for p in problems if p != "ok"]
            problems += [
                f"foreign key: {r[0]} row {r[1]} -> {r[2]}"
                for r in conn.exec_driver_sql("PRAGMA foreign_key_check")
            ]
        return problems

    def checkpoint(self, waits: Sequence[float] | None = None) -> int:
        """Make deleted rows physically go away (after shredding); returns how many other
        database sessions may have kept them (0 when they are gone).

        SQLite: fold the WAL into the database and truncate it (secure_delete zeroes freed
        pages). PostgreSQL: VACUUM FULL the tables that held case data, rewriting them so dead
        row versions — a wrapped case key among them — leave the table files (plain VACUUM
        only marks their space free). It locks those tables briefly: shredding is rare.
        VACUUM FULL copies a dead version that a transaction begun before it might still
        see, and that includes transactions in other databases of the same server (seen:
        a bulk import elsewhere left a shredded case's wrapped key on the page). So it is
        repeated after each of ``waits`` (default ``VACUUM_RETRY_WAITS``, read at the call)
        while such a transaction is open; what is returned is the count still open at the end.
        """
        if self.dialect == "postgresql":
            with self._writer.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for wait in (*(VACUUM_RETRY_WAITS if waits is None else waits), None):
                    began = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
                    conn.exec_driver_sql(f"VACUUM FULL {', '.join(SHREDDED_TABLES)}")
                    older = int(
                        conn.exec_driver_sql(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                            " AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)"
                            " AND xact_start < %(began)s",
                            {"began": began},
                        ).scalar_one()
                    )
                    if older == 0 or wait is None:
                        return older
                    time.sleep(wait)
        with self._write_lock:
            raw = self._writer.raw_connection()
            try:
                # Outside any transaction: a checkpoint cannot complete inside one.
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        return 0

    def forget_connections(self) -> None:
        """In a forked child: drop the pooled connections inherited from the parent, unclosed
        (closing them would end the parent's sessions); new ones open on demand."""
        self._writer.dispose(close=False)
        if self._reader is not self._writer:
            self._reader.dispose(close=False)
        if self.dialect == "sqlite" and self._process_lock is not None:
            self._process_lock.reopen()

    def close(self) -> None:
        self._writer.dispose()
        if self._reader is not self._writer:
            self._reader.dispose()
        if self._process_lock is not None:
            self._process_lock.reopen()  # closes the descriptor; opened again if used


def _describe(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "full" in text.lower():
        return f"the disk is full; nothing was written ({text})"
    if "disk i/o error" in text.lower():  # SQLite's word for EFBIG (a file-size limit) and EIO
        return f"the disk is full or failing; nothing was written ({text})"
    return f"the database refused the operation; nothing was written ({text})"
