"""Media and linked pages kept beside the records (issue 15): which files of a record are
fetched, where they go in the bucket, and what the record says about each. No I/O.

Section `media:` of the main configuration:

    media:
      enabled: true
      hosts: [pbs.twimg.com, ...]   # hosts media may come from (a leading "*." allows subdomains)
      citizen_media: false          # fetch media of citizens' reactions too (see below)
      linked_pages: false           # also keep the pages a government post links to
      private_hosts: []             # hosts allowed to resolve to a private or loopback address
      max_bytes: 209715200          # a medium larger than this is not kept (recorded as failed)
      max_page_bytes: 5242880
      max_files: 50                 # files fetched per record at most; the rest are recorded as skipped
      attempts: 3                   # tries per file; then it is recorded as failed, with the reason
      backoff_seconds: 1.0
      timeout_seconds: 20

Choices, and why:
- Only the government's own publications have their media fetched by default (the author is
  the monitored account or a registry account). A citizen's photo is personal data that
  pseudonymisation cannot reach inside the image; it is recorded as `skipped` with the reason,
  and `citizen_media: true` is for an organisation that has a basis to keep it.
- Media come only from the platforms' own media hosts (`hosts`; a Mastodon account's instance and
  its subdomains besides): an event's URL is input from outside, and fetching anything it names
  would let a payload make the pipeline call internal services (SSRF). Linked pages may be on any
  host, but never one that resolves to a private, loopback or link-local address (checked at
  fetch time, for every redirect) unless it is listed in `private_hosts`.
- A file lives under its record's retention directory (core.layout), named by its SHA-256:
  `{prefix}/{retention dir}/media/{sha[:2]}/{sha}`. It gets the record's tags and Object Lock, is
  destroyed with its retention group, and the same bytes in one group are stored once. A file
  shared by two groups is stored in each: retention stays per object, as for records.
- A YouTube video is a page, not a file: the Data API serves no video bytes, so it is recorded as
  `skipped` (the organisation's own original is the record to transfer).
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Annotated

from archiefstroom.core import layout
from archiefstroom.core.fields import check

MEDIA_DIR = "media"
STORED, FAILED, SKIPPED = "stored", "failed", "skipped"
MEDIUM, LINKED_PAGE = "media", "linked_page"

# reasons of `skipped` (stable strings: the record keeps them)
CITIZEN = "citizen's media not fetched (personal data; media.citizen_media)"
NOT_A_FILE = "a platform page, not a file (the platform's API serves no bytes for it)"
HOST_NOT_ALLOWED = "host not among media.hosts"
TOO_MANY = "more files than media.max_files"
NOT_HTTP = "not an http(s) URL"

DEFAULT_HOSTS = [
    "pbs.twimg.com", "video.twimg.com", "ton.twimg.com",           # X
    "*.fbcdn.net", "*.cdninstagram.com",                           # Facebook, Instagram
    "media.licdn.com", "dms.licdn.com",                            # LinkedIn
    "i.ytimg.com",                                                 # YouTube thumbnails
    "cdn.bsky.app", "video.bsky.app",                              # Bluesky
]
_host = re.compile(r"^(\*\.)?[A-Za-z0-9.\-]+(:\d{1,5})?$")


@dataclass
class MediaSettings:
    enabled: bool = True
    hosts: Annotated[list[str], check(lambda v: all(_host.match(h) for h in v),
                                      "a list of host names (a leading *. allows subdomains)")] = \
        field(default_factory=lambda: list(DEFAULT_HOSTS))
    citizen_media: bool = False
    linked_pages: bool = False
    private_hosts: Annotated[list[str], check(lambda v: all(_host.match(h) for h in v),
                                              "a list of host names or host:port")] = field(default_factory=list)
    max_bytes: Annotated[int, check(lambda v: 1024 <= v <= 5 * 2**30, "bytes between 1 KiB and 5 GiB (one S3 put)")] = 200 * 2**20
    max_page_bytes: Annotated[int, check(lambda v: 1024 <= v <= 2**30, "bytes between 1 KiB and 1 GiB")] = 5 * 2**20
    # files fetched per record at most (platforms allow 4 to 20; a hostile payload could name thousands)
    max_files: Annotated[int, check(lambda v: 1 <= v <= 1000, "a number of files 1..1000")] = 50
    attempts: Annotated[int, check(lambda v: 1 <= v <= 10, "attempts between 1 and 10")] = 3
    backoff_seconds: Annotated[float, check(lambda v: 0 <= v <= 60, "seconds between 0 and 60")] = 1.0
    timeout_seconds: Annotated[float, check(lambda v: 0.5 <= v <= 600, "seconds between 0.5 and 600")] = 20.0
    # Bluesky events name an image by its blob CID; the public CDN serves it under the author's DID
    bluesky_blob_url: Annotated[str, check(lambda v: "{did}" in v and "{cid}" in v, "a URL template with {did} and {cid}")] = \
        "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"


@dataclass(frozen=True)
class Wanted:
    """One file of a record: fetch `fetch_url`, or record `skip` as the reason it is not fetched."""
    url: str                 # as the event names it
    kind: str                # MEDIUM or LINKED_PAGE
    fetch_url: str | None
    skip: str | None = None
    max_bytes: int = 0


def host_matches(host_port: str, patterns) -> bool:
    """`host_port` ("host" or "host:port", lower case) against patterns: exact, or "*.domain" for the
    domain's subdomains. A pattern with a port matches only that port."""
    host = host_port.rsplit(":", 1)[0] if host_port.count(":") == 1 else host_port
    for p in patterns:
        p = p.lower()
        target = host_port if ":" in p else host
        if p.startswith("*."):
            if target.endswith(p[1:]):
                return True
        elif target == p:
            return True
    return False


