"""Hostile peers on 127.0.0.1: a WebSocket server announcing a 2^63-byte frame, one sending
fragments forever, one that stops answering pings, HTTP servers that stall mid-body. The
connector must refuse, keep its memory flat, count the failure and reconnect (rewinding its
cursor), never hang."""
from __future__ import annotations

import base64
import hashlib
import json
import random
import socket
import struct
import threading
import tracemalloc
from pathlib import Path

import pytest

from archiefstroom.connectors.runtime import Checkpoint, HttpClient, HttpError, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.connectors.streams import Jetstream, MastodonStream
from archiefstroom.ground.settings import from_dict

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
ORG = "did:plc:org"
MAX = 64 * 1024          # the connector's message limit in these tests
JUNK = b"x" * MAX        # what a hostile server keeps sending
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Peer:
    """A TCP server on a free port of 127.0.0.1 that runs `script(n, conn, head)` for its n-th
    connection, in a thread of its own, once the request head has arrived; `results[n]` is
    what the script returned."""

    def __init__(self, script):
        self.script, self.heads, self.results = script, [], {}
        self.done = threading.Condition()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(n, conn), daemon=True).start()
            n += 1

    def _run(self, n, conn):
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.heads.append(head.decode("latin-1"))
            try:
                result = self.script(n, conn, head.decode("latin-1"))
            except OSError:
                result = "client hung up"
            with self.done:
                self.results[n] = result
                self.done.notify_all()

    def result(self, n: int, ceiling_s: float = 30.0):
        """What the script of connection `n` returned, once it has: a client that hangs up
        ends the script in its own thread, after the client has gone on."""
        with self.done:
            self.done.wait_for(lambda: n in self.results, timeout=ceiling_s)
            return self.results.get(n)

    def close(self):
        self.sock.close()


@pytest.fixture
def peer():
    peers = []

    def make(script):
        peers.append(Peer(script))
        return peers[-1]
    yield make
    for p in peers:
        p.close()


# ------------------------------------------------------------------ WebSocket framing, server side

def accept_websocket(conn, head):
    key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("sec-websocket-key"))
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    size = bytes([n]) if n < 126 else bytes([126]) + struct.pack("!H", n) if n < 65536 \
        else bytes([127]) + struct.pack("!Q", n)
    return bytes([(0x80 if fin else 0) | opcode]) + size + payload


def recv_exact(conn, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def client_frames(conn):
    """(opcode, unmasked payload) of each frame the client sends, until its close frame."""
    while True:
        b1, b2 = recv_exact(conn, 2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", recv_exact(conn, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", recv_exact(conn, 8))[0]
        mask = recv_exact(conn, 4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(recv_exact(conn, n)))
        yield b1 & 0x0F, payload
        if b1 & 0x0F == 0x8:
            return


def close_code(conn) -> int:
    """The code of the client's close frame (pings before it are skipped)."""
    for opcode, payload in client_frames(conn):
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0]
    raise AssertionError("no close frame")


def post(n: int) -> bytes:
    """A Jetstream commit of the monitored account's n-th post."""
    return json.dumps({"did": ORG, "time_us": 1_700_000_000_000_000 + n, "kind": "commit",
                       "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post",
                                  "rkey": f"p{n}", "cid": "bafy",
                                  "record": {"$type": "app.bsky.feed.post", "text": f"Bericht {n}",
                                             "createdAt": "2024-01-01T00:00:00Z"}}}).encode()


def then_close(conn):
    conn.sendall(frame(0x8, struct.pack("!H", 1000)))


def stall(conn) -> str:
    """Send nothing more; return once the client has hung up."""
    return "client hung up" if conn.recv(1) == b"" else "client sent more"


class StopAfter(ListSink):
    """Sets the connector's stop event once it holds `n` events."""

    def __init__(self, n: int, stop: threading.Event):
        super().__init__()
        self.n, self.stop = n, stop

    def send(self, events):
        super().send(events)
        if len(self.events) >= self.n:
            self.stop.set()


def run_until_stopped(connector, seconds: float = 15) -> None:
    t = threading.Thread(target=connector.run, daemon=True)
    t.start()
    t.join(seconds)
    connector.stop.set()
    assert not t.is_alive(), "the connector hung"


def jetstream(port, tmp_path, **kw):
    s = from_dict({"platform": "bluesky", "mode": "stream", "stream_url": f"ws://127.0.0.1:{port}/subscribe",
                   "accounts": [{"id": ORG, "handle": "org.bsky.social"}], "stream_max_message_bytes": MAX,
                   "http": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}, **kw}, ConnectorSettings)
    stop = threading.Event()
    return Jetstream(s, StopAfter(2, stop), Checkpoint(tmp_path / "cp.json"), stop=stop)


def assert_refused_and_resumed(conn, server):
    """Both posts captured, the broken connection counted once, the reconnect rewound 5 s
    from the cursor the first connection left."""
    assert [e["native_id"] for e in conn.sink.events] == [f"at://{ORG}/app.bsky.feed.post/p0",
                                                          f"at://{ORG}/app.bsky.feed.post/p1"]
    assert conn.metrics.counters["errors"] == 1
    assert len(server.heads) == 2 and "cursor=" not in server.heads[0]
    assert "cursor=1699999995000000 " in server.heads[1]


