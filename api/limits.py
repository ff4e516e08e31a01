"""Refuse oversized request bodies before they are read (413), by their declared Content-Length.

Questions are at most a few kilobytes; only multipart uploads may be large, up to the upload limits.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

JSON_BODY_LIMIT = 1 << 20  # 1 MiB


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length", b"").decode("latin-1")
            if length.isdigit():
                multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
                limit = self.upload_limit if multipart else self.json_limit
                if int(length) > limit:
                    await self._refuse(send, f"request body of {int(length)} bytes is over the limit of {limit}")
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send: Send, message: str) -> None:
        body = json.dumps({"error": {"type": "payload_too_large", "message": message}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
