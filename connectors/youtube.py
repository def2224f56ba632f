"""YouTube Data API v3: commentThreads, comments and videos (list responses or single resources).

YouTube pushes nothing: comments are polled. A top-level comment is a reply to
its video (or channel), a reply points at its top-level comment (YouTube flattens
deeper nesting). An `updatedAt` later than `publishedAt` marks an edit. The
viewer's `viewerRating` is a reaction by the monitored account, so it is only
emitted when that account is configured. YouTube has no reposts.

An `activities.list` page (a channel's uploads) gives each `upload` activity as the
video's post (`youtube:<videoId>`, the same event as from `videos.list`), the video
id from `contentDetails.upload.videoId`; a response requested with `part=snippet`
only names it in the thumbnail URLs (`i.ytimg.com/vi/<videoId>/...`). Other
activity types (like, favorite, subscription, playlistItem, ...) carry no content
of the channel's own and are skipped.
"""
from __future__ import annotations

import re

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, html_to_text,
                                           parse_time, s, text_entities)

PLATFORM = "youtube"


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if isinstance(doc, dict) and "error" in doc and "items" not in doc:
        raise NormaliseError("YouTube API error response without items")
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        for i, res in enumerate(doc["items"]):
            items.item(("items", i), lambda res=res, i=i: _resource(items, ctx, res, ("items", i)))
    elif isinstance(doc, list):
        for i, res in enumerate(doc):
            items.item((i,), lambda res=res, i=i: _resource(items, ctx, res, (i,)))
    elif isinstance(doc, dict) and doc.get("kind", "").startswith("youtube#"):
        _resource(items, ctx, doc, ())
    else:
        raise NormaliseError("expected a YouTube Data API resource or list response (kind youtube#...)")
    return items.build()


def _resource(items: Items, ctx: Context, res: dict, path: tuple) -> None:
    kind = (res or {}).get("kind") if isinstance(res, dict) else None
    if kind == "youtube#commentThread":
        sn = res.get("snippet") or {}
        on_video, channel = s(sn.get("videoId")), s(sn.get("channelId"))   # not `video`: that is the builder
        top = sn.get("topLevelComment")
        if top:
            items.add(path + ("snippet", "topLevelComment"),
                      lambda raw: comment(ctx, raw, top, video=on_video, channel=channel))
        for j, rep in enumerate((res.get("replies") or {}).get("comments") or []):
            items.add(path + ("replies", "comments", j),
                      lambda raw, rep=rep: comment(ctx, raw, rep, video=on_video, channel=channel))
    elif kind == "youtube#comment":
        items.add(path, lambda raw: comment(ctx, raw, res))
    elif kind == "youtube#video":
        items.add(path, lambda raw: video(ctx, raw, res))
    elif kind == "youtube#activity":
        vid = _upload_video_id(res)
        if vid:
            items.add(path, lambda raw: video(ctx, raw, res, video_id=vid))
    elif kind in ("youtube#playlistItem", "youtube#searchResult"):
        pass   # pointers to videos; the connector fetches the videos themselves
    else:
        raise NormaliseError(f"unsupported YouTube resource kind {kind!r}")


def _account(ctx: Context, channel: str | None, fallback: dict | None = None) -> dict | None:
    if ctx.account:
        return None
    if channel:
        return {"id": channel, "handle": channel, "display_name": None}
    return fallback


