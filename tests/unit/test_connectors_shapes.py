"""The payload shapes of issue 15 ("every real payload shape"), each against a recorded real
payload in tests/fixtures/platforms (provenance in PROVENANCE.md), with the expected canonical
event written out by hand: Mastodon v2 grouped notifications and v1 notification lists,
Facebook Page `mention` webhooks and Page post edits/deletes, YouTube activities.list uploads
and videos.list. And the YouTube poller reading a channel's uploads from a local fake."""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

import pytest

from archiefstroom.connectors.base import Context, NormaliseError
from archiefstroom.connectors.pollers import YouTubePoller
from archiefstroom.connectors.registry import normalise_text
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground.settings import from_dict
from tests.unit.connector_fakes import FakePlatform

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.timezone.utc)
CAPTURED = "2026-10-01T12:00:00.000Z"
FIELDS = ("event_id", "object_id", "event_type", "native_id", "in_reply_to", "thread_root", "text", "created_at",
          "edited_at", "mentions", "reaction_kind")


def run(rel: str, platform: str, text: str | None = None, **ctx) -> list[dict]:
    text = text if text is not None else (FIX / rel).read_text(encoding="utf-8")
    return normalise_text(platform, text, Context(platform=platform, captured_at=NOW, **ctx))


def view(ev: dict) -> dict:
    out = {k: ev[k] for k in FIELDS}
    out["author"], out["account"] = ev["author"]["id"], ev["account"]["id"]
    return out


# ------------------------------------------------------------------ Mastodon

POST = "115045579483817481"          # mastodonpy_test's "Testing grouped notifications!"
OWNER = "115045158004229352"         # mastodonpy_test
FAN_FULL, FAN_PARTIAL = "115045158144846374", "115045157726281124"   # in accounts[] / in partial_accounts[]


def favourite(actor: str, created_at: str) -> dict:
    return {"event_id": f"mastodon:{POST}:reaction:{actor}", "object_id": f"mastodon:{POST}",
            "event_type": "reaction", "native_id": POST, "in_reply_to": f"mastodon:{POST}",
            "thread_root": f"mastodon:{POST}", "text": None, "created_at": created_at, "edited_at": None,
            "mentions": [], "reaction_kind": "favourite", "author": actor, "account": OWNER}


def test_mastodon_v2_grouped_favourites_one_reaction_per_sampled_account():
    events = run("mastodon/v2-grouped-notifications-favourite.json", "mastodon")
    assert [view(e) for e in events] == [favourite(FAN_FULL, "2025-08-17T18:43:50.523Z"),
                                         favourite(FAN_PARTIAL, "2025-08-17T18:43:50.523Z")]
    full, partial = events
    assert full["author"]["handle"] == "mastodonpy_test_2@localhost"
    # the second liker is only in partial_accounts (expand_accounts=partial_avatars): still named
    assert partial["author"] == {"id": FAN_PARTIAL, "handle": "admin@localhost", "display_name": None,
                                 "profile_url": "http://localhost:3000/@admin",
                                 "avatar_url": "http://localhost:3000/avatars/original/missing.png"}
    assert full["account"] == {"id": OWNER, "handle": "mastodonpy_test@localhost", "display_name": "John Lennon"}
    # one group on the page: both events carry the whole body as delivered
    assert full["raw"]["payload"] == (FIX / "mastodon/v2-grouped-notifications-favourite.json").read_text()


def test_mastodon_v2_single_group_has_no_page_time_and_same_event_ids():
    events = run("mastodon/v2-notification-group-single.json", "mastodon")
    # GET /api/v2/notifications/:group_key carries no latest_page_notification_at: capture time
    assert [view(e) for e in events] == [favourite(FAN_FULL, CAPTURED), favourite(FAN_PARTIAL, CAPTURED)]
    page = run("mastodon/v2-grouped-notifications-favourite.json", "mastodon")
    assert [e["event_id"] for e in events] == [e["event_id"] for e in page]   # recognised downstream


