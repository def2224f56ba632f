"""Polling connectors against local fake platforms serving recorded payload shapes:
pagination, restart from checkpoint without gaps or duplicates, rate limits, edits, deletes."""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

import pytest

from archiefstroom.connectors.pollers import GraphCommentsPoller, MastodonPoller, XPoller, YouTubePoller
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground.settings import ConfigError, from_dict, load_yaml
from tests.unit.connector_fakes import FakePlatform

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
# thread windows are relative to the wall clock: the fake content is an hour old
RECENT = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def settings(platform, base_url, **kw) -> ConnectorSettings:
    d = {"platform": platform, "base_url": base_url, "page_size": 3,
         "http": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05}, **kw}
    return from_dict(d, ConnectorSettings)


def quick_http():
    return HttpClient(sleep=lambda s: None, rng=random.Random(1), backoff_base=0.01, backoff_max=0.02)


# ------------------------------------------------------------------ Mastodon

TEMPLATE = json.loads((FIX / "mastodon/status-get-hello-world.json").read_text())
CITIZEN = json.loads((FIX / "mastodon/sse-update-reply.json").read_text())["account"]


def status(sid: int, text: str, reply_to: int | None = None, account=None, edited_at=None) -> dict:
    st = copy.deepcopy(TEMPLATE)
    st.update(id=str(sid), content=f"<p>{text}</p>", in_reply_to_id=str(reply_to) if reply_to else None,
              created_at=RECENT, url=f"https://social.example/@x/{sid}",
              edited_at=edited_at)
    if account:
        st["account"] = account
    return st


class FakeMastodon:
    def __init__(self, n_posts: int):
        self.posts = [status(100 + i, f"Bericht {i}") for i in range(n_posts)]
        self.replies: dict[str, list[dict]] = {}
        self.fail_next: list[tuple[int, dict]] = []
        self.platform = FakePlatform(self.route)

    def route(self, method, path, query, headers, body):
        if self.fail_next:
            status_code, hdrs = self.fail_next.pop(0)
            return status_code, hdrs, {"error": "try later"}
        if path == "/api/v1/accounts/1/statuses":
            limit = int(query.get("limit", 20))
            if "min_id" not in query:
                return 200, {}, sorted(self.posts, key=lambda p: -int(p["id"]))[:limit]
            newer = [p for p in self.posts if int(p["id"]) > int(query.get("min_id", 0))]
            page = sorted(newer, key=lambda p: int(p["id"]))[:limit]
            return 200, {}, list(reversed(page))   # Mastodon answers newest first
        if path.endswith("/context"):
            sid = path.split("/")[4]
            return 200, {}, {"ancestors": [], "descendants": self.replies.get(sid, [])}
        return 404, {}, {"error": "not found"}


@pytest.fixture
def mastodon():
    fake = FakeMastodon(7)
    yield fake
    fake.platform.close()


def mastodon_poller(fake, cp_path, sink, **kw):
    s = settings("mastodon", fake.platform.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}], **kw)
    return MastodonPoller(s, sink, Checkpoint(cp_path), http=quick_http())


def test_mastodon_paginates_oldest_first_then_reads_threads(mastodon, tmp_path):
    mastodon.replies["101"] = [status(200, "Wanneer?", 101, CITIZEN), status(201, "Morgen", 200)]
    sink = ListSink()
    poller = mastodon_poller(mastodon, tmp_path / "cp.json", sink)
    assert poller.poll_once() == 9
    ids = [e["native_id"] for e in sink.events]
    assert ids[:7] == [str(100 + i) for i in range(7)]
    assert sink.events[8]["in_reply_to"] == "mastodon:200"
    assert {e["account"]["handle"] for e in sink.events} == {"gemeente@social.example"}
    pages = [r for r in mastodon.platform.requests if r[1].endswith("/statuses")]
    assert [r[2]["min_id"] for r in pages] == ["0", "102", "105"]   # three pages of 3, 3, 1


