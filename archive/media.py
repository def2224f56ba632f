"""A record's media kept beside it (issue 15): fetch each file core.media wants, store it under
the record's retention group with the record's tags and lock, and say in the record what became
of each file. One MediaKeeper per process (transforms/media.py shares it).

A fetch that fails is tried `media.attempts` times with backoff while another try can help
(network errors, 5xx, 429), then recorded as `failed` with its reason and the number of tries:
the record is archived either way, and nothing is silent. An unreachable object store is not a
failed fetch: it is waited out (pipeline.outage_seconds) like the sink's own writes, since the
file must be in the bucket before its record is committed.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from typing import Callable

from botocore.exceptions import ClientError

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.archive.writer import through_outage
from archiefstroom.core import layout
from archiefstroom.core import media as core
from archiefstroom.ground.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)
TAG_KIND = "media"
CACHE_SIZE = 4096


class MediaKeeper:
    def __init__(self, settings: core.MediaSettings, store: ArchiveStore, prefix: str, *, outage_s: float,
                 government: frozenset[str], fetcher: Fetcher | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], dt.datetime] | None = None):
        self.settings, self.store, self.prefix, self.outage_s = settings, store, prefix, outage_s
        self.government = government
        self.fetcher = fetcher or Fetcher(timeout_s=settings.timeout_seconds, private_hosts=settings.private_hosts)
        self.sleep = sleep
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        # (url, retention dir) -> the stored entry: an edit or a replay of a post does not fetch again
        self._done: OrderedDict[tuple[str, str], dict] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, record: dict) -> list[dict]:
        """The record's media_files: each wanted file stored, failed or skipped."""
        files = []
        for w in core.wanted(record["event"], self.settings, self.government):
            if w.fetch_url is None:
                files.append(core.media_file(w, status=core.SKIPPED, reason=w.skip))
            else:
                files.append(self._one(w, record["retention"], core.media_hosts(record["event"], self.settings)))
        return files

    @staticmethod
    def _allowed(w: core.Wanted, hosts: list[str]) -> Callable[[str], bool]:
        """Where a redirect may lead: a medium stays on its media hosts; a linked page may go to
        any public host (Fetcher refuses private addresses on every hop)."""
        if w.kind == core.LINKED_PAGE:
            return lambda _url: True
        return lambda url: core.host_matches(core.host_of(url), hosts)

    def _one(self, w: core.Wanted, retention: dict, hosts: list[str]) -> dict:
        cache_key = (w.fetch_url, layout.retention_dir(retention))
        with self._lock:
            done = self._done.get(cache_key)
            if done is not None:
                self._done.move_to_end(cache_key)
                return {**done, "url": w.url}
        attempts, delay = 0, self.settings.backoff_seconds
        while True:
            attempts += 1
            try:
                got = self.fetcher.get(w.fetch_url, max_bytes=w.max_bytes, allowed=self._allowed(w, hosts))
                break
            except FetchError as exc:
                if not exc.retriable or attempts >= self.settings.attempts:
                    log.warning("media: %s not kept after %d attempt(s): %s", w.kind, attempts, exc.reason)
                    return core.media_file(w, status=core.FAILED, reason=exc.reason, attempts=attempts)
                self.sleep(delay)
                delay = min(delay * 2, 30.0)
        try:
            kind = core.content_type(got.declared_type, got.head)
            key = core.object_key(self.prefix, retention, got.sha256)
            tags = layout.object_tags({"retention": retention}, TAG_KIND)
            through_outage(self.outage_s, "media", self._put, key, got, kind, tags, retention)
        except ClientError as exc:   # the store refused (a policy, a quota): recorded, the record goes on
            code = exc.response.get("Error", {}).get("Code", "error")
            log.warning("media: the object store refused a %s (%s)", w.kind, code)
            return core.media_file(w, status=core.FAILED, reason=f"object store refused ({code})", attempts=attempts)
        finally:
            got.close()
        entry = core.media_file(w, status=core.STORED, attempts=attempts, object_key=key, sha256=got.sha256,
                                content_type=kind, size=got.size, final_url=got.final_url, fetched_at=self.clock())
        with self._lock:
            self._done[cache_key] = entry
            while len(self._done) > CACHE_SIZE:
                self._done.popitem(last=False)
        return entry

    def _put(self, key, got, kind, tags, retention) -> bool:
        got.body.seek(0)
        return self.store.put_media(key, got.body, content_type=kind, tags=tags,
                                    retain_until=layout.object_until(retention),
                                    legal_hold=retention["retention_class"] == "B")

    def close(self) -> None:
        self.fetcher.close()
