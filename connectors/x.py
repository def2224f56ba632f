"""X / Twitter: API v2 responses and stream lines, v2 compliance and Account Activity payloads,
and v1.1 tweet objects (Account Activity `tweet_create_events`, the X archive export).

`includes` resolve authors, media and referenced posts. Edits (edit_history_tweet_ids)
share the object id of the first version; reposts and quotes carry the referenced post.
Unknown keys (twarc's `__twarc`, `matching_rules`, ...) are ignored.
"""
from __future__ import annotations

from archiefstroom.connectors.base import (Body, Context, Items, NormaliseError, actor, event, parse_time,
                                           referenced, s)

PLATFORM = "x"
_NO_LANGUAGE = {"und", "zxx", "art"}


def normalise(body: Body, ctx: Context) -> list[dict]:
    items = Items(body)
    doc = body.doc
    if isinstance(doc, list):
        for i, entry in enumerate(doc):
            _loose(items, ctx, entry, (i,), {})
    elif not isinstance(doc, dict):
        raise NormaliseError("expected an X API response object")
    elif "data" in doc:
        data = doc["data"]
        inc = _Includes(doc.get("includes") or {})
        if isinstance(data, dict) and any(k in data for k in ("delete", "user_delete", "withheld", "drop", "undrop",
                                                               "scrub_geo", "user_suspend")):
            _compliance(items, ctx, data)
        elif isinstance(data, dict):
            items.add(("data",), lambda raw: tweet_v2(ctx, raw, data, inc))
        elif isinstance(data, list):
            for i, t in enumerate(data):
                items.add(("data", i), lambda raw, t=t: tweet_v2(ctx, raw, t, inc))
        else:
            raise NormaliseError("X response: 'data' is neither an object nor a list")
    elif any(k.endswith("_events") for k in doc) or "for_user_id" in doc:
        _account_activity(items, ctx, doc)
    elif "errors" in doc or "title" in doc and "detail" in doc:
        raise NormaliseError("X API error response without data")
    elif "meta" in doc:
        pass  # an empty page: {"meta": {"result_count": 0}}
    else:
        _loose(items, ctx, doc, (), {})
    return items.build()


def _loose(items: Items, ctx: Context, t, path, _):
    """A bare tweet: v2 (author_id), v1.1 (id_str/user) or an X archive entry ({"tweet": {...}})."""
    if not isinstance(t, dict):
        raise NormaliseError("expected a tweet object")
    if "tweet" in t and isinstance(t["tweet"], dict):
        items.add(path, lambda raw: tweet_v1(ctx, raw, t["tweet"]))
    elif "id_str" in t or "user" in t or "full_text" in t:
        items.add(path, lambda raw: tweet_v1(ctx, raw, t))
    elif "id" in t and "text" in t:
        items.add(path, lambda raw: tweet_v2(ctx, raw, t, _Includes({})))
    else:
        raise NormaliseError("expected an X tweet (v2 or v1.1)")


class _Includes:
    def __init__(self, inc: dict):
        self.users = {s(u.get("id")): u for u in inc.get("users") or [] if isinstance(u, dict)}
        self.tweets = {s(t.get("id")): t for t in inc.get("tweets") or [] if isinstance(t, dict)}
        self.media = {m.get("media_key"): m for m in inc.get("media") or [] if isinstance(m, dict)}

    def user(self, uid, embedded=None) -> dict:
        u = embedded if isinstance(embedded, dict) else self.users.get(s(uid)) or {}
        uid = s(u.get("id")) or s(uid)
        handle = u.get("username")
        return actor(uid, handle, u.get("name"), f"https://x.com/{handle}" if handle else None,
                     u.get("profile_image_url"))


def _url(handle, tid) -> str:
    return f"https://x.com/{handle}/status/{tid}" if handle else f"https://x.com/i/web/status/{tid}"


def _lang(code):
    if not code or code in _NO_LANGUAGE or (len(code) == 3 and code.startswith("q")):
        return None   # X's pseudo codes: und, qst (very short), qme (media only), ...
    return code