def test_mastodon_restart_resumes_without_gaps_or_duplicates(mastodon, tmp_path):
    cp = tmp_path / "cp.json"
    first = ListSink()
    mastodon_poller(mastodon, cp, first).poll_once()
    mastodon.posts += [status(107, "Nieuw"), status(108, "Nog een")]
    mastodon.replies["103"] = [status(300, "Reactie", 103, CITIZEN)]
    second = ListSink()   # a new process: only the checkpoint file survives
    mastodon_poller(mastodon, cp, second).poll_once()
    assert [e["native_id"] for e in second.events] == ["107", "108", "300"]
    all_ids = [e["event_id"] for e in first.events + second.events]
    assert len(all_ids) == len(set(all_ids)) == 10
    third = ListSink()
    mastodon_poller(mastodon, cp, third).poll_once()
    assert third.events == []


def test_mastodon_edit_in_thread_becomes_edit_event(mastodon, tmp_path):
    cp = tmp_path / "cp.json"
    mastodon.replies["100"] = [status(400, "Eerste versie", 100, CITIZEN)]
    mastodon_poller(mastodon, cp, ListSink()).poll_once()
    mastodon.replies["100"] = [status(400, "Tweede versie", 100, CITIZEN, edited_at="2026-10-01T09:00:00.000Z")]
    sink = ListSink()
    mastodon_poller(mastodon, cp, sink).poll_once()
    (edit,) = sink.events
    assert edit["event_type"] == "edit" and edit["object_id"] == "mastodon:400"
    assert edit["event_id"] == "mastodon:400:edit:2026-10-01T09:00:00.000Z" and edit["text"] == "Tweede versie"


def test_mastodon_rides_out_429_and_5xx(mastodon, tmp_path):
    mastodon.fail_next = [(429, {"Retry-After": "3"}), (503, {}), (502, {})]
    poller = mastodon_poller(mastodon, tmp_path / "cp.json", ListSink())
    assert poller.poll_once() == 7
    assert poller.http.waits[0] == 3.0 and len(poller.http.waits) == 3
    assert poller.metrics.counters["rate_limited"] == 1 and poller.metrics.counters["events_captured"] == 7


def test_sink_failure_leaves_checkpoint_unmoved(mastodon, tmp_path):
    class Broken(ListSink):
        def send(self, events):
            raise OSError("broker unavailable")

    cp = tmp_path / "cp.json"
    with pytest.raises(OSError):
        mastodon_poller(mastodon, cp, Broken()).poll_once()
    sink = ListSink()
    mastodon_poller(mastodon, cp, sink).poll_once()
    assert len(sink.events) == 7   # nothing lost


def test_mastodon_without_backfill_starts_at_now(mastodon, tmp_path):
    cp = tmp_path / "cp.json"
    sink = ListSink()
    mastodon_poller(mastodon, cp, sink, backfill=False).poll_once()
    mastodon.posts.append(status(150, "Vanaf nu"))
    mastodon_poller(mastodon, cp, sink, backfill=False).poll_once()
    assert [e["native_id"] for e in sink.events] == ["150"]


# ------------------------------------------------------------------ X

X_PAGE = json.loads((FIX / "x-twitter/search-conversation-thread.json").read_text())


class FakeX:
    """users/:id/tweets in pages of 2 (newest first, next_token); search/recent for conversations."""

    def __init__(self):
        self.tweets = [self.tweet(1000 + i) for i in range(5)]
        self.conversation: list[dict] = []
        self.platform = FakePlatform(self.route)

    @staticmethod
    def tweet(tid, conv=None, reply_to=None, author="42"):
        t = {"id": str(tid), "text": f"Post {tid}", "author_id": author, "created_at": RECENT,
             "conversation_id": str(conv or tid), "edit_history_tweet_ids": [str(tid)]}
        if reply_to:
            t["referenced_tweets"] = [{"type": "replied_to", "id": str(reply_to)}]
        return t

    def page(self, items, query):
        since = int(query.get("since_id", 0))
        items = sorted((t for t in items if int(t["id"]) > since), key=lambda t: -int(t["id"]))
        start = int(query.get("pagination_token", 0))
        chunk = items[start:start + 2]
        meta = {"result_count": len(chunk)}
        if items:
            meta["newest_id"] = items[0]["id"]
        if start + 2 < len(items):
            meta["next_token"] = str(start + 2)
        body = {"meta": meta, "includes": {"users": [{"id": "42", "username": "Gemeente", "name": "Gemeente"}]},
                "__twarc": {"note": "tolerated"}}
        if chunk:
            body["data"] = chunk
        return 200, {"x-rate-limit-remaining": "10"}, body

    def route(self, method, path, query, headers, body):
        if path == "/2/users/42/tweets":
            return self.page(self.tweets, query)
        if path == "/2/tweets/search/recent":
            conv = query["query"].split(":", 1)[1]
            return self.page([t for t in self.conversation if t["conversation_id"] == conv], query)
        if path.endswith("/quote_tweets"):
            return 200, {}, {"meta": {"result_count": 0}}
        return 404, {}, {"title": "Not Found"}


