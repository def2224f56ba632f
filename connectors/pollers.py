"""Polling connectors: one class per platform, each a loop of `poll_once()`.

Every poll sends a batch to the sink and only then saves the checkpoint, so a
restart resumes where the last acknowledged batch ended. Cursor-style APIs
(Mastodon min_id, X since_id, Graph API `after`) are followed forward; snapshot
APIs (a thread's context, a video's comment threads) go through `Seen`, which
keeps the event ids already sent per thread.

A page is read item by item (`read_page`): an item no normaliser can read is dead-lettered
with its reason and exact text, the page's other items go on, and the cursor moves past the
page once the broker acknowledged both. A page that cannot be read at all (not UTF-8, not JSON,
not the envelope the API gives) cannot be moved past, as the next cursor is in it: it is
dead-lettered once, and its scope (an account's timeline, a thread) is read again later with
backoff (`unreadable_page`), while the other scopes go on.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from urllib.parse import quote

from archiefstroom.connectors import exports, registry
from archiefstroom.connectors.base import UNREADABLE, Body, Context, NormaliseError, sha256
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, HttpError, Metrics, Response, Seen, epoch
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground import failpoints

log = logging.getLogger(__name__)


def _id_key(native: str):
    """Order snowflake-style ids numerically, others as text."""
    return (0, int(native), "") if native.isdigit() else (1, 0, native)


def _dict(value) -> dict:
    """A field of a page's envelope that should be an object: {} when the page has something else."""
    return value if isinstance(value, dict) else {}


def _text(value) -> str | None:
    """A page's cursor or token: a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _ids(page: list) -> list[str]:
    """The ids of a page's items that have one (an item without is dead-lettered, not followed)."""
    return [str(st["id"]) for st in page
            if isinstance(st, dict) and isinstance(st.get("id"), (str, int)) and str(st["id"])]


UNREADABLE_PAGES = "unreadable_pages"   # checkpoint key: scope -> the unreadable page it waits on


