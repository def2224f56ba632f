"""Meta Graph API webhook receiver (Facebook Page `feed`, Instagram `comments`).

GET  answers the subscription handshake: hub.mode=subscribe and the right
     hub.verify_token echo hub.challenge; anything else is 403.
POST accepts a delivery only with a valid `X-Hub-Signature-256: sha256=<HMAC-SHA256
     of the exact body with the app secret>`; unsigned or wrongly signed is 401/403.
     The events are acknowledged to Meta (200) only after the sink has them;
     otherwise Meta retries the delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archiefstroom.connectors import meta
from archiefstroom.connectors.base import Body, Context, NormaliseError, check_event
from archiefstroom.connectors.runtime import Metrics
from archiefstroom.connectors.settings import ConnectorSettings

log = logging.getLogger(__name__)


def signature_ok(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


class MetaWebhook:
    def __init__(self, settings: ConnectorSettings, sink, metrics: Metrics | None = None):
        self.settings, self.sink = settings, sink
        self.metrics = metrics or Metrics(settings.connector_name)
        self.accounts = {a.id: a.as_dict() for a in settings.accounts}
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def verify(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        token = self.settings.webhook.verify_token.value()
        mode = (query.get("hub.mode") or [""])[0]
        given = (query.get("hub.verify_token") or [""])[0]
        challenge = (query.get("hub.challenge") or [""])[0]
        if mode == "subscribe" and token and hmac.compare_digest(given, token):
            return 200, challenge.encode("utf-8")
        self.metrics.inc("webhook_rejected")
        return 403, b"verification failed"

    def deliver(self, body: bytes, signature: str | None) -> tuple[int, bytes]:
        secret = self.settings.webhook.app_secret.value()
        if not secret:
            self.metrics.inc("errors")
            return 500, b"app secret not configured"
        if not signature:
            self.metrics.inc("webhook_rejected")
            return 401, b"missing X-Hub-Signature-256"
        if not signature_ok(body, signature, secret):
            self.metrics.inc("webhook_rejected")
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
        except (UnicodeDecodeError, ValueError, NormaliseError, KeyError, TypeError, AttributeError, IndexError) as exc:
            self.metrics.inc("errors")
            log.warning("webhook delivery not readable (%s)", type(exc).__name__)
            return 400, b"unreadable delivery"
        with self._lock:
            self.sink.send(events)
        self.metrics.observe_events(events)
        return 200, b"EVENT_RECEIVED"

    def serve(self) -> ThreadingHTTPServer:
        """Start the HTTP server in a thread; `.server_address` gives the bound port."""
        hook = self
        path = self.settings.webhook.path
        limit = self.settings.webhook.max_body_bytes

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path != path:
                    return self._answer(404, b"not found")
                self._answer(*hook.verify(urllib.parse.parse_qs(url.query)))

            def do_POST(self):
                if urllib.parse.urlsplit(self.path).path != path:
                    return self._answer(404, b"not found")
                length = int(self.headers.get("Content-Length") or 0)
                if length > limit:
                    return self._answer(413, b"too large")
                body = self.rfile.read(length)
                try:
                    self._answer(*hook.deliver(body, self.headers.get("X-Hub-Signature-256")))
                except Exception as exc:  # sink failure: Meta must retry, so not 200
                    hook.metrics.inc("errors")
                    log.error("webhook delivery not stored (%s)", type(exc).__name__)
                    self._answer(503, b"not stored, retry")

            def log_message(self, *args):
                pass   # request lines may carry tokens: keep them out of logs

        self.server = ThreadingHTTPServer((self.settings.webhook.host, self.settings.webhook.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="meta-webhook").start()
        return self.server

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