def test_x_timeline_pages_since_id_and_conversations(tmp_path, monkeypatch):
    fake = FakeX()
    try:
        cp = tmp_path / "cp.json"
        s = settings("x", fake.platform.url, accounts=[{"id": "42", "handle": "Gemeente"}], page_size=10)
        first = ListSink()
        XPoller(s, first, Checkpoint(cp), http=quick_http()).poll_once()
        assert [e["native_id"] for e in first.events] == [str(1000 + i) for i in range(5)]
        fake.tweets.append(fake.tweet(1010))
        fake.conversation = [fake.tweet(2000, conv=1002, reply_to=1002, author="7"),
                             fake.tweet(2001, conv=1002, reply_to=2000, author="8")]
        second = ListSink()
        XPoller(s, second, Checkpoint(cp), http=quick_http()).poll_once()
        assert [e["native_id"] for e in second.events] == ["1010", "2000", "2001"]
        assert second.events[2]["in_reply_to"] == "x:2000" and second.events[2]["thread_root"] == "x:1002"
        timeline = [r[2] for r in fake.platform.requests if r[1] == "/2/users/42/tweets"]
        assert timeline[-1]["since_id"] == "1004" and "expansions" in timeline[-1]
        third = ListSink()
        XPoller(s, third, Checkpoint(cp), http=quick_http()).poll_once()
        assert third.events == []
    finally:
        fake.platform.close()


# ------------------------------------------------------------------ YouTube

YT_PAGE = json.loads((FIX / "youtube/commentThreads-list-by-video.json").read_text())
YT_REPLIES = json.loads((FIX / "youtube/comments-list-replies-by-parent.json").read_text())


def test_youtube_threads_pages_replies_and_edits(tmp_path):
    state = {"page": copy.deepcopy(YT_PAGE)}

    def route(method, path, query, headers, body):
        if path == "/youtube/v3/commentThreads":
            assert query["videoId"] == "F1UP7wRCPH8" and query["key"] == "test-key"
            if query.get("pageToken"):
                return 200, {}, {"kind": "youtube#commentThreadListResponse", "items": []}
            return 200, {}, state["page"]
        if path == "/youtube/v3/comments":
            return 200, {}, {**YT_REPLIES, "nextPageToken": None}
        return 404, {}, {}

    fake = FakePlatform(route)
    try:
        import os
        os.environ["TEST_YT_KEY"] = "test-key"
        s = settings("youtube", fake.url, videos=["F1UP7wRCPH8"], token={"env": "TEST_YT_KEY"})
        cp = tmp_path / "cp.json"
        sink = ListSink()
        YouTubePoller(s, sink, Checkpoint(cp), http=quick_http()).poll_once()
        # 5 top-level comments; the one with totalReplyCount 2 and no embedded replies gets comments.list
        assert [e["event_type"] for e in sink.events] == ["reply"] * 7
        assert {e["thread_root"] for e in sink.events} == {"youtube:F1UP7wRCPH8"}
        assert sum(r[1] == "/youtube/v3/comments" for r in fake.requests) == 1
        thread = state["page"]["items"][0]
        thread["snippet"]["topLevelComment"]["snippet"]["updatedAt"] = "2019-11-27T10:00:00.000Z"
        again = ListSink()
        YouTubePoller(s, again, Checkpoint(cp), http=quick_http()).poll_once()
        (edit,) = again.events
        assert edit["event_type"] == "edit" and edit["object_id"] == "youtube:" + thread["id"]
    finally:
        fake.close()


