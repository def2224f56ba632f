"""The Meta webhook receiver against hostile clients, over raw sockets on 127.0.0.1: slow
headers and bodies, a thousand of them at once, bodies past the size limit, a deeply nested
signed body, bad signatures, too many connections, a failing sink."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import resource
import selectors
import socket
import threading
import time

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from archiefstroom.connectors.runtime import ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.connectors.webhook import MetaWebhook
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.ground.settings import from_dict

SECRET = "hostile-test-secret"
EMPTY_DELIVERY = b'{"object":"page","entry":[]}'
_names = itertools.count()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FailingSink:
    def send(self, events):
        raise ConnectionError("broker down")


@pytest.fixture
def make_receiver(monkeypatch):
    """A receiver on a free port with its own connector name (the registry is per process)."""
    monkeypatch.setenv("HOSTILE_META_SECRET", SECRET)
    started = []

    def make(sink=None, **webhook):
        settings = from_dict({"platform": "facebook", "mode": "webhook", "name": f"hostile-{next(_names)}",
                              "webhook": {"port": 0, "app_secret": {"env": "HOSTILE_META_SECRET"}, **webhook}},
                             ConnectorSettings)
        receiver = MetaWebhook(settings, sink if sink is not None else ListSink())
        receiver.serve()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.close()


def in_progress(receiver) -> float:
    return ground_metrics.REGISTRY.get_sample_value("archiefstroom_connector_webhook_requests_in_progress",
                                                    {"connector": receiver.settings.connector_name}) or 0.0


def rejected(receiver, reason: str) -> float:
    return ground_metrics.REGISTRY.get_sample_value("archiefstroom_connector_webhook_rejected_total",
                                                    {"connector": receiver.settings.connector_name,
                                                     "reason": reason}) or 0.0


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)


def headers(length: int | None = None, signature: str | None = None, chunked: bool = False) -> bytes:
    lines = ["POST /webhook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if signature:
        lines.append(f"X-Hub-Signature-256: {signature}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(receiver) -> socket.socket:
    return socket.create_connection(receiver.address, timeout=30)


def read_all(sock: socket.socket) -> bytes:
    """Everything the receiver sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def statuses(data: bytes) -> list[int]:
    return [int(line.split()[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def post(receiver, body: bytes, signature: str | None) -> tuple[int, float]:
    """A genuine client's delivery: (status, seconds until the answer)."""
    conn = http.client.HTTPConnection(*receiver.address, timeout=30)
    started = time.perf_counter()
    conn.request("POST", "/webhook", body, {"Content-Type": "application/json",
                                             **({"X-Hub-Signature-256": signature} if signature else {})})
    status = conn.getresponse().status
    elapsed = time.perf_counter() - started
    conn.close()
    return status, elapsed


def dribble(sock: socket.socket, piece: bytes, every: float, stop: threading.Event) -> threading.Thread:
    """Send `piece` every `every` seconds until told to stop or the receiver hangs up."""
    def run():
        while not stop.wait(every):
            try:
                sock.sendall(piece)
            except OSError:
                return
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------ slow clients

def test_dribbled_body_is_cut_off_at_the_body_timeout(make_receiver):
    receiver = make_receiver(body_timeout_seconds=1.0)
    sock, stop = connect(receiver), threading.Event()
    started = time.monotonic()
    sock.sendall(headers(length=1000, signature=sign(b"x" * 1000)) + b"x")
    dribbler = dribble(sock, b"x", 0.05, stop)         # never idle, never done
    answer = read_all(sock)
    elapsed = time.monotonic() - started
    stop.set()
    dribbler.join()
    sock.close()
    assert statuses(answer) == [408] and b"connection: close" in answer.lower()
    assert 1.0 <= elapsed < 3.0
    assert receiver.sink.events == [] and rejected(receiver, "timeout") == 1


def test_dribbled_headers_lose_the_connection(make_receiver):
    receiver = make_receiver(header_timeout_seconds=0.5)
    sock, stop = connect(receiver), threading.Event()
    started = time.monotonic()
    sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    dribbler = dribble(sock, b"X-Slow: a\r\n", 0.05, stop)
    answer = read_all(sock)
    elapsed = time.monotonic() - started
    stop.set()
    dribbler.join()
    sock.close()
    assert answer == b"" and 0.5 <= elapsed < 2.5
    # the deadline is per request: a kept-alive connection gets a new one after each answer
    conn = http.client.HTTPConnection(*receiver.address, timeout=5)
    for _ in range(2):
        conn.request("POST", "/webhook", EMPTY_DELIVERY, {"X-Hub-Signature-256": sign(EMPTY_DELIVERY)})
        assert conn.getresponse().read() == b"EVENT_RECEIVED"
    conn.close()


def test_a_thousand_slow_clients_time_out_while_genuine_deliveries_are_served(make_receiver):
    slow = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * slow + 256                   # both ends of every connection live in this process
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    receiver = make_receiver(body_timeout_seconds=6.0)
    clients = []
    try:
        started = time.monotonic()
        for _ in range(slow):
            sock = connect(receiver)
            sock.sendall(headers(length=1000, signature=sign(b"{" * 1000)) + b"{")
            clients.append(sock)
        wait_until(lambda: in_progress(receiver) >= slow, 5.0, f"{slow} slow bodies being read")

        latencies = []
        for _ in range(10):
            status, seconds = post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY))
            assert status == 200
            latencies.append(seconds)
        still_hanging = in_progress(receiver)
        hung_for = time.monotonic() - started
        print(f"\ngenuine delivery under {slow} slow clients: max {max(latencies) * 1000:.1f} ms, "
              f"median {sorted(latencies)[len(latencies) // 2] * 1000:.1f} ms")
        assert still_hanging >= slow and hung_for < 6.0, "the slow clients timed out before the measurement"
        assert max(latencies) < 1.0, latencies

        answers = {sock: b"" for sock in clients}
        open_ = set(clients)
        with selectors.DefaultSelector() as sel:
            for sock in clients:
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
            deadline = time.monotonic() + 6.0 + 10.0
            while open_ and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=1.0):
                    chunk = key.fileobj.recv(65536)
                    answers[key.fileobj] += chunk
                    if not chunk:
                        sel.unregister(key.fileobj)
                        open_.discard(key.fileobj)
        assert not open_, f"{len(open_)} slow clients still connected"
        assert {tuple(statuses(a)) for a in answers.values()} == {(408,)}
        assert rejected(receiver, "timeout") == slow
        assert post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY))[0] == 200   # and it goes on
    finally:
        for sock in clients:
            sock.close()


