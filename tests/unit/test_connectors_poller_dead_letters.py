"""Pollers and pages they cannot read: an unreadable item is dead-lettered with its reason and
its exact bytes while the page's other items go to the sink and the cursor moves on; a page
that is not JSON at all is dead-lettered once and its scope read again later with backoff,
without a second dead letter, while the other scopes go on. Expected values are written out
here by hand, from the bodies the fake platforms serve."""
from __future__ import annotations

import hashlib
import json
import logging
import random
from pathlib import Path

import pytest

from archiefstroom.connectors.pollers import GraphCommentsPoller, MastodonPoller, XPoller, YouTubePoller
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, HttpError, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground.settings import from_dict
from tests.unit.connector_fakes import FakePlatform

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
RECENT = "2999-01-01T00:00:00.000Z"   # always inside the thread window


class Clock:
    """The connector's HTTP clock, moved by hand: when a held scope may be read again."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def settings(platform, base_url, **kw) -> ConnectorSettings:
    return from_dict({"platform": platform, "base_url": base_url, "page_size": 3,
                      "http": {"backoff_base_seconds": 1, "backoff_max_seconds": 60}, **kw}, ConnectorSettings)


def http(clock=None) -> HttpClient:
    return HttpClient(sleep=lambda s: None, rng=random.Random(1), backoff_base=1, backoff_max=60, max_retries=2,
                      clock=clock or Clock())


def served(fake: FakePlatform, path: str) -> int:
    return sum(1 for p in fake.paths() if p == path)


# ------------------------------------------------------------------ one good item, one unreadable

def mastodon_status(sid: str, text: str) -> str:
    st = json.loads((FIX / "mastodon/status-get-hello-world.json").read_text())
    st.update(id=sid, content=f"<p>{text}</p>", created_at=RECENT, in_reply_to_id=None, edited_at=None)
    return json.dumps(st)


# a citizen's status with a timestamp no parser reads, and an item that is no status at all
BAD_STATUS = ('{"id": "102", "created_at": "gisteren", "content": "<p>Mijn BSN is 123456782</p>", '
              '"account": {"id": "9", "acct": "jan.jansen", "display_name": "Jan Jansen"}}')
NOT_A_STATUS = '"oeps"'


def test_mastodon_page_with_unreadable_items_sends_the_good_one_and_dead_letters_the_rest(tmp_path, caplog):
    page = f"[{BAD_STATUS}, {mastodon_status('101', 'Bekendmaking')}, {NOT_A_STATUS}]"   # newest first

    def route(method, path, query, headers, body):
        if path == "/api/v1/accounts/1/statuses":
            return 200, {}, page if query["min_id"] == "0" else "[]"
        if path.endswith("/context"):
            return 200, {}, {"ancestors": [], "descendants": []}
        return 404, {}, {}

    fake = FakePlatform(route)
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}])
        cp, sink = tmp_path / "cp.json", ListSink()
        poller = MastodonPoller(s, sink, Checkpoint(cp), http=http())
        with caplog.at_level(logging.INFO):
            assert poller.poll_once() == 1
        assert [e["event_id"] for e in sink.events] == ["mastodon:101"]
        assert sink.dead == [
            (BAD_STATUS.encode(), "not readable as mastodon: NormaliseError: unreadable timestamp of type str",
             "connector:mastodon-poll"),
            (b'"oeps"', "not readable as mastodon: NormaliseError: expected a Mastodon entity with an id",
             "connector:mastodon-poll")]
        assert poller.metrics.counters["dead_letters"] == 2 and poller.metrics.counters["events_captured"] == 1
        saved = Checkpoint(cp)
        assert saved.get("statuses:1") == "102"          # past the whole page, the unreadable item too
        assert saved.get("threads:1") == {"101": RECENT}  # only what was read is followed
        # the log names the dead letters by hash, never by content
        assert "jan.jansen" not in caplog.text and "123456782" not in caplog.text and "oeps" not in caplog.text
        assert hashlib.sha256(BAD_STATUS.encode()).hexdigest()[:16] in caplog.text

        again = ListSink()
        MastodonPoller(s, again, Checkpoint(cp), http=http()).poll_once()
        assert again.events == [] and again.dead == []
        assert [r[2]["min_id"] for r in fake.requests if r[1].endswith("/statuses")] == ["0", "102", "102"]
    finally:
        fake.close()


def test_the_checkpoint_waits_for_the_dead_letters_acknowledgement(tmp_path):
    page = f"[{BAD_STATUS}, {mastodon_status('101', 'Bekendmaking')}]"

    def route(method, path, query, headers, body):
        if path == "/api/v1/accounts/1/statuses":
            return 200, {}, page if query["min_id"] == "0" else "[]"
        return 200, {}, {"ancestors": [], "descendants": []}

    class DeadLetterTopicDown(ListSink):
        def dead_letter(self, payload, reason, source, platform):
            raise OSError("dead-letter topic unavailable")

    fake = FakePlatform(route)
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}])
        cp = tmp_path / "cp.json"
        with pytest.raises(OSError):
            MastodonPoller(s, DeadLetterTopicDown(), Checkpoint(cp), http=http()).poll_once()
        assert Checkpoint(cp).get("statuses:1") is None   # not moved: the page is read again
        sink = ListSink()
        MastodonPoller(s, sink, Checkpoint(cp), http=http()).poll_once()
        assert [e["event_id"] for e in sink.events] == ["mastodon:101"]
        assert [payload for payload, _, _ in sink.dead] == [BAD_STATUS.encode()]
        assert Checkpoint(cp).get("statuses:1") == "102"
    finally:
        fake.close()


# an X post whose timestamp no parser reads, among the recorded conversation page's posts
BAD_TWEET = ('{"id": "1280155190306340999", "text": "@OriginalPerson000 mijn adres is Dorpsstraat 1", '
             '"author_id": "199562222", "created_at": "gisteren"}')


def test_x_page_with_an_unreadable_post_sends_the_others_and_moves_since_id(tmp_path):
    recorded = (FIX / "x-twitter/search-conversation-thread.json").read_text()
    page = recorded.replace('"data": [', '"data": [' + BAD_TWEET + ",", 1)
    assert page != recorded

    def route(method, path, query, headers, body):
        if path == "/2/users/42/tweets":
            return 200, {}, page if "since_id" not in query else {"meta": {"result_count": 0}}
        return 200, {}, {"meta": {"result_count": 0}}

    fake = FakePlatform(route)
    try:
        s = settings("x", fake.url, accounts=[{"id": "42", "handle": "Gemeente"}], page_size=10)
        cp, sink = tmp_path / "cp.json", ListSink()
        poller = XPoller(s, sink, Checkpoint(cp), http=http())
        assert poller.poll_once() == 3
        assert [e["event_id"] for e in sink.events] == [
            "x:1280155190306340864", "x:1280155225706433333", "x:1280169177479744444"]
        assert sink.dead == [(BAD_TWEET.encode(), "not readable as x: NormaliseError: unreadable timestamp of type str",
                              "connector:x-poll")]
        assert Checkpoint(cp).get("timeline:42") == "1280169177479744444"   # the page's meta.newest_id
        again = ListSink()
        XPoller(s, again, Checkpoint(cp), http=http()).poll_once()
        assert again.events == [] and again.dead == []
        timeline = [r[2] for r in fake.requests if r[1] == "/2/users/42/tweets"]
        assert timeline[-1]["since_id"] == "1280169177479744444"
    finally:
        fake.close()


# a Facebook comment without its id, between two readable ones
BAD_COMMENT = '{"message": "Bel me op 0612345678", "created_time": "2026-10-01T08:01:00+0000", "from": {"id": "91"}}'


def test_graph_comments_page_with_an_unreadable_comment_moves_the_after_cursor(tmp_path):
    good = [json.dumps({"id": f"111_{i}", "message": f"Reactie {i}", "created_time": f"2026-10-01T08:0{i}:00+0000",
                        "from": {"id": f"9{i}", "name": "Burger"}}) for i in (0, 2)]
    page = (f'{{"data": [{good[0]}, {BAD_COMMENT}, {good[1]}], '
            f'"paging": {{"cursors": {{"before": "MA", "after": "Mw"}}}}}}')

    def route(method, path, query, headers, body):
        return 200, {}, page if not query.get("after") else {"data": [], "paging": {"cursors": {}}}

    fake = FakePlatform(route)
    try:
        s = settings("facebook", fake.url, posts=["111"], accounts=[{"id": "111", "handle": "gemeente"}])
        cp, sink = tmp_path / "cp.json", ListSink()
        GraphCommentsPoller(s, sink, Checkpoint(cp), http=http()).poll_once()
        assert [e["event_id"] for e in sink.events] == ["facebook:111_0", "facebook:111_2"]
        assert sink.dead == [(BAD_COMMENT.encode(), "not readable as facebook: NormaliseError: Graph API object "
                                                    "without id", "connector:facebook-poll")]
        assert Checkpoint(cp).get("comments:111") == "Mw"
    finally:
        fake.close()


def test_an_unreadable_reply_in_a_thread_read_every_poll_is_dead_lettered_once(tmp_path):
    reply = ('{"id": "201", "created_at": "morgen", "in_reply_to_id": "101", "content": "<p>Mijn BSN is 123456782</p>",'
             ' "account": {"id": "9", "acct": "jan.jansen"}}')
    context = f'{{"ancestors": [], "descendants": [{reply}, {mastodon_status("202", "Dank u")}]}}'

    def route(method, path, query, headers, body):
        if path == "/api/v1/accounts/1/statuses":
            return 200, {}, f"[{mastodon_status('101', 'Bekendmaking')}]" if query["min_id"] == "0" else "[]"
        return 200, {}, context

    fake = FakePlatform(route)
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}])
        cp, sinks = tmp_path / "cp.json", [ListSink(), ListSink(), ListSink()]
        for sink in sinks:
            MastodonPoller(s, sink, Checkpoint(cp), http=http()).poll_once()
        assert [e["event_id"] for e in sinks[0].events] == ["mastodon:101", "mastodon:202"]
        assert sinks[0].dead == [(reply.encode(), "not readable as mastodon: NormaliseError: unreadable timestamp "
                                                  "of type str", "connector:mastodon-poll")]
        assert sinks[1].dead == sinks[2].dead == [] and sinks[1].events == sinks[2].events == []
        assert served(fake, "/api/v1/statuses/101/context") == 3   # the thread was followed every poll
    finally:
        fake.close()


# ------------------------------------------------------------------ a page that is not JSON

PROXY_PAGE = "<html><body>502 Bad Gateway</body></html>"


def test_a_mastodon_page_that_is_not_json_is_dead_lettered_once_and_the_account_waits(tmp_path):
    state = {"poisoned": True}

    def route(method, path, query, headers, body):
        if path == "/api/v1/accounts/1/statuses":
            if state["poisoned"]:
                return 200, {"Content-Type": "text/html"}, PROXY_PAGE
            return 200, {}, f"[{mastodon_status('150', 'Weer leesbaar')}]" if query["min_id"] == "0" else "[]"
        if path == "/api/v1/accounts/2/statuses":
            return 200, {}, f"[{mastodon_status('300', 'Andere gemeente')}]" if query["min_id"] == "0" else "[]"
        return 200, {}, {"ancestors": [], "descendants": []}

    fake = FakePlatform(route)
    clock = Clock()
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"},
                                                     {"id": "2", "handle": "provincie@social.example"}])
        cp, sink = tmp_path / "cp.json", ListSink()
        poller = MastodonPoller(s, sink, Checkpoint(cp), http=http(clock))
        poller.poll_once()                                   # no crash, the other account goes on
        assert [e["event_id"] for e in sink.events] == ["mastodon:300"]
        assert sink.dead == [(PROXY_PAGE.encode(), "not readable as mastodon: NormaliseError: not JSON "
                                                   "(Expecting value at line 1 column 1)", "connector:mastodon-poll")]
        assert Checkpoint(cp).get("statuses:1") is None      # nothing to move past
        assert Checkpoint(cp).get("unreadable_pages")["statuses:1"]["attempts"] == 1

        poller.poll_once()                                   # inside the backoff: not asked again
        assert served(fake, "/api/v1/accounts/1/statuses") == 1
        for _ in range(3):                                   # after it: asked again, still broken
            clock.now += 3600
            poller.poll_once()
        assert served(fake, "/api/v1/accounts/1/statuses") == 4
        assert len(sink.dead) == 1                           # no duplicate dead letters
        assert poller.metrics.counters["dead_letters"] == 1 and poller.metrics.counters["errors"] == 4

        state["poisoned"] = False                            # the platform answers properly again
        clock.now += 3600
        poller.poll_once()
        assert [e["event_id"] for e in sink.events] == ["mastodon:300", "mastodon:150"]
        saved = Checkpoint(cp)
        assert saved.get("statuses:1") == "150" and saved.get("unreadable_pages") == {}
    finally:
        fake.close()


def test_a_youtube_page_cut_short_is_dead_lettered_once_and_read_again_later(tmp_path):
    recorded = (FIX / "youtube/commentThreads-list-by-video.json").read_text()
    cut = recorded[:200]
    state = {"body": cut}

    def route(method, path, query, headers, body):
        if path == "/youtube/v3/commentThreads":
            return 200, {}, state["body"] if not query.get("pageToken") else {
                "kind": "youtube#commentThreadListResponse", "items": []}
        return 200, {}, {"kind": "youtube#commentListResponse", "items": []}

    fake = FakePlatform(route)
    clock = Clock()
    try:
        s = settings("youtube", fake.url, videos=["F1UP7wRCPH8"])
        cp, sink = tmp_path / "cp.json", ListSink()
        poller = YouTubePoller(s, sink, Checkpoint(cp), http=http(clock))
        for _ in range(3):
            poller.poll_once()
            clock.now += 3600
        assert sink.events == [] and served(fake, "/youtube/v3/commentThreads") == 3
        ((payload, reason, source),) = sink.dead
        assert payload == cut.encode() and source == "connector:youtube-poll"
        assert reason.startswith("not readable as youtube: NormaliseError: not JSON (")
        state["body"] = recorded
        poller.poll_once()
        assert len(sink.events) == 5 and len(sink.dead) == 1
    finally:
        fake.close()


def test_a_page_that_is_not_utf8_is_dead_lettered_with_its_bytes(tmp_path):
    body = b'[{"id": "1", "content": "\xff\xfe"}]'

    def route(method, path, query, headers, body_):
        return (200, {}, body) if path.endswith("/statuses") else (200, {}, {"ancestors": [], "descendants": []})

    fake = FakePlatform(route)
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}])
        sink = ListSink()
        MastodonPoller(s, sink, Checkpoint(tmp_path / "cp.json"), http=http()).poll_once()
        assert sink.dead == [(body, "not readable as mastodon: NormaliseError: not UTF-8", "connector:mastodon-poll")]
    finally:
        fake.close()


def test_a_server_error_is_retried_not_dead_lettered(tmp_path):
    def route(method, path, query, headers, body):
        return 503, {}, PROXY_PAGE

    fake = FakePlatform(route)
    try:
        s = settings("mastodon", fake.url, accounts=[{"id": "1", "handle": "gemeente@social.example"}])
        sink = ListSink()
        poller = MastodonPoller(s, sink, Checkpoint(tmp_path / "cp.json"), http=http())
        with pytest.raises(HttpError):      # the poll fails; `run` retries it with backoff
            poller.poll_once()
        assert sink.dead == [] and served(fake, "/api/v1/accounts/1/statuses") == 3   # max_retries=2
    finally:
        fake.close()