# ------------------------------------------------------------------ Graph API backfill

def test_graph_comments_backfill_follows_after_cursor(tmp_path):
    comments = [{"id": f"111_{i}", "message": f"Reactie {i}", "created_time": f"2026-10-01T08:0{i}:00+0000",
                 "from": {"id": f"9{i}", "name": "Burger"}} for i in range(5)]

    def route(method, path, query, headers, body):
        after = int(query.get("after") or 0)
        chunk = comments[after:after + 2]
        paging = {"cursors": {"before": str(after), "after": str(after + len(chunk))}}
        if after + 2 < len(comments):
            paging["next"] = "https://graph.facebook.com/next"
        return 200, {}, {"data": chunk, "paging": paging}

    fake = FakePlatform(route)
    try:
        s = settings("facebook", fake.url, posts=["111"], accounts=[{"id": "111", "handle": "gemeente"}])
        cp = tmp_path / "cp.json"
        sink = ListSink()
        GraphCommentsPoller(s, sink, Checkpoint(cp), http=quick_http()).poll_once()
        assert [e["native_id"] for e in sink.events] == [f"111_{i}" for i in range(5)]
        assert all(e["event_type"] == "reply" and e["in_reply_to"] == "facebook:111" for e in sink.events)
        comments.append({"id": "111_5", "message": "Later", "created_time": "2026-10-01T09:00:00+0000",
                         "from": {"id": "95", "name": "Burger"}})
        more = ListSink()
        GraphCommentsPoller(s, more, Checkpoint(cp), http=quick_http()).poll_once()
        assert [e["native_id"] for e in more.events] == ["111_5"]
    finally:
        fake.close()


# ------------------------------------------------------------------ settings

def test_connector_config_errors_name_file_line_field(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("platform: mastodon\nbase_url: social.example\naccounts: [{id: '1'}]\n")
    with pytest.raises(ConfigError, match=r"m.yaml:2: field 'base_url': expected an http\(s\) URL"):
        load_yaml(f, ConnectorSettings)
    f.write_text("platform: mastodon\nbase_url: https://social.example\n")
    with pytest.raises(ConfigError, match="field 'accounts': expected at least one account"):
        load_yaml(f, ConnectorSettings)
    f.write_text("platform: x\nmode: webhook\naccounts: [{id: '1'}]\n")
    with pytest.raises(ConfigError, match="field 'mode'"):
        load_yaml(f, ConnectorSettings)


def test_example_configs_load():
    root = Path(__file__).resolve().parents[2] / "deploy" / "connectors"
    files = sorted(root.glob("*.example.yaml"))
    assert len(files) >= 7
    for f in files:
        assert load_yaml(f, ConnectorSettings).platform in f.name


# ------------------------------------------------------------------ connect command

def test_connect_once_dry_run_prints_events_and_checkpoints(mastodon, tmp_path, capsys, monkeypatch):
    from archiefstroom.cli import main
    monkeypatch.setenv("TEST_MASTODON_TOKEN", "secret-token-value")
    conf = tmp_path / "mastodon.yaml"
    conf.write_text(f"platform: mastodon\nbase_url: {mastodon.platform.url}\ntoken: {{env: TEST_MASTODON_TOKEN}}\n"
                    f"data_dir: {tmp_path}\naccounts:\n  - {{id: '1', handle: gemeente@social.example}}\n")
    assert main(["connect", "mastodon", "--config", str(conf), "--once", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 7 and "secret-token-value" not in out.out + out.err
    assert mastodon.platform.requests[0][3]["Authorization"] == "Bearer secret-token-value"
    assert (tmp_path / "connectors" / "mastodon-poll.json").exists()
    assert main(["connect", "x", "--config", str(conf), "--once", "--dry-run"]) == 2   # platform mismatch
    assert "field 'platform'" in capsys.readouterr().err
