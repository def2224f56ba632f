"""Polling connectors: one class per platform, each a loop of `poll_once()`.

Every poll sends a batch to the sink and only then saves the checkpoint, so a
restart resumes where the last acknowledged batch ended. Cursor-style APIs
(Mastodon min_id, X since_id, Graph API `after`) are followed forward; snapshot
APIs (a thread's context, a video's comment threads) go through `Seen`, which
keeps the event ids already sent per thread.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from urllib.parse import quote

from archiefstroom.connectors import exports, registry
from archiefstroom.connectors.base import Body, Context, NormaliseError
from archiefstroom.connectors.runtime import Checkpoint, HttpClient, HttpError, Metrics, Seen, epoch
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground import failpoints

log = logging.getLogger(__name__)


def _id_key(native: str):
    """Order snowflake-style ids numerically, others as text."""
    return (0, int(native), "") if native.isdigit() else (1, 0, native)


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

    def emit(self, events: list[dict]) -> None:
        if events:
            self.sink.send(events)
            failpoints.point("connector.after_send")      # acknowledged, checkpoint not yet saved
            self.metrics.observe_events(events)

    def commit(self) -> None:
        self.cp.save()

    def dead_letter(self, text: str, exc: Exception) -> None:
        """A payload that cannot be read goes to the dead-letter topic with its reason (the error's
        type and the parser's words, never the payload's content), and the stream goes on: a
        reconnect would only meet it again."""
        reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, NormaliseError) else type(exc).__name__
        self.sink.dead_letter(text.encode("utf-8", "replace"), f"not readable as {self.settings.platform}: {reason}",
                              f"connector:{self.settings.connector_name}", self.settings.platform)
        self.metrics.inc("dead_letters")
        log.warning("%s: a payload was dead-lettered (%s)", self.settings.connector_name, type(exc).__name__)

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
        `fetch(thread_id)` returns the thread's normalised events. Metrics: threads_followed,
        threads_window_closed (forgotten because the harvest window closed: no more polls)."""
        now = time.time()
        horizon = now - self.window_days(account) * 86400
        own = now - self.settings.thread_window_days * 86400
        sent = 0
        for tid, created in sorted(threads.items(), key=lambda kv: order(kv[0]) if order else kv[0]):
            if epoch(created) < horizon:
                del threads[tid]
                self.seen.drop(f"{scope}:{tid}")
                if epoch(created) >= own:   # the connector would have polled it: the harvest window closed it
                    self.metrics.inc("threads_window_closed")
                continue
            self.metrics.inc("threads_followed")
            events = self.seen.new(f"{scope}:{tid}", fetch(tid))
            self.emit(events)
            self.seen.mark(f"{scope}:{tid}", events)
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
        cursor = self.cp.get(key)
        base = f"{self.settings.api}/api/v1/accounts/{acct.id}/statuses"
        if cursor is None and not self.settings.backfill:
            page = self.http.get(base, {"limit": 1}).json()
            self.cp.set(key, str(page[0]["id"]) if page else "0")
            self.commit()
            return 0
        cursor = cursor or "0"
        sent = 0
        while not self.stop.is_set():
            resp = self.http.get(base, {"min_id": cursor, "limit": self.settings.page_size})
            page = resp.json()
            if not isinstance(page, list):
                raise NormaliseError("statuses: expected a list")
            if not page:
                break
            ctx = self.ctx(acct)
            events = sorted(self.normalise(resp.text, ctx), key=lambda e: _id_key(e["native_id"]))
            self.emit(events)
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            for st in page:
                if not st.get("reblog"):
                    threads.setdefault(str(st["id"]), st.get("created_at"))
            cursor = max((str(st["id"]) for st in page), key=_id_key)
            self.cp.set(key, cursor)
            self.commit()
            sent += len(events)
            if len(page) < self.settings.page_size:
                break
        return sent

    def _threads(self, acct) -> int:
        def context(sid):
            resp = self.http.get(f"{self.settings.api}/api/v1/statuses/{sid}/context")
            return self.normalise(resp.text, self.ctx(acct))
        return self.follow_threads(self.cp.state.setdefault(f"threads:{acct.id}", {}), "context", context,
                                   order=_id_key, account=acct)


