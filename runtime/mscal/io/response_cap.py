"""A cap on how many bytes of a response body are read.

The body is counted as it arrives (before decompression, as the wire carries it) and reading
stops at the cap, so an oversized or endless response costs at most the cap in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2

from mscal.errors import ResponseTooLargeError


def _too_large(response: httpx2.Response, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{response.request.method} {response.request.url.path}: the response is larger than "
        f"the limit of {limit} bytes (limits.response_bytes); nothing more was read"
    )


def _declared_within(response: httpx2.Response, limit: int) -> bool:
    """True when the body's declared length fits (the connection then reads no more than that);
    raises when it does not; False when no length is declared (the body must be counted)."""
    declared = response.headers.get("content-length", "")
    if not declared.isdigit():
        return False
    if int(declared) > limit:
        raise _too_large(response, limit)
    return True


class _CappedStream(httpx2.SyncByteStream):
    def __init__(self, response: httpx2.Response, inner: httpx2.SyncByteStream, limit: int) -> None:
        self._response, self._inner, self._limit = response, inner, limit

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise _too_large(self._response, self._limit)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncCappedStream(httpx2.AsyncByteStream):
    def __init__(
        self, response: httpx2.Response, inner: httpx2.AsyncByteStream, limit: int
    ) -> None:
        self._response, self._inner, self._limit = response, inner, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise _too_large(self._response, self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def read_capped(response: httpx2.Response, limit: int | None) -> None:
    """Read a streamed response's body, at most `limit` bytes of it."""
    try:
        if limit is not None and not _declared_within(response, limit):
            assert isinstance(response.stream, httpx2.SyncByteStream)
            response.stream = _CappedStream(response, response.stream, limit)
        response.read()
    finally:
        response.close()


async def aread_capped(response: httpx2.Response, limit: int | None) -> None:
    try:
        if limit is not None and not _declared_within(response, limit):
            assert isinstance(response.stream, httpx2.AsyncByteStream)
            response.stream = _AsyncCappedStream(response, response.stream, limit)
        await response.aread()
    finally:
        await response.aclose()
