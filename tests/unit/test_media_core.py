"""core.media: which files of a record are fetched, from where, and where they go. Expected
values are written out by hand."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archiefstroom.core import media
from archiefstroom.core.media import MediaSettings, Wanted

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "media"
GOV = frozenset({"rijksoverheid", "belastingdienst"})


def _event(platform="x", author="Rijksoverheid", account="Rijksoverheid", media_urls=(), urls=(), handle=None):
    return {"platform": platform, "account": {"id": account, "handle": account},
            "author": {"id": author, "handle": handle},
            "media": [{"url": u, "media_type": "photo", "alt_text": None} for u in media_urls], "urls": list(urls)}


@pytest.mark.parametrize("host, patterns, expected", [
    ("pbs.twimg.com", ["pbs.twimg.com"], True),
    ("PBS.twimg.com".lower(), ["pbs.twimg.com"], True),
    ("evil-pbs.twimg.com.example", ["pbs.twimg.com"], False),
    ("scontent-ams2-1.xx.fbcdn.net", ["*.fbcdn.net"], True),
    ("fbcdn.net", ["*.fbcdn.net"], False),
    ("notfbcdn.net", ["*.fbcdn.net"], False),
    ("127.0.0.1:8080", ["127.0.0.1:8080"], True),
    ("127.0.0.1:8081", ["127.0.0.1:8080"], False),
    ("127.0.0.1:8081", ["127.0.0.1"], True),
])
def test_hosts_match_exactly_or_as_subdomains(host, patterns, expected):
    assert media.host_matches(host, patterns) is expected


def test_a_government_post_s_media_are_fetched_from_the_platform_s_media_host():
    ev = _event(media_urls=["https://pbs.twimg.com/media/Fabc.jpg", "https://pbs.twimg.com/media/Fabc.jpg",
                            "https://evil.example/x.png", "ftp://pbs.twimg.com/a.png"])
    assert media.wanted(ev, MediaSettings(), GOV) == [
        Wanted("https://pbs.twimg.com/media/Fabc.jpg", "media", "https://pbs.twimg.com/media/Fabc.jpg",
               max_bytes=200 * 2**20),
        Wanted("https://evil.example/x.png", "media", None, media.HOST_NOT_ALLOWED),
        Wanted("ftp://pbs.twimg.com/a.png", "media", None, media.NOT_HTTP),
    ]


def test_a_citizen_s_media_are_skipped_unless_the_organisation_keeps_them():
    ev = _event(author="jan_burger", media_urls=["https://pbs.twimg.com/media/Xyz.jpg"])
    assert media.wanted(ev, MediaSettings(), GOV) == [
        Wanted("https://pbs.twimg.com/media/Xyz.jpg", "media", None, media.CITIZEN)]
    kept = media.wanted(ev, MediaSettings(citizen_media=True), GOV)
    assert [w.fetch_url for w in kept] == ["https://pbs.twimg.com/media/Xyz.jpg"]


def test_a_registry_account_replying_on_another_account_counts_as_government():
    ev = _event(author="belastingdienst", account="Rijksoverheid", media_urls=["https://pbs.twimg.com/media/B.png"])
    assert media.wanted(ev, MediaSettings(), GOV)[0].fetch_url == "https://pbs.twimg.com/media/B.png"


def test_a_mastodon_account_s_own_instance_serves_its_media():
    ev = _event(platform="mastodon", author="@rijksoverheid@social.overheid.nl",
                account="@rijksoverheid@social.overheid.nl",
                media_urls=["https://files.social.overheid.nl/media_attachments/1/original/a.png",
                            "https://social.overheid.nl/system/a.png", "https://files.mastodon.social/a.png"])
    assert [(w.fetch_url, w.skip) for w in media.wanted(ev, MediaSettings(), GOV)] == [
        ("https://files.social.overheid.nl/media_attachments/1/original/a.png", None),
        ("https://social.overheid.nl/system/a.png", None),
        (None, media.HOST_NOT_ALLOWED),
    ]


def test_a_bluesky_blob_is_fetched_from_the_cdn_under_its_author_s_did():
    ev = _event(platform="bluesky", author="did:plc:abc123", account="did:plc:abc123",
                media_urls=["blob:bafkreigh2akiscaildc"])
    (w,) = media.wanted(ev, MediaSettings(), GOV)
    assert w.url == "blob:bafkreigh2akiscaildc"
    assert w.fetch_url == "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:abc123/bafkreigh2akiscaildc@jpeg"


def test_a_youtube_video_page_is_not_a_file():
    ev = _event(platform="youtube", media_urls=["https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                                                "https://youtu.be/dQw4w9WgXcQ"])
    assert [w.skip for w in media.wanted(ev, MediaSettings(), GOV)] == [media.NOT_A_FILE, media.NOT_A_FILE]


def test_linked_pages_of_government_posts_only_when_configured():
    ev = _event(urls=["https://www.rijksoverheid.nl/nieuws", "javascript:alert(1)"])
    assert media.wanted(ev, MediaSettings(), GOV) == []
    assert media.wanted(ev, MediaSettings(linked_pages=True), GOV) == [
        Wanted("https://www.rijksoverheid.nl/nieuws", "linked_page", "https://www.rijksoverheid.nl/nieuws",
               max_bytes=5 * 2**20),
        Wanted("javascript:alert(1)", "linked_page", None, media.NOT_HTTP)]
    citizen = _event(author="jan_burger", urls=["https://example.org/"])
    assert media.wanted(citizen, MediaSettings(linked_pages=True), GOV) == []


def test_a_file_lives_beside_its_records_named_by_its_hash():
    sha = "bb0f81f512c23c752cf0ffaa3094ab5e205bdcf0372854516cf68610680eea10"
    v = {"retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 10, 1), "hotspot": None}
    b = {"retention_class": "B", "category": "1.1", "destroy_after": None, "hotspot": None}
    assert media.object_key("archive", v, sha) == f"archive/V-1.2-2036-10-31/media/bb/{sha}"
    assert media.object_key("archive", b, sha) == f"archive/B-1.1-permanent/media/bb/{sha}"
    assert media.is_media_key(f"archive/V-1.2-2036-10-31/media/bb/{sha}")
    assert not media.is_media_key("archive/V-1.2-2036-10-31/2026/10/raw+0+00000000000000000000-00000000000000000009.avro")


def test_the_bytes_tell_their_type_whatever_the_server_says():
    assert media.content_type("text/plain", (FIXTURES / "gopher.png").read_bytes()[:64]) == "image/png"
    assert media.content_type(None, (FIXTURES / "python.jpg").read_bytes()[:64]) == "image/jpeg"
    assert media.content_type("text/html; charset=utf-8", b"<!doctype html>") == "text/html"
    assert media.content_type(None, b"\x00\x01") == "application/octet-stream"


def test_a_payload_naming_thousands_of_files_has_only_the_first_fetched():
    ev = _event(media_urls=[f"https://pbs.twimg.com/media/{i}.jpg" for i in range(3000)])
    got = media.wanted(ev, MediaSettings(max_files=2), GOV)
    assert len(got) == 3000
    assert [w.fetch_url for w in got[:3]] == ["https://pbs.twimg.com/media/0.jpg", "https://pbs.twimg.com/media/1.jpg",
                                              None]
    assert {w.skip for w in got[2:]} == {media.TOO_MANY}
