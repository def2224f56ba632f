"""Meta webhook receiver (handshake, signatures), Mastodon SSE streaming, X filtered stream
and Bluesky Jetstream over local servers."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from archiefstroom.connectors.runtime import Checkpoint, HttpClient, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.connectors.streams import Jetstream, MastodonStream, XFilteredStream
from archiefstroom.connectors.webhook import MetaWebhook, signature_ok
from archiefstroom.ground.settings import from_dict
from tests.unit.connector_fakes import FakePlatform, FakeWebSocketServer

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
SECRET = "app-secret-for-tests"


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("TEST_META_VERIFY", "verify-me")
    monkeypatch.setenv("TEST_META_SECRET", SECRET)
    s = from_dict({"platform": "facebook", "mode": "webhook",
                   "accounts": [{"id": "1234567890321", "handle": "gemeente", "display_name": "Gemeente"}],
                   "webhook": {"port": 0, "verify_token": {"env": "TEST_META_VERIFY"},
                               "app_secret": {"env": "TEST_META_SECRET"}}}, ConnectorSettings)
    sink = ListSink()
    receiver = MetaWebhook(s, sink)
    host, port = receiver.serve()
    receiver.url = f"http://{host}:{port}/webhook"
    receiver.sink_ = sink
    yield receiver
    receiver.close()


def call(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_webhook_get_verification(hook):
    ok = call(hook.url + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
    assert ok == (200, "1158201444")
    assert call(hook.url + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")[0] == 403
    assert call(hook.url + "?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1")[0] == 403


def test_webhook_accepts_only_correct_signatures(hook):
    body = (FIX / "meta/fb-feed-comment-add.json").read_bytes()
    assert call(hook.url, body)[0] == 401                                        # missing
    assert call(hook.url, body, {"X-Hub-Signature-256": sign(body, "other")})[0] == 403   # wrong secret
    assert call(hook.url, body + b" ", {"X-Hub-Signature-256": sign(body)})[0] == 403     # body changed
    assert call(hook.url, body, {"X-Hub-Signature-256": "sha1=" + "0" * 40})[0] == 403    # wrong scheme
    assert hook.sink_.events == [] and hook.metrics.counters["webhook_rejected"] == 4
    assert call(hook.url, body, {"X-Hub-Signature-256": sign(body)}) == (200, "EVENT_RECEIVED")
    (ev,) = hook.sink_.events
    assert ev["event_type"] == "reply" and ev["account"]["display_name"] == "Gemeente"
    assert ev["raw"]["payload"] == body.decode()   # exact delivery as signed


def test_webhook_edit_delete_and_instagram(hook):
    for name in ("fb-feed-comment-edited.json", "fb-feed-comment-remove.json", "ig-comments-reply.json"):
        body = (FIX / "meta" / name).read_bytes()
        assert call(hook.url, body, {"X-Hub-Signature-256": sign(body)})[0] == 200
    assert [(e["platform"], e["event_type"]) for e in hook.sink_.events] == [
        ("facebook", "edit"), ("facebook", "delete"), ("instagram", "reply")]


def test_webhook_unreadable_signed_body_is_refused_counted_and_dead_lettered(hook):
    body = b'{"object": "page", "entry": [{"id": "1", "changes": "nonsense"}]}'
    assert call(hook.url, body, {"X-Hub-Signature-256": sign(body)})[0] == 400
    assert hook.metrics.counters["errors"] == 1 and hook.metrics.counters["dead_letters"] == 1
    ((payload, reason, source),) = hook.sink_.dead
    assert payload == body and source == "connector:facebook-webhook"
    assert reason.startswith("webhook delivery not readable: ")


def test_an_unsigned_unreadable_body_is_not_dead_lettered(hook):
    assert call(hook.url, b"{not json", {})[0] == 401
    assert hook.sink_.dead == []


def test_signature_helper_is_constant_time_compare():
    assert signature_ok(b"x", sign(b"x"), SECRET)
    assert not signature_ok(b"x", None, SECRET) and not signature_ok(b"x", sign(b"x"), "")


# ------------------------------------------------------------------ streams

def stream_settings(platform, **kw):
    return from_dict({"platform": platform, "mode": "stream",
                      "http": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}, **kw}, ConnectorSettings)


def quick_http():
    return HttpClient(sleep=lambda s: None, rng=random.Random(1), backoff_base=0.01, backoff_max=0.02)


def test_mastodon_sse_stream_update_edit_delete(tmp_path):
    update = (FIX / "mastodon/sse-update-reply.json").read_text()
    edit = (FIX / "mastodon/sse-status-update-edit.json").read_text()

    def route(method, path, query, headers, body):
        assert path == "/api/v1/streaming/user" and headers.get("Authorization") == "Bearer tok"
        return 200, {"Content-Type": "text/event-stream"}, iter([
            ":)\n\n", f"event: update\ndata: {update}\n\n", ":thump\n\n",
            f"event: status.update\ndata: {edit}\n\n", "event: delete\ndata: 108914327388663283\n\n",
            "event: filters_changed\n\n"])

    fake = FakePlatform(route)
    try:
        s = stream_settings("mastodon", base_url=fake.url)
        sink = ListSink()
        conn = MastodonStream(s, sink, Checkpoint(tmp_path / "cp.json"), http=quick_http())
        conn.http.headers["Authorization"] = "Bearer tok"
        conn.consume()
        assert [e["event_type"] for e in sink.events] == ["reply", "edit", "delete"]
        assert sink.events[0]["raw"]["payload"] == update
        assert sink.events[2]["object_id"] == sink.events[0]["object_id"]
    finally:
        fake.close()


def test_x_filtered_stream_lines_and_keepalives(tmp_path):
    line = json.dumps(json.loads((FIX / "x-twitter/stream-reply-to-org-post.json").read_text()))

    def route(method, path, query, headers, body):
        assert "expansions" in query
        return 200, {}, iter(["\r\n", line + "\r\n", "\r\n"])

    fake = FakePlatform(route)
    try:
        s = stream_settings("x", stream_url=fake.url + "/2/tweets/search/stream")
        sink = ListSink()
        XFilteredStream(s, sink, Checkpoint(tmp_path / "cp.json"), http=quick_http()).consume()
        (ev,) = sink.events
        assert ev["event_type"] == "reply" and ev["raw"]["payload"] == line
    finally:
        fake.close()


def test_jetstream_filters_to_accounts_and_resumes_from_cursor(tmp_path):
    org = "did:plc:org"
    def commit(did, t, coll, rkey, op="create", record=None):
        c = {"rev": "r", "operation": op, "collection": coll, "rkey": rkey}
        if record is not None:
            c["record"], c["cid"] = record, "bafy"
        return json.dumps({"did": did, "time_us": t, "kind": "commit", "commit": c})

    post_uri = f"at://{org}/app.bsky.feed.post/p1"
    messages = [
        commit(org, 1_700_000_000_000_001, "app.bsky.feed.post", "p1",
               record={"$type": "app.bsky.feed.post", "text": "Nieuwe regeling", "createdAt": "2024-01-01T00:00:00Z"}),
        commit("did:plc:other", 1_700_000_000_000_002, "app.bsky.feed.post", "x1",
               record={"$type": "app.bsky.feed.post", "text": "niet over ons", "createdAt": "2024-01-01T00:00:01Z"}),
        commit("did:plc:citizen", 1_700_000_000_000_003, "app.bsky.feed.post", "c1",
               record={"$type": "app.bsky.feed.post", "text": "Vraag", "createdAt": "2024-01-01T00:00:02Z",
                       "reply": {"root": {"uri": post_uri, "cid": "b"}, "parent": {"uri": post_uri, "cid": "b"}}}),
        commit("did:plc:fan", 1_700_000_000_000_004, "app.bsky.feed.like", "l1",
               record={"$type": "app.bsky.feed.like", "subject": {"uri": post_uri, "cid": "b"},
                       "createdAt": "2024-01-01T00:00:03Z"}),
        commit("did:plc:citizen", 1_700_000_000_000_005, "app.bsky.feed.post", "c1", op="delete"),
        commit("did:plc:other", 1_700_000_000_000_006, "app.bsky.feed.post", "x1", op="delete"),
        json.dumps({"did": "did:plc:other", "time_us": 1_700_000_000_000_007, "kind": "identity", "identity": {}}),
    ]
    server = FakeWebSocketServer(lambda path: messages)
    try:
        s = stream_settings("bluesky", stream_url=server.url, accounts=[{"id": org, "handle": "org.bsky.social"}])
        cp = tmp_path / "cp.json"
        sink = ListSink()
        Jetstream(s, sink, Checkpoint(cp)).consume()
        assert [(e["event_type"], e["author"]["id"]) for e in sink.events] == [
            ("post", org), ("reply", "did:plc:citizen"), ("reaction", "did:plc:fan"), ("delete", "did:plc:citizen")]
        assert {e["account"]["handle"] for e in sink.events} == {"org.bsky.social"}
        assert Checkpoint(cp).get("cursor") == 1_700_000_000_000_007
        assert "cursor" not in server.paths[0] and "wantedCollections=app.bsky.feed.post" in server.paths[0]
        assert server.extensions[0].startswith("permessage-deflate")   # compressed where the server offers it
        Jetstream(s, ListSink(), Checkpoint(cp)).consume()
        assert "cursor=1699999995000007" in server.paths[1]     # rewound 5 s
    finally:
        server.close()


def test_a_poison_message_on_a_stream_is_dead_lettered_and_the_stream_goes_on(tmp_path):
    org = "did:plc:org"
    good = json.dumps({"did": org, "time_us": 1_700_000_000_000_003, "kind": "commit",
                       "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post",
                                  "rkey": "p2", "cid": "b",
                                  "record": {"$type": "app.bsky.feed.post", "text": "Daarna",
                                             "createdAt": "2024-01-01T00:00:00Z"}}})
    not_json = '{"did": "did:plc:org", "time_us": 1700000000000001, "kind": "commit", "commit": {'
    wrong_shape = json.dumps({"did": org, "time_us": 1_700_000_000_000_002, "kind": "commit",
                              "commit": {"operation": "create", "collection": "app.bsky.feed.post",
                                         "rkey": "p1", "record": "not a record"}})
    server = FakeWebSocketServer(lambda path: [not_json, wrong_shape, good])
    try:
        s = stream_settings("bluesky", stream_url=server.url, accounts=[{"id": org, "handle": "org.bsky.social"}])
        sink = ListSink()
        conn = Jetstream(s, sink, Checkpoint(tmp_path / "cp.json"))
        conn.consume()                                        # one connection: no reconnect needed
        assert [e["native_id"] for e in sink.events] == [f"at://{org}/app.bsky.feed.post/p2"]
        assert [(payload.decode(), source) for payload, _, source in sink.dead] == [
            (not_json, "connector:bluesky-stream"), (wrong_shape, "connector:bluesky-stream")]
        assert sink.dead[0][1].startswith("not readable as bluesky: NormaliseError: not JSON")
        assert conn.metrics.counters["dead_letters"] == 2 and len(server.paths) == 1
    finally:
        server.close()


def test_a_poison_frame_on_an_sse_stream_is_dead_lettered(tmp_path):
    update = (FIX / "mastodon/sse-update-reply.json").read_text()

    def route(method, path, query, headers, body):
        return 200, {"Content-Type": "text/event-stream"}, iter([
            "event: update\ndata: [1, 2, 3]\n\n", f"event: update\ndata: {update}\n\n"])

    fake = FakePlatform(route)
    try:
        sink = ListSink()
        conn = MastodonStream(stream_settings("mastodon", base_url=fake.url), sink, Checkpoint(tmp_path / "cp.json"),
                              http=quick_http())
        conn.consume()
        assert [e["event_type"] for e in sink.events] == ["reply"]
        assert [payload for payload, _, _ in sink.dead] == [b"[1, 2, 3]"]
    finally:
        fake.close()
