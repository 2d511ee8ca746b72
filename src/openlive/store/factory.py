"""``--store``: ``sqlite:///path/sessions.db`` (default: in the data dir) or ``redis://host:6379/0``."""

from __future__ import annotations

from pathlib import Path

from .base import SessionStore
from .redis_store import RedisStore
from .sqlite import SQLiteStore


def open_store(spec: str, default_path: Path, *, timeout_s: float = 5.0) -> SessionStore:
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec, timeout_s=timeout_s)
    if spec.startswith("sqlite://"):
        return SQLiteStore(Path(spec.removeprefix("sqlite://")))
    if not spec:
        return SQLiteStore(default_path)
    raise ValueError(f"unknown store {spec!r}: use sqlite:///path/file.db or redis://host:port/db")
