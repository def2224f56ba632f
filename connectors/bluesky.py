"""Bluesky: Jetstream events (commit create/update/delete), AT Protocol post views
(getPostThread, getAuthorFeed, getPosts) and bare `app.bsky.feed.post` records.

Native ids are at:// URIs. Likes are reactions on their subject, reposts point at
theirs, a delete removes the record it names (a post, or a like/repost: then the
object is that like or repost, never the post it pointed at).
"""
from __future__ import annotations

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, parse_time,
                                           referenced, sha256)

PLATFORM = "bluesky"
POST, LIKE, REPOST = "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if not isinstance(doc, dict):
        raise NormaliseError("expected a Jetstream event, an AT Protocol response or a record")
    kind = doc.get("kind") or doc.get("type")
    if "did" in doc and kind in ("commit", "identity", "account"):
        if kind == "commit":
            items.add((), lambda raw: jetstream_commit(ctx, raw, doc))
    elif "thread" in doc:
        _thread(items, ctx, doc["thread"], ("thread",), None)
    elif isinstance(doc.get("feed"), list):
        for i, item in enumerate(doc["feed"]):
            items.add(("feed", i), lambda raw, item=item: feed_item(ctx, raw, item))
    elif isinstance(doc.get("posts"), list):
        for i, p in enumerate(doc["posts"]):
            items.add(("posts", i), lambda raw, p=p: post_view(ctx, raw, p))
    elif "uri" in doc and "record" in doc:
        items.add((), lambda raw: post_view(ctx, raw, doc))
    elif doc.get("$type") == POST:
        items.add((), lambda raw: bare_record(ctx, raw, doc))
    else:
        raise NormaliseError("expected a Jetstream event, an AT Protocol response or a record")
    return items.build()


def _did(uri: str | None) -> str | None:
    return uri[5:].split("/", 1)[0] if uri and uri.startswith("at://") else None


def _web(uri: str | None, handle: str | None = None) -> str | None:
    parts = (uri or "")[5:].split("/")
    if len(parts) == 3 and parts[1] == POST:
        return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"
    return None


def _acct(did: str | None) -> dict | None:
    return {"id": did, "handle": did, "display_name": None} if did else None


def _post_fields(record: dict) -> dict:
    reply = record.get("reply") or {}
    parent, root = (reply.get("parent") or {}).get("uri"), (reply.get("root") or {}).get("uri")
    embed = record.get("embed") or {}
    quoted = None
    if embed.get("$type") == "app.bsky.embed.record":
        quoted = (embed.get("record") or {}).get("uri")
    elif embed.get("$type") == "app.bsky.embed.recordWithMedia":
        quoted = ((embed.get("record") or {}).get("record") or {}).get("uri")
    tags, mentions, urls = list(record.get("tags") or []), [], []
    for facet in record.get("facets") or []:
        for feat in facet.get("features") or []:
            t = feat.get("$type", "")
            if t.endswith("#tag"):
                tags.append(feat.get("tag"))
            elif t.endswith("#mention"):
                mentions.append(feat.get("did"))
            elif t.endswith("#link"):
                urls.append(feat.get("uri"))
    ext = embed.get("external") or {}
    if ext.get("uri"):
        urls.append(ext["uri"])
    images = embed.get("images") or (embed.get("media") or {}).get("images") or []
    media = [{"url": f"blob:{(img.get('image') or {}).get('ref', {}).get('$link')}", "media_type": "image",
              "alt_text": img.get("alt") or None} for img in images
             if (img.get("image") or {}).get("ref", {}).get("$link")]
    langs = record.get("langs") or []
    kind = "quote" if quoted else "reply" if parent else "post"
    return dict(kind=kind, parent=parent, root=root, quoted=quoted, text=record.get("text"),
                language=langs[0] if langs else None, hashtags=[t for t in tags if t],
                mentions=[m for m in mentions if m], urls=[u for u in urls if u], media=media)


def _post_event(ctx, raw, uri, author, record, created=None, handle=None, edited=None):
    f = _post_fields(record)
    acct = None if ctx.account else _acct(_did(f["root"]) or _did(uri) or _did(f["quoted"]))
    ref = referenced(PLATFORM, f["quoted"], actor(_did(f["quoted"])), None, _web(f["quoted"])) if f["quoted"] else None
    return event(ctx, raw=raw, native_id=uri, event_type="edit" if edited else f["kind"], author=author,
                 created_at=parse_time(record.get("createdAt")) or created, edited_at=edited, account=acct,
                 in_reply_to=f["parent"], thread_root=ctx.thread_root or f["root"] or uri, referenced=ref,
                 text=f["text"], language=f["language"], url=_web(uri, handle), hashtags=f["hashtags"],
                 mentions=f["mentions"], urls=f["urls"], media=f["media"])


