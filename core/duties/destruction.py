"""Destruction by the selectielijst, as plain decisions: which objects are due, which are kept
and why, the list's hash, what a changed selectielijst does to an object's tags and lock.

No I/O: archiefstroom.duties.destruction reads the bucket and the register and hands the
facts in here as small tables, so every rule below is tested with hand-written rows.

Destruction is per object: S3 tags, Object Lock and legal holds are per object, and one
object holds one retention group (core.layout). The object's `destroy_after` tag (the end of
the month of its records' own dates) is the operative date; each record keeps its own exact
date inside the Avro, and no record's own date is later than its object's tag.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from archiefstroom.core.layout import month_end, parse_object_key
from archiefstroom.core.retention import add_years

# reasons an object past its date is not on the list (or not destroyed by `apply`)
CLASS_B = "bewaren (class B)"
HOTSPOT = "hotspot"
LEGAL_HOLD = "legal hold"
NOT_DUE = "not yet due"
NO_DATE = "no destroy_after tag"
GROUP_KEPT = "a record object of its retention group is kept"   # media files (core/media.py)


@dataclass(frozen=True)
class ObjectState:
    """What the bucket says of one object now: its tags and, over all its versions, whether
    any has a legal hold and the latest COMPLIANCE lock date."""
    key: str
    tags: dict
    etag: str = ""
    versions: tuple[str, ...] = ()
    legal_hold: bool = False
    lock_until: dt.date | None = None
    size: int = 0


def tag_date(tags: dict) -> dt.date | None:
    """The object's destroy_after tag as a date; None for `permanent` or a missing/bad tag."""
    value = tags.get("destroy_after") or ""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def key_date(key: str) -> dt.date | None:
    """The date in an object's key (`V-1.3-2017-10-31/...`): what the writer tagged it with.
    Tags may have changed since (a hotspot, a re-tag); the key never does."""
    parsed = parse_object_key(key)
    m = re.match(r"[BV]-.+?-(\d{4}-\d{2}-\d{2})(?:-hotspot-|$)", parsed["retention"]) if parsed else None
    return dt.date.fromisoformat(m[1]) if m else None


def why_kept(state: ObjectState, *, before: dt.date, holds: dict[str, list[str]]) -> str | None:
    """None when the object is due for destruction on a list for `before` (its destroy_after
    date lies before it); else the first reason it is kept. Checked in the order an archivist
    would explain it: what the tags say, then what holds it."""
    tags = state.tags
    if tags.get("hotspot") == "true":
        return HOTSPOT
    if tags.get("retention_class") != "V":
        return CLASS_B
    until = tag_date(tags)
    if until is None:
        return NO_DATE
    if until >= before:
        return NOT_DUE
    if state.legal_hold:
        return LEGAL_HOLD
    if state.key in holds:
        return ", ".join(holds[state.key])
    if state.lock_until is not None and state.lock_until >= before:
        return f"object lock until {state.lock_until.isoformat()}"
    return None


@dataclass
class ListItem:
    """One object on a vernietigingslijst and the records it holds (pseudonymised ids only)."""
    key: str
    category: str
    destroy_after: str                   # the object's tag
    etag: str
    versions: list[str]
    size: int
    records: list[dict] = field(default_factory=list)   # event_id, record_version, event_type,
                                                        # platform, account, created, destroy_after

    def as_dict(self) -> dict:
        return {"key": self.key, "category": self.category, "destroy_after": self.destroy_after,
                "etag": self.etag, "versions": list(self.versions), "size": self.size,
                "records": sorted(self.records, key=lambda r: (r["event_id"], r["record_version"]))}


def by_category(items: list[dict]) -> dict[str, list[dict]]:
    """Items grouped by selectielijst category, categories in code order, objects by key."""
    out: dict[str, list[dict]] = {}
    for item in sorted(items, key=lambda i: (_code_order(i["category"]), i["key"])):
        out.setdefault(item["category"], []).append(item)
    return out


def _code_order(code: str) -> tuple:
    """'1.10' after '1.9': codes compare by their numbers."""
    return tuple(int(p) if p.isdigit() else p for p in code.split("."))


def left_out(state: ObjectState, reason: str | None, before: dt.date) -> bool:
    """Whether the list names the object as left out: it would be due by its date but for a
    hold (a hotspot kept it, a legal hold, a Woo request, a lock). Not-yet-due and B objects
    are simply not on the list."""
    if reason in (None, CLASS_B, NOT_DUE, NO_DATE):
        return False
    if reason == HOTSPOT:
        was = key_date(state.key)
        return was is not None and was < before
    return True


