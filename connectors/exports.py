"""Platform data exports imported as the same canonical events, for backfill.

- X archive: `data/tweets.js` / `deleted-tweets.js` (`window.YTD.tweets.part0 = [{"tweet": {...}}]`),
  v1.1 tweet objects without `user`: the archive owner (the configured account) is the author.
- Facebook "download your information" (JSON): `your_posts_*.json` (a list of posts) and
  `comments.json` (`comments_v2`). These carry no platform ids, so the native id is
  `export:<timestamp>:<hash of the item>` — stable across re-imports of the same file.
"""
from __future__ import annotations

import json
import re

from archiefstroom.connectors import x
from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, parse_time, sha256,
                                           text_entities)

_YTD = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*")


def is_x_archive(text: str) -> bool:
    return bool(_YTD.match(text))


def x_archive(text: str, ctx: Context) -> list[dict]:
    m = _YTD.match(text)
    if not m:
        raise NormaliseError("not an X archive file (expected 'window.YTD.<name>.part<n> = [...]')")
    body_text = text[m.end():].rstrip().rstrip(";")
    body = Body.parse(body_text)
    if not isinstance(body.doc, list):
        raise NormaliseError("X archive file does not hold a list")
    items = Items(body)
    for i, entry in enumerate(body.doc):
        tw = entry.get("tweet") if isinstance(entry, dict) else None
        if not isinstance(tw, dict):
            continue   # other archive files (likes, followers, ...) are not tweets
        items.add((i,), lambda raw, tw=tw: x.tweet_v1(ctx.with_(platform="x"), raw, tw))
    return items.build()


def _fix_mojibake(value):
    """Facebook exports encode UTF-8 bytes as \\u00XX escapes; undo that."""
    if isinstance(value, str):
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    return value


def facebook_export(body: Body, ctx: Context) -> list[dict]:
    doc = body.doc
    items = Items(body)
    owner = ctx.account or {}
    me = actor(owner.get("id"), owner.get("handle"), owner.get("display_name"))
    if isinstance(doc, dict) and isinstance(doc.get("comments_v2"), list):
        for i, c in enumerate(doc["comments_v2"]):
            items.add(("comments_v2", i), lambda raw, c=c: _fb_item(ctx, raw, c, me, "reply"))
    elif isinstance(doc, list):
        for i, p in enumerate(doc):
            items.add((i,), lambda raw, p=p: _fb_item(ctx, raw, p, me, "post"))
    else:
        raise NormaliseError("expected a Facebook export posts list or comments.json (comments_v2)")
    return items.build()


def _fb_item(ctx: Context, raw: str, item: dict, me: dict, kind: str) -> dict | None:
    if not isinstance(item, dict) or "timestamp" not in item:
        raise NormaliseError("Facebook export item without timestamp")
    text = None
    for d in item.get("data") or []:
        if isinstance(d, dict):
            if "post" in d:
                text = d["post"]
            elif isinstance(d.get("comment"), dict):
                text = d["comment"].get("comment")
    text = _fix_mojibake(text)
    urls = []
    for att in item.get("attachments") or []:
        for d in att.get("data") or []:
            link = (d.get("external_context") or {}).get("url")
            if link:
                urls.append(link)
    tags, mentions, found = text_entities(text)
    native = f"export:{item['timestamp']}:{sha256(json.dumps(item, sort_keys=True))[:16]}"
    return event(ctx.with_(platform="facebook"), raw=raw, native_id=native, event_type=kind, author=me,
                 created_at=parse_time(item["timestamp"]), text=text, hashtags=tags, mentions=mentions,
                 urls=found + urls, platform="facebook")