def jetstream_commit(ctx: Context, raw: str, ev: dict):
    did, c = ev["did"], ev.get("commit") or {}
    op, coll, rkey = c.get("operation"), c.get("collection"), c.get("rkey")
    if not (op and coll and rkey):
        raise NormaliseError("Jetstream commit without operation, collection or rkey")
    uri = f"at://{did}/{coll}/{rkey}"
    when = parse_time(ev.get("time_us"))
    who = actor(did, None, None, f"https://bsky.app/profile/{did}")
    record = c.get("record") or {}
    if op == "delete":
        return event(ctx, raw=raw, native_id=uri, event_type="delete", author=who, created_at=when,
                     account=None if ctx.account else _acct(did))
    if coll == POST:
        return _post_event(ctx, raw, uri, who, record, when, edited=when if op == "update" else None)
    subject = (record.get("subject") or {}).get("uri")
    if coll == LIKE and subject:
        return event(ctx, raw=raw, native_id=uri, object_native=subject, event_type="reaction", author=who,
                     event_id=f"{PLATFORM}:{subject}:reaction:{did}",
                     created_at=parse_time(record.get("createdAt")) or when,
                     account=None if ctx.account else _acct(_did(subject)), in_reply_to=subject,
                     thread_root=ctx.thread_root, reaction_kind="like")
    if coll == REPOST and subject:
        return event(ctx, raw=raw, native_id=uri, event_type="repost", author=who,
                     created_at=parse_time(record.get("createdAt")) or when,
                     account=None if ctx.account else _acct(_did(subject)), thread_root=ctx.thread_root,
                     referenced=referenced(PLATFORM, subject, actor(_did(subject)), None, _web(subject)))
    return None   # follows, blocks, profile updates: not content


def _view_author(a: dict | None) -> dict:
    a = a or {}
    handle = a.get("handle")
    return actor(a.get("did"), handle, a.get("displayName"),
                 f"https://bsky.app/profile/{handle or a.get('did')}" if a.get("did") else None, a.get("avatar"))


def post_view(ctx: Context, raw: str, p: dict) -> dict:
    uri = p.get("uri")
    if not uri:
        raise NormaliseError("post view without uri")
    author = _view_author(p.get("author"))
    return _post_event(ctx, raw, uri, author, p.get("record") or {}, parse_time(p.get("indexedAt")),
                       handle=author["handle"])


def feed_item(ctx: Context, raw: str, item: dict) -> dict:
    reason = item.get("reason") or {}
    post = item.get("post") or {}
    if reason.get("$type", "").endswith("reasonRepost"):
        by = _view_author(reason.get("by"))
        target = post.get("uri")
        pa = _view_author(post.get("author"))
        return event(ctx, raw=raw, native_id=f"{target}:repost:{by['id']}", event_type="repost", author=by,
                     created_at=parse_time(reason.get("indexedAt")), thread_root=ctx.thread_root,
                     referenced=referenced(PLATFORM, target, pa, (post.get("record") or {}).get("text"),
                                           _web(target, pa["handle"])))
    return post_view(ctx, raw, post)


def _thread(items: Items, ctx: Context, node: dict, path: tuple, root: str | None) -> None:
    if not isinstance(node, dict) or not node.get("post"):
        return   # notFoundPost / blockedPost
    sub = ctx.with_(thread_root=ctx.thread_root or root) if root else ctx
    items.add(path + ("post",), lambda raw: post_view(sub, raw, node["post"]))
    rec = (node["post"].get("record") or {}).get("reply") or {}
    root = root or (rec.get("root") or {}).get("uri") or node["post"].get("uri")
    if isinstance(node.get("parent"), dict):
        items.item(path + ("parent",), lambda: _thread(items, ctx, node["parent"], path + ("parent",), root))
    for i, child in enumerate(node.get("replies") or []):
        items.item(path + ("replies", i),
                   lambda child=child, i=i: _thread(items, ctx, child, path + ("replies", i), root))


def bare_record(ctx: Context, raw: str, record: dict) -> dict:
    """A record without its repository: its at:// URI is unknown, so the content hash stands in."""
    uri = ctx.hints.get("uri") or f"record:sha256:{sha256(raw)[:32]}"
    return _post_event(ctx, raw, uri, actor(_did(uri) if uri.startswith("at://") else None), record)
