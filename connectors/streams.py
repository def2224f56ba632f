"""Streaming connectors: Mastodon streaming (SSE), X filtered stream (JSON lines) and
Bluesky Jetstream (WebSocket, stdlib client).

Streams drop; on every (re)connect the catch-up poller runs first (Mastodon, X),
so what passed while disconnected is fetched by cursor; Jetstream resumes from
its own cursor (time_us, rewound a few seconds). Repeats keep their event ids.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import json
import logging
import os
import socket
import ssl
import struct
import time
import urllib.parse

from archiefstroom.connectors import bluesky, mastodon, x
from archiefstroom.connectors.base import Body, NormaliseError, check_event, sse_frames
from archiefstroom.connectors.pollers import Connector, MastodonPoller, XPoller, X_FIELDS
from archiefstroom.connectors.runtime import HttpError

log = logging.getLogger(__name__)


class StreamConnector(Connector):
    catch_up_class = None

    def catch_up(self) -> None:
        if self.catch_up_class and self.settings.accounts:
            self.catch_up_class(self.settings, self.sink, self.cp, http=self.http, metrics=self.metrics,
                                stop=self.stop).poll_once()

    def consume(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.catch_up()
                self.consume()
            except InterruptedError:
                return
            except (HttpError, OSError, NormaliseError, ValueError, ConnectionError) as exc:
                self.metrics.inc("errors")
                log.warning("%s: stream interrupted (%s)", self.settings.connector_name, type(exc).__name__)
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            if self.stop.wait(self.http.backoff(failures)):
                return

    def handle(self, body: Body) -> list[dict]:
        ctx = self.ctx(self.settings.accounts[0] if len(self.settings.accounts) == 1 else None)
        events = self.keep([check_event(e) for e in self.normalise_frame(body, ctx)])
        self.emit(events)
        return events

    def normalise_frame(self, body, ctx):
        return self.normalise(body.text, ctx)

    def keep(self, events: list[dict]) -> list[dict]:
        return events



class MastodonStream(StreamConnector):
    """GET /api/v1/streaming/user (the organisation's token): updates, edits, deletes, notifications."""
    platform = "mastodon"
    catch_up_class = MastodonPoller

    def consume(self) -> None:
        url = self.settings.stream or f"{self.settings.api}/api/v1/streaming/user"
        resp = self.http.open_stream(url, headers={"Accept": "text/event-stream"})
        with resp:
            for event, data in sse_frames(resp):
                if self.stop.is_set():
                    return
                if event not in ("update", "status.update", "delete", "notification", "conversation"):
                    continue
                try:
                    doc = json.loads(data)
                except json.JSONDecodeError:
                    doc = data
                self.handle(Body(data, doc, event))

    def normalise_frame(self, body, ctx):
        return mastodon.normalise(body, ctx)


class XFilteredStream(StreamConnector):
    """GET /2/tweets/search/stream: one JSON object per line, blank keep-alive lines."""
    platform = "x"
    catch_up_class = XPoller

    def consume(self) -> None:
        query = urllib.parse.urlencode(X_FIELDS)
        resp = self.http.open_stream(f"{self.settings.stream}?{query}")
        with resp:
            for raw in resp:
                if self.stop.is_set():
                    return
                line = raw.decode("utf-8").strip()
                if line:
                    self.handle(Body.parse(line))

    def normalise_frame(self, body, ctx):
        return x.normalise(body, ctx)


# ------------------------------------------------------------------ WebSocket (RFC 6455), client side

class WebSocket:
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str, timeout: float = 30, headers: dict | None = None):
        u = urllib.parse.urlsplit(url)
        port = u.port or (443 if u.scheme == "wss" else 80)
        sock = socket.create_connection((u.hostname, port), timeout=timeout)
        if u.scheme == "wss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"{extra}\r\n").encode())
        self.sock, self._buf = sock, b""
        head = self._until(b"\r\n\r\n").decode("latin-1")
        status = head.split("\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if " 101 " not in status + " " or accept not in head:
            sock.close()
            raise ConnectionError(f"WebSocket handshake refused ({status[:40]})")

    def _until(self, marker: bytes) -> bytes:
        while marker not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self._buf += chunk
        head, _, self._buf = self._buf.partition(marker)
        return head

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def send(self, opcode: int, payload: bytes = b"") -> None:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def messages(self):
        """Text/binary messages until the server closes; answers pings."""
        parts, kind = [], None
        while True:
            b1, b2 = self._read(2)
            fin, opcode = b1 & 0x80, b1 & 0x0F
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b2 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                return
            if opcode == 0x9:
                self.send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode in (0x1, 0x2):
                parts, kind = [payload], opcode
            else:
                parts.append(payload)
            if fin:
                data = b"".join(parts)
                yield data.decode("utf-8") if kind == 0x1 else data
                parts = []

    def close(self) -> None:
        try:
            self.send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


class Jetstream(StreamConnector):
    """Jetstream commits (posts, likes, reposts, deletes) that touch the monitored accounts:
    their own records, replies in their threads, quotes, likes and reposts of their posts,
    and deletes of anything captured. Cursor = time_us, saved after each batch."""
    platform = "bluesky"
    COLLECTIONS = ("app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost")
    BATCH = 200

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.dids = {a.id for a in self.settings.accounts}
        self.known = collections.OrderedDict()   # uris captured recently, to recognise their deletes

    def url(self) -> str:
        params = [("wantedCollections", c) for c in self.COLLECTIONS]
        cursor = self.cp.get("cursor")
        if cursor:
            params.append(("cursor", str(int(cursor - self.settings.stream_rewind_seconds * 1_000_000))))
        return f"{self.settings.stream}?{urllib.parse.urlencode(params)}"

    def consume(self) -> None:
        ws = WebSocket(self.url(), timeout=self.settings.http.timeout_seconds)
        batch, last = [], None
        try:
            for msg in ws.messages():
                if self.stop.is_set():
                    break
                body = Body.parse(msg if isinstance(msg, str) else msg.decode("utf-8"))
                last = body.doc.get("time_us") or last
                batch += self.keep(bluesky.normalise(body, self.ctx()))
                if len(batch) >= self.BATCH:
                    self._flush(batch, last)
                    batch = []
        finally:
            self._flush(batch, last)
            ws.close()

    def _flush(self, batch: list[dict], cursor) -> None:
        for ev in batch:
            check_event(ev)
        self.emit(batch)
        if cursor:
            self.cp.set("cursor", cursor)
            self.commit()

    def keep(self, events: list[dict]) -> list[dict]:
        out = []
        for ev in events:
            uri = ev["native_id"]
            touched = {bluesky._did(u) for u in (uri, _strip(ev["object_id"]), _strip(ev.get("in_reply_to")),
                                                 _strip(ev.get("thread_root")),
                                                 _strip((ev.get("referenced") or {}).get("object_id")))}
            owner = next(iter(sorted(touched & self.dids)), None)
            if ev["event_type"] == "delete":
                owner = self.known.get(uri) or owner
            if not owner:
                continue
            acct = next(a for a in self.settings.accounts if a.id == owner)
            ev["account"] = acct.as_dict()
            out.append(ev)
            self.known[uri] = owner
            if len(self.known) > 100_000:
                self.known.popitem(last=False)
        return out


def _strip(object_id):
    return object_id.split(":", 1)[1] if object_id else None


STREAMS = {"mastodon": MastodonStream, "x": XFilteredStream, "bluesky": Jetstream}
