"""LinkedIn Community Management API: organisation posts (/rest/posts), comments
(/rest/socialActions/{urn}/comments) and reactions (/rest/reactions), as list
responses (`elements`) or single entities. No recorded payloads were available;
shapes follow Microsoft's API reference (versioned `LinkedIn-Version` API).

Ids are URNs. A reshare (`reshareContext`) is a repost, or a quote when it has
commentary; a `lifecycleState` of DELETED is a delete; a `lastModifiedAt` later
than the creation time is an edit.
"""
from __future__ import annotations

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, parse_time,
                                           referenced, s, text_entities)

PLATFORM = "linkedin"


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if isinstance(doc, dict) and isinstance(doc.get("elements"), list):
        for i, el in enumerate(doc["elements"]):
            items.add(("elements", i), lambda raw, el=el: entity(ctx, raw, el))
    elif isinstance(doc, dict) and isinstance(doc.get("results"), dict):    # batch get: {results: {urn: entity}}
        for key, el in doc["results"].items():
            items.add(("results", key), lambda raw, el=el: entity(ctx, raw, el))
    elif isinstance(doc, list):
        for i, el in enumerate(doc):
            items.add((i,), lambda raw, el=el: entity(ctx, raw, el))
    elif isinstance(doc, dict) and ("id" in doc or "$URN" in doc):
        items.add((), lambda raw: entity(ctx, raw, doc))
    else:
        raise NormaliseError("expected a LinkedIn entity or a list response with 'elements'")
    return items.build()


def _who(urn: str | None) -> dict:
    kind = (urn or "").split(":")[2] if (urn or "").count(":") >= 3 else None
    url = None
    if kind == "organization":
        url = f"https://www.linkedin.com/company/{urn.rsplit(':', 1)[1]}"
    return actor(urn, None, None, url)


def _acct(urn: str | None) -> dict | None:
    return {"id": urn, "handle": urn, "display_name": None} if urn else None


def _ms(value):
    if isinstance(value, dict):
        value = value.get("time")
    return parse_time(value)


def entity(ctx: Context, raw: str, el: dict) -> dict | None:
    if not isinstance(el, dict):
        raise NormaliseError("expected a LinkedIn entity object")
    if "reactionType" in el:
        return _reaction(ctx, raw, el)
    if "message" in el or "commentUrn" in el or "parentComment" in el:
        return _comment(ctx, raw, el)
    if "author" in el or "commentary" in el or "specificContent" in el:
        return _post(ctx, raw, el)
    raise NormaliseError("unrecognised LinkedIn entity (not a post, comment or reaction)")


def _post(ctx: Context, raw: str, p: dict) -> dict:
    urn = s(p.get("id") or p.get("$URN"))
    text = p.get("commentary")
    if text is None:   # legacy ugcPosts
        share = ((p.get("specificContent") or {}).get("com.linkedin.ugc.ShareContent") or {})
        text = (share.get("shareCommentary") or {}).get("text")
    author = _who(p.get("author"))
    created = _ms(p.get("publishedAt") or p.get("createdAt") or p.get("created"))
    modified = _ms(p.get("lastModifiedAt") or p.get("lastModified"))
    reshare = p.get("reshareContext") or {}
    kind, ref = "post", None
    if reshare.get("parent"):
        kind = "quote" if text else "repost"
        ref = referenced(PLATFORM, reshare["parent"], None, None, None)
    edited = None
    if modified and created and (modified - created).total_seconds() > 60:
        kind, edited = "edit", modified
    if p.get("lifecycleState") == "DELETED":
        kind = "delete"
    tags, mentions, urls = text_entities(text)
    article = ((p.get("content") or {}).get("article") or {}).get("source")
    return event(ctx, raw=raw, native_id=urn, event_type=kind, author=author, created_at=created, edited_at=edited,
                 account=_acct(p.get("author")), thread_root=ctx.thread_root or urn, referenced=ref, text=text,
                 url=f"https://www.linkedin.com/feed/update/{urn}/" if urn else None, hashtags=tags,
                 mentions=mentions, urls=urls + ([article] if article else []))


def _comment(ctx: Context, raw: str, c: dict) -> dict:
    urn = s(c.get("$URN") or c.get("commentUrn") or c.get("id"))
    msg = c.get("message") or {}
    text = msg.get("text") if isinstance(msg, dict) else msg
    created = _ms(c.get("created"))
    modified = _ms(c.get("lastModified"))
    actor_urn = c.get("actor") or (c.get("created") or {}).get("actor")
    on = s(c.get("object"))
    parent = s(c.get("parentComment")) or on
    edited = modified if modified and created and modified > created else None
    tags, mentions, urls = text_entities(text)
    return event(ctx, raw=raw, native_id=urn, event_type="edit" if edited else "reply", author=_who(actor_urn),
                 created_at=created, edited_at=edited, in_reply_to=parent, thread_root=ctx.thread_root or on,
                 text=text, hashtags=tags, mentions=mentions, urls=urls)


def _reaction(ctx: Context, raw: str, r: dict) -> dict:
    created = r.get("created") or {}
    who = created.get("actor") or (r.get("id") or "").split("(")[-1].split(",")[0] or None
    target = s(r.get("root") or r.get("object"))
    return event(ctx, raw=raw, native_id=target, event_type="reaction", author=_who(who),
                 created_at=_ms(created), in_reply_to=target, thread_root=ctx.thread_root or target,
                 reaction_kind=(r.get("reactionType") or "LIKE").lower())
