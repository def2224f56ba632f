"""End to end: connectors against their local fake platforms feed the embedded stack's raw
topic; the pipeline archives what they captured (or accounts for it with a reason)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import urllib.request
from pathlib import Path

import pytest

from archiefstroom import runner
from archiefstroom.connectors.pollers import MastodonPoller
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, KafkaSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.connectors.webhook import MetaWebhook
from archiefstroom.ground.settings import from_dict
from tests.unit.connector_fakes import FakePlatform

from .spine_helpers import archived_records, counts_by_id, ledger_entries, topic_messages

pytestmark = pytest.mark.integration
FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
RECENT = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status(sid, text, reply_to=None, account=None):
    st = json.loads((FIX / "mastodon/status-get-hello-world.json").read_text())
    st.update(id=str(sid), content=f"<p>{text}</p>", in_reply_to_id=str(reply_to) if reply_to else None,
              created_at=RECENT)
    if account:
        st["account"] = account
    return st


def mastodon_route(posts: list, replies: dict):
    """A fake Mastodon's routes: an account's statuses newer than min_id, and a status's replies
    (`posts` and `replies` may grow between polls)."""
    def route(method, path, query, headers, body):
        if path.endswith("/statuses"):
            newer = [p for p in posts if int(p["id"]) > int(query.get("min_id", 0))]
            return 200, {}, sorted(newer, key=lambda p: -int(p["id"]))[:int(query.get("limit", 20))]
        if path.endswith("/context"):
            return 200, {}, {"ancestors": [], "descendants": replies.get(path.split("/")[4], [])}
        return 404, {}, {}
    return route


def citizen_account() -> dict:
    """A real citizen's account object from a recorded Mastodon payload."""
    return json.loads((FIX / "mastodon/sse-update-reply.json").read_text())["account"]


def _registry_with_test_accounts(tmp_path) -> Path:
    """The shipped account registry plus the fake platforms' accounts (unregistered accounts
    are not archived: rule R0)."""
    import yaml

    from archiefstroom.stack import REGISTRY_DIR
    doc = yaml.safe_load((REGISTRY_DIR / "accounts.yaml").read_text())
    doc["accounts"] += [
        {"platform": "mastodon", "id": "1", "handle": "gemeente@social.example", "organisation": "Gemeente Utrecht",
         "type": "corporate", "route": 2},
        {"platform": "facebook", "id": "1234567890321", "organisation": "Belastingdienst",
         "type": "corporate", "route": 2},
    ]
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def test_mastodon_and_meta_webhook_events_reach_the_archive(make_cfg, tmp_path, monkeypatch):
    cfg = make_cfg(rules={"accounts": str(_registry_with_test_accounts(tmp_path))})
    citizen = citizen_account()
    posts = [_status(500 + i, f"Bekendmaking {i}") for i in range(3)]
    replies = {"500": [_status(600, "Wanneer gaat dit in?", 500, citizen)]}

    fake = FakePlatform(mastodon_route(posts, replies))
    sink = KafkaSink(cfg)
    captured = []
    try:
        s = from_dict({"platform": "mastodon", "base_url": fake.url,
                       "accounts": [{"id": "1", "handle": "gemeente@social.example", "display_name": "Gemeente"}]},
                      ConnectorSettings)
        cp = tmp_path / "cp.json"
        http = HttpClient(sleep=lambda x: None, rng=random.Random(3))

        class Tee:
            def send(self, events):
                sink.send(events)
                captured.extend(events)

        assert MastodonPoller(s, Tee(), Checkpoint(cp), http=http).poll_once() == 4
        assert MastodonPoller(s, Tee(), Checkpoint(cp), http=http).poll_once() == 0   # restart: nothing twice

        monkeypatch.setenv("E2E_META_SECRET", "e2e-secret")
        hook = MetaWebhook(from_dict({"platform": "facebook", "mode": "webhook",
                                      "webhook": {"port": 0, "app_secret": {"env": "E2E_META_SECRET"}}},
                                     ConnectorSettings), Tee())
        host, port = hook.serve()
        try:
            for name in ("fb-feed-status-add.json", "fb-feed-comment-add.json"):
                # recent times: the archive refuses object-lock dates in the past (see report)
                doc = json.loads((FIX / "meta" / name).read_text())
                now = int(dt.datetime.now(dt.timezone.utc).timestamp()) - 3600
                doc["entry"][0]["time"] = doc["entry"][0]["changes"][0]["value"]["created_time"] = now
                body = json.dumps(doc).encode()
                sig = "sha256=" + hmac.new(b"e2e-secret", body, hashlib.sha256).hexdigest()
                req = urllib.request.Request(f"http://{host}:{port}/webhook", data=body,
                                             headers={"X-Hub-Signature-256": sig}, method="POST")
                assert urllib.request.urlopen(req, timeout=10).status == 200
        finally:
            hook.close()
    finally:
        sink.close()
        fake.close()

    ids = [e["event_id"] for e in captured]
    assert len(ids) == len(set(ids)) == 6
    raw = topic_messages(cfg, cfg.topics.raw, timeout_s=3)
    assert sorted(json.loads(m.value)["event_id"] for m in raw) == sorted(ids)
    # keyed by thread: the root, else the post replied to, else the object itself
    docs = [(m.key, json.loads(m.value)) for m in raw]
    assert all(k == (d["thread_root"] or d["in_reply_to"] or d["object_id"]).encode() for k, d in docs)

    runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    archived = counts_by_id(archived_records(cfg))
    outcomes = {e["event_id"] for e in ledger_entries(cfg) if e.get("event_id")}
    assert set(ids) <= outcomes, "every captured event is archived or accounted for"
    assert archived and max(archived.values()) == 1 and set(archived) <= set(ids)
    records = [r for recs in archived_records(cfg).values() for r in recs]
    for rec in records:
        ev = rec["event"]
        assert hashlib.sha256(ev["raw"]["payload"].encode()).hexdigest() == ev["raw"]["sha256"]


