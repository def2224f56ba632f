"""Shared pieces of every normaliser: reading a delivered body, building the canonical event.

A normaliser is a pure function `(Body, Context) -> list[event wire dict]`. The
Body keeps the exact text as delivered, so every event can carry the exact raw
payload of its item (the item's own slice of the text, or the whole body when
the body holds one item) with its SHA-256.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import html.parser
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from archiefstroom import schemas

CONNECTOR_VERSION = "1.0.0"
UNKNOWN = "unknown"


class NormaliseError(ValueError):
    """The payload is not something this platform delivers (no personal data in the message)."""


# What reading a payload nobody can read may raise: a normaliser's own NormaliseError, or what a
# payload of an unexpected shape makes Python raise on the way (RecursionError: nesting deeper than
# the parser goes; UnicodeDecodeError is a ValueError). Connectors dead-letter these, with the
# reason, and go on; anything else is a bug (tests/unit/test_fuzz_inputs.py).
UNREADABLE = (NormaliseError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


@dataclass(frozen=True)
class Context:
    """What a normaliser cannot see in the payload: who we monitor, when we captured it."""
    platform: str
    account: dict | None = None          # {"id", "handle", "display_name"}: the monitored account, if configured
    captured_at: dt.datetime | None = None
    connector_name: str = ""
    connector_version: str = CONNECTOR_VERSION
    thread_root: str | None = None       # native id of the thread's opening item when the caller knows it
    hints: dict = field(default_factory=dict)

    def now(self) -> dt.datetime:
        return self.captured_at or dt.datetime.now(dt.timezone.utc)

    def with_(self, **kw) -> "Context":
        return replace(self, **kw)


# ------------------------------------------------------------------ bodies

@dataclass
class Body:
    """One delivered payload: its exact text and the parsed JSON."""
    text: str
    doc: Any
    frame_event: str | None = None   # SSE `event:` name when the body came from an SSE frame
    # A page read item by item (the pollers): when a list, an item no normaliser can read goes
    # here as (its exact text, the error) and the page's other items are still read, so one
    # poisoned item cannot hold up the page. None: any unreadable item fails the whole body.
    unreadable: list | None = None

    @classmethod
    def parse(cls, text: str, frame_event: str | None = None) -> "Body":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NormaliseError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
        return cls(text, doc, frame_event)

    def raw(self, path: tuple, single: bool) -> str:
        """Exact text of the item at `path` (the whole body when it holds a single item)."""
        if single or not path:
            return self.text
        try:
            start, end = json_span(self.text, path)
            return self.text[start:end]
        except (ValueError, IndexError, KeyError):
            return json.dumps(_get(self.doc, path), ensure_ascii=False, separators=(",", ":"))


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


_ws = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


def json_span(text: str, path: tuple) -> tuple[int, int]:
    """(start, end) offsets in `text` of the JSON value at `path` (keys and list indexes)."""
    pos = _ws.match(text, 0).end()
    for step in path:
        if isinstance(step, int):
            if text[pos] != "[":
                raise ValueError("not a list")
            pos = _ws.match(text, pos + 1).end()
            for _ in range(step):
                _, pos = _decoder.raw_decode(text, pos)
                pos = _ws.match(text, pos).end()
                if text[pos] != ",":
                    raise IndexError(step)
                pos = _ws.match(text, pos + 1).end()
        else:
            if text[pos] != "{":
                raise ValueError("not an object")
            pos = _ws.match(text, pos + 1).end()
            while True:
                if text[pos] == "}":
                    raise KeyError(step)
                key, pos = json.decoder.scanstring(text, pos + 1)
                pos = _ws.match(text, pos).end() + 1  # ':'
                pos = _ws.match(text, pos).end()
                if key == step:
                    break
                _, pos = _decoder.raw_decode(text, pos)
                pos = _ws.match(text, pos).end()
                if text[pos] == ",":
                    pos = _ws.match(text, pos + 1).end()
    _, end = _decoder.raw_decode(text, pos)
    return pos, end


def split_bodies(text: str) -> list[Body]:
    """A file as delivered: one JSON body, an SSE stream (`event:`/`data:` lines), or JSON lines."""
    stripped = text.lstrip("\ufeff")
    try:
        return [Body(stripped, json.loads(stripped))]
    except json.JSONDecodeError as first_error:
        head = stripped.lstrip()
        if head.startswith(("event:", "data:", ":", "id:", "retry:")):
            return _sse_bodies(head)
        lines = [ln for ln in stripped.splitlines() if ln.strip()]
        if len(lines) > 1:
            out = []
            for number, line in enumerate(lines, 1):
                try:
                    out.append(Body(line, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise NormaliseError(f"line {number} is not JSON ({exc.msg})") from None
            return out
        raise NormaliseError(f"not JSON ({first_error.msg} at line {first_error.lineno} "
                             f"column {first_error.colno})") from None


def sse_frames(lines):
    """(event, data) pairs from an iterable of SSE lines (bytes or str); comments are heartbeats."""
    event, data = None, []
    for raw in lines:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def _sse_bodies(text: str) -> list[Body]:
    bodies = []
    for event, payload in sse_frames(text.splitlines()):
        try:
            doc = json.loads(payload)
        except json.JSONDecodeError:
            doc = payload  # e.g. `event: delete` / `data: 1234` carries a bare id
        bodies.append(Body(payload, doc, event))
    if not bodies:
        raise NormaliseError("SSE stream without data lines")
    return bodies


# ------------------------------------------------------------------ values

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_time(value: Any) -> dt.datetime | None:
    """Platform timestamps: ISO-8601 (any offset form, any fraction), epoch s/ms/us, RFC 2822."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            n = float(value)
            if n > 1e17:      # nanoseconds
                n /= 1e9
            elif n > 1e14:    # microseconds (Jetstream time_us)
                n /= 1e6
            elif n > 1e11:    # milliseconds
                n /= 1e3
            return _EPOCH + dt.timedelta(seconds=n)
        except (OverflowError, ValueError):      # beyond the calendar, inf, nan
            raise NormaliseError("timestamp out of range") from None
    if isinstance(value, str):
        text = value.strip()
        iso = text.replace("Z", "+00:00").replace("z", "+00:00")
        iso = re.sub(r"(\.\d{6})\d+", r"\1", iso)  # nanoseconds: keep microseconds
        try:
            parsed = dt.datetime.fromisoformat(iso)
            return parsed.astimezone(dt.timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        except ValueError:
            pass
        try:  # "Wed Oct 10 20:19:24 +0000 2018" (X v1.1) and RFC 2822
            return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(dt.timezone.utc)
        except ValueError:
            pass
        try:
            return email.utils.parsedate_to_datetime(text).astimezone(dt.timezone.utc)
        except (TypeError, ValueError):
            pass
    raise NormaliseError(f"unreadable timestamp of type {type(value).__name__}")


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Text(html.parser.HTMLParser):
    BREAKS = {"br", "p", "div", "li"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[tuple[str, str]] = []   # (href, class)
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "br":
            self.parts.append("\n")
        if tag == "a" and a.get("href"):
            self.links.append((a["href"], a.get("class") or "", a.get("rel") or ""))
        if tag == "span" and "invisible" in (a.get("class") or "").split():
            self._hidden += 1
        elif tag == "span" and self._hidden:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "p":
            self.parts.append("\n\n")
        if tag == "span" and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(markup: str | None) -> tuple[str | None, list[str]]:
    """Plain text of an HTML fragment and the plain links in it (not mentions or hashtags)."""
    if markup is None:
        return None, []
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
    links = [href for href, cls, rel in parser.links
             if "mention" not in cls and "hashtag" not in cls and rel != "tag"]
    return text, links


_hashtag = re.compile(r"(?:^|(?<=[^\w&]))#(\w+)", re.UNICODE)
_mention = re.compile(r"(?:^|(?<=[^\w]))@([\w.\-]+(?:@[\w.\-]+)?)", re.UNICODE)
_url = re.compile(r"https?://[^\s<>\"']+")


def text_entities(text: str | None) -> tuple[list[str], list[str], list[str]]:
    """Hashtags, mentions and URLs found in plain text (for platforms that give no entities)."""
    if not text:
        return [], [], []
    return (_unique(_hashtag.findall(text)), _unique(m.rstrip(".") for m in _mention.findall(text)),
            _unique(u.rstrip(".,;:!?)") for u in _url.findall(text)))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def s(value: Any) -> str | None:
    """Ids arrive as numbers or strings; the schema wants strings."""
    if value is None or value == "":
        return None
    return str(value)


def actor(id_: Any, handle: Any = None, display_name: Any = None, profile_url: Any = None, avatar_url: Any = None) -> dict:
    return {"id": s(id_) or UNKNOWN, "handle": s(handle), "display_name": s(display_name),
            "profile_url": s(profile_url), "avatar_url": s(avatar_url)}


def account_from(a: dict | None) -> dict:
    if not a:
        return {"id": UNKNOWN, "handle": UNKNOWN, "display_name": None}
    return {"id": s(a.get("id")) or UNKNOWN, "handle": s(a.get("handle")) or s(a.get("id")) or UNKNOWN,
            "display_name": s(a.get("display_name"))}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event(ctx: Context, *, raw: str, native_id: str, event_type: str, author: dict,
          created_at: dt.datetime | None, account: dict | None = None, object_native: str | None = None,
          event_id: str | None = None, in_reply_to: str | None = None, thread_root: str | None = None,
          referenced: dict | None = None, edited_at: dt.datetime | None = None, text: str | None = None,
          language: str | None = None, url: str | None = None, hashtags: Iterable[str] = (),
          mentions: Iterable[str] = (), urls: Iterable[str] = (), media: Iterable[dict] = (),
          reaction_kind: str | None = None, platform: str | None = None) -> dict:
    """Canonical SocialEvent in wire form. Ids given as native ids; the platform prefix is added here."""
    p = platform or ctx.platform
    pre = f"{p}:"

    def oid(native: str | None) -> str | None:
        return None if native is None else pre + str(native)

    object_id = oid(object_native or native_id)
    if event_id is None:
        event_id = {"edit": f"{object_id}:edit:{iso(edited_at)}", "delete": f"{object_id}:delete",
                    "reaction": f"{object_id}:reaction:{author['id']}"}.get(event_type, pre + str(native_id))
    captured = ctx.now()
    return {
        "event_id": event_id, "object_id": object_id, "platform": p, "native_id": str(native_id),
        "event_type": event_type,
        "account": account_from(ctx.account or account),
        "author": author,
        "in_reply_to": oid(in_reply_to), "thread_root": oid(thread_root),
        "referenced": referenced,
        "created_at": iso(created_at or captured), "captured_at": iso(captured), "edited_at": iso(edited_at),
        "text": text, "language": language or None, "url": url,
        "hashtags": _unique(hashtags), "mentions": _unique(mentions), "urls": _unique(urls),
        "media": list(media), "reaction_kind": reaction_kind,
        "raw": {"payload": raw, "sha256": sha256(raw), "content_type": "application/json"},
        "connector": {"name": ctx.connector_name or f"archiefstroom-{p}", "version": ctx.connector_version},
    }


def referenced(platform: str, native_id: str, author: dict | None = None, text: str | None = None,
               url: str | None = None) -> dict:
    return {"object_id": f"{platform}:{native_id}", "author": author, "text": text, "url": url}


def check_event(ev: dict) -> dict:
    """Raise WireError unless `ev` is a valid SocialEvent on the wire."""
    schemas.validate(schemas.from_wire(ev, "social_event"), "social_event")
    return ev


class Items:
    """Collects (path, builder) while a normaliser walks a body, then builds the events.

    Builders get the raw text for their item; that needs to know how many items
    the body held, so building waits until the walk is done.
    """

    def __init__(self, body: Body):
        self.body = body
        self._pending: list[tuple[tuple, Any]] = []

    def add(self, path: tuple, build) -> None:
        self._pending.append((path, build))

    def item(self, path: tuple, walk) -> None:
        """Walk one item of a list (`walk()` adds its builders). In a page read item by item, an
        item whose shape the walk refuses is set aside with its text instead of failing the page;
        it still counts as an item, so the others keep their own slice as raw payload."""
        if self.body.unreadable is None:
            walk()
            return
        mark = len(self._pending)
        try:
            walk()
        except UNREADABLE as exc:
            del self._pending[mark:]
            self._pending.append((path, _refused(exc)))

    def build(self) -> list[dict]:
        single = len({p for p, _ in self._pending}) == 1
        out = []
        for path, build in self._pending:
            raw = self.body.raw(path, single)
            if self.body.unreadable is None:
                out.extend(_as_list(build(raw)))
                continue
            try:   # checked as the streams check what they send: a bad event is a bad item
                made = [check_event(ev) for ev in _as_list(build(raw))]
            except UNREADABLE as exc:
                self.body.unreadable.append((raw, exc))
                continue
            out.extend(made)
        return out


def _as_list(made) -> list[dict]:
    return made if isinstance(made, list) else [made] if made else []


def _refused(exc: Exception):
    """A builder for an item the walk refused: building it raises the walk's error."""
    def build(raw: str):
        raise exc
    return build