def tweet_v2(ctx: Context, raw: str, t: dict, inc: _Includes) -> dict:
    tid = s(t.get("id"))
    if not tid:
        raise NormaliseError("tweet without id")
    author = inc.user(t.get("author_id"), t.get("author"))
    refs = {r.get("type"): s(r.get("id")) for r in t.get("referenced_tweets") or [] if isinstance(r, dict)}
    kind, ref = "post", None
    if refs.get("replied_to"):
        kind = "reply"
    if refs.get("quoted"):
        kind, ref = "quote", _ref_v2(refs["quoted"], inc)
    if refs.get("retweeted"):
        kind, ref = "repost", _ref_v2(refs["retweeted"], inc)
    history = [s(h) for h in t.get("edit_history_tweet_ids") or []]
    created = parse_time(t.get("created_at"))
    edited = object_native = None
    conversation = s(t.get("conversation_id"))
    if len(history) > 1 and tid != history[0]:
        kind, object_native, edited = "edit", history[0], created
        first = inc.tweets.get(history[0]) or {}
        created = parse_time(first.get("created_at")) or created
        conversation = s(first.get("conversation_id")) or conversation
    ent = t.get("entities") or {}
    media = []
    for key in (t.get("attachments") or {}).get("media_keys") or []:
        m = inc.media.get(key) or {}
        # a video's file is its best MP4 variant (media.fields=variants); the poster image otherwise
        mp4 = [v for v in m.get("variants") or [] if isinstance(v, dict) and v.get("content_type") == "video/mp4"
               and isinstance(v.get("url"), str)]
        best = max(mp4, key=lambda v: v.get("bit_rate") if isinstance(v.get("bit_rate"), int) else 0) if mp4 else None
        url = (best or {}).get("url") or m.get("url") or m.get("preview_image_url")
        if url:
            media.append({"url": url, "media_type": m.get("type") or "unknown", "alt_text": m.get("alt_text")})
    note = t.get("note_tweet") or {}
    account = None
    if not ctx.account:
        root = inc.tweets.get(conversation)
        owner = inc.user(root.get("author_id")) if root and root.get("author_id") else author
        account = {"id": owner["id"], "handle": owner["handle"] or owner["id"], "display_name": owner["display_name"]}
    return event(
        ctx, raw=raw, native_id=tid, event_type=kind, author=author, created_at=created, account=account,
        object_native=object_native, in_reply_to=refs.get("replied_to"),
        thread_root=ctx.thread_root or conversation, referenced=ref, edited_at=edited,
        text=note.get("text") or t.get("text"), language=_lang(t.get("lang")), url=_url(author["handle"], tid),
        hashtags=[h.get("tag") for h in ent.get("hashtags") or [] if h.get("tag")],
        mentions=[m.get("username") for m in ent.get("mentions") or [] if m.get("username")],
        urls=[u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in ent.get("urls") or []
              if not u.get("media_key")],
        media=media)


def _ref_v2(tid: str, inc: _Includes) -> dict:
    t = inc.tweets.get(tid) or {}
    author = inc.user(t.get("author_id"), t.get("author")) if t.get("author_id") or t.get("author") else None
    return referenced(PLATFORM, tid, author, t.get("text"), _url(author and author["handle"], tid))


def _user_v1(u: dict | None, fallback: dict | None = None) -> dict:
    if not u:
        f = fallback or {}
        return actor(f.get("id"), f.get("handle"), f.get("display_name"))
    handle = u.get("screen_name")
    return actor(u.get("id_str") or u.get("id"), handle, u.get("name"),
                 f"https://x.com/{handle}" if handle else None, u.get("profile_image_url_https"))