def list_hash(before: dt.date | str, items: list[dict]) -> str:
    """SHA-256 of what a list says should be destroyed: the date and, per object, its key,
    ETag, versions and records. What an approval signs; the same list always hashes alike."""
    body = {"before": str(before), "objects": sorted((_canonical(i) for i in items), key=lambda i: i["key"])}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _canonical(item: dict) -> dict:
    return {"key": item["key"], "etag": item["etag"], "versions": sorted(item["versions"]),
            "category": item["category"], "destroy_after": item["destroy_after"],
            "records": sorted([r["event_id"], int(r["record_version"])] for r in item["records"])}


def list_id(made: dt.date, digest: str) -> str:
    return f"VL-{made.isoformat()}-{digest[:10]}"


def why_not_destroy(item: dict, state: ObjectState | None, *, today: dt.date, before: dt.date,
                    holds: dict[str, list[str]]) -> str | None:
    """At `apply`: None when the approved object may be destroyed now, else why not. The
    bucket is asked again: anything that changed since the list was made keeps the object
    (a new version or other bytes, new tags, a hold, a lock), and nothing goes before its
    date, also in a bucket without Object Lock."""
    if state is None:
        return "not in the bucket"
    if state.etag != item["etag"] or sorted(state.versions) != sorted(item["versions"]):
        return "changed since the list was made (ETag or versions differ)"
    if tag_date(state.tags) != tag_date({"destroy_after": item["destroy_after"]}):
        return "re-tagged since the list was made"
    reason = why_kept(state, before=min(before, today), holds=holds)
    if reason == NOT_DUE:
        return f"not yet due (destroy_after {item['destroy_after']})"
    return reason


# -- re-tagging after a changed selectielijst ------------------------------------------------
@dataclass
class Retag:
    """What a changed selectielijst does to one object. `tags`: the object's new tags (None:
    unchanged); `extend_lock`: a later COMPLIANCE date to set; `legal_hold`: put one on."""
    key: str
    changes: dict[str, tuple[str, str]]          # tag -> (before, after)
    tags: dict | None = None
    extend_lock: dt.date | None = None
    legal_hold: bool = False
    note: str = ""
    years: int | None = None                     # the term now applied (None: permanent)
    category: str = ""


def new_destroy_after(created: list[dt.date], years: int) -> dt.date:
    """An object's date under a term of `years`: the end of the month of its latest record's
    own new date (each record's creation day plus the term), as the writer computes it."""
    return month_end(max(add_years(d, years) for d in created))


def retag(key: str, tags: dict, category, created: list[dt.date], *, lock_until: dt.date | None,
          legal_hold: bool, bucket_locked: bool, today: dt.date) -> Retag:
    """Compare an object's tags with what the selectielijst now says of its category
    (`category`: a core.retention.Category, or None when the code is no longer listed).
    Tags follow the selectielijst both ways; Object Lock only ever grows (S3 refuses to
    shorten a COMPLIANCE lock, and a shorter term is no reason to try); a legal hold is put
    on for class B and never lifted here (a B category turned V is lifted by a person)."""
    code = tags.get("selectielijst_category", "")
    if tags.get("hotspot") == "true":
        return Retag(key, {}, category=code)            # kept permanently: nothing to re-tag
    if category is None:
        return Retag(key, {}, note=f"category {code!r} is not in the selectielijst: tags left as they are",
                     category=code)
    if category.retention_class == "B":
        want = {"retention_class": "B", "destroy_after": "permanent"}
        years, until = None, None
    else:
        if not created:
            return Retag(key, {}, note="no records to date: tags left as they are", category=code)
        years = int(category.years)
        until = new_destroy_after(created, years)
        want = {"retention_class": "V", "destroy_after": until.isoformat()}
    changes = {k: (tags.get(k, ""), v) for k, v in want.items() if tags.get(k) != v}
    out = Retag(key, changes, years=years, category=code)
    if changes:
        out.tags = {**tags, **want}
    notes = []
    if category.retention_class == "B":
        out.legal_hold = bucket_locked and not legal_hold
    else:
        if legal_hold:
            notes.append("legal hold stays on (lifted by a person, not by a re-tag)")
        if bucket_locked and until > today and (lock_until is None or until > lock_until):
            out.extend_lock = until
        elif lock_until is not None and until < lock_until:
            notes.append(f"object lock stays until {lock_until.isoformat()} (never shortened)")
    out.note = "; ".join(notes)
    return out
