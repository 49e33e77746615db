"""A minimal keep-alive HTTP/1.1 client, to tell the REST path's cost from httpx's.

httpx spends about a millisecond of client CPU per request (request and
response models, the connection pool). For a call that takes a few
milliseconds in all, that is a visible part of the REST figure, so progress is
also timed with this client: one connection, GET only, Content-Length bodies
only (what the gateway sends for JSON answers).
"""

from __future__ import annotations

import asyncio
import contextlib


class MinimalHttpClient:
    def __init__(self, host: str, port: int, *, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._header_block = f"host: {host}:{port}\r\n{extra}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> MinimalHttpClient:
        await self._connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def get(self, path: str) -> tuple[int, bytes]:
        """Status and body of GET path (on a new connection if the server closed
        the idle one: uvicorn does after its keep-alive timeout)."""
        assert self._reader is not None
        if self._reader.at_eof():
            await self._close()
            await self._connect()
        try:
            return await self._exchange(path)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            await self._close()
            await self._connect()
            return await self._exchange(path)

    async def _exchange(self, path: str) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        self._writer.write(f"GET {path} HTTP/1.1\r\n{self._header_block}".encode("latin-1"))
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)