def host_of(url: str) -> str:
    """"host" or "host:port" of an http(s) URL, lower case ('' when there is none)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    return f"{host}:{port}" if port else host


def _instance(account_id: str) -> str | None:
    """A Mastodon account's instance host: '@name@social.example' -> 'social.example'."""
    parts = account_id.lstrip("@").split("@")
    return parts[1].lower() if len(parts) == 2 and parts[1] else None


def is_government(event: dict, government: frozenset[str]) -> bool:
    """Whether the event's author is the monitored account or a registry account."""
    author, account = event.get("author") or {}, event.get("account") or {}
    if author.get("id") and author.get("id") == account.get("id"):
        return True
    return any(str(v).lower().lstrip("@") in government for v in (author.get("id"), author.get("handle")) if v)


def _resolve(url: str, event: dict, settings: MediaSettings) -> str:
    """The URL to fetch for a platform's media reference (Bluesky blob CIDs -> the CDN)."""
    if url.startswith("blob:") and event.get("platform") == "bluesky":
        did = (event.get("author") or {}).get("id") or ""
        return settings.bluesky_blob_url.format(did=urllib.parse.quote(did, safe=":"),
                                                cid=urllib.parse.quote(url[5:], safe=""))
    return url


def _platform_page(url: str) -> bool:
    """A video's page on YouTube (watch, shorts, youtu.be), which is HTML, not the video."""
    host, path = host_of(url), urllib.parse.urlsplit(url).path
    return host == "youtu.be" or (host in ("www.youtube.com", "youtube.com", "m.youtube.com")
                                  and path.startswith(("/watch", "/shorts/", "/embed/")))


def media_hosts(event: dict, settings: MediaSettings) -> list[str]:
    """The hosts an event's media may come from (and be redirected to): the configured ones, and a
    Mastodon account's own instance with its subdomains."""
    allowed = list(settings.hosts) + list(settings.private_hosts)
    if event.get("platform") == "mastodon":
        inst = _instance((event.get("account") or {}).get("id") or "")
        if inst:
            allowed += [inst, f"*.{inst}"]
    return allowed