def comment(ctx: Context, raw: str, c: dict, *, video: str | None = None, channel: str | None = None):
    cid = s(c.get("id"))
    if not cid:
        raise NormaliseError("comment without id")
    sn = c.get("snippet") or {}
    video = video or s(sn.get("videoId"))
    channel = channel or s(sn.get("channelId"))
    parent = s(sn.get("parentId"))
    author = actor((sn.get("authorChannelId") or {}).get("value"), None, sn.get("authorDisplayName"),
                   sn.get("authorChannelUrl"), sn.get("authorProfileImageUrl"))
    text = sn.get("textOriginal")
    if text is None:
        text, _ = html_to_text(sn.get("textDisplay"))
    published, updated = parse_time(sn.get("publishedAt")), parse_time(sn.get("updatedAt"))
    edited = updated if updated and published and updated > published else None
    tags, mentions, urls = text_entities(text)
    root = ctx.thread_root or video or channel or parent
    url = f"https://www.youtube.com/watch?v={video}&lc={cid}" if video else None
    acc = _account(ctx, channel, {"id": author["id"], "handle": author["id"], "display_name": author["display_name"]})
    out = [event(ctx, raw=raw, native_id=cid, event_type="edit" if edited else "reply", author=author,
                 created_at=published, edited_at=edited, account=acc, in_reply_to=parent or video or channel,
                 thread_root=root, text=text, url=url, hashtags=tags, mentions=mentions, urls=urls)]
    rating = sn.get("viewerRating")
    if ctx.account and rating in ("like", "dislike"):
        a = ctx.account
        out.append(event(ctx, raw=raw, native_id=cid, event_type="reaction",
                         author=actor(a.get("id"), a.get("handle"), a.get("display_name")),
                         created_at=ctx.now(), in_reply_to=cid, thread_root=root, reaction_kind=rating, url=url))
    return out


_THUMB = re.compile(r"^https://i\d?\.ytimg\.com/vi(?:_webp)?/([A-Za-z0-9_-]{11})/")


def _upload_video_id(act: dict) -> str | None:
    """The uploaded video of an `upload` activity (None for every other activity type)."""
    sn = act.get("snippet") or {}
    if sn.get("type") != "upload":
        return None
    vid = s(((act.get("contentDetails") or {}).get("upload") or {}).get("videoId"))
    if vid:
        return vid
    found = {m.group(1) for t in (sn.get("thumbnails") or {}).values() if isinstance(t, dict)
             for m in [_THUMB.match(t.get("url") or "")] if m}
    if len(found) != 1:
        raise NormaliseError("upload activity without contentDetails.upload.videoId (request part=contentDetails)")
    return found.pop()


def video(ctx: Context, raw: str, v: dict, *, video_id: str | None = None) -> dict:
    sn = v.get("snippet") or {}
    vid = video_id or s(v.get("id") if isinstance(v.get("id"), str) else (v.get("id") or {}).get("videoId"))
    channel = s(sn.get("channelId"))
    text = "\n\n".join(p for p in (sn.get("title"), sn.get("description")) if p)
    tags, mentions, urls = text_entities(sn.get("description"))
    return event(ctx, raw=raw, native_id=vid, event_type="post",
                 author=actor(channel, None, sn.get("channelTitle"),
                              f"https://www.youtube.com/channel/{channel}" if channel else None),
                 created_at=parse_time(sn.get("publishedAt")), account=_account(ctx, channel), thread_root=vid,
                 text=text or None, language=sn.get("defaultLanguage") or sn.get("defaultAudioLanguage"),
                 url=f"https://www.youtube.com/watch?v={vid}", hashtags=list(sn.get("tags") or []) + tags,
                 mentions=mentions, urls=urls,
                 media=[{"url": f"https://www.youtube.com/watch?v={vid}", "media_type": "video", "alt_text": None},
                        *_thumbnail(sn)])


def _thumbnail(snippet: dict) -> list[dict]:
    """The video's largest thumbnail, as a file the archive can keep (the video itself is a page:
    the Data API serves no video bytes; docs/media.md)."""
    thumbs = [t for t in (snippet.get("thumbnails") or {}).values()
              if isinstance(t, dict) and isinstance(t.get("url"), str) and t["url"].startswith("https://")]
    if not thumbs:
        return []
    best = max(thumbs, key=lambda t: t.get("width") if isinstance(t.get("width"), int) else 0)
    return [{"url": best["url"], "media_type": "thumbnail", "alt_text": None}]
