"""Facebook Pages and Instagram through the Meta Graph API: webhook deliveries and REST backfill.

Webhook `feed` changes (v2.5 `sender_id`/`sender_name` and v2.11+ `from`) map
item/verb to event types: status/post/photo/video/link add = post, comment add =
reply, share = repost (quote when it carries a message), reaction/like add =
reaction, `edited` = edit, `remove` = delete (for a reaction: the reaction's own
object). Page `mention` changes (a post or comment elsewhere on Facebook that tags
the Page) are read like `feed` changes, with the Page's id added to `mentions`, so
the rules see whom the citizen addressed; their value carries no sender since
v2.11 (`author.id` "unknown"; the 2017 shape still has `sender_id`/`sender_name`).
Instagram `comments`/`live_comments` are replies. Graph API bodies
(a post, a comment, or a `data` page of them) are the backfill.
"""
from __future__ import annotations

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, parse_time,
                                           referenced, s, text_entities)

POST_ITEMS = {"status", "post", "photo", "video", "link", "note", "album", "event", "story", "question"}


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if isinstance(doc, dict) and isinstance(doc.get("entry"), list):
        platform = {"page": "facebook", "instagram": "instagram"}.get(doc.get("object"), ctx.platform)
        if platform not in ("facebook", "instagram"):
            raise NormaliseError(f"webhook object {doc.get('object')!r} is not a Page or Instagram delivery")
        for i, entry in enumerate(doc["entry"]):
            for j, change in enumerate(entry.get("changes") or []):
                path = ("entry", i, "changes", j)
                if platform == "instagram":
                    _ig_change(items, ctx, entry, change, path)
                else:
                    _fb_change(items, ctx, entry, change, path)
    elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
        for i, obj in enumerate(doc["data"]):
            items.add(("data", i), lambda raw, obj=obj: graph_object(ctx, raw, obj))
    elif isinstance(doc, list):
        for i, obj in enumerate(doc):
            items.add((i,), lambda raw, obj=obj: graph_object(ctx, raw, obj))
    elif isinstance(doc, dict) and "id" in doc:
        items.add((), lambda raw: graph_object(ctx, raw, doc))
    else:
        raise NormaliseError("expected a Meta webhook delivery (object/entry) or a Graph API object/page")
    return items.build()


def _fb_author(v: dict) -> dict:
    f = v.get("from") if isinstance(v.get("from"), dict) else {}
    uid = f.get("id") or v.get("sender_id") or v.get("user_id")
    name = f.get("name") or v.get("sender_name")
    return actor(uid, None, name, f"https://www.facebook.com/{uid}" if uid else None)


def _page(entry: dict) -> dict:
    pid = s(entry.get("id"))
    return {"id": pid, "handle": pid, "display_name": None}


def _fb_change(items: Items, ctx: Context, entry: dict, change: dict, path: tuple) -> None:
    field = change.get("field")
    if field not in ("feed", "mention"):
        return   # ratings, leadgen, messages, ...: not subscribed content
    v = change.get("value") or {}
    item, verb = v.get("item"), v.get("verb")
    author, page = _fb_author(v), _page(entry)
    post_id, comment_id = s(v.get("post_id")), s(v.get("comment_id"))
    parent = s(v.get("parent_id"))
    notified = parse_time(entry.get("time"))
    created = parse_time(v.get("created_time")) or notified
    text = v.get("message")
    tags, mentions, urls = text_entities(text)
    if field == "mention" and page["id"]:
        mentions = [*mentions, page["id"]]   # the tag itself is not in `message`: the delivery is the mention
    if v.get("link"):
        urls = [*urls, v["link"]]
    common = dict(author=author, account=page, text=text, hashtags=tags, mentions=mentions, urls=urls,
                  platform="facebook")
    url = v.get("link") if item in ("photo", "video") else None

    def add(build):
        items.add(path, build)

    if item == "comment" and comment_id:
        if verb == "add":
            add(lambda raw: event(ctx, raw=raw, native_id=comment_id, event_type="reply", created_at=created,
                                  in_reply_to=parent or post_id, thread_root=post_id, **common))
        elif verb in ("edited", "edit"):
            edited = parse_time(v.get("edited_time")) or notified
            add(lambda raw: event(ctx, raw=raw, native_id=comment_id, event_type="edit", created_at=created,
                                  edited_at=edited, in_reply_to=parent or post_id, thread_root=post_id, **common))
        elif verb in ("remove", "delete"):
            add(lambda raw: event(ctx, raw=raw, native_id=comment_id, event_type="delete", created_at=notified,
                                  in_reply_to=parent or post_id, thread_root=post_id, **common))
        # hide/unhide: moderation state, no new content
    elif item in ("reaction", "like"):
        target = comment_id or post_id
        kind = v.get("reaction_type") or "like"
        if verb == "add":
            add(lambda raw: event(ctx, raw=raw, native_id=target, event_type="reaction", created_at=created,
                                  in_reply_to=target, thread_root=post_id, reaction_kind=kind, **common))
        elif verb in ("remove", "delete"):
            # the reaction itself disappears, not the post: object id is the reaction's
            reaction = f"{target}:reaction:{author['id']}"
            add(lambda raw: event(ctx, raw=raw, native_id=target, object_native=reaction, event_type="delete",
                                  created_at=notified, in_reply_to=target, thread_root=post_id,
                                  reaction_kind=kind, **common))
        elif verb in ("edit", "edited"):
            add(lambda raw: event(ctx, raw=raw, native_id=target, event_type="reaction", created_at=notified,
                                  in_reply_to=target, thread_root=post_id, reaction_kind=kind, **common))
    elif item == "share" and post_id:
        if verb in ("remove", "delete"):
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type="delete", created_at=notified,
                                  **common))
            return
        link = v.get("link")
        ref = referenced("facebook", f"link:{link}" if link else s(v.get("share_id")) or post_id, None, None, link)
        kind = "quote" if text else "repost"
        if verb in ("edited", "edit"):
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type="edit", created_at=created,
                                  edited_at=notified, referenced=ref, thread_root=post_id, url=link, **common))
        else:
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type=kind, created_at=created,
                                  referenced=ref, thread_root=post_id, **common))
    elif item in POST_ITEMS and post_id:
        if verb == "add":
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type="post", created_at=created,
                                  thread_root=post_id, url=url, **common))
        elif verb in ("edited", "edit"):
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type="edit", created_at=created,
                                  edited_at=parse_time(v.get("edited_time")) or notified, thread_root=post_id,
                                  url=url, **common))
        elif verb in ("remove", "delete"):
            add(lambda raw: event(ctx, raw=raw, native_id=post_id, event_type="delete", created_at=notified,
                                  thread_root=post_id, **common))


