"""A local HTTP server that answers like Slack: incoming webhooks (POST /services/...) and
the Web API's chat.postMessage (POST /api/chat.postMessage), for the real slack-sdk client.

Each request is answered by a mode, chosen per webhook path or per `channel` (a member ID),
else the default: "ok", "429" (Retry-After: 1, then ok), "500" (always), "invalid_token"
(the Web API's ok: false), "429_always". Everything received is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "xoxb-test-token-not-a-secret"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int  # the HTTP status sent back


@dataclass
class SlackState:
    default: str = "ok"
    modes: dict[str, str] = field(default_factory=dict)  # path or channel -> mode
    requests: list[Request] = field(default_factory=list)
    _limited: set[str] = field(default_factory=set)  # keys already answered 429 once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Request]:
        """The requests Slack took (answered 200 with ok)."""
        return [r for r in self.requests if r.answered == 200 and "_refused" not in r.body]

    def reset(self) -> None:
        with self.lock:
            self.default, self.modes = "ok", {}
            self.requests.clear()
            self._limited.clear()


class _Handler(BaseHTTPRequestHandler):
    state: SlackState  # set on the class made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        content = "text/plain" if isinstance(body, str) else "application/json; charset=utf-8"
        self.send_header("Content-Type", content)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_raw": raw}
        api = self.path.startswith("/api/")
        key = str(body.get("channel")) if api else self.path
        state = self.state
        with state.lock:
            mode = state.modes.get(key, state.default)
            status, answer, extra = 200, ({"ok": True, "ts": "1.0"} if api else "ok"), {}
            if api and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                mode = "invalid_token"
            if mode == "429" and key not in state._limited or mode == "429_always":
                state._limited.add(key)
                status, extra = 429, {"Retry-After": "1"}
                answer = {"ok": False, "error": "ratelimited"} if api else "rate_limited"
            elif mode == "500":
                status = 500
                answer = {"ok": False, "error": "fatal_error"} if api else "internal_error"
            elif mode == "invalid_token":
                answer = {"ok": False, "error": "invalid_auth"} if api else "invalid_token"
                status = 200 if api else 403
                body = {**body, "_refused": True}
            state.requests.append(Request(self.path, dict(self.headers.items()), body, status))
        self._answer(status, answer, extra)


@dataclass
class SlackServer:
    host: str
    port: int
    state: SlackState

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def webhook_url(self, path: str = "/services/T000/B000/team") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def environment(self) -> dict[str, str]:
        """The settings that point the console at this server (webhook and bot token)."""
        return {
            "ONBOARDING_SLACK_WEBHOOK_URL": self.webhook_url(),
            "ONBOARDING_SLACK_BOT_TOKEN": TOKEN,
            "ONBOARDING_SLACK_API_URL": self.api_url,
        }


@contextmanager
def slack_server() -> Iterator[SlackServer]:
    state = SlackState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SlackServer("127.0.0.1", int(server.server_address[1]), state)
    finally:
        server.shutdown()
        server.server_close()
