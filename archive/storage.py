"""The archive's calls on the object store: Avro objects with tags and a lock, JSON documents.

A small interface over the one S3 client (archiefstroom.ground.s3), so the writer and
the read side say what they store, not how S3 takes it. `redo`: the key may already
exist (a batch rewritten after a crash); identical bytes are then not stored again.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterator

from archiefstroom.archive import format as avro
from archiefstroom.core.rules import seal as seal_core
from archiefstroom.ground import s3 as s3io


class ArchiveStore:
    def __init__(self, s3_settings):
        self.s3 = s3io.Writer(s3_settings)

    def put_records(self, key: str, body: bytes, *, tags: dict[str, str], retain_until: dt.date | None,
                    legal_hold: bool, redo: bool) -> None:
        self.s3.put(key, body, tags=tags, retain_until=retain_until, legal_hold=legal_hold,
                    content_type=avro.CONTENT_TYPE, check_existing=redo)

    def put_media(self, key: str, body, *, content_type: str, tags: dict[str, str], retain_until: dt.date | None,
                  legal_hold: bool) -> bool:
        """A record's medium (core.media): named by its SHA-256, so one already there is not put again."""
        return self.s3.put_new(key, body, tags=tags, retain_until=retain_until, legal_hold=legal_hold,
                               content_type=content_type)

    def put_json(self, key: str, doc, *, redo: bool) -> None:
        self.s3.put(key, json.dumps(doc, sort_keys=True, default=str).encode(), content_type="application/json",
                    check_existing=redo)

    def get(self, key: str) -> bytes | None:
        return self.s3.get(key)

    def records(self, key: str) -> list[dict] | None:
        """The archive records of one Avro object; None when the object is not there."""
        body = self.s3.get(key)
        return avro.decode(body) if body is not None else None

    def seal(self, thread: str) -> dict | None:
        """The sealed-thread datum (issue 17) of `thread`, found by its deterministic key; None when not sealed."""
        found = self.records(seal_core.object_key(thread))
        return found[0] if found else None

    def get_json(self, key: str, default=None):
        body = self.s3.get(key)
        return json.loads(body) if body else default

    def tags(self, key: str) -> dict[str, str]:
        return self.s3.tags(key)

    def keys(self, prefix: str) -> Iterator[str]:
        return (o["Key"] for o in self.s3.list(prefix))

    def objects(self, prefix: str) -> Iterator[dict]:
        """Listing entries (Key, Size, LastModified, ...) under `prefix`."""
        return self.s3.list(prefix)

    # -- the duties (issue 13): thin calls for destruction, re-tagging and hotspots --------------
    @property
    def locked(self) -> bool:
        """Whether the bucket has Object Lock (and the configuration uses it)."""
        return self.s3.locked

    def head(self, key: str, version_id: str | None = None) -> dict | None:
        return self.s3.head(key, version_id)

    def versions(self, key: str) -> list[dict]:
        return self.s3.versions(key)

    def delete_version(self, key: str, version_id: str | None) -> None:
        self.s3.delete_version(key, version_id)

    def put_tags(self, key: str, tags: dict[str, str], version_id: str | None = None) -> None:
        self.s3.put_tags(key, tags, version_id)

    def extend_retention(self, key: str, version_id: str | None, until: dt.date) -> None:
        self.s3.extend_retention(key, version_id, until)

    def set_legal_hold(self, key: str, on: bool, version_id: str | None = None) -> None:
        self.s3.set_legal_hold(key, on, version_id)