# ------------------------------------------------------------------ X

X_FIELDS = {
    "tweet.fields": "attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,"
                    "in_reply_to_user_id,lang,referenced_tweets,note_tweet",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys,"
                  "edit_history_tweet_ids",
    "user.fields": "name,username,profile_image_url",
    "media.fields": "url,preview_image_url,type,alt_text",
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
                    continue
                sent += len(self._follow(acct, f"conversation:{conv}", f"{api}/2/tweets/search/recent",
                                         {"query": f"conversation_id:{conv}"}, thread_root=conv))
                sent += len(self._follow(acct, f"quotes:{conv}", f"{api}/2/tweets/{conv}/quote_tweets", {},
                                         since=False))
        return sent

    def _follow(self, acct, key: str, url: str, params: dict, thread_root: str | None = None,
                since: bool = True) -> list[dict]:
        """All pages newer than the stored since_id; sent oldest first, then since_id moves."""
        cursor = self.cp.get(key)
        size = max(10, min(100, self.settings.page_size))
        base = {**X_FIELDS, **params, "max_results": size}
        if since and cursor:
            base["since_id"] = cursor
        elif since and not self.settings.backfill:
            resp = self.http.get(url, {**base, "max_results": size})
            newest = (resp.json().get("meta") or {}).get("newest_id")
            self.cp.set(key, newest or "0")
            self.commit()
            return []
        bodies, token, newest = [], None, cursor
        while not self.stop.is_set():
            resp = self.http.get(url, {**base, "pagination_token": token} if token else base)
            doc = resp.json()
            meta = doc.get("meta") or {}
            if meta.get("newest_id") and (newest is None or _id_key(meta["newest_id"]) > _id_key(newest)):
                newest = meta["newest_id"]
            if doc.get("data"):
                bodies.append(resp.text)
            token = meta.get("next_token")
            if not token:
                break
        ctx = self.ctx(acct, thread_root=thread_root)
        events = [ev for text in bodies for ev in self.normalise(text, ctx)]
        events.sort(key=lambda e: _id_key(e["native_id"]))
        if not since:
            events = self.seen.new(key, events)
        self.emit(events)
        if since:
            if newest:
                self.cp.set(key, newest)
        else:
            self.seen.mark(key, events)
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
        while not self.stop.is_set():
            resp = self.http.get(f"{self.settings.api}/youtube/v3/activities",
                                 {"part": "snippet,contentDetails", "channelId": acct.id,
                                  "maxResults": min(50, self.settings.page_size), "pageToken": token,
                                  **self._key_params()})
            fresh = self.seen.new(scope, self.normalise(resp.text, self.ctx(acct)))
            self.emit(fresh)
            self.seen.mark(scope, fresh)
            self.commit()
            sent += len(fresh)
            token = resp.json().get("nextPageToken")
            if not token or (not fresh and not self.settings.backfill):
                break
        return sent

    def _threads(self, param: str, value: str, acct) -> int:
        url = f"{self.settings.api}/youtube/v3/commentThreads"
        scope = f"{param}:{value}"
        token, sent = None, 0
        while not self.stop.is_set():
            params = {"part": "snippet,replies", param: value, "maxResults": min(100, self.settings.page_size),
                      "order": "time", "textFormat": "plainText", "pageToken": token, **self._key_params()}
            resp = self.http.get(url, params)
            doc = resp.json()
            ctx = self.ctx(acct, thread_root=value if param == "videoId" else None)
            events = self.normalise(resp.text, ctx)
            for th in doc.get("items") or []:
                sn = th.get("snippet") or {}
                if sn.get("totalReplyCount", 0) > len((th.get("replies") or {}).get("comments") or []):
                    events += self._replies(th["id"], ctx)
            fresh = self.seen.new(scope, events)
            self.emit(fresh)
            self.seen.mark(scope, fresh)
            self.commit()
            sent += len(fresh)
            token = doc.get("nextPageToken")
            if not token or (not fresh and not self.settings.backfill):
                break   # newest first: a page with nothing new means the rest is known
        return sent

    def _replies(self, parent: str, ctx: Context) -> list[dict]:
        out, token = [], None
        while True:
            resp = self.http.get(f"{self.settings.api}/youtube/v3/comments",
                                 {"part": "snippet", "parentId": parent, "maxResults": 100,
                                  "textFormat": "plainText", "pageToken": token, **self._key_params()})
            out += self.normalise(resp.text, ctx)
            token = resp.json().get("nextPageToken")
            if not token:
                return out


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
            after = self.cp.get(key)
            while not self.stop.is_set():
                params = {"fields": self.FIELDS[self.settings.platform], "limit": min(100, self.settings.page_size),
                          "after": after}
                if self.settings.platform == "facebook":
                    params.update(filter="stream", order="chronological")
                token = self.settings.token.value()
                if token:
                    params["access_token"] = token
                resp = self.http.get(f"{self.settings.api}/{post}/comments", params)
                doc = resp.json()
                events = self.seen.new(key, self.normalise(resp.text, self.ctx(account, thread_root=post)))
                self.emit(events)
                self.seen.mark(key, events)
                after = ((doc.get("paging") or {}).get("cursors") or {}).get("after") or after
                self.cp.set(key, after)
                self.commit()
                sent += len(events)
                if not (doc.get("paging") or {}).get("next") or not doc.get("data"):
                    break
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
            cursor, events = None, []
            while not self.stop.is_set():
                resp = self.http.get(f"{self.settings.api}/xrpc/app.bsky.feed.getAuthorFeed",
                                     {"actor": acct.id, "limit": min(100, self.settings.page_size), "cursor": cursor})
                page = self.normalise(resp.text, self.ctx(acct))
                fresh = self.seen.new(scope, page)
                events += fresh
                cursor = resp.json().get("cursor")
                if not cursor or not fresh:
                    break
            events.reverse()   # the feed is newest first
            self.emit(events)
            self.seen.mark(scope, events)
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            for ev in events:
                if ev["event_type"] in ("post", "reply", "quote") and ev["author"]["id"] == acct.id:
                    threads.setdefault(ev["native_id"], ev["created_at"])
            self.commit()
            sent += len(events)

            def thread(uri, acct=acct):
                resp = self.http.get(f"{self.settings.api}/xrpc/app.bsky.feed.getPostThread",
                                     {"uri": uri, "depth": 100, "parentHeight": 0})
                return self.normalise(resp.text, self.ctx(acct))
            sent += self.follow_threads(threads, "thread", thread, account=acct)
        return sent


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
            start, events = 0, []
            while not self.stop.is_set():
                resp = self.http.get(f"{self.settings.api}/rest/posts",
                                     {"author": acct.id, "q": "author", "count": min(100, self.settings.page_size),
                                      "start": start, "sortBy": "LAST_MODIFIED"})
                page = self.normalise(resp.text, self.ctx(acct))
                fresh = self.seen.new(scope, page)
                events += fresh
                n = len(resp.json().get("elements") or [])
                start += n
                if not fresh or n < min(100, self.settings.page_size):
                    break
            events.reverse()
            self.emit(events)
            self.seen.mark(scope, events)
            threads = self.cp.state.setdefault(f"threads:{acct.id}", {})
            for ev in events:
                threads.setdefault(ev["native_id"], ev["created_at"])
            self.commit()
            sent += len(events)

            def comments(urn, acct=acct):
                resp = self.http.get(f"{self.settings.api}/rest/socialActions/{_urlquote(urn)}/comments",
                                     {"count": 100})
                return self.normalise(resp.text, self.ctx(acct, thread_root=urn))
            sent += self.follow_threads(threads, "comments", comments, account=acct)
        return sent


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