def test_a_connector_dead_letter_reaches_the_dead_letter_topic_with_its_reason(make_cfg):
    cfg = make_cfg()
    sink = KafkaSink(cfg)
    try:
        sink.dead_letter(b'{"half": ', "not readable as bluesky: NormaliseError: not JSON", "connector:bluesky-stream",
                         "bluesky")
    finally:
        sink.close()
    (msg,) = topic_messages(cfg, cfg.topics.dead_letter, timeout_s=3)
    assert msg.value == b'{"half": ' and msg.key == b"connector:bluesky-stream"
    assert dict(msg.headers) == {"reason": b"not readable as bluesky: NormaliseError: not JSON",
                                 "source": b"connector:bluesky-stream", "code": b"connector", "platform": b"bluesky"}


def test_a_pollers_unreadable_item_and_page_reach_the_dead_letter_topic_and_the_cursor_moves(make_cfg, tmp_path):
    """A page with one readable and one unreadable status, and an account whose page is a proxy's
    HTML: the status reaches the raw topic, each unreadable payload the dead-letter topic once
    (its exact bytes, reason and source), and the first account's cursor moves past its page."""
    cfg = make_cfg()
    bad = '{"id": "502", "created_at": "gisteren", "content": "<p>Mijn BSN is 123456782</p>"}'
    page = f"[{bad}, {json.dumps(_status(501, 'Bekendmaking'))}]"
    html = "<html><body>502 Bad Gateway</body></html>"

    def route(method, path, query, headers, body):
        if path == "/api/v1/accounts/1/statuses":
            return 200, {}, page if query.get("min_id") == "0" else "[]"
        if path == "/api/v1/accounts/2/statuses":
            return 200, {"Content-Type": "text/html"}, html
        return 200, {}, {"ancestors": [], "descendants": []}

    fake = FakePlatform(route)
    sink = KafkaSink(cfg)
    try:
        s = from_dict({"platform": "mastodon", "base_url": fake.url,
                       "accounts": [{"id": "1", "handle": "gemeente@social.example"},
                                    {"id": "2", "handle": "provincie@social.example"}]}, ConnectorSettings)
        cp = tmp_path / "cp.json"
        http = HttpClient(sleep=lambda x: None, rng=random.Random(3))
        assert MastodonPoller(s, sink, Checkpoint(cp), http=http).poll_once() == 1
        assert MastodonPoller(s, sink, Checkpoint(cp), http=http).poll_once() == 0   # again: nothing twice
    finally:
        sink.close()
        fake.close()

    (raw,) = topic_messages(cfg, cfg.topics.raw, timeout_s=3)
    assert json.loads(raw.value)["event_id"] == "mastodon:501"
    dead = topic_messages(cfg, cfg.topics.dead_letter, timeout_s=3)
    assert [(m.value, m.key, dict(m.headers)) for m in dead] == [
        (bad.encode(), b"connector:mastodon-poll",
         {"reason": b"not readable as mastodon: NormaliseError: unreadable timestamp of type str",
          "source": b"connector:mastodon-poll", "code": b"connector", "platform": b"mastodon"}),
        (html.encode(), b"connector:mastodon-poll",
         {"reason": b"not readable as mastodon: NormaliseError: not JSON (Expecting value at line 1 column 1)",
          "source": b"connector:mastodon-poll", "code": b"connector", "platform": b"mastodon"})]
    saved = Checkpoint(cp)
    assert saved.get("statuses:1") == "502" and saved.get("statuses:2") is None
    assert saved.get("unreadable_pages")["statuses:2"]["attempts"] >= 1