def test_connections_beyond_the_bound_are_answered_503(make_receiver):
    receiver = make_receiver(max_connections=4, body_timeout_seconds=1.0)
    clients = [connect(receiver) for _ in range(3)]
    for sock in clients:
        sock.sendall(headers(length=100) + b"{")
    wait_until(lambda: in_progress(receiver) == 3, 5.0, "3 slow bodies being read")
    assert post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY))[0] == 503    # the 4th connection
    assert [statuses(read_all(sock)) for sock in clients] == [[408]] * 3
    for sock in clients:
        sock.close()
    assert post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY))[0] == 200


# ------------------------------------------------------------------ size

def test_declared_length_above_the_limit_is_413_before_any_body(make_receiver):
    receiver = make_receiver(max_body_bytes=1024)
    sock = connect(receiver)
    sock.sendall(headers(length=1025, signature=sign(b"")))     # and not one byte of body
    answer = read_all(sock)
    sock.close()
    assert statuses(answer) == [413] and rejected(receiver, "too_large") == 1


def test_chunked_body_past_the_limit_is_413_while_it_streams(make_receiver):
    receiver = make_receiver(max_body_bytes=1024)
    sock = connect(receiver)
    sock.sendall(headers(chunked=True, signature=sign(b"")))
    for _ in range(3):                                          # 1536 bytes, and no last chunk
        sock.sendall(b"200\r\n" + b"x" * 512 + b"\r\n")
    answer = read_all(sock)
    sock.close()
    assert statuses(answer) == [413] and b"connection: close" in answer.lower()
    assert receiver.sink.events == [] and rejected(receiver, "too_large") == 1