def test_mastodon_v2_page_with_several_groups_gives_each_its_own_slice():
    doc = json.loads((FIX / "mastodon/v2-grouped-notifications-favourite.json").read_text())
    reblog = {**doc["notification_groups"][0], "group_key": "reblog-x", "type": "reblog",
              "sample_account_ids": [FAN_FULL]}
    follow = {"group_key": "follow-1", "type": "follow", "notifications_count": 1, "sample_account_ids": [FAN_FULL]}
    doc["notification_groups"] += [reblog, follow]
    text = json.dumps(doc, indent=2)
    events = run("", "mastodon", text)
    assert [(e["event_type"], e["event_id"]) for e in events] == [
        ("reaction", f"mastodon:{POST}:reaction:{FAN_FULL}"), ("reaction", f"mastodon:{POST}:reaction:{FAN_PARTIAL}"),
        ("repost", f"mastodon:{POST}:reblog:{FAN_FULL}")]
    assert json.loads(events[0]["raw"]["payload"])["type"] == "favourite"
    assert json.loads(events[2]["raw"]["payload"])["type"] == "reblog"
    assert events[2]["referenced"]["object_id"] == f"mastodon:{POST}"
    assert events[2]["referenced"]["text"] == "Testing grouped notifications!"


def test_mastodon_v2_mention_group_is_the_status_itself():
    """A mention arrives in v2 as a one-notification group naming its status."""
    page = json.loads((FIX / "mastodon/notifications-list-mention-follow.json").read_text())
    mention = page[0]
    doc = {"accounts": [mention["account"]], "statuses": [mention["status"]],
           "notification_groups": [{"group_key": "ungrouped-22", "notifications_count": 1, "type": "mention",
                                    "most_recent_notification_id": 22, "sample_account_ids": [mention["account"]["id"]],
                                    "status_id": mention["status"]["id"]}]}
    (ev,) = run("", "mastodon", json.dumps(doc))
    (v1,) = run("mastodon/notifications-list-mention-follow.json", "mastodon")
    assert view(ev) == view(v1)


def test_mastodon_v2_group_naming_a_missing_status_is_refused():
    doc = json.loads((FIX / "mastodon/v2-grouped-notifications-favourite.json").read_text())
    doc["statuses"] = []
    with pytest.raises(NormaliseError, match="status the page does not hold"):
        run("", "mastodon", json.dumps(doc))
    empty = '{"accounts":[],"partial_accounts":[],"statuses":[],"notification_groups":[]}'
    assert run("", "mastodon", empty) == []   # the recorded answer after dismissing: no content, no error


def test_mastodon_v1_notification_list_mention_is_a_post_follow_is_nothing():
    events = run("mastodon/notifications-list-mention-follow.json", "mastodon")
    assert [view(e) for e in events] == [{
        "event_id": "mastodon:115045577646096554", "object_id": "mastodon:115045577646096554",
        "event_type": "post", "native_id": "115045577646096554", "in_reply_to": None,
        "thread_root": "mastodon:115045577646096554", "text": "@mastodonpy_test hello!",
        "created_at": "2025-08-17T18:43:21.877Z", "edited_at": None, "mentions": ["mastodonpy_test"],
        "reaction_kind": None, "author": "115045157726281124", "account": "115045157726281124"}]
    # the item's own slice of the list: the mention notification, not the follow
    assert json.loads(events[0]["raw"]["payload"])["id"] == "22"


# ------------------------------------------------------------------ Facebook

PAGE = "1234567890321"   # restfb's anonymised Page id (entry[].id)


def test_facebook_mention_post_is_a_citizen_post_mentioning_the_page():
    (ev,) = run("meta/fb-mention-post-add.json", "facebook")
    assert view(ev) == {
        "event_id": "facebook:1234567890321_98722536423179", "object_id": "facebook:1234567890321_98722536423179",
        "event_type": "post", "native_id": "1234567890321_98722536423179", "in_reply_to": None,
        "thread_root": "facebook:1234567890321_98722536423179", "text": "A test post message",
        "created_at": "2021-02-26T11:56:02.000Z", "edited_at": None, "mentions": [PAGE], "reaction_kind": None,
        "author": "unknown", "account": PAGE}   # since v2.11 a mention names no sender