class Connector:
    platform = ""

    def __init__(self, settings: ConnectorSettings, sink, checkpoint: Checkpoint, *, http: HttpClient | None = None,
                 metrics: Metrics | None = None, stop: threading.Event | None = None, registry=None):
        self.settings, self.sink, self.cp = settings, sink, checkpoint
        self.registry = registry   # the rules' registries (core.rules.registry.Registry): harvest windows
        self.metrics = metrics or Metrics(settings.connector_name)
        self.stop = stop or threading.Event()
        h = settings.http
        self.http = http or HttpClient(timeout=h.timeout_seconds, connect_timeout=h.connect_timeout_seconds,
                                       max_retries=h.max_retries,
                                       backoff_base=h.backoff_base_seconds, backoff_max=h.backoff_max_seconds,
                                       max_wait=h.max_rate_limit_wait_seconds, headers=self.auth_headers(),
                                       metrics=self.metrics, stop=self.stop)
        self.http.metrics = self.metrics
        self.seen = Seen(checkpoint)

    # -- plumbing
    def auth_headers(self) -> dict:
        token = self.settings.token.value()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def ctx(self, account=None, **kw) -> Context:
        return Context(platform=kw.pop("platform", self.settings.platform if self.settings.platform != "exports"
                                       else "x"),
                       account=account.as_dict() if account else None,
                       captured_at=dt.datetime.now(dt.timezone.utc),
                       connector_name=f"archiefstroom-{self.settings.platform}", **kw)

    def normalise(self, text: str, ctx: Context) -> list[dict]:
        return registry.normalise_body(ctx.platform, Body.parse(text), ctx)

    def parse_page(self, resp: Response, scope: str, shape: type = dict) -> Body | None:
        """A fetched page's body when it is JSON of the expected envelope (`shape`: an API's
        object or list); None when not, after `unreadable_page`."""
        try:
            if resp.text is None:
                raise NormaliseError("not UTF-8")
            body = Body.parse(resp.text)
            if not isinstance(body.doc, shape):
                raise NormaliseError(f"expected a JSON {'list' if shape is list else 'object'} page")
        except UNREADABLE as exc:
            self.unreadable_page(scope, resp, exc)
            return None
        return body

    def read_page(self, resp: Response, ctx: Context, scope: str, shape: type = dict):
        """(the page's JSON, the events of its items), item by item: an item no normaliser can
        read is dead-lettered with its exact text and the others are kept. `scope` remembers
        those dead letters, so a page read again (a snapshot API, a retry) does not dead-letter
        the same item twice. None when the page cannot be read at all (`unreadable_page`)."""
        body = self.parse_page(resp, scope, shape)
        if body is None:
            return None
        events = self.read_items(body, resp, ctx, scope)
        return None if events is None else (body.doc, events)

    def read_new(self, resp: Response, ctx: Context, scope: str):
        """`read_page`, keeping only the events the scope has not sent before: (JSON, new events)."""
        read = self.read_page(resp, ctx, scope)
        return None if read is None else (read[0], self.seen.new(scope, read[1]))

    def read_items(self, body: Body, resp: Response, ctx: Context, scope: str) -> list[dict] | None:
        """The events of a parsed page's items (see `read_page`)."""
        body.unreadable = []
        try:
            events = registry.normalise_body(ctx.platform, body, ctx)
        except UNREADABLE as exc:       # the envelope itself: no item can be told from another
            self.unreadable_page(scope, resp, exc)
            return None
        for raw, exc in body.unreadable:
            marker = f"dead-letter:{sha256(raw)[:32]}"
            if not self.seen.has(scope, marker):
                self.dead_letter(raw, exc)
                self.seen.note(scope, marker)
        return events

    def unreadable_page(self, scope: str, resp: Response, exc: Exception, *, dead_lettered: bool = False) -> None:
        """A page that cannot be read as a whole, after the HTTP layer's retries (a 5xx or 429
        never gets here). Its cursor cannot be moved past (the next one is in the page), and
        skipping it would lose what it holds, so the scope waits on it: dead-lettered the first
        time only (the bytes as they came), the scope read again after a backoff that grows
        with each attempt (`held`), every attempt counted in `errors`, until the scope is read
        through (`release`); a page that then breaks again is a new dead letter.
        `dead_lettered`: its items already are, one by one (none of them says where it ends)."""
        held = self.cp.state.setdefault(UNREADABLE_PAGES, {})
        entry = held.get(scope)
        if entry is None:
            data = resp.content or (resp.text or "").encode("utf-8")
            if not dead_lettered:
                self.dead_letter(data, exc)
            entry = held[scope] = {"sha256": hashlib.sha256(data).hexdigest(), "attempts": 0}
        entry["attempts"] += 1
        delay = min(self.settings.http.backoff_max_seconds, self.http.backoff(entry["attempts"]))
        entry["retry_at"] = self.http.clock() + delay
        self.metrics.inc("errors")
        log.warning("%s: a %s page is unreadable (%s, sha256 %s), attempt %d; read again in %.0f s",
                    self.settings.connector_name, scope.split(":", 1)[0], type(exc).__name__,
                    entry["sha256"][:16], entry["attempts"], delay)
        self.commit()   # the dead letter is acknowledged; the next attempt must not repeat it

    def held(self, scope: str) -> bool:
        """Whether the scope waits on an unreadable page whose next attempt has not come yet."""
        entry = self.cp.state.get(UNREADABLE_PAGES, {}).get(scope)
        return entry is not None and self.http.clock() < entry.get("retry_at", 0)

    def release(self, scope: str) -> bool:
        """The scope was read through: the page it waited on (if any) is behind it. True when
        that changed the checkpoint (the caller saves it)."""
        return self.cp.state.get(UNREADABLE_PAGES, {}).pop(scope, None) is not None

    def forget(self, scope: str) -> None:
        """A scope no longer polled (a thread out of its window): its ids and its wait go."""
        self.seen.drop(scope)
        self.release(scope)

    def emit(self, events: list[dict]) -> None:
        if events:
            self.sink.send(events)
            failpoints.point("connector.after_send")      # acknowledged, checkpoint not yet saved
            self.metrics.observe_events(events)

    def commit(self) -> None:
        self.cp.save()

    def dead_letter(self, payload: str | bytes, exc: Exception) -> None:
        """A payload that cannot be read (a stream's message, a page's item, a whole page) goes to
        the dead-letter topic with its reason (the error's type and the parser's words, never the
        payload's content); returns once acknowledged, and the connector goes on: a reconnect
        or a retry would only meet it again. The log names its size and hash, never its content."""
        data = payload if isinstance(payload, bytes) else payload.encode("utf-8", "replace")
        reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, NormaliseError) else type(exc).__name__
        self.sink.dead_letter(data, f"not readable as {self.settings.platform}: {reason}",
                              f"connector:{self.settings.connector_name}", self.settings.platform)
        self.metrics.inc("dead_letters")
        log.warning("%s: a payload of %d bytes was dead-lettered (%s, sha256 %s)", self.settings.connector_name,
                    len(data), type(exc).__name__, hashlib.sha256(data).hexdigest()[:16])

    def window_days(self, account=None) -> float:
        """How long a thread is followed: the connector's window, cut to the harvest window the
        rules registry gives the account's type on this platform (issue 17). After that the
        pipeline has sealed the thread; polling it would spend API quota on late reactions."""
        days = self.settings.thread_window_days
        if self.registry is not None and account is not None:
            known = self.registry.account(self.settings.platform, account.id)
            if known is not None:
                days = min(days, self.registry.harvest_window_days(self.settings.platform, known.type))
        return days

    def follow_threads(self, threads: dict, scope: str, fetch, *, order=None, account=None) -> int:
        """Fetch again every tracked thread still inside the window, send what is new in it, and
        forget threads that left the window. `threads` maps thread id -> created time;
        `fetch(thread_id, key)` returns the thread's normalised events (`read_page` with scope
        `key`), None when its page could not be read: that thread waits (`held`), the others go
        on. Metrics: threads_followed, threads_window_closed (forgotten because the harvest
        window closed: no more polls)."""
        now = time.time()
        horizon = now - self.window_days(account) * 86400
        own = now - self.settings.thread_window_days * 86400
        sent = 0
        for tid, created in sorted(threads.items(), key=lambda kv: order(kv[0]) if order else kv[0]):
            key = f"{scope}:{tid}"
            if epoch(created) < horizon:
                del threads[tid]
                self.forget(key)
                if epoch(created) >= own:   # the connector would have polled it: the harvest window closed it
                    self.metrics.inc("threads_window_closed")
                continue
            if self.held(key):
                continue
            self.metrics.inc("threads_followed")
            got = fetch(tid, key)
            if got is None:
                continue
            events = self.seen.new(key, got)
            self.emit(events)
            self.seen.mark(key, events)
            self.release(key)
            self.commit()
            sent += len(events)
        return sent

    def poll_once(self) -> int:
        raise NotImplementedError

    def run(self) -> None:
        """Poll until stopped; a failing poll is counted and retried with backoff, never fatal."""
        failures = 0
        while not self.stop.is_set():
            try:
                self.poll_once()
                failures = 0
                delay = self.settings.poll_interval_seconds
            except InterruptedError:
                return
            except (HttpError, NormaliseError, OSError, ValueError) as exc:
                failures += 1
                self.metrics.inc("errors")
                log.warning("%s: poll failed (%s); retrying", self.settings.connector_name, exc)
                delay = min(self.settings.http.backoff_max_seconds, self.http.backoff(failures))
            if self.stop.wait(delay):
                return


