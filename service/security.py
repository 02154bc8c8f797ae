"""Response headers that keep the dashboard and its key safe, and an access log without secrets.

Every response gets a Content-Security-Policy (scripts and styles only from this app; no
frames, no plugins), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and no
referrer. The self-contained HTML reports (inline scripts), also when opened by a share link,
run sandboxed instead, in an origin of their own, so nothing in them can read the dashboard's
stored key. The access log
keeps paths but never query strings, where a careless client may put its key.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SANDBOXED = (  # a report: its inline plotly runs, in an opaque origin (no storage, no cookies)
    "sandbox allow-scripts allow-downloads; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; frame-ancestors 'none'"
)
HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer")]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        report = path.endswith("/report") or (path.startswith("/shared/") and not path.endswith("/pdf"))
        policy = SANDBOXED if report else POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS,
                                      (b"content-security-policy", policy.encode())]
            await send(message)

        await self.app(scope, receive, with_headers)


class NoQueryStrings(logging.Filter):
    """Drop the query string from uvicorn's access log lines (args: client, method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[query hidden]", *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with NoQueryStrings on the access log."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": NoQueryStrings}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