def test_facebook_mention_comment_is_a_reply_on_the_post_it_was_written_under():
    (ev,) = run("meta/fb-mention-comment-add.json", "facebook")
    assert view(ev) == {
        "event_id": "facebook:7363534231324_3754798971271444", "object_id": "facebook:7363534231324_3754798971271444",
        "event_type": "reply", "native_id": "7363534231324_3754798971271444",
        "in_reply_to": "facebook:1234567890321_7363534231324", "thread_root": "facebook:1234567890321_7363534231324",
        "text": "Just a test message", "created_at": "2021-02-26T12:01:02.000Z", "edited_at": None,
        "mentions": [PAGE], "reaction_kind": None, "author": "unknown", "account": PAGE}


def test_facebook_mention_v2_5_shape_names_the_sender():
    (ev,) = run("meta/fb-mention-post-add-25.json", "facebook")
    assert view(ev) == {
        "event_id": "facebook:44444444_444444444", "object_id": "facebook:44444444_444444444",
        "event_type": "post", "native_id": "44444444_444444444", "in_reply_to": None,
        "thread_root": "facebook:44444444_444444444", "text": None,
        "created_at": "2017-06-01T20:39:46.000Z",   # no created_time: the entry's time
        "edited_at": None, "mentions": [PAGE], "reaction_kind": None, "author": "44444444", "account": PAGE}
    assert ev["author"]["display_name"] == "Example Name"


def test_facebook_feed_change_does_not_claim_a_mention():
    (ev,) = run("meta/fb-feed-comment-add.json", "facebook")
    assert PAGE not in ev["mentions"]


def test_facebook_page_post_edit_and_remove():
    (edit,) = run("meta/fb-feed-post-edit.json", "facebook")
    assert view(edit) == {
        "event_id": "facebook:1234567890321_7293787835232:edit:2016-07-07T11:20:09.000Z",
        "object_id": "facebook:1234567890321_7293787835232", "event_type": "edit",
        "native_id": "1234567890321_7293787835232", "in_reply_to": None,
        "thread_root": "facebook:1234567890321_7293787835232", "text": "Let's check this",
        "created_at": "2016-07-07T11:20:09.000Z", "edited_at": "2016-07-07T11:20:09.000Z", "mentions": [],
        "reaction_kind": None, "author": "8423678347823", "account": PAGE}
    (gone,) = run("meta/fb-feed-post-remove.json", "facebook")
    assert view(gone) == {
        "event_id": "facebook:1234567890321_901097836652708:delete", "object_id": "facebook:1234567890321_901097836652708",
        "event_type": "delete", "native_id": "1234567890321_901097836652708", "in_reply_to": None,
        "thread_root": "facebook:1234567890321_901097836652708", "text": None,
        "created_at": "2016-01-06T16:49:46.000Z", "edited_at": None, "mentions": [], "reaction_kind": None,
        "author": PAGE, "account": PAGE}


# ------------------------------------------------------------------ YouTube

def upload(vid: str, channel: str, text: str, created_at: str) -> dict:
    return {"event_id": f"youtube:{vid}", "object_id": f"youtube:{vid}", "event_type": "post", "native_id": vid,
            "in_reply_to": None, "thread_root": f"youtube:{vid}", "text": text, "created_at": created_at,
            "edited_at": None, "mentions": [], "reaction_kind": None, "author": channel, "account": channel}


def test_youtube_activities_uploads_are_the_channels_posts():
    events = run("youtube/activities-list-uploads.json", "youtube")
    assert [view(e) for e in events] == [
        upload("JE8xdDp5B8Q", "UCa-vrCLQHviTOVnEKDOdetQ", "华山日出\n\n冷冷的山头", "2019-11-29T02:57:07.000Z"),
        upload("Xfrcfiho_xM", "UCa-vrCLQHviTOVnEKDOdetQ", "海上日出\n\n美美美", "2019-11-29T02:51:42.000Z")]
    assert events[0]["url"] == "https://www.youtube.com/watch?v=JE8xdDp5B8Q"
    assert events[0]["author"]["display_name"] == "ikaros-life"
    assert json.loads(events[1]["raw"]["payload"])["id"] == "MTUxNTc0OTk1OTAyMjg1OTU3Nzk0MzY0MzI="