def wanted(event: dict, settings: MediaSettings, government: frozenset[str]) -> list[Wanted]:
    """The files of one event, in order: its media, then (with `linked_pages`) its links. Each is
    to be fetched or carries the reason it is not. Duplicate URLs count once."""
    out: list[Wanted] = []
    seen: set[str] = set()
    public = is_government(event, government)
    allowed = media_hosts(event, settings)
    for m in event.get("media") or []:
        url = (m or {}).get("url") or ""
        if not url or url in seen:
            continue
        seen.add(url)
        target = _resolve(url, event, settings)
        if not public and not settings.citizen_media:
            out.append(Wanted(url, MEDIUM, None, CITIZEN))
        elif _platform_page(target):
            out.append(Wanted(url, MEDIUM, None, NOT_A_FILE))
        elif urllib.parse.urlsplit(target).scheme not in ("http", "https") or not host_of(target):
            out.append(Wanted(url, MEDIUM, None, NOT_HTTP))
        elif not host_matches(host_of(target), allowed):
            out.append(Wanted(url, MEDIUM, None, HOST_NOT_ALLOWED))
        else:
            out.append(Wanted(url, MEDIUM, target, max_bytes=settings.max_bytes))
    if settings.linked_pages and public:
        for url in event.get("urls") or []:
            if not url or url in seen:
                continue
            seen.add(url)
            if urllib.parse.urlsplit(url).scheme not in ("http", "https") or not host_of(url):
                out.append(Wanted(url, LINKED_PAGE, None, NOT_HTTP))
            else:
                out.append(Wanted(url, LINKED_PAGE, url, max_bytes=settings.max_page_bytes))
    fetched = 0
    for i, w in enumerate(out):   # the first max_files to fetch are fetched; the rest say why not
        if w.fetch_url is not None:
            fetched += 1
            if fetched > settings.max_files:
                out[i] = Wanted(w.url, w.kind, None, TOO_MANY)
    return out


def object_key(prefix: str, retention: dict, sha256: str) -> str:
    """Where a file of a record with `retention` lives: beside its retention group's records."""
    return f"{prefix}/{layout.retention_dir(retention)}/{MEDIA_DIR}/{sha256[:2]}/{sha256}"


def is_media_key(key: str) -> bool:
    return re.search(rf"/{MEDIA_DIR}/[0-9a-f]{{2}}/[0-9a-f]{{64}}$", key) is not None


# file name extensions of the types a medium's bytes can show (`content_type`), for packages and downloads
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
              "video/mp4": "mp4", "video/webm": "webm", "application/pdf": "pdf", "text/html": "html"}


def extension(content_type: str | None, default: str = "bin") -> str:
    return EXTENSIONS.get(content_type or "", default)


def stored(record: dict) -> list[dict]:
    """The record's media files that are in the bucket, in the record's order."""
    return [f for f in record.get("media_files") or [] if f.get("status") == STORED and f.get("object_key")]


def media_file(w: Wanted, *, status: str, reason: str | None = None, attempts: int = 0,
               object_key: str | None = None, sha256: str | None = None, content_type: str | None = None,
               size: int | None = None, final_url: str | None = None, fetched_at=None) -> dict:
    """The record's entry for one file (schemas/archive_record.avsc, MediaFile)."""
    return {"url": w.url, "kind": w.kind, "status": status, "reason": reason, "attempts": int(attempts),
            "object_key": object_key, "sha256": sha256, "content_type": content_type,
            "size": None if size is None else int(size), "final_url": final_url, "fetched_at": fetched_at}


_MAGIC = [   # (offset, bytes, type): what the bytes are, whatever the server says
    (0, b"\x89PNG\r\n\x1a\n", "image/png"), (0, b"\xff\xd8\xff", "image/jpeg"), (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"), (8, b"WEBP", "image/webp"), (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"), (0, b"%PDF-", "application/pdf"),
]


def sniff(head: bytes) -> str | None:
    """The content type the first bytes show (images, video, PDF); None when unknown."""
    for offset, magic, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return kind
    return None


def content_type(declared: str | None, head: bytes) -> str:
    """What is recorded: the bytes' own type where they show one, else the server's, else octet-stream."""
    return sniff(head) or (declared or "").split(";")[0].strip().lower() or "application/octet-stream"