def refused_as_too_big(server, tmp_path) -> None:
    """The client closed with 1009 (message too big), kept under 2 MiB doing so, and resumed."""
    conn = jetstream(server.port, tmp_path)
    peak = peak_memory_of(run_until_stopped, conn)
    assert server.result(0) == 1009
    assert peak < 2 * 2 ** 20, f"peak {peak} bytes"
    assert_refused_and_resumed(conn, server)


def peak_memory_of(fn, *args) -> int:
    """Peak bytes Python allocated while fn ran (tracemalloc: deterministic, no sampling)."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_websocket_frame_announcing_2_63_bytes_is_refused_without_reading_it(peer, tmp_path):
    def script(n, conn, head):
        accept_websocket(conn, head)
        conn.sendall(frame(0x1, post(n)))
        if n:
            return then_close(conn)
        conn.sendall(bytes([0x81, 127]) + struct.pack("!Q", 2 ** 63))
        for _ in range(64):                    # 4 MiB of "payload" a naive client would keep
            conn.sendall(JUNK)
        return close_code(conn)

    refused_as_too_big(peer(script), tmp_path)       # 1009 "message too big", said from the header


def test_websocket_fragments_without_end_are_refused_at_the_size_limit(peer, tmp_path):
    def script(n, conn, head):
        accept_websocket(conn, head)
        conn.sendall(frame(0x1, post(n)))
        if n:
            return then_close(conn)
        conn.sendall(frame(0x1, JUNK[:4096], fin=False))
        for _ in range(1024):                  # continuation frames, never FIN: 4 MiB
            conn.sendall(frame(0x0, JUNK[:4096], fin=False))
        return close_code(conn)

    refused_as_too_big(peer(script), tmp_path)


def test_websocket_peer_that_stops_answering_pings_is_left(peer, tmp_path):
    def script(n, conn, head):
        accept_websocket(conn, head)
        conn.sendall(frame(0x1, post(n)))
        if n:
            return then_close(conn)
        frames = list(client_frames(conn))     # read everything, answer nothing
        return [op for op, _ in frames], struct.unpack("!H", frames[-1][1][:2])[0]

    server = peer(script)
    conn = jetstream(server.port, tmp_path, stream_ping_seconds=1)   # the read timeout stays 30 s
    run_until_stopped(conn)
    opcodes, code = server.result(0)
    assert 0x9 in opcodes and code == 1011     # pinged, then gave up on the silent peer
    assert_refused_and_resumed(conn, server)


# ------------------------------------------------------------------ HTTP

def stall_mid_body(stalls, answer: bytes = b""):
    """A script that, on the connections `stalls(n)` picks, sends headers and the start of a body
    and stalls; on the others it sends `answer`."""
    def script(n, conn, head):
        if not stalls(n):
            return conn.sendall(answer)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                     b'{"data": [')
        return stall(conn)
    return script


def http_answer(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def quick_http(**kw):
    return HttpClient(sleep=lambda s: None, rng=random.Random(1), backoff_base=0.01, backoff_max=0.02, **kw)


def test_http_body_that_stalls_hits_the_read_timeout_and_is_retried(peer):
    server = peer(stall_mid_body(lambda n: n == 0, http_answer(b'{"data": []}')))
    http = quick_http(timeout=0.5)
    resp = http.get(f"http://127.0.0.1:{server.port}/api/v1/accounts/1/statuses", {"limit": 1})
    assert resp.json() == {"data": []} and len(server.heads) == 2
    assert http.metrics.counters["http_retries"] == 1 and http.metrics.counters["http_requests"] == 2
    assert http.metrics.counters["errors"] == 0 and server.result(0) == "client hung up"


def test_http_that_always_stalls_gives_up_and_counts_an_error(peer):
    server = peer(stall_mid_body(lambda n: True))
    http = quick_http(timeout=0.3, max_retries=1)
    with pytest.raises(HttpError, match=r"gave up after 2 attempts \(ReadTimeout\)"):
        http.get(f"http://127.0.0.1:{server.port}/2/users/42/tweets")
    assert http.metrics.counters["http_retries"] == 1 and http.metrics.counters["errors"] == 1


def test_sse_stream_that_stalls_is_reconnected(peer, tmp_path):
    update = (FIX / "mastodon/sse-update-reply.json").read_text()
    edit = (FIX / "mastodon/sse-status-update-edit.json").read_text()

    def script(n, conn, head):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        if n == 0:
            conn.sendall(f"event: update\ndata: {update}\n\n:thump\n\n".encode())
            return stall(conn)
        conn.sendall(f"event: status.update\ndata: {edit}\n\n".encode())

    server = peer(script)
    s = from_dict({"platform": "mastodon", "mode": "stream", "base_url": f"http://127.0.0.1:{server.port}",
                   "http": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}}, ConnectorSettings)
    stop = threading.Event()
    conn = MastodonStream(s, StopAfter(2, stop), Checkpoint(tmp_path / "cp.json"), http=quick_http(timeout=0.5),
                          stop=stop)
    run_until_stopped(conn)
    assert [e["event_type"] for e in conn.sink.events] == ["reply", "edit"]
    assert conn.metrics.counters["errors"] == 1 and len(server.heads) == 2 and server.result(0) == "client hung up"