# ------------------------------------------------------------------ Mastodon

class MastodonPoller(Connector):
    """Statuses of each account (min_id cursor, oldest first), then the context of each
    of its statuses within the thread window (replies, replies to replies)."""
    platform = "mastodon"

    def poll_once(self) -> int:
        sent = 0
        for acct in self.settings.accounts:
            sent += self._statuses(acct)
            sent += self._threads(acct)
        return sent

    def _statuses(self, acct) -> int:
        key = f"statuses:{acct.id}"
        if self.held(key):
            return 0
        cursor = self.cp.get(key)
        base = f"{self.settings.api}/api/v1/accounts/{acct.id}/statuses"
        if cursor is None and not self.settings.backfill:
            body = self.parse_page(self.http.get(base, {"limit": 1}), key, list)
            if body is None:
                return 0
            self.cp.set(key, max(_ids(body.doc), key=_id_key, default="0"))
            self.release(key)
            self.commit()
            return 0
        cursor = cursor or "0"
        sent = 0
        while not self.stop.is_set():
            resp = self.http.get(base, {"min_id": cursor, "limit": self.settings.page_size})
            read = self.read_page(resp, self.ctx(acct), key, list)
            if read is None:
                return sent
            page, events = read
            if not page:
                break
            ids = _ids(page)
            if not ids:   # every item dead-lettered, none says where the page ends: wait on it
                self.unreadable_page(key, resp, NormaliseError("statuses: no item with an id"), dead_lettered=True)
                return sent
            events.sort(key=lambda e: _id_key(e["native_id"]))
            self.emit(events)
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            read_ids = {e["native_id"] for e in events}
            for st in page:
                if isinstance(st, dict) and str(st.get("id")) in read_ids and not st.get("reblog"):
                    threads.setdefault(str(st["id"]), st.get("created_at"))
            cursor = max(ids, key=_id_key)
            self.cp.set(key, cursor)
            self.seen.drop(key)     # its dead letters are behind the cursor: never read again
            self.commit()
            sent += len(events)
            if len(page) < self.settings.page_size:
                break
        if self.release(key):
            self.commit()
        return sent

    def _threads(self, acct) -> int:
        def context(sid, key):
            resp = self.http.get(f"{self.settings.api}/api/v1/statuses/{sid}/context")
            read = self.read_page(resp, self.ctx(acct), key)
            return None if read is None else read[1]
        return self.follow_threads(self.cp.state.setdefault(f"threads:{acct.id}", {}), "context", context,
                                   order=_id_key, account=acct)


