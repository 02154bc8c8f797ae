"""A body-size limit for every request, enforced while the body streams in."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Answer 413 naming the limit when a request body is longer than `limit` bytes.

    Routes that take uploads (multipart) get `upload_limit` instead.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit, name = (self.upload_limit, "max_upload_bytes") if upload else (self.limit, "max_body_bytes")
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _too_large(send, name, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # answered by the app's HTTPException handler
                raise HTTPException(413, _message(name, limit))
            return message

        await self.app(scope, counted, send)


def _message(name: str, limit: int) -> str:
    return f"request body exceeds the limit {name} = {limit} bytes (TWIN_{name.upper()})"


async def _too_large(send: Send, name: str, limit: int) -> None:
    body = json.dumps({"detail": _message(name, limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
