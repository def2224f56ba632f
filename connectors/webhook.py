"""Meta Graph API webhook receiver (Facebook Page `feed`, Instagram `comments`): an ASGI
application on Starlette, served by uvicorn from a thread.

GET  answers the subscription handshake: hub.mode=subscribe and the right
     hub.verify_token echo hub.challenge; anything else is 403.
POST accepts a delivery only with a valid `X-Hub-Signature-256: sha256=<HMAC-SHA256
     of the exact body with the app secret>`; unsigned or wrongly signed is 401/403.
     The signature is checked on the raw bytes before anything parses them. The events
     are acknowledged to Meta (200) only after the sink has them; a sink failure is 503,
     so Meta retries. A signed delivery that cannot be read is 400 (Meta must not retry it).

Hostile clients are bounded: a Content-Length above `webhook.max_body_bytes` is 413 before
anything is read, and a body streamed (chunked) past that limit is 413 as soon as it passes
it; a body not complete within `webhook.body_timeout_seconds` is 408; headers not complete
within `webhook.header_timeout_seconds` lose the connection; beyond
`webhook.max_connections` open connections uvicorn answers 503. A refused body closes its
connection. Reading is asynchronous, so clients that hang cost a socket, not a thread;
parsing and the sink run on a few worker threads.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import asyncio
import logging
import socket
import threading
import time
import urllib.parse

import anyio
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from archiefstroom.connectors import meta
from archiefstroom.connectors.base import UNREADABLE, Body, Context, NormaliseError, check_event
from archiefstroom.connectors.runtime import Metrics
from archiefstroom.connectors.settings import ConnectorSettings

log = logging.getLogger(__name__)

WORKERS = 8                      # deliveries parsed or stored at once; the others wait their turn
HEADER_BYTES = 16 * 1024         # request line and headers at most (Meta sends well under 2 KiB)
KEEP_ALIVE_SECONDS = 5           # an idle kept-alive connection is closed after this
OUTCOMES = {200: "stored", 400: "unreadable", 401: "rejected", 403: "rejected", 500: "misconfigured",
            503: "not_stored"}


def signature_ok(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers. uvicorn has none (its
    keep-alive timer restarts on every byte received), so without it a client sending its
    headers a byte at a time would hold its connection for ever."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        self._arm()                 # the next request on this connection gets its own deadline
        super().on_response_complete()

    def handle_events(self) -> None:
        waiting = self.cycle
        super().handle_events()
        if self.cycle is not waiting:   # a request's headers are in: the body has its own timeout
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class MetaWebhook:
    def __init__(self, settings: ConnectorSettings, sink, metrics: Metrics | None = None):
        self.settings, self.sink = settings, sink
        self.metrics = metrics or Metrics(settings.connector_name)
        self.accounts = {a.id: a.as_dict() for a in settings.accounts}
        self._lock = threading.Lock()
        self._workers = anyio.CapacityLimiter(WORKERS)
        path = settings.webhook.path
        self.app = Starlette(routes=[Route(path, self._get, methods=["GET"]),
                                     Route(path, self._post, methods=["POST"])])
        self.address: tuple[str, int] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def verify(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        token = self.settings.webhook.verify_token.value()
        mode = (query.get("hub.mode") or [""])[0]
        given = (query.get("hub.verify_token") or [""])[0]
        challenge = (query.get("hub.challenge") or [""])[0]
        if mode == "subscribe" and token and hmac.compare_digest(given, token):
            return 200, challenge.encode("utf-8")
        self.metrics.inc("webhook_rejected", reason="verification")
        return 403, b"verification failed"

    def deliver(self, body: bytes, signature: str | None) -> tuple[int, bytes]:
        """Check the signature on the raw body, then parse, normalise and send; a sink failure
        raises (the caller answers 503)."""
        secret = self.settings.webhook.app_secret.value()
        if not secret:
            self.metrics.inc("errors")
            return 500, b"app secret not configured"
        if not signature:
            self.metrics.inc("webhook_rejected", reason="missing_signature")
            return 401, b"missing X-Hub-Signature-256"
        if not signature_ok(body, signature, secret):
            self.metrics.inc("webhook_rejected", reason="bad_signature")
            return 403, b"bad signature"
        try:
            text = body.decode("utf-8")
            doc = json.loads(text)
            platform = "instagram" if isinstance(doc, dict) and doc.get("object") == "instagram" else "facebook"
            events = meta.normalise(Body(text, doc), Context(platform=platform,
                                                             connector_name=f"archiefstroom-{platform}"))
            for ev in events:
                known = self.accounts.get(ev["account"]["id"])
                if known:
                    ev["account"] = dict(known)
                check_event(ev)
        except UNREADABLE as exc:   # RecursionError: nesting deeper than the parser goes; retrying cannot help
            self.metrics.inc("errors")
            log.warning("webhook delivery not readable (%s): dead-lettered", type(exc).__name__)
            # signed, so Meta's: kept on the dead-letter topic (a failure there raises: 503, Meta
            # retries), then 400, because sending it again cannot make it readable
            reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, NormaliseError) else type(exc).__name__
            with self._lock:
                self.sink.dead_letter(body, f"webhook delivery not readable: {reason}",
                                      f"connector:{self.settings.connector_name}", self.settings.platform)
            self.metrics.inc("dead_letters")
            return 400, b"unreadable delivery"
        with self._lock:
            self.sink.send(events)
        self.metrics.observe_events(events)
        return 200, b"EVENT_RECEIVED"

    async def _get(self, request: Request) -> PlainTextResponse:
        status, text = self.verify(urllib.parse.parse_qs(request.scope["query_string"].decode("latin-1")))
        return PlainTextResponse(text, status)

    async def _post(self, request: Request) -> PlainTextResponse:
        started = time.monotonic()
        with self.metrics.in_progress("webhook_requests_in_progress"):
            status, text, outcome = await self._receive(request)
        self.metrics.observe("webhook_request_seconds", time.monotonic() - started, outcome=outcome)
        # a body refused half-read leaves bytes on the wire: the connection cannot be reused
        return PlainTextResponse(text, status, headers={"connection": "close"} if status in (408, 413) else None)

    async def _receive(self, request: Request) -> tuple[int, bytes, str]:
        hook = self.settings.webhook
        declared = request.headers.get("content-length")   # h11 has checked it is a number
        if declared is not None and int(declared) > hook.max_body_bytes:
            return self._refused("too_large", 413, b"too large")
        body = bytearray()
        try:
            with anyio.fail_after(hook.body_timeout_seconds):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > hook.max_body_bytes:
                        return self._refused("too_large", 413, b"too large")
        except TimeoutError:
            return self._refused("timeout", 408, b"body too slow")
        except ClientDisconnect:
            return self._refused("disconnected", 400, b"incomplete body")
        try:
            status, text = await anyio.to_thread.run_sync(
                self.deliver, bytes(body), request.headers.get("x-hub-signature-256"), limiter=self._workers)
        except Exception as exc:  # sink failure: Meta must retry, so not 200
            self.metrics.inc("errors")
            log.error("webhook delivery not stored (%s)", type(exc).__name__)
            status, text = 503, b"not stored, retry"
        return status, text, OUTCOMES[status]

    def _refused(self, reason: str, status: int, text: bytes) -> tuple[int, bytes, str]:
        self.metrics.inc("webhook_rejected", reason=reason)
        return status, text, reason

    def serve(self) -> tuple[str, int]:
        """Bind webhook.host:port and serve from a daemon thread; returns the bound address.
        Connections are accepted into the socket's backlog from this moment on."""
        hook = self.settings.webhook
        family = socket.AF_INET6 if ":" in hook.host else socket.AF_INET
        sock = socket.create_server((hook.host, hook.port), family=family, backlog=2048)

        class Protocol(HeaderDeadlineH11):
            header_timeout = hook.header_timeout_seconds

        config = uvicorn.Config(
            self.app, http=Protocol, lifespan="off", log_config=None, log_level="warning",
            access_log=False,           # request lines carry the verify token
            server_header=False, proxy_headers=False, backlog=2048,
            limit_concurrency=hook.max_connections, timeout_keep_alive=KEEP_ALIVE_SECONDS,
            h11_max_incomplete_event_size=HEADER_BYTES)
        config.load()                   # configuration errors raise here, not in the thread
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name="meta-webhook")
        self._thread.start()
        self.address = sock.getsockname()[:2]
        return self.address

    def close(self) -> None:
        """Stop accepting; requests in progress are answered first (each is bounded by the
        timeouts and the sink's own)."""
        if self._server:
            self._server.should_exit = True
            self._thread.join()
            self._server = self._thread = None