# ------------------------------------------------------------------ X

X_FIELDS = {
    "tweet.fields": "attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,"
                    "in_reply_to_user_id,lang,referenced_tweets,note_tweet",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys,"
                  "edit_history_tweet_ids",
    "user.fields": "name,username,profile_image_url",
    "media.fields": "url,preview_image_url,type,alt_text,variants",
}


class XPoller(Connector):
    """An account's posts (users/:id/tweets, since_id), then the replies in its
    conversations (search/recent conversation_id:, per-conversation since_id) and quotes."""
    platform = "x"

    def poll_once(self) -> int:
        sent = 0
        for acct in self.settings.accounts:
            api = self.settings.api
            own = self._follow(acct, f"timeline:{acct.id}", f"{api}/2/users/{acct.id}/tweets", {})
            convs = self.cp.state.setdefault(f"conversations:{acct.id}", {})
            for ev in own:
                if ev["event_type"] in ("post", "reply", "quote") and ev.get("thread_root"):
                    convs.setdefault(ev["thread_root"].split(":", 1)[1], ev["created_at"])
            self.commit()
            sent += len(own)
            horizon = time.time() - min(self.settings.thread_window_days, 7) * 86400   # recent search: 7 days
            for conv, created in sorted(convs.items()):
                if epoch(created) < horizon:
                    del convs[conv]
                    self.cp.state.pop(f"conversation:{conv}", None)
                    self.forget(f"conversation:{conv}")
                    self.forget(f"quotes:{conv}")
                    continue
                sent += len(self._follow(acct, f"conversation:{conv}", f"{api}/2/tweets/search/recent",
                                         {"query": f"conversation_id:{conv}"}, thread_root=conv))
                sent += len(self._follow(acct, f"quotes:{conv}", f"{api}/2/tweets/{conv}/quote_tweets", {},
                                         since=False))
        return sent

    def _follow(self, acct, key: str, url: str, params: dict, thread_root: str | None = None,
                since: bool = True) -> list[dict]:
        """All pages newer than the stored since_id; sent oldest first, then since_id moves, once
        the pages were read through (the newest id is on the first page, the oldest items on the
        last: moving on before would skip those). A page that cannot be read: what the pages
        before it held is sent, since_id stays, and the scope waits on that page."""
        if self.held(key):
            return []
        cursor = self.cp.get(key)
        size = max(10, min(100, self.settings.page_size))
        base = {**X_FIELDS, **params, "max_results": size}
        if since and cursor:
            base["since_id"] = cursor
        elif since and not self.settings.backfill:
            body = self.parse_page(self.http.get(url, {**base, "max_results": size}), key)
            if body is None:
                return []
            newest = _dict(body.doc.get("meta")).get("newest_id")
            self.cp.set(key, str(newest) if isinstance(newest, (str, int)) else "0")
            self.release(key)
            self.commit()
            return []
        ctx = self.ctx(acct, thread_root=thread_root)
        events, token, newest, through = [], None, cursor, False
        while not self.stop.is_set():
            resp = self.http.get(url, {**base, "pagination_token": token} if token else base)
            body = self.parse_page(resp, key)
            if body is None:
                break
            meta = _dict(body.doc.get("meta"))
            top = meta.get("newest_id")
            if isinstance(top, (str, int)) and (newest is None or _id_key(str(top)) > _id_key(newest)):
                newest = str(top)
            if body.doc.get("data"):   # a page without (meta only, or errors only) has nothing to read
                got = self.read_items(body, resp, ctx, key)
                if got is None:
                    break
                events += got
            token = _text(meta.get("next_token"))
            if not token:
                through = True
                break
        events.sort(key=lambda e: _id_key(e["native_id"]))
        if not since:
            events = self.seen.new(key, events)
        self.emit(events)
        if since:
            if newest and through:
                self.cp.set(key, newest)
                self.seen.drop(key)    # its dead letters are behind since_id: never read again
        else:
            self.seen.mark(key, events)
        if through:
            self.release(key)
        self.commit()
        return events