def _ig_change(items: Items, ctx: Context, entry: dict, change: dict, path: tuple) -> None:
    if change.get("field") not in ("comments", "live_comments"):
        return   # mentions, story_insights, messages: not comment content
    v = change.get("value") or {}
    f = v.get("from") or {}
    handle = f.get("username")
    author = actor(f.get("id"), handle, None, f"https://www.instagram.com/{handle}" if handle else None)
    media_id = s((v.get("media") or {}).get("id") or v.get("media_id"))
    parent = s(v.get("parent_id"))
    text = v.get("text")
    tags, mentions, urls = text_entities(text)
    items.add(path, lambda raw: event(
        ctx, raw=raw, native_id=s(v.get("id")), event_type="reply", author=author, account=_page(entry),
        created_at=parse_time(v.get("timestamp")) or parse_time(entry.get("time")),
        in_reply_to=parent or media_id, thread_root=media_id, text=text, hashtags=tags, mentions=mentions,
        urls=urls, platform="instagram"))


def graph_object(ctx: Context, raw: str, obj: dict) -> dict:
    """A Graph API post or comment (GET /{post-id}, GET /{post-id}/comments, IG /{media-id}/comments)."""
    if not isinstance(obj, dict) or not obj.get("id"):
        raise NormaliseError("Graph API object without id")
    platform = ctx.platform if ctx.platform in ("facebook", "instagram") else "facebook"
    f = obj.get("from") or {}
    if platform == "instagram":
        handle = obj.get("username") or f.get("username")
        author = actor(f.get("id") or obj.get("owner", {}).get("id"), handle, None,
                       f"https://www.instagram.com/{handle}" if handle else None)
    else:
        author = actor(f.get("id"), None, f.get("name"),
                       f"https://www.facebook.com/{f['id']}" if f.get("id") else None)
    text = obj.get("message") if "message" in obj else obj.get("text") or obj.get("caption")
    parent = s((obj.get("parent") or {}).get("id"))
    on = s(ctx.thread_root or (obj.get("media") or {}).get("id") or
           ((obj.get("object") or {}).get("id") if isinstance(obj.get("object"), dict) else None))
    is_comment = bool(parent or on or "comment_count" in obj or "like_count" in obj and "message" in obj)
    created = parse_time(obj.get("created_time") or obj.get("timestamp"))
    updated = parse_time(obj.get("updated_time")) if obj.get("updated_time") else None
    edited = updated if updated and created and updated > created and not is_comment else None
    tags, mentions, urls = text_entities(text)
    kind = "edit" if edited else "reply" if is_comment else "post"
    return event(ctx, raw=raw, native_id=s(obj["id"]), event_type=kind, author=author, created_at=created,
                 edited_at=edited, in_reply_to=parent or on if is_comment else None,
                 thread_root=on or (None if is_comment else s(obj["id"])), text=text,
                 url=obj.get("permalink_url") or obj.get("permalink"), hashtags=tags, mentions=mentions,
                 urls=urls + ([obj["link"]] if obj.get("link") else []), platform=platform)
