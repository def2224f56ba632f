"""ground.fetch against a real HTTP server on 127.0.0.1: what a URL from a payload can make the
pipeline fetch (the SSRF guard, redirects, size ceiling) and what each failure is called."""
from __future__ import annotations

import hashlib
import socket

import pytest

from archiefstroom.ground.fetch import Fetcher, FetchError
from tests.media_fake import FIXTURES, FakeCdn

GOPHER_SHA = "bb0f81f512c23c752cf0ffaa3094ab5e205bdcf0372854516cf68610680eea10"   # sha256sum, by hand


@pytest.fixture
def cdn():
    fake = FakeCdn()
    yield fake
    fake.close()


def _fetcher(cdn, **kw):
    return Fetcher(timeout_s=5, private_hosts=[cdn.host], **kw)


def test_a_file_is_fetched_with_its_hash_size_and_declared_type(cdn):
    url = cdn.image("/media/gopher.png", "gopher.png", "image/png")
    got = _fetcher(cdn).get(url, max_bytes=10**6)
    try:
        assert (got.sha256, got.size, got.declared_type) == (GOPHER_SHA, 23019, "image/png")
        assert got.body.read() == (FIXTURES / "gopher.png").read_bytes()
        assert got.final_url == url
    finally:
        got.close()


def test_a_loopback_host_is_refused_unless_it_is_listed_as_private(cdn):
    url = cdn.image("/a.png", "gopher.png", "image/png")
    with pytest.raises(FetchError) as exc:
        Fetcher(timeout_s=5).get(url, max_bytes=10**6)
    assert exc.value.reason == "host resolves to a non-public address" and not exc.value.retriable
    assert cdn.requests == []


def test_a_public_name_that_resolves_to_a_private_address_is_refused(cdn):
    def resolve(host, port, type=0):   # a DNS answer pointing a public-looking name inside
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]
    with pytest.raises(FetchError, match="non-public"):
        Fetcher(timeout_s=5, resolve=resolve).get("http://media.example.org/a.png", max_bytes=10**6)


def test_a_redirect_is_followed_only_to_an_allowed_host(cdn):
    target = cdn.image("/real.png", "gopher.png", "image/png")
    cdn.serve("/moved.png", (302, {"Location": "/real.png"}, b""))
    got = _fetcher(cdn).get(cdn.url("/moved.png"), max_bytes=10**6, allowed=lambda u: u.startswith(cdn.url("")))
    assert got.sha256 == GOPHER_SHA and got.final_url == target
    got.close()
    cdn.serve("/out.png", (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""))
    with pytest.raises(FetchError, match="redirected to a host that is not allowed"):
        _fetcher(cdn).get(cdn.url("/out.png"), max_bytes=10**6, allowed=lambda u: u.startswith(cdn.url("")))


def test_a_redirect_to_a_metadata_address_is_refused_even_when_any_host_is_allowed(cdn):
    cdn.serve("/page", (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""))
    with pytest.raises(FetchError, match="non-public"):
        _fetcher(cdn).get(cdn.url("/page"), max_bytes=10**6)


def test_a_redirect_loop_ends(cdn):
    cdn.serve("/loop", (302, {"Location": "/loop"}, b""))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        _fetcher(cdn).get(cdn.url("/loop"), max_bytes=10**6)


def test_a_file_larger_than_the_ceiling_is_abandoned(cdn):
    url = cdn.image("/big.png", "gopher.png", "image/png")
    with pytest.raises(FetchError, match="larger than 1024 bytes") as exc:
        _fetcher(cdn).get(url, max_bytes=1024)
    assert not exc.value.retriable


@pytest.mark.parametrize("status, retriable", [(404, False), (403, False), (410, False), (500, True), (503, True),
                                               (429, True)])
def test_each_answer_says_whether_trying_again_can_help(cdn, status, retriable):
    url = cdn.serve("/x", (status, {}, b"no"))
    with pytest.raises(FetchError) as exc:
        _fetcher(cdn).get(url, max_bytes=10**6)
    assert (exc.value.reason, exc.value.retriable) == (f"HTTP {status}", retriable)


def test_a_refused_connection_is_a_network_error_worth_another_try(cdn):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # nothing listens here once the socket closes
    with pytest.raises(FetchError) as exc:
        Fetcher(timeout_s=2, private_hosts=[f"127.0.0.1:{port}"]).get(f"http://127.0.0.1:{port}/a", max_bytes=100)
    assert exc.value.reason == "network error (ConnectError)" and exc.value.retriable


def test_hash_matches_the_reference_library_on_the_jpeg(cdn):
    url = cdn.image("/p.jpg", "python.jpg", "image/jpeg")
    got = _fetcher(cdn).get(url, max_bytes=10**6)
    assert got.sha256 == "0171178ae901e108f56305aff7e36268a690bc49933a24b1aaa587fda00f4d3b"
    assert got.sha256 == hashlib.sha256((FIXTURES / "python.jpg").read_bytes()).hexdigest()
    got.close()