# ------------------------------------------------------------------ YouTube

class YouTubePoller(Connector):
    """Each channel's uploads (activities.list), then commentThreads of each configured video
    (or all threads related to each channel), with all replies of threads whose replies did
    not fit in the thread resource."""
    platform = "youtube"

    def auth_headers(self) -> dict:
        return {}   # API key goes in the query string; OAuth token (for viewerRating) as Bearer

    def _key_params(self) -> dict:
        token = self.settings.token.value()
        return {"key": token} if token and not token.startswith("ya29.") else {}

    def poll_once(self) -> int:
        sent = 0
        targets = [("videoId", v, None) for v in self.settings.videos]
        targets += [("allThreadsRelatedToChannelId", a.id, a) for a in self.settings.accounts]
        account = self.settings.accounts[0] if self.settings.accounts else None
        for acct in self.settings.accounts:
            sent += self._uploads(acct)
        for param, value, acct in targets:
            sent += self._threads(param, value, acct or account)
        return sent

    def _uploads(self, acct) -> int:
        """The channel's own videos: `upload` activities, newest first (Seen per channel)."""
        scope, token, sent = f"uploads:{acct.id}", None, 0
        if self.held(scope):
            return 0
        while not self.stop.is_set():
            resp = self.http.get(f"{self.settings.api}/youtube/v3/activities",
                                 {"part": "snippet,contentDetails", "channelId": acct.id,
                                  "maxResults": min(50, self.settings.page_size), "pageToken": token,
                                  **self._key_params()})
            read = self.read_new(resp, self.ctx(acct), scope)
            if read is None:
                return sent
            doc, fresh = read
            self.emit(fresh)
            self.seen.mark(scope, fresh)
            self.commit()
            sent += len(fresh)
            token = _text(doc.get("nextPageToken"))
            if not token or (not fresh and not self.settings.backfill):
                break
        if self.release(scope):
            self.commit()
        return sent

    def _threads(self, param: str, value: str, acct) -> int:
        url = f"{self.settings.api}/youtube/v3/commentThreads"
        scope = f"{param}:{value}"
        token, sent = None, 0
        if self.held(scope):
            return 0
        while not self.stop.is_set():
            params = {"part": "snippet,replies", param: value, "maxResults": min(100, self.settings.page_size),
                      "order": "time", "textFormat": "plainText", "pageToken": token, **self._key_params()}
            ctx = self.ctx(acct, thread_root=value if param == "videoId" else None)
            read = self.read_page(self.http.get(url, params), ctx, scope)
            if read is None:
                return sent
            doc, events = read
            stuck = False
            for th in doc.get("items") if isinstance(doc.get("items"), list) else []:
                if _more_replies(th):
                    replies = self._replies(th["id"], ctx, scope)
                    if replies is None:   # the scope waits on that page; what was read goes out
                        stuck = True
                        break
                    events += replies
            fresh = self.seen.new(scope, events)
            self.emit(fresh)
            self.seen.mark(scope, fresh)
            self.commit()
            sent += len(fresh)
            if stuck:
                return sent
            token = _text(doc.get("nextPageToken"))
            if not token or (not fresh and not self.settings.backfill):
                break   # newest first: a page with nothing new means the rest is known
        if self.release(scope):
            self.commit()
        return sent

    def _replies(self, parent: str, ctx: Context, scope: str) -> list[dict] | None:
        out, token = [], None
        while True:
            resp = self.http.get(f"{self.settings.api}/youtube/v3/comments",
                                 {"part": "snippet", "parentId": parent, "maxResults": 100,
                                  "textFormat": "plainText", "pageToken": token, **self._key_params()})
            read = self.read_page(resp, ctx, scope)
            if read is None:
                return None
            doc, events = read
            out += events
            token = _text(doc.get("nextPageToken"))
            if not token:
                return out


