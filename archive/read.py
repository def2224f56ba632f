"""The bucket's own read side: list and read objects, read ledgers, summarise what the archive
holds from the committed ledgers. Finding an event or a post's versions goes through the
catalog (archiefstroom.catalog.read), which reads only the objects that hold them.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archiefstroom.archive import format as avro
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.core import layout


def store(cfg) -> ArchiveStore:
    return ArchiveStore(cfg.s3)


def list_objects(cfg, prefix: str = "") -> list[dict]:
    base = cfg.s3.prefix + "/" + prefix.lstrip("/") if prefix else cfg.s3.prefix + "/"
    return [o for o in store(cfg).objects(base) if o["Key"].endswith(avro.EXTENSION)]


def read_object(cfg, key: str) -> list[dict]:
    records = store(cfg).records(key)
    if records is None:
        raise FileNotFoundError(key)
    return records


def ledgers(cfg, topic: str | None = None) -> list[dict]:
    s = store(cfg)
    prefix = f"{layout.LEDGER_PREFIX}/" + (f"{layout.safe(topic)}/" if topic else "")
    return [s.get_json(k, {}) for k in s.keys(prefix)]


@dataclass
class Summary:
    """What the archive holds, from the committed ledgers (no object needs to be read)."""
    objects: int = 0
    archived: Counter = field(default_factory=Counter)      # (platform, account, retention dir) -> records
    outcomes: Counter = field(default_factory=Counter)      # kind -> count (archived, dead_letter, dropped, ...)
    reasons: Counter = field(default_factory=Counter)       # (kind, reason) -> count, for everything not archived
    rules: Counter = field(default_factory=Counter)         # archiving rule that decided -> archived records


def summarise(cfg, topic: str | None = None) -> Summary:
    out, objects = Summary(), set()
    for doc in ledgers(cfg, topic):
        for e in doc.get("entries", []):
            out.outcomes[e["kind"]] += 1
            if e["kind"] == "archived":
                objects.add(e["object"])
                parts = layout.parse_object_key(e["object"]) or {}
                ret = "-".join(parts.get("retention", "?").split("-")[:2])  # class-category, without the date
                out.archived[(e.get("platform", "?"), e.get("account", "?"), ret)] += 1
                out.rules[e.get("rule") or "-"] += 1
            else:
                out.reasons[(e["kind"], e.get("reason") or "")] += 1
    out.objects = len(objects)
    return out
