"""HTTP retries and rate limits, checkpoints and metrics, against a local fake server."""
from __future__ import annotations

import json
import random

import pytest
from tests.unit.connector_fakes import FakePlatform

from archiefstroom.connectors.runtime import Checkpoint, HttpClient, HttpError, Seen


def client(**kw):
    return HttpClient(sleep=lambda s: None, rng=random.Random(7), backoff_base=0.5, backoff_max=8, **kw)


def scripted(answers):
    """A route that plays back (status, headers, body) answers in order, then 200 {}."""
    it = iter(answers)
    return lambda *a: next(it, (200, {}, {"ok": True}))


def test_429_waits_as_retry_after_says_then_succeeds():
    fake = FakePlatform(scripted([(429, {"Retry-After": "7"}, "slow down")]))
    try:
        http = client()
        resp = http.get(fake.url + "/api", {"a": 1})
        assert resp.json() == {"ok": True} and http.waits == [7.0]
        assert http.metrics.counters["rate_limited"] == 1 and len(fake.requests) == 2
    finally:
        fake.close()


def test_x_rate_limit_reset_header_is_an_epoch():
    fake = FakePlatform(scripted([(429, {"x-rate-limit-reset": "1000030", "x-rate-limit-remaining": "0"}, "")]))
    try:
        http = client(clock=lambda: 1_000_000.0)
        http.get(fake.url + "/2/users/1/tweets")
        assert http.waits == [30.0]
    finally:
        fake.close()


def test_mastodon_iso_reset_and_remaining_zero_pauses_next_request():
    fake = FakePlatform(scripted([(200, {"X-RateLimit-Remaining": "0",
                                         "X-RateLimit-Reset": "1970-01-12T13:47:00.000Z"}, {"n": 1})]))
    try:
        http = client(clock=lambda: 1_000_000.0)   # 1970-01-12T13:46:40Z
        http.get(fake.url + "/a")
        assert http.waits == []
        http.get(fake.url + "/b")
        assert http.waits == [20.0]
    finally:
        fake.close()


def test_5xx_and_network_errors_retry_with_growing_jittered_backoff():
    fake = FakePlatform(scripted([(503, {}, "down"), (502, {}, "down"), (500, {}, "down")]))
    try:
        http = client()
        assert http.get(fake.url + "/x").json() == {"ok": True}
        assert len(http.waits) == 3
        for attempt, wait in enumerate(http.waits):
            ceiling = min(8, 0.5 * 2 ** attempt)
            assert ceiling / 2 <= wait <= ceiling
    finally:
        fake.close()
    http = client(max_retries=2, timeout=1)
    with pytest.raises(HttpError, match="gave up after 3 attempts"):
        http.get("http://127.0.0.1:9/nothing-listens-here")
    assert http.metrics.counters["errors"] == 1


def test_params_join_the_query_of_the_url_and_none_values_are_left_out():
    fake = FakePlatform(scripted([]))
    try:
        client().get(fake.url + "/search?q=conversation_id:1", {"max_results": 10, "pagination_token": None})
        assert fake.requests[0][2] == {"q": "conversation_id:1", "max_results": "10"}
    finally:
        fake.close()


def test_client_errors_are_not_retried():
    fake = FakePlatform(scripted([(404, {}, "no such account")]))
    try:
        http = client()
        with pytest.raises(HttpError, match="HTTP 404 for /missing"):
            http.get(fake.url + "/missing")
        assert len(fake.requests) == 1 and http.waits == []
    finally:
        fake.close()


def test_platform_throttling_bodies_are_rate_limits():
    yt = json.dumps({"error": {"errors": [{"reason": "rateLimitExceeded"}], "code": 403}})
    meta = json.dumps({"error": {"code": 613, "message": "Calls to this api have exceeded the rate limit."}})
    usage = json.dumps({"1234": [{"type": "pages", "estimated_time_to_regain_access": 2}]})
    fake = FakePlatform(scripted([(403, {}, yt), (400, {"X-Business-Use-Case-Usage": usage}, meta)]))
    try:
        http = client()
        http.get(fake.url + "/youtube/v3/commentThreads")
        assert http.metrics.counters["rate_limited"] == 2 and http.waits[1] == 120.0
    finally:
        fake.close()


def test_checkpoint_is_atomic_and_survives_restart(tmp_path):
    path = tmp_path / "connectors" / "m.json"
    cp = Checkpoint(path)
    cp.set("statuses:1", "105")
    cp.save()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert Checkpoint(path).get("statuses:1") == "105"
    path.write_text("{broken")
    with pytest.raises(ValueError, match="damaged"):
        Checkpoint(path)


def test_seen_filters_repeats_per_scope(tmp_path):
    cp = Checkpoint(tmp_path / "c.json")
    seen = Seen(cp)
    evs = [{"event_id": "a"}, {"event_id": "b"}, {"event_id": "a"}]
    fresh = seen.new("t1", evs)
    assert [e["event_id"] for e in fresh] == ["a", "b"]
    seen.mark("t1", fresh)
    assert seen.new("t1", evs + [{"event_id": "c"}]) == [{"event_id": "c"}]
    assert len(seen.new("t2", evs)) == 2