def _more_replies(thread) -> bool:
    """Whether a commentThread has replies its resource did not carry (then comments.list)."""
    if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
        return False
    total = _dict(thread.get("snippet")).get("totalReplyCount")
    carried = _dict(thread.get("replies")).get("comments")
    return isinstance(total, int) and total > (len(carried) if isinstance(carried, list) else 0)


# ------------------------------------------------------------------ Meta Graph API backfill

class GraphCommentsPoller(Connector):
    """Backfill of a post's (or Instagram media's) comments: GET /{id}/comments, chronological,
    following the `after` cursor; the cursor is kept, so later polls pick up new comments."""

    FIELDS = {"facebook": "id,message,created_time,from,parent{id},permalink_url,attachment",
              "instagram": "id,text,timestamp,username,from,parent_id,like_count"}

    def poll_once(self) -> int:
        sent = 0
        account = self.settings.accounts[0] if self.settings.accounts else None
        for post in self.settings.posts:
            key = f"comments:{post}"
            if self.held(key):
                continue
            after = self.cp.get(key)
            while not self.stop.is_set():
                params = {"fields": self.FIELDS[self.settings.platform], "limit": min(100, self.settings.page_size),
                          "after": after}
                if self.settings.platform == "facebook":
                    params.update(filter="stream", order="chronological")
                token = self.settings.token.value()
                if token:
                    params["access_token"] = token
                read = self.read_page(self.http.get(f"{self.settings.api}/{post}/comments", params),
                                      self.ctx(account, thread_root=post), key)
                if read is None:
                    break
                doc, got = read
                events = self.seen.new(key, got)
                self.emit(events)
                self.seen.mark(key, events)
                paging = _dict(doc.get("paging"))
                after = _text(_dict(paging.get("cursors")).get("after")) or after
                self.cp.set(key, after)
                if not paging.get("next") or not doc.get("data"):
                    self.release(key)
                    self.commit()
                    sent += len(events)
                    break
                self.commit()
                sent += len(events)
        return sent

    def auth_headers(self) -> dict:
        return {}


# ------------------------------------------------------------------ Bluesky (AT Protocol polling)

class BlueskyPoller(Connector):
    """getAuthorFeed of each account, then getPostThread of its posts within the thread window."""
    platform = "bluesky"

    def poll_once(self) -> int:
        sent = 0
        for acct in self.settings.accounts:
            scope = f"feed:{acct.id}"
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            if not self.held(scope):
                sent += self._feed(acct, scope, threads)

            def thread(uri, key, acct=acct):
                resp = self.http.get(f"{self.settings.api}/xrpc/app.bsky.feed.getPostThread",
                                     {"uri": uri, "depth": 100, "parentHeight": 0})
                read = self.read_page(resp, self.ctx(acct), key)
                return None if read is None else read[1]
            sent += self.follow_threads(threads, "thread", thread, account=acct)
        return sent

    def _feed(self, acct, scope: str, threads: dict) -> int:
        """The account's feed down to what was sent before (newest first), sent oldest first."""
        cursor, events, through = None, [], False
        while not self.stop.is_set():
            resp = self.http.get(f"{self.settings.api}/xrpc/app.bsky.feed.getAuthorFeed",
                                 {"actor": acct.id, "limit": min(100, self.settings.page_size), "cursor": cursor})
            read = self.read_new(resp, self.ctx(acct), scope)
            if read is None:
                break
            doc, fresh = read
            events += fresh
            cursor = _text(doc.get("cursor"))
            if not cursor or not fresh:
                through = True
                break
        events.reverse()   # the feed is newest first
        self.emit(events)
        self.seen.mark(scope, events)
        for ev in events:
            if ev["event_type"] in ("post", "reply", "quote") and ev["author"]["id"] == acct.id:
                threads.setdefault(ev["native_id"], ev["created_at"])
        if through:
            self.release(scope)
        self.commit()
        return len(events)