def test_youtube_snippet_only_activities_name_the_video_in_the_thumbnails():
    events = run("youtube/activities-list-by-channel-snippet-only.json", "youtube")
    assert len(events) == 10 and {e["author"]["id"] for e in events} == {"UC_x5XG1OV2P6uZZ5FSM9Ttw"}
    first = view(events[0])
    assert first["event_id"] == "youtube:Du7E0okmNlk" and first["created_at"] == "2019-10-31T21:00:12.000Z"
    assert first["text"].startswith("Android Developer Challenge, Google Maps Platform, New in Chrome 78\n\nTL;DR 180")
    assert events[0]["hashtags"] == ["DevShow"]
    assert events[0]["urls"][0] == "https://goo.gle/2N2482c"


def test_youtube_activity_that_is_not_an_upload_gives_nothing_and_an_unnamed_upload_is_refused():
    doc = json.loads((FIX / "youtube/activities-list-uploads.json").read_text())
    liked = copy.deepcopy(doc)
    liked["items"][0]["snippet"]["type"] = "like"
    liked["items"][0]["contentDetails"] = {"like": {"resourceId": {"kind": "youtube#video", "videoId": "JE8xdDp5B8Q"}}}
    assert [e["native_id"] for e in run("", "youtube", json.dumps(liked))] == ["Xfrcfiho_xM"]
    unnamed = copy.deepcopy(doc)
    del unnamed["items"][0]["contentDetails"]
    unnamed["items"][0]["snippet"]["thumbnails"] = {}
    with pytest.raises(NormaliseError, match="videoId"):
        run("", "youtube", json.dumps(unnamed))


def test_youtube_videos_list_single_video():
    (ev,) = run("youtube/videos-list-single.json", "youtube")
    assert view(ev) == upload(
        "D-lhorsDlUQ", "UC_x5XG1OV2P6uZZ5FSM9Ttw",
        ev["text"], "2019-03-21T20:37:49.000Z") and ev["text"].startswith(
        "What are Actions on Google (Assistant on Air)\n\nIn the first episode of Assistant on Air")
    assert ev["language"] == "en" and "Actions on Google" in ev["hashtags"]


def test_youtube_upload_activity_and_video_share_the_event_id():
    (video,) = run("youtube/videos-list-single.json", "youtube")
    doc = json.loads((FIX / "youtube/activities-list-uploads.json").read_text())
    doc["items"] = doc["items"][:1]
    doc["items"][0]["contentDetails"]["upload"]["videoId"] = "D-lhorsDlUQ"
    (act,) = run("", "youtube", json.dumps(doc))
    assert act["event_id"] == video["event_id"] == "youtube:D-lhorsDlUQ"


def test_youtube_poller_reads_the_channels_uploads_once(tmp_path):
    uploads = json.loads((FIX / "youtube/activities-list-uploads.json").read_text())
    channel = "UCa-vrCLQHviTOVnEKDOdetQ"

    def route(method, path, query, headers, body):
        if path == "/youtube/v3/activities":
            assert query["channelId"] == channel and query["part"] == "snippet,contentDetails"
            return 200, {}, uploads
        if path == "/youtube/v3/commentThreads":
            assert query["allThreadsRelatedToChannelId"] == channel
            return 200, {}, {"kind": "youtube#commentThreadListResponse", "items": []}
        return 404, {}, {}

    fake = FakePlatform(route)
    try:
        s = from_dict({"platform": "youtube", "base_url": fake.url, "page_size": 3,
                       "accounts": [{"id": channel, "handle": "ikaros-life"}],
                       "http": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05}}, ConnectorSettings)
        http = HttpClient(sleep=lambda s: None, rng=random.Random(1), backoff_base=0.01, backoff_max=0.02)
        cp, sink = tmp_path / "cp.json", ListSink()
        YouTubePoller(s, sink, Checkpoint(cp), http=http).poll_once()
        assert [(e["event_type"], e["event_id"]) for e in sink.events] == [
            ("post", "youtube:JE8xdDp5B8Q"), ("post", "youtube:Xfrcfiho_xM")]
        assert sink.events[0]["account"]["id"] == channel
        again = ListSink()
        YouTubePoller(s, again, Checkpoint(cp), http=http).poll_once()
        assert again.events == []   # known uploads are not sent again
    finally:
        fake.close()
