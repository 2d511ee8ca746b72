"""Redis: session state shared by several server processes or nodes behind a load balancer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis.asyncio as redis
from redis.exceptions import WatchError

PREFIX = "openlive:"


class RedisStore:
    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url
        # Bounded calls: a Redis that hangs makes a session's setup fail, not wait for ever.
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )

    async def ping(self) -> None:
        await self._client.ping()

    async def put(self, key: str, record: dict[str, Any], ttl_s: float) -> None:
        value = json.dumps(record, separators=(",", ":"))
        await self._client.set(PREFIX + key, value, px=max(1, int(ttl_s * 1000)))

    async def get(self, key: str) -> dict[str, Any] | None:
        value = await self._client.get(PREFIX + key)
        return json.loads(value) if value is not None else None

    async def update(
        self,
        key: str,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        ttl_s: float | None = None,
    ) -> dict[str, Any] | None:
        name = PREFIX + key
        async with self._client.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(name)
                    value = await pipe.get(name)
                    if value is None:
                        await pipe.unwatch()
                        return None
                    ttl_ms = await pipe.pttl(name)
                    updated = change(json.loads(value))
                    pipe.multi()
                    if updated is None:
                        pipe.delete(name)
                    else:
                        expiry = int(ttl_s * 1000) if ttl_s is not None else max(1, ttl_ms)
                        pipe.set(name, json.dumps(updated, separators=(",", ":")), px=expiry)
                    await pipe.execute()
                    return updated
                except WatchError:
                    continue  # someone else changed it first: read again

    async def delete(self, key: str) -> None:
        await self._client.delete(PREFIX + key)

    async def aclose(self) -> None:
        await self._client.aclose()