# ------------------------------------------------------------------ LinkedIn

class LinkedInPoller(Connector):
    """Organisation posts (/rest/posts?q=author) and the comments on those within the thread window."""
    platform = "linkedin"
    VERSION = "202409"

    def auth_headers(self) -> dict:
        return {**super().auth_headers(), "LinkedIn-Version": self.VERSION, "X-Restli-Protocol-Version": "2.0.0"}

    def poll_once(self) -> int:
        sent = 0
        for acct in self.settings.accounts:
            scope = f"posts:{acct.id}"
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            if not self.held(scope):
                sent += self._posts(acct, scope, threads)

            def comments(urn, key, acct=acct):
                resp = self.http.get(f"{self.settings.api}/rest/socialActions/{_urlquote(urn)}/comments",
                                     {"count": 100})
                read = self.read_page(resp, self.ctx(acct, thread_root=urn), key)
                return None if read is None else read[1]
            sent += self.follow_threads(threads, "comments", comments, account=acct)
        return sent

    def _posts(self, acct, scope: str, threads: dict) -> int:
        """The organisation's posts down to what was sent before, sent oldest first."""
        start, events, through = 0, [], False
        while not self.stop.is_set():
            resp = self.http.get(f"{self.settings.api}/rest/posts",
                                 {"author": acct.id, "q": "author", "count": min(100, self.settings.page_size),
                                  "start": start, "sortBy": "LAST_MODIFIED"})
            read = self.read_new(resp, self.ctx(acct), scope)
            if read is None:
                break
            doc, fresh = read
            events += fresh
            elements = doc.get("elements")
            n = len(elements) if isinstance(elements, list) else 0
            start += n
            if not fresh or n < min(100, self.settings.page_size):
                through = True
                break
        events.reverse()
        self.emit(events)
        self.seen.mark(scope, events)
        for ev in events:
            threads.setdefault(ev["native_id"], ev["created_at"])
        if through:
            self.release(scope)
        self.commit()
        return len(events)


def _urlquote(urn: str) -> str:
    return quote(urn, safe="")


# ------------------------------------------------------------------ exports

class ExportImporter(Connector):
    """Imports export files once each (checkpoint: the file's SHA-256), then stops."""

    def poll_once(self) -> int:
        done = self.cp.state.setdefault("imported", {})
        account = self.settings.accounts[0] if self.settings.accounts else None
        sent = 0
        for path in self.settings.files:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if done.get(str(path)) == digest:
                continue
            text = data.decode("utf-8")
            fmt = self.settings.export_format
            if fmt == "x-archive" or fmt == "auto" and exports.is_x_archive(text):
                events = exports.x_archive(text, self.ctx(account, platform="x"))
            else:
                events = exports.facebook_export(Body.parse(text), self.ctx(account, platform="facebook"))
            for i in range(0, len(events), 500):
                self.emit(events[i:i + 500])
            done[str(path)] = digest
            self.commit()
            sent += len(events)
        return sent

    def run(self) -> None:
        self.poll_once()


POLLERS = {"mastodon": MastodonPoller, "x": XPoller, "youtube": YouTubePoller, "facebook": GraphCommentsPoller,
           "instagram": GraphCommentsPoller, "bluesky": BlueskyPoller, "linkedin": LinkedInPoller,
           "exports": ExportImporter}