def test_chunked_body_within_the_limit_is_read_whole(make_receiver):
    receiver = make_receiver(max_body_bytes=1024)
    sock = connect(receiver)
    sock.sendall(headers(chunked=True, signature=sign(EMPTY_DELIVERY)))
    for piece in (EMPTY_DELIVERY[:10], EMPTY_DELIVERY[10:]):
        sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
    sock.sendall(b"0\r\n\r\n")
    answer = http.client.HTTPResponse(sock)
    answer.begin()
    assert (answer.status, answer.read()) == (200, b"EVENT_RECEIVED")
    sock.close()


def test_bytes_past_the_declared_length_are_not_body(make_receiver):
    """HTTP/1.1 frames a body by its Content-Length: what follows is the next request. Here it
    is 1 MB without a line end, refused once it passes the header bound (400, or a reset when
    the refusal meets bytes still in flight), so the receiver never holds more than that of it."""
    receiver = make_receiver(max_body_bytes=1024)
    sock = connect(receiver)
    sock.sendall(headers(length=len(EMPTY_DELIVERY), signature=sign(EMPTY_DELIVERY)) + EMPTY_DELIVERY + b"x")
    first = http.client.HTTPResponse(sock)
    first.begin()
    assert (first.status, first.read()) == (200, b"EVENT_RECEIVED")   # judged on the declared bytes
    excess = threading.Thread(target=lambda: _send_ignoring_hang_up(sock, b"x" * 1_000_000), daemon=True)
    excess.start()
    try:
        rest = read_all(sock)
    except ConnectionResetError:
        rest = b""
    excess.join()
    sock.close()
    assert statuses(rest) in ([400], [])
    assert receiver.sink.events == []          # the delivery had no events; the excess none either


def _send_ignoring_hang_up(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass   # the receiver hung up, as it should


# ------------------------------------------------------------------ content

@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000,
                                  b'{"object":"page","entry":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001])
def test_signed_ten_thousand_deep_json_is_400_not_a_retry(make_receiver, body):
    receiver = make_receiver()
    assert post(receiver, body, sign(body))[0] == 400
    assert receiver.sink.events == [] and receiver.metrics.counters["errors"] == 1


def test_signature_is_checked_before_parsing(make_receiver):
    receiver = make_receiver()
    deep = b"[" * 10_000 + b"]" * 10_000
    assert post(receiver, deep, None)[0] == 401
    assert post(receiver, deep, sign(deep, "other secret"))[0] == 403
    assert post(receiver, deep + b" ", sign(deep))[0] == 403
    assert receiver.metrics.counters["errors"] == 0       # nothing was parsed
    assert (rejected(receiver, "missing_signature"), rejected(receiver, "bad_signature")) == (1, 2)


def test_sink_failure_is_503_so_meta_retries(make_receiver):
    receiver = make_receiver(sink=FailingSink())
    body = b'{"object":"page","entry":[{"id":"1","time":1790856000,"changes":[{"field":"feed","value":' \
           b'{"item":"status","verb":"add","post_id":"1_2","message":"Hallo","created_time":1790856000,' \
           b'"from":{"id":"1","name":"Gemeente"}}}]}]}'
    assert post(receiver, body, sign(body))[0] == 503
    assert receiver.metrics.counters["errors"] == 1


def test_outcomes_are_timed_per_outcome(make_receiver):
    receiver = make_receiver()
    post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY))
    post(receiver, EMPTY_DELIVERY, sign(EMPTY_DELIVERY, "other secret"))
    text = generate_latest(ground_metrics.REGISTRY).decode()
    counts = {s.labels["outcome"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
              if s.name == "archiefstroom_connector_webhook_request_seconds_count"
              and s.labels["connector"] == receiver.settings.connector_name}
    assert counts == {"stored": 1.0, "rejected": 1.0}
