"""The duties register: archivists' decisions kept in the bucket beside the records.

Woo requests (and the holds they put on records), destruction lists with their approval,
hotspots added after the fact, transfers: each is a JSON document under `_duties/{kind}/`,
and every action leaves an audit entry under `_duties/audit/`. The bucket stays the one
source of truth: the catalog can be rebuilt, these decisions could not.
"""
from __future__ import annotations

import datetime as dt
import uuid

from archiefstroom.archive.storage import ArchiveStore

PREFIX = "_duties"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Register:
    def __init__(self, store: ArchiveStore):
        self.store = store

    def _key(self, kind: str, name: str) -> str:
        return f"{PREFIX}/{kind}/{name}.json"

    def get(self, kind: str, name: str) -> dict | None:
        return self.store.get_json(self._key(kind, name))

    def put(self, kind: str, name: str, doc: dict) -> None:
        self.store.put_json(self._key(kind, name), doc, redo=True)

    def all(self, kind: str) -> list[dict]:
        prefix = f"{PREFIX}/{kind}/"
        return [self.store.get_json(k) for k in sorted(self.store.keys(prefix)) if k.endswith(".json")]

    def audit(self, action: str, actor: str, **details) -> dict:
        """Append one audit entry (never overwritten: its key is unique)."""
        at = _now()
        entry = {"at": at, "action": action, "actor": actor, **details}
        self.store.put_json(f"{PREFIX}/audit/{at[:7]}/{at}-{uuid.uuid4().hex[:8]}.json", entry, redo=False)
        return entry

    def audit_trail(self) -> list[dict]:
        """Every audit entry, oldest first."""
        return [self.store.get_json(k) for k in sorted(self.store.keys(f"{PREFIX}/audit/"))]

    def held_objects(self) -> dict[str, list[str]]:
        """Object key -> why it is on hold (`woo:<request id>`), for every open Woo request.
        Retention never destroys an object held here."""
        held: dict[str, list[str]] = {}
        for doc in self.all("woo"):
            if doc and doc.get("status") == "open":
                for key in doc.get("objects", []):
                    held.setdefault(key, []).append(f"woo:{doc['request_id']}")
        return held
