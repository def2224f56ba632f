"""The S3 client factory against a store that accepts a request and never answers (a restarting
SeaweedFS without a volume yet, an overloaded gateway): the request is given up after
s3.read_timeout_seconds, tried s3.max_attempts times on fresh connections, and ends in an error
the writer treats as an outage (archive/writer.OUTAGE: waited out, nothing committed)."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from botocore.exceptions import ReadTimeoutError

from archiefstroom.archive.writer import OUTAGE
from archiefstroom.ground import s3 as s3io
from archiefstroom.ground.config import S3Settings


@pytest.fixture
def black_hole():
    """A TCP server on 127.0.0.1 that reads whatever comes and never writes a byte back."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted, held, stop = [0], [], threading.Event()

    def serve():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            accepted[0] += 1
            held.append(conn)       # kept open, never answered

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    th.join()
    for c in held:
        c.close()
    srv.close()


def test_an_unanswered_request_is_given_up_and_retried_then_counts_as_an_outage(black_hole):
    port, accepted = black_hole
    s = S3Settings(endpoint_url=f"http://127.0.0.1:{port}", read_timeout_seconds=0.5, max_attempts=3)
    t = time.monotonic()
    with pytest.raises(ReadTimeoutError) as err:
        s3io.client(s).put_object(Bucket="archiefstroom-archive", Key="k", Body=b"record")
    took = time.monotonic() - t
    assert isinstance(err.value, OUTAGE)
    assert accepted[0] >= 3                 # a fresh connection per attempt: a stalled one is not reused
    assert 3 * 0.5 <= took < 30             # three read timeouts and boto3's backoff between them, not 8 x 60 s


def test_the_defaults_give_a_stalled_request_up_within_two_minutes():
    s = S3Settings()
    assert s.read_timeout_seconds * s.max_attempts <= 120