def tweet_v1(ctx: Context, raw: str, t: dict) -> dict:
    """v1.1 tweet (Account Activity, X archive `tweets.js`, where `user` is absent: the archive owner)."""
    tid = s(t.get("id_str") or t.get("id"))
    if not tid:
        raise NormaliseError("tweet without id")
    author = _user_v1(t.get("user"), ctx.account)
    kind, ref = "post", None
    reply_to = s(t.get("in_reply_to_status_id_str") or t.get("in_reply_to_status_id"))
    if reply_to:
        kind = "reply"
    if t.get("quoted_status") or t.get("quoted_status_id_str"):
        q = t.get("quoted_status") or {}
        qid = s(q.get("id_str") or t.get("quoted_status_id_str"))
        qa = _user_v1(q.get("user")) if q.get("user") else None
        kind, ref = "quote", referenced(PLATFORM, qid, qa, q.get("full_text") or q.get("text"),
                                        _url(qa and qa["handle"], qid))
    rt = t.get("retweeted_status")
    text = t.get("full_text") or (t.get("extended_tweet") or {}).get("full_text") or t.get("text")
    if rt or (text or "").startswith("RT @") and not reply_to:
        if rt:
            ra = _user_v1(rt.get("user"))
            rid = s(rt.get("id_str") or rt.get("id"))
            ref = referenced(PLATFORM, rid, ra, rt.get("full_text") or rt.get("text"), _url(ra["handle"], rid))
            kind = "repost"
    ent = t.get("extended_entities") or t.get("entities") or {}
    base_ent = t.get("entities") or {}
    return event(
        ctx, raw=raw, native_id=tid, event_type=kind, author=author, created_at=parse_time(t.get("created_at")),
        account={"id": author["id"], "handle": author["handle"] or author["id"], "display_name": author["display_name"]},
        in_reply_to=reply_to, thread_root=ctx.thread_root, referenced=ref, text=text,
        language=_lang(t.get("lang")), url=_url(author["handle"], tid),
        hashtags=[h.get("text") for h in base_ent.get("hashtags") or []],
        mentions=[m.get("screen_name") for m in base_ent.get("user_mentions") or []],
        urls=[u.get("expanded_url") or u.get("url") for u in base_ent.get("urls") or []],
        media=[{"url": m.get("media_url_https") or m.get("media_url"), "media_type": m.get("type") or "photo",
                "alt_text": m.get("ext_alt_text")} for m in ent.get("media") or []
               if m.get("media_url_https") or m.get("media_url")])


def _compliance(items: Items, ctx: Context, data: dict) -> None:
    d = data.get("delete")
    if isinstance(d, dict) and isinstance(d.get("tweet"), dict):
        tw = d["tweet"]
        who = actor(tw.get("author_id"))
        items.add(("data",), lambda raw: event(
            ctx, raw=raw, native_id=s(tw.get("id")), event_type="delete", author=who,
            created_at=parse_time(d.get("event_at")),
            account={"id": who["id"], "handle": who["id"], "display_name": None}))
    # user_delete, withheld, drop, ...: account-level compliance, no content item


def _account_activity(items: Items, ctx: Context, doc: dict) -> None:
    owner = s(doc.get("for_user_id"))
    acc = {"id": owner, "handle": owner, "display_name": None} if owner else None
    for i, d in enumerate(doc.get("tweet_delete_events") or []):
        st = d.get("status") or {}
        items.add(("tweet_delete_events", i), lambda raw, st=st, d=d: event(
            ctx, raw=raw, native_id=s(st.get("id")), event_type="delete", author=actor(st.get("user_id")),
            created_at=parse_time(d.get("timestamp_ms")), account=acc))
    for i, t in enumerate(doc.get("tweet_create_events") or []):
        items.add(("tweet_create_events", i), lambda raw, t=t: _with_account(tweet_v1(ctx, raw, t), ctx, acc))
    for i, f in enumerate(doc.get("favorite_events") or []):
        st = f.get("favorited_status") or {}
        sid = s(st.get("id_str") or st.get("id"))
        items.add(("favorite_events", i), lambda raw, f=f, sid=sid: event(
            ctx, raw=raw, native_id=sid, event_type="reaction", author=_user_v1(f.get("user")),
            created_at=parse_time(f.get("timestamp_ms") or f.get("created_at")), account=acc,
            in_reply_to=sid, reaction_kind="like"))


def _with_account(ev: dict, ctx: Context, acc: dict | None) -> dict:
    if acc and not ctx.account:
        ev["account"] = {"id": acc["id"], "handle": acc["handle"], "display_name": None}
    return ev
