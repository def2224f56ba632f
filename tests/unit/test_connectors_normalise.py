"""Normalisers against the real platform payloads in tests/fixtures/platforms (see PROVENANCE.md)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from archiefstroom import schemas
from archiefstroom.cli import main
from archiefstroom.connectors import base
from archiefstroom.connectors.base import Context, NormaliseError, json_span
from archiefstroom.connectors.registry import normalise_text

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.timezone.utc)
DIR_PLATFORM = {"mastodon": "mastodon", "x-twitter": "x", "youtube": "youtube", "bluesky": "bluesky"}

# (file, platform) -> event types, in output order
EXPECTED = {
    ("mastodon/status-get-hello-world.json", "mastodon"): ["post"],
    ("mastodon/sse-update-reply.json", "mastodon"): ["reply"],
    ("mastodon/ws-update-reply-string-payload.json", "mastodon"): ["reply"],
    ("mastodon/context-thread-abridged.json", "mastodon"): ["post", "reply", "reply", "reply"],
    ("mastodon/reblog-response.json", "mastodon"): ["repost"],
    ("mastodon/sse-status-update-edit.json", "mastodon"): ["edit"],
    ("mastodon/ws-delete.json", "mastodon"): ["delete"],
    ("mastodon/v2-grouped-notifications-favourite.json", "mastodon"): ["reaction", "reaction"],
    ("mastodon/v2-notification-group-single.json", "mastodon"): ["reaction", "reaction"],
    ("mastodon/notifications-list-mention-follow.json", "mastodon"): ["post"],
    ("x-twitter/stream-reply-to-org-post.json", "x"): ["reply"],
    ("x-twitter/lookup-org-reply-with-quote.json", "x"): ["quote"],
    ("x-twitter/search-conversation-thread.json", "x"): ["reply", "reply", "reply"],
    ("x-twitter/search-retweet.json", "x"): ["repost"],
    ("x-twitter/lookup-edited-tweet.json", "x"): ["edit"],
    ("x-twitter/aaa-tweet-delete-events.json", "x"): ["delete"],
    ("x-twitter/compliance-stream-delete.json", "x"): ["delete"],
    ("meta/fb-feed-status-add.json", "facebook"): ["post"],
    ("meta/fb-feed-comment-add.json", "facebook"): ["reply"],
    ("meta/fb-feed-reaction-add-on-reply.json", "facebook"): ["reaction"],
    ("meta/fb-feed-share-add.json", "facebook"): ["quote"],
    ("meta/fb-feed-comment-edited.json", "facebook"): ["edit"],
    ("meta/fb-feed-comment-remove.json", "facebook"): ["delete"],
    ("meta/ig-comments-reply.json", "instagram"): ["reply"],
    ("meta/fb-mention-post-add.json", "facebook"): ["post"],
    ("meta/fb-mention-comment-add.json", "facebook"): ["reply"],
    ("meta/fb-mention-post-add-25.json", "facebook"): ["post"],
    ("meta/fb-feed-post-remove.json", "facebook"): ["delete"],
    ("meta/fb-feed-post-edit.json", "facebook"): ["edit"],
    ("youtube/commentThreads-list-by-video.json", "youtube"): ["reply"] * 5,
    ("youtube/commentThreads-list-all-related-to-channel.json", "youtube"): ["reply"] * 4,
    ("youtube/comments-list-replies-by-parent.json", "youtube"): ["reply"] * 2,
    ("youtube/comments-insert-reply-response.json", "youtube"): ["reply"],
    ("youtube/activities-list-uploads.json", "youtube"): ["post"] * 2,
    ("youtube/activities-list-by-channel-snippet-only.json", "youtube"): ["post"] * 10,
    ("youtube/videos-list-single.json", "youtube"): ["post"],
    ("bluesky/jetstream-commit-create-like.json", "bluesky"): ["reaction"],
    ("bluesky/jetstream-commit-delete.json", "bluesky"): ["delete"],
    ("bluesky/record-post-reply.json", "bluesky"): ["reply"],
    ("bluesky/record-post-quote.json", "bluesky"): ["quote"],
}


def run(rel: str, platform: str, **ctx) -> list[dict]:
    text = (FIX / rel).read_text(encoding="utf-8")
    return normalise_text(platform, text, Context(platform=platform, captured_at=NOW, **ctx))


def by_id(events):
    return {e["native_id"]: e for e in events}


def test_every_fixture_is_listed():
    files = {str(p.relative_to(FIX)) for p in FIX.rglob("*.json")}
    assert files == {f for f, _ in EXPECTED}


@pytest.mark.parametrize("rel,platform", sorted(EXPECTED))
def test_fixture_normalises_to_valid_events(rel, platform):
    events = run(rel, platform)
    assert [e["event_type"] for e in events] == EXPECTED[(rel, platform)]
    text = (FIX / rel).read_text(encoding="utf-8")
    for ev in events:
        datum = schemas.from_wire(ev, "social_event")
        schemas.validate(datum, "social_event")
        raw = ev["raw"]["payload"]
        assert hashlib.sha256(raw.encode()).hexdigest() == ev["raw"]["sha256"]
        assert raw in text, "raw payload must be the exact text as delivered"
        assert ev["event_id"].startswith(ev["platform"] + ":")
        assert ev["object_id"].startswith(ev["platform"] + ":")
        assert ev["captured_at"] == "2026-10-01T12:00:00.000Z"
    assert len({e["event_id"] for e in events}) == len(events)


def test_page_items_keep_their_own_raw_slice():
    events = run("youtube/commentThreads-list-by-video.json", "youtube")
    assert len(events) == 5
    for ev in events:
        item = json.loads(ev["raw"]["payload"])
        assert item["id"] == ev["native_id"] and item["kind"] == "youtube#comment"
        assert ev["thread_root"] == "youtube:F1UP7wRCPH8" and ev["in_reply_to"] == "youtube:F1UP7wRCPH8"


def test_x_includes_resolve_author_account_and_parent():
    (ev,) = run("x-twitter/stream-reply-to-org-post.json", "x")
    assert ev["author"]["handle"] == "sheelaghb18"
    assert ev["account"]["handle"] == "PoliceMutual"     # owner of the conversation's root post
    assert ev["in_reply_to"] == ev["thread_root"] == "x:1377266697850257410"
    assert ev["mentions"] == ["PoliceMutual"] and ev["language"] == "en"
    assert "__twarc" in ev["raw"]["payload"]              # exact payload, extra keys and all


def test_x_repost_and_quote_carry_referenced_content():
    (rt,) = run("x-twitter/search-retweet.json", "x")
    assert rt["referenced"]["object_id"] == "x:1391677057810288641"
    assert rt["referenced"]["author"]["handle"] == "bibaigna96" and rt["referenced"]["text"] == "#POIUYTREWQ"
    (q,) = run("x-twitter/lookup-org-reply-with-quote.json", "x")
    assert q["referenced"]["object_id"] == "x:1200517737669378053"
    assert q["in_reply_to"] == "x:1225912275971657728" and q["author"]["handle"] == "TwitterDev"


def test_x_edit_shares_object_id_with_first_version():
    (ev,) = run("x-twitter/lookup-edited-tweet.json", "x")
    assert ev["object_id"] == "x:1576994746135764992" and ev["native_id"] == "1576994789110992896"
    assert ev["event_id"] == "x:1576994746135764992:edit:2022-10-03T17:57:11.000Z"
    assert ev["created_at"] == "2022-10-03T17:57:01.000Z" and ev["language"] is None  # 'qst' is no language


def test_x_thread_links_reply_to_reply():
    ev = by_id(run("x-twitter/search-conversation-thread.json", "x"))
    assert ev["1280169177479744444"]["in_reply_to"] == "x:1280155225706433333"
    assert {e["thread_root"] for e in ev.values()} == {"x:1279944223114900000"}


def test_mastodon_edit_delete_and_websocket_payload():
    (edit,) = run("mastodon/sse-status-update-edit.json", "mastodon")
    assert edit["event_id"] == "mastodon:109348699525106378:edit:2022-11-15T16:12:41.694Z"
    assert edit["object_id"] == "mastodon:109348699525106378" and edit["edited_at"] == "2022-11-15T16:12:41.694Z"
    (delete,) = run("mastodon/ws-delete.json", "mastodon")
    assert delete["event_id"] == "mastodon:106692867363994015:delete"
    (ws,) = run("mastodon/ws-update-reply-string-payload.json", "mastodon")
    assert ws["native_id"] == "108913983692647032" and ws["text"].startswith("And now I can't exit")
    (boost,) = run("mastodon/reblog-response.json", "mastodon")
    assert boost["referenced"]["object_id"] == "mastodon:109440142482846015"
    assert boost["referenced"]["text"] == "Toot!" and boost["text"] is None


def test_mastodon_context_chain_and_root():
    ev = by_id(run("mastodon/context-thread-abridged.json", "mastodon"))
    assert ev["103188982235527758"]["in_reply_to"] == "mastodon:103188971072973252"
    assert {e["thread_root"] for e in ev.values()} == {"mastodon:103188938570975982"}


def test_mastodon_sse_stream_text_with_event_names():
    status = (FIX / "mastodon/sse-update-reply.json").read_text()
    stream = f":thump\n\nevent: update\ndata: {status}\n\nevent: delete\ndata: 1234\n\n"
    events = normalise_text("mastodon", stream, Context(platform="mastodon", captured_at=NOW))
    assert [e["event_type"] for e in events] == ["reply", "delete"]
    assert events[1]["event_id"] == "mastodon:1234:delete" and events[0]["raw"]["payload"] == status


def test_meta_reaction_and_removal():
    (r,) = run("meta/fb-feed-reaction-add-on-reply.json", "facebook")
    assert r["event_id"] == "facebook:1234567890321_1357555177673636:reaction:1234567890321"
    assert r["reaction_kind"] == "like" and r["thread_root"] == "facebook:1234567890321_98735342324352"
    doc = json.loads((FIX / "meta/fb-feed-reaction-add-on-reply.json").read_text())
    doc["entry"][0]["changes"][0]["value"]["verb"] = "remove"
    (gone,) = normalise_text("facebook", json.dumps(doc), Context(platform="facebook", captured_at=NOW))
    # the reaction goes, not the comment it was on
    assert gone["event_type"] == "delete" and gone["object_id"] != r["object_id"]
    (ig,) = run("meta/ig-comments-reply.json", "instagram")
    assert ig["platform"] == "instagram" and ig["in_reply_to"] == "instagram:987654321"
    assert ig["thread_root"] == "instagram:76543987"


def test_meta_delivery_with_several_changes_gives_one_event_each():
    a = json.loads((FIX / "meta/fb-feed-comment-add.json").read_text())
    b = json.loads((FIX / "meta/fb-feed-status-add.json").read_text())
    a["entry"].append(b["entry"][0])
    events = normalise_text("facebook", json.dumps(a, indent=1), Context(platform="facebook", captured_at=NOW))
    assert [e["event_type"] for e in events] == ["reply", "post"]
    assert json.loads(events[1]["raw"]["payload"])["value"]["item"] == "status"


def test_bluesky_like_and_delete():
    (like,) = run("bluesky/jetstream-commit-create-like.json", "bluesky")
    subject = "at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325"
    assert like["object_id"] == f"bluesky:{subject}"
    assert like["event_id"] == f"bluesky:{subject}:reaction:did:plc:eygmaihciaxprqvxpfvl6flk"
    assert like["created_at"] == "2024-09-09T19:46:02.102Z"
    (reply,) = run("bluesky/record-post-reply.json", "bluesky")
    assert reply["in_reply_to"] == reply["thread_root"] == \
        "bluesky:at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"


def test_youtube_viewer_like_only_with_known_account():
    rel = "youtube/commentThreads-list-all-related-to-channel.json"
    assert len(run(rel, "youtube")) == 4
    events = run(rel, "youtube", account={"id": "UCa-vrCLQHviTOVnEKDOdetQ", "handle": "me", "display_name": None})
    reactions = [e for e in events if e["event_type"] == "reaction"]
    assert len(reactions) == 1 and reactions[0]["object_id"] == "youtube:Ugw5zYU6n9pmIgAZWvN4AaABAg"


def test_youtube_edit_from_updated_at():
    doc = json.loads((FIX / "youtube/comments-insert-reply-response.json").read_text())
    doc["snippet"]["updatedAt"] = "2022-11-15T08:00:00Z"
    (ev,) = normalise_text("youtube", json.dumps(doc), Context(platform="youtube", captured_at=NOW))
    assert ev["event_type"] == "edit" and ev["event_id"].endswith(":edit:2022-11-15T08:00:00.000Z")


def test_linkedin_posts_comments_reactions():
    body = {"paging": {"start": 0, "count": 10}, "elements": [
        {"id": "urn:li:share:7000000000000000001", "author": "urn:li:organization:1000",
         "commentary": "Nieuwe regeling #huurtoeslag", "createdAt": 1727776800000, "lastModifiedAt": 1727776800000,
         "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"},
        {"id": "urn:li:share:7000000000000000002", "author": "urn:li:organization:1000", "commentary": "",
         "createdAt": 1727776900000, "reshareContext": {"parent": "urn:li:share:6999", "root": "urn:li:share:6999"}}]}
    events = normalise_text("linkedin", json.dumps(body), Context(platform="linkedin", captured_at=NOW))
    assert [e["event_type"] for e in events] == ["post", "repost"]
    assert events[0]["hashtags"] == ["huurtoeslag"] and events[1]["referenced"]["object_id"] == "linkedin:urn:li:share:6999"
    comments = {"elements": [{"$URN": "urn:li:comment:(urn:li:activity:1,2)", "id": "2",
                              "actor": "urn:li:person:abc", "object": "urn:li:activity:1",
                              "message": {"text": "Wanneer gaat dit in?"},
                              "created": {"time": 1727777000000, "actor": "urn:li:person:abc"},
                              "lastModified": {"time": 1727777000000}}]}
    (c,) = normalise_text("linkedin", json.dumps(comments), Context(platform="linkedin", captured_at=NOW))
    assert c["event_type"] == "reply" and c["in_reply_to"] == "linkedin:urn:li:activity:1"


def test_x_archive_export():
    js = 'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1500", "full_text": "Hallo #Utrecht @buur", ' \
         '"created_at": "Wed Oct 10 20:19:24 +0000 2018", "lang": "nl", "entities": {"hashtags": [{"text": "Utrecht"}],' \
         ' "user_mentions": [{"screen_name": "buur"}], "urls": []}}}]'
    acct = {"id": "42", "handle": "gemeente", "display_name": "Gemeente"}
    (ev,) = normalise_text("x", js, Context(platform="x", account=acct, captured_at=NOW))
    assert ev["event_id"] == "x:1500" and ev["author"]["id"] == "42" and ev["created_at"] == "2018-10-10T20:19:24.000Z"
    assert ev["hashtags"] == ["Utrecht"] and ev["mentions"] == ["buur"]


def test_facebook_export_posts_are_stable():
    posts = [{"timestamp": 1700000000, "data": [{"post": "Vandaag open dag"}], "title": "Gemeente"}]
    a = normalise_text("facebook", json.dumps(posts), Context(platform="facebook", captured_at=NOW))
    b = normalise_text("facebook", json.dumps(posts), Context(platform="facebook", captured_at=NOW))
    assert a[0]["event_id"] == b[0]["event_id"] and a[0]["text"] == "Vandaag open dag"


def test_unknown_keys_are_tolerated():
    doc = json.loads((FIX / "x-twitter/lookup-org-reply-with-quote.json").read_text())
    doc["__twarc"] = {"url": "x", "version": "9"}
    doc["data"][0]["future_field"] = {"nested": [1, 2]}
    assert len(normalise_text("x", json.dumps(doc), Context(platform="x", captured_at=NOW))) == 1


@pytest.mark.parametrize("text", ['{"data": ', '{"hello": "world"}', "[1, 2]", "plain text"])
def test_unreadable_payloads_raise(text):
    with pytest.raises((NormaliseError, schemas.WireError)):
        normalise_text("mastodon", text, Context(platform="mastodon", captured_at=NOW))


def test_json_span_finds_exact_text():
    text = '{ "a" : [ {"x": 1} , {"y" : "}\\"]"} ], "b": 2 }'
    s, e = json_span(text, ("a", 1))
    assert text[s:e] == '{"y" : "}\\"]"}'
    s, e = json_span(text, ("b",))
    assert text[s:e] == "2"


def test_time_parsing_variants():
    assert base.iso(base.parse_time("2023-08-07T05:49:39.417839Z")) == "2023-08-07T05:49:39.417Z"
    assert base.iso(base.parse_time("2016-05-10T09:21:33+0000")) == "2016-05-10T09:21:33.000Z"
    assert base.iso(base.parse_time(1725911162329308)) == "2024-09-09T19:46:02.329Z"
    assert base.iso(base.parse_time("1432228155593")) == "2015-05-21T17:09:15.593Z"
    assert base.iso(base.parse_time(1449135003)) == "2015-12-03T09:30:03.000Z"


# ------------------------------------------------------------------ CLI

def test_cli_prints_json_lines_for_all_files(capsys):
    files = [str(FIX / "youtube/commentThreads-list-by-video.json"), str(FIX / "youtube/comments-list-replies-by-parent.json")]
    assert main(["normalise", "--platform", "youtube", "--captured-at", "2026-10-01T12:00:00Z", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    for line in lines:
        schemas.validate(schemas.from_wire(json.loads(line), "social_event"), "social_event")


def test_cli_names_the_unreadable_file_and_fails(tmp_path, capsys):
    bad = tmp_path / "broken.json"
    bad.write_text('{"id": "1", "created_at": ')
    good = FIX / "mastodon/status-get-hello-world.json"
    assert main(["normalise", "--platform", "mastodon", str(good), str(bad)]) != 0
    captured = capsys.readouterr()
    assert "broken.json" in captured.err and len(captured.out.splitlines()) == 1
    assert main(["normalise", "--platform", "x", str(tmp_path / "missing.json")]) != 0
    assert "missing.json" in capsys.readouterr().err


def test_cli_every_sample_directory(capsys):
    for folder, platform in DIR_PLATFORM.items():
        files = sorted(str(p) for p in (FIX / folder).glob("*.json"))
        assert main(["normalise", "--platform", platform, *files]) == 0, folder
        out = capsys.readouterr().out.splitlines()
        assert len(out) == sum(len(v) for (f, p), v in EXPECTED.items() if f.startswith(folder + "/"))


def test_mastodon_reply_belongs_to_the_account_it_answers():
    (ev,) = run("mastodon/sse-update-reply.json", "mastodon")
    assert ev["account"]["handle"] == "disarray@pl.nulled.red" and ev["author"]["handle"] == "freon@letsalllovela.in"
    (self_reply,) = run("mastodon/ws-update-reply-string-payload.json", "mastodon")
    assert self_reply["account"]["id"] == self_reply["author"]["id"] == "1081104"
    configured = {"id": "9", "handle": "gemeente@social.example", "display_name": "Gemeente"}
    (ev,) = run("mastodon/sse-update-reply.json", "mastodon", account=configured)
    assert ev["account"] == configured


def test_x_video_is_its_best_mp4_variant_and_a_photo_its_url():
    """Written from the X API v2 media object's fields (type, url, preview_image_url, variants with
    bit_rate, content_type, url), not a recorded payload: none with variants was at hand."""
    payload = {"data": {"id": "1700000000000000001", "text": "Bekijk de video", "author_id": "1",
                        "conversation_id": "1700000000000000001", "created_at": "2026-10-01T10:00:00.000Z",
                        "attachments": {"media_keys": ["7_1", "3_2"]}},
               "includes": {"users": [{"id": "1", "username": "Rijksoverheid", "name": "Rijksoverheid"}],
                            "media": [{"media_key": "7_1", "type": "video",
                                       "preview_image_url": "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/p.jpg",
                                       "variants": [
                                           {"content_type": "application/x-mpegURL",
                                            "url": "https://video.twimg.com/ext_tw_video/1/pu/pl/a.m3u8"},
                                           {"bit_rate": 256000, "content_type": "video/mp4",
                                            "url": "https://video.twimg.com/ext_tw_video/1/pu/vid/480x270/low.mp4"},
                                           {"bit_rate": 2176000, "content_type": "video/mp4",
                                            "url": "https://video.twimg.com/ext_tw_video/1/pu/vid/1280x720/hd.mp4"}]},
                                      {"media_key": "3_2", "type": "photo", "alt_text": "Kaart",
                                       "url": "https://pbs.twimg.com/media/F1.jpg"}]}}
    (ev,) = normalise_text("x", json.dumps(payload), Context(platform="x", captured_at=NOW))
    assert ev["media"] == [
        {"url": "https://video.twimg.com/ext_tw_video/1/pu/vid/1280x720/hd.mp4", "media_type": "video", "alt_text": None},
        {"url": "https://pbs.twimg.com/media/F1.jpg", "media_type": "photo", "alt_text": "Kaart"}]


def test_youtube_video_keeps_its_largest_thumbnail_as_a_file():
    (ev,) = run("youtube/videos-list-single.json", "youtube")
    assert ev["media"] == [
        {"url": "https://www.youtube.com/watch?v=D-lhorsDlUQ", "media_type": "video", "alt_text": None},
        {"url": "https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg", "media_type": "thumbnail", "alt_text": None}]
