"""Mastodon: REST statuses, contexts and notifications, and streaming frames (SSE and WebSocket).

Event types: a status is a post, a reply (in_reply_to_id), a repost (reblog),
a quote (4.4+ `quote.quoted_status`) or a direct message (visibility direct);
`edited_at` makes it an edit; the streaming `delete` event is a delete;
favourite notifications are reactions.

Notifications come as v1 `Notification` entities (GET /api/v1/notifications, the
streaming `notification` event) or as a v2 `GroupedNotificationsResults` (GET
/api/v2/notifications[/:group_key], Mastodon 4.3+): `accounts[]`, `partial_accounts[]`
and `statuses[]` at the root, `notification_groups[]` pointing into them by id. A
favourite or reblog group gives one event per account in `sample_account_ids`
(the server lists at most 8; the rest of a large group is only in
GET /api/v2/notifications/:group_key/accounts).
"""
from __future__ import annotations

import json
from urllib.parse import urlparse

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, html_to_text,
                                           parse_time, referenced, s)

PLATFORM = "mastodon"


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if body.frame_event == "delete" or (body.frame_event and isinstance(doc, (str, int))):
        if body.frame_event != "delete":
            raise NormaliseError(f"SSE event {body.frame_event!r} without a JSON payload")
        items.add((), lambda raw: _delete(ctx, raw, s(doc)))
    elif isinstance(doc, dict) and "event" in doc and "payload" in doc:
        _frame(items, ctx, doc)
    elif isinstance(doc, dict) and ("ancestors" in doc or "descendants" in doc):
        _context(items, ctx, doc)
    elif isinstance(doc, dict) and isinstance(doc.get("notification_groups"), list):
        _grouped(items, ctx, doc)
    elif isinstance(doc, list):
        for i, entry in enumerate(doc):
            items.item((i,), lambda entry=entry, i=i: _entity(items, ctx, entry, (i,), body.frame_event))
    elif isinstance(doc, dict):
        _entity(items, ctx, doc, (), body.frame_event)
    else:
        raise NormaliseError("expected a Mastodon Status, Notification, Context or streaming frame")
    return items.build()


def _entity(items: Items, ctx: Context, doc, path, frame_event=None) -> None:
    if not isinstance(doc, dict) or "id" not in doc:
        raise NormaliseError("expected a Mastodon entity with an id")
    if "last_status" in doc and "accounts" in doc:           # Conversation (direct messages)
        if doc.get("last_status"):
            items.add(path + ("last_status",), lambda raw: status(ctx, raw, doc["last_status"], direct=True))
    elif "type" in doc and "account" in doc and "content" not in doc:   # Notification
        items.add(path, lambda raw: notification(ctx, raw, doc))
    elif "created_at" in doc:
        items.add(path, lambda raw: status(ctx, raw, doc, edit=frame_event == "status.update"))
    else:
        raise NormaliseError("expected a Mastodon Status, Notification or Conversation")


def _frame(items: Items, ctx: Context, frame: dict) -> None:
    name, payload = frame.get("event"), frame.get("payload")
    if name == "delete":
        items.add((), lambda raw: _delete(ctx, raw, s(payload)))
        return
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError:
            raise NormaliseError(f"WebSocket frame {name!r}: payload is not JSON") from None
    if name in ("update", "status.update", "notification", "conversation"):
        _entity(items, ctx, payload, (), name)
    # filters_changed, announcement, encrypted_message: no content to archive


def _context(items: Items, ctx: Context, doc: dict) -> None:
    ancestors = doc.get("ancestors") or []
    root = ctx.thread_root or (s(ancestors[0].get("id")) if ancestors else None)
    sub = ctx.with_(thread_root=root)
    for key in ("ancestors", "descendants"):
        for i, st in enumerate(doc.get(key) or []):
            items.add((key, i), lambda raw, st=st: status(sub, raw, st))


def author_of(acc: dict | None) -> dict:
    if not acc:
        return actor(None)
    handle = acc.get("acct") or acc.get("username")
    host = urlparse(acc.get("url") or "").hostname
    if handle and "@" not in handle and host:
        handle = f"{handle}@{host}"
    return actor(acc.get("id"), handle, acc.get("display_name") or None, acc.get("url"), acc.get("avatar"))


def _account(acc: dict | None) -> dict | None:
    if not acc:
        return None
    a = author_of(acc)
    return {"id": a["id"], "handle": a["handle"] or a["id"], "display_name": a["display_name"]}


