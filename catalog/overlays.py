"""What the duties register changed after the fact, laid over a catalog rebuilt from the bucket.

A rebuild indexes every record from its Avro object, as the writer made it. Three decisions
of the duties (issue 13) live in the register instead: records destroyed by a
vernietigingslijst (their objects are gone: only tombstones remain), objects kept for a hotspot
added later, and objects re-tagged after a changed selectielijst. `apply` lays them over the
index again, oldest first, so a rebuilt catalog says what the live one said.
"""
from __future__ import annotations

from archiefstroom.archive.register import Register
from archiefstroom.catalog.index import Catalog


def destroyed_objects(register: Register) -> dict[str, str]:
    """Object key -> the list that destroyed it. A rebuild must skip these objects: their
    ledgers still name them (the ledger is the account of what was archived), the bucket no
    longer holds them."""
    out = {}
    for doc in register.all("destruction"):
        for key, outcome in ((doc or {}).get("outcomes") or {}).items():
            if outcome.get("status") in ("destroyed", "destroying"):
                out[key] = doc["list_id"]
    return out


def apply(catalog: Catalog, register: Register) -> dict[str, int]:
    """Re-tags (oldest first), then hotspots, then destructions: each step is idempotent."""
    counts = {"retagged": 0, "hotspot": 0, "destroyed": 0}
    for doc in register.all("retag"):
        for key, change in sorted(((doc or {}).get("objects") or {}).items()):
            tags = change.get("tags")
            if tags:
                catalog.set_retention(key, retention_class=tags["retention_class"],
                                      category=tags.get("selectielijst_category", ""), hotspot=None,
                                      years=change.get("years"))
                counts["retagged"] += 1
    for doc in register.all("hotspot"):
        for key, kept in sorted(((doc or {}).get("objects") or {}).items()):
            catalog.set_retention(key, retention_class="B", category=kept.get("category", ""), hotspot=doc["name"],
                                  years=None)
            counts["hotspot"] += 1
    for doc in register.all("destruction"):
        outcomes = (doc or {}).get("outcomes") or {}
        for item in (doc or {}).get("objects", []):
            if outcomes.get(item["key"], {}).get("status") == "destroyed":
                catalog.mark_destroyed(item["key"], doc["list_id"], outcomes[item["key"]]["at"],
                                       [(r["event_id"], r["record_version"]) for r in item["records"]],
                                       category=item["category"])
                counts["destroyed"] += 1
    return counts
