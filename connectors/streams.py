"""Streaming connectors: Mastodon streaming (SSE) and X filtered stream (JSON lines) on the
connector's httpx client, Bluesky Jetstream (WebSocket) on websockets' sync client.

Streams drop; on every (re)connect the catch-up poller runs first (Mastodon, X),
so what passed while disconnected is fetched by cursor; Jetstream resumes from
its own cursor (time_us, rewound a few seconds). Repeats keep their event ids.
A stream that stays silent past the read timeout (`http.timeout_seconds`) counts as
stalled and is reconnected.
"""
from __future__ import annotations

import collections
import json
import logging
import time
import urllib.parse

import httpx
from websockets.exceptions import ConnectionClosedOK, WebSocketException
from websockets.protocol import State
from websockets.sync.client import connect

from archiefstroom.connectors import bluesky, mastodon, x
from archiefstroom.connectors.base import UNREADABLE, Body, NormaliseError, check_event, sse_frames
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
            except (HttpError, httpx.HTTPError, WebSocketException, OSError, NormaliseError, ValueError) as exc:
                self.metrics.inc("errors")
                log.warning("%s: stream interrupted (%s)", self.settings.connector_name, type(exc).__name__)
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            if self.stop.wait(self.http.backoff(failures)):
                return

    def handle(self, body: Body) -> list[dict]:
        ctx = self.ctx(self.settings.accounts[0] if len(self.settings.accounts) == 1 else None)
        try:
            events = self.keep([check_event(e) for e in self.normalise_frame(body, ctx)])
        except UNREADABLE as exc:
            self.dead_letter(body.text, exc)
            return []
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
        with self.http.stream(url, headers={"Accept": "text/event-stream"}) as resp:
            for event, data in sse_frames(resp.iter_lines()):
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
        with self.http.stream(f"{self.settings.stream}?{query}") as resp:
            for line in resp.iter_lines():
                if self.stop.is_set():
                    return
                line = line.strip()
                if not line:
                    continue
                try:
                    body = Body.parse(line)
                except NormaliseError as exc:
                    self.dead_letter(line, exc)
                    continue
                self.handle(body)

    def normalise_frame(self, body, ctx):
        return x.normalise(body, ctx)


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
        """One connection: permessage-deflate when the server accepts it, keep-alive pings, and
        any message over `stream_max_message_bytes` refused from its frame header on (its length
        is read, never its payload); a refusal ends the connection and `run` reconnects."""
        s = self.settings
        batch, last = [], None
        with connect(self.url(), compression="deflate", max_size=s.stream_max_message_bytes,
                     ping_interval=s.stream_ping_seconds, ping_timeout=s.stream_ping_seconds,
                     open_timeout=s.http.connect_timeout_seconds, close_timeout=CLOSE_TIMEOUT,
                     user_agent_header="archiefstroom-connector/1.0") as ws:
            try:
                for msg in _messages(ws, s.http.timeout_seconds):
                    if self.stop.is_set():
                        break
                    text = msg if isinstance(msg, str) else msg.decode("utf-8", "replace")
                    try:
                        body = Body.parse(text)
                        last = body.doc.get("time_us") or last
                        if self.concerns(body):
                            batch += [check_event(e) for e in self.keep(bluesky.normalise(body, self.ctx()))]
                    except UNREADABLE as exc:
                        self.dead_letter(text, exc)
                    if len(batch) >= self.BATCH:
                        self._flush(batch, last)
                        batch = []
            finally:
                self._flush(batch, last)

    def _flush(self, batch: list[dict], cursor) -> None:
        self.emit(batch)
        if cursor:
            self.cp.set("cursor", cursor)
            self.commit()

    def concerns(self, body: Body) -> bool:
        """Whether a message may touch the accounts: it names one of their DIDs (every URI `keep`
        looks at is in the text), or it deletes a record captured earlier. Only those are
        normalised: the rest of the network's messages cost a JSON parse, so the connector keeps
        up with the firehose (bench/jetstream.py)."""
        if any(did in body.text for did in self.dids):
            return True
        commit = body.doc.get("commit") or {}
        return commit.get("operation") == "delete" and \
            f"at://{body.doc.get('did')}/{commit.get('collection')}/{commit.get('rkey')}" in self.known

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


CLOSE_TIMEOUT = 1.0   # a closing handshake the server leaves unanswered this long is cut
TICK = 0.25           # how often a silent WebSocket is looked at


def _messages(ws, read_timeout: float):
    """The connection's messages until the server closes it normally. A connection failed on our
    side (a message too big, an unanswered ping) ends within a TICK: websockets' sync client would
    go on reading and discarding until the server closes TCP, which a hostile server never does.
    Nothing for `read_timeout` seconds is a stall."""
    deadline = time.monotonic() + read_timeout
    while True:
        try:
            yield ws.recv(timeout=TICK)
        except TimeoutError:
            if ws.state is not State.OPEN:
                raise ConnectionError("WebSocket failed on our side") from None
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no WebSocket message in {read_timeout:g} s") from None
            continue
        except ConnectionClosedOK:
            return
        deadline = time.monotonic() + read_timeout


def _strip(object_id):
    return object_id.split(":", 1)[1] if object_id else None


STREAMS = {"mastodon": MastodonStream, "x": XFilteredStream, "bluesky": Jetstream}
