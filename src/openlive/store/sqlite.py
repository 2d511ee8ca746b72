"""SQLite: one file, survives a restart of the server, shared by processes on one machine.

sqlite3 blocks, so every call runs in a worker thread; WAL mode with ``synchronous=FULL`` makes a
commit durable (fsync) before ``put`` returns.

The file holds conversations and token records, so it is private to its owner (0600); SQLite
gives its -wal and -shm files the database file's permissions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
)
"""


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)  # also a file an older version made world-readable
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{path}{suffix}", 0o600)
        self._local = threading.local()
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            self._local.connection = connection
        return connection

    async def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        return await asyncio.to_thread(lambda: work(self._connect()))

    async def put(self, key: str, record: dict[str, Any], ttl_s: float) -> None:
        value = json.dumps(record, separators=(",", ":"))

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT OR REPLACE INTO records (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, time.time() + ttl_s),
            )
            connection.execute("DELETE FROM records WHERE expires_at < ?", (time.time(),))

        await self._run(write)

    async def get(self, key: str) -> dict[str, Any] | None:
        def read(connection: sqlite3.Connection) -> str | None:
            row = connection.execute(
                "SELECT value FROM records WHERE key = ? AND expires_at >= ?", (key, time.time())
            ).fetchone()
            return row[0] if row else None

        value = await self._run(read)
        return json.loads(value) if value is not None else None

    async def update(
        self,
        key: str,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        ttl_s: float | None = None,
    ) -> dict[str, Any] | None:
        def transact(connection: sqlite3.Connection) -> dict[str, Any] | None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT value, expires_at FROM records WHERE key = ? AND expires_at >= ?",
                    (key, time.time()),
                ).fetchone()
                if row is None:
                    connection.execute("COMMIT")
                    return None
                updated = change(json.loads(row[0]))
                if updated is None:
                    connection.execute("DELETE FROM records WHERE key = ?", (key,))
                else:
                    expires = time.time() + ttl_s if ttl_s is not None else row[1]
                    connection.execute(
                        "UPDATE records SET value = ?, expires_at = ? WHERE key = ?",
                        (json.dumps(updated, separators=(",", ":")), expires, key),
                    )
                connection.execute("COMMIT")
                return updated
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        return await self._run(transact)

    async def delete(self, key: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM records WHERE key = ?", (key,)))

    async def aclose(self) -> None:
        pass