def status(ctx: Context, raw: str, st: dict, *, edit: bool = False, direct: bool = False) -> dict:
    sid = s(st.get("id"))
    if not sid:
        raise NormaliseError("Status without id")
    author = author_of(st.get("account"))
    text, links = html_to_text(st.get("content"))
    if st.get("spoiler_text"):
        text = f"{st['spoiler_text']}\n\n{text}" if text else st["spoiler_text"]
    created = parse_time(st.get("created_at"))
    edited = parse_time(st.get("edited_at"))
    reply_to = s(st.get("in_reply_to_id"))
    ref, kind = None, "reply" if reply_to else "post"
    inner = st.get("reblog")
    quote = st.get("quote") if isinstance(st.get("quote"), dict) else None
    if inner:
        kind, text = "repost", None
        ref = _ref(inner)
    elif quote and quote.get("quoted_status"):
        kind, ref = "quote", _ref(quote["quoted_status"])
    if direct or st.get("visibility") == "direct":
        kind = "direct_message"
    if edited or edit:
        kind = "edit"
        edited = edited or parse_time(st.get("updated_at")) or ctx.now()
    root = ctx.thread_root or (sid if not reply_to else None)
    card = st.get("card") or {}
    return event(
        ctx, raw=raw, native_id=sid, event_type=kind, author=author, created_at=created,
        account=_owner(st), in_reply_to=reply_to, thread_root=root, referenced=ref,
        edited_at=edited if kind == "edit" else None, text=text or None, language=st.get("language"),
        url=st.get("url") or st.get("uri"),
        hashtags=[t.get("name") for t in st.get("tags") or [] if t.get("name")],
        mentions=[m.get("acct") for m in st.get("mentions") or [] if m.get("acct")],
        urls=links + ([card["url"]] if card.get("url") else []),
        media=[{"url": m.get("url") or m.get("remote_url"), "media_type": m.get("type") or "unknown",
                "alt_text": m.get("description")}
               for m in st.get("media_attachments") or [] if m.get("url") or m.get("remote_url")])


def _owner(st: dict) -> dict | None:
    """Without a configured account: a reply belongs to the thread of the account it answers
    (resolved through the mentions), anything else to its author."""
    parent_account = s(st.get("in_reply_to_account_id"))
    author = st.get("account") or {}
    if parent_account and parent_account != s(author.get("id")):
        for m in st.get("mentions") or []:
            if s(m.get("id")) == parent_account:
                return _account({"id": parent_account, "acct": m.get("acct"), "url": m.get("url")})
        return {"id": parent_account, "handle": parent_account, "display_name": None}
    return _account(author)


def _ref(st: dict) -> dict:
    text, _ = html_to_text(st.get("content"))
    return referenced(PLATFORM, s(st.get("id")), author_of(st.get("account")), text or None,
                      st.get("url") or st.get("uri"))


def notification(ctx: Context, raw: str, n: dict) -> dict | None:
    kind, st = n.get("type"), n.get("status")
    who = author_of(n.get("account"))
    when = parse_time(n.get("created_at"))
    if kind in ("mention", "status", "quote") and st:
        return status(ctx, raw, st)
    if kind in ("update", "quoted_update") and st:
        return status(ctx, raw, st, edit=True)
    if kind == "favourite" and st:
        sid = s(st["id"])
        return event(ctx, raw=raw, native_id=sid, event_type="reaction", author=who, created_at=when,
                     account=_account(st.get("account")), in_reply_to=sid,
                     thread_root=ctx.thread_root or (None if st.get("in_reply_to_id") else sid),
                     reaction_kind="favourite", url=st.get("url"))
    if kind == "reblog" and st:
        sid = s(st["id"])
        return event(ctx, raw=raw, native_id=f"{sid}:reblog:{who['id']}", event_type="repost", author=who,
                     created_at=when, account=_account(st.get("account")), referenced=_ref(st),
                     thread_root=ctx.thread_root)
    return None   # follow, poll, admin.sign_up, ...: not content


def _grouped(items: Items, ctx: Context, doc: dict) -> None:
    """GroupedNotificationsResults (v2): each group resolved against the root `accounts`,
    `partial_accounts` and `statuses`. The raw payload of a content notification is its
    status's own slice; of a favourite/reblog group, the group's slice (the whole body
    when the page holds one group)."""
    accounts = {s(a.get("id")): a for key in ("partial_accounts", "accounts")
                for a in doc.get(key) or [] if isinstance(a, dict)}
    statuses = {s(st.get("id")): (i, st) for i, st in enumerate(doc.get("statuses") or [])
                if isinstance(st, dict)}
    for g, group in enumerate(doc["notification_groups"]):
        if not isinstance(group, dict) or not group.get("type"):
            raise NormaliseError("grouped notifications: a notification group without a type")
        kind, sid = group["type"], s(group.get("status_id"))
        if sid is None:
            continue   # follow, follow_request, admin.sign_up, severed_relationships, ...: not content
        if sid not in statuses:
            raise NormaliseError("grouped notifications: a group names a status the page does not hold")
        i, st = statuses[sid]
        if kind in ("mention", "status", "quote"):
            items.add(("statuses", i), lambda raw, st=st: status(ctx, raw, st))
        elif kind in ("update", "quoted_update"):
            items.add(("statuses", i), lambda raw, st=st: status(ctx, raw, st, edit=True))
        elif kind in ("favourite", "reblog"):
            when = parse_time(group.get("latest_page_notification_at"))
            for aid in group.get("sample_account_ids") or []:
                who = accounts.get(s(aid)) or {"id": aid}
                n = {"type": kind, "account": who, "status": st, "created_at": when}
                items.add(("notification_groups", g), lambda raw, n=n: notification(ctx, raw, n))
        # poll, annual_report, moderation_warning, ...: not content


def _delete(ctx: Context, raw: str, sid: str | None) -> dict:
    if not sid:
        raise NormaliseError("delete event without a status id")
    return event(ctx, raw=raw, native_id=sid, event_type="delete", author=actor(None), created_at=None,
                 thread_root=ctx.thread_root)
