"""Where records go in the archive bucket, what the objects are tagged with, and the ledger.

Object names are deterministic, derived from the Kafka partition and offset
range of the batch (as the Confluent S3 sink does), so a replay after a crash
overwrites instead of duplicating. One object holds the records of one batch
that share a retention group, because S3 tags and Object Lock dates are per
object:

  {prefix}/{class}-{category}-{until}[-hotspot-{name}]/{yyyy}/{mm}/{topic}+{partition}+{start}-{end}.avro

`until` is the last day of the month in which the records may be destroyed
(destruction goes in monthly lots: no record is destroyed before its own
destroy_after, which each record keeps exactly, and none waits more than a
month longer); `yyyy/mm` is the records' creation month in Europe/Amsterdam.
The partitions are deliberately coarse: platform, account and day are in every
record (and in the ledger), not in the key, so that an object holds many
records instead of one or two and the Avro header (the writer schema) is a
small part of the archive.
The ledger (`_ledger/{topic}/{partition}/{start}.json`) records, for every
offset of a batch, what happened to it; it is written before the objects, so
after a crash the batch is redone with the same boundaries.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LEDGER_PREFIX = "_ledger"
_unsafe = re.compile(r"[^A-Za-z0-9._@\-]+")


def safe(part: str) -> str:
    """Key segment: keep handles readable, replace anything S3/shell-unfriendly."""
    return _unsafe.sub("_", part).strip("_") or "_"


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


def object_until(retention: dict) -> dt.date | None:
    """The object's destroy-after date: the end of the month of the record's own date."""
    return month_end(retention["destroy_after"]) if retention.get("destroy_after") else None


def retention_dir(retention: dict) -> str:
    until = object_until(retention)
    name = f"{retention['retention_class']}-{safe(retention['category'])}-{until.isoformat() if until else 'permanent'}"
    if retention.get("hotspot"):
        name += f"-hotspot-{safe(retention['hotspot'])}"
    return name


def group_of(record: dict) -> tuple:
    """Records of one batch sharing this tuple share an object."""
    created = record["event"]["created_at"].astimezone(AMSTERDAM)
    return (retention_dir(record["retention"]), created.year, created.month)


def object_key(prefix: str, group: tuple, topic: str, partition: int, start: int, end: int,
               late: str | None = None) -> str:
    """`late`: the tag of a late write (records at offsets committed before, e.g. released
    holds), which must never share a name with the batch that committed those offsets."""
    rdir, year, month = group
    suffix = f".late-{late}" if late else ""
    return f"{prefix}/{rdir}/{year:04d}/{month:02d}/{safe(topic)}+{partition}+{start:020d}-{end:020d}{suffix}.avro"


def late_tag(offsets) -> str:
    """Deterministic name part of a late write: its offsets (a redo writes the same set)."""
    return hashlib.sha1(",".join(map(str, sorted(offsets))).encode()).hexdigest()[:12]


def ledger_key(topic: str, partition: int, start: int) -> str:
    return f"{LEDGER_PREFIX}/{safe(topic)}/{partition:05d}/{start:020d}.json"


def object_tags(record: dict, schema_version: str) -> dict[str, str]:
    """Tags of an object, from any of its records: only what all records of its group share."""
    ret = record["retention"]
    until = object_until(ret)
    return {
        "retention_class": ret["retention_class"],
        "selectielijst_category": ret["category"],
        "destroy_after": until.isoformat() if until else "permanent",
        "hotspot": "true" if ret.get("hotspot") else "false",
        "schema_version": schema_version,
    }


def parse_object_key(key: str) -> dict | None:
    m = re.search(r"/([^/]+)/(\d{4})/(\d{2})/([^/+]+)\+(\d+)\+(\d+)-(\d+)(?:\.late-[0-9a-f]+)?\.avro$", key)
    if not m:
        return None
    return {"retention": m[1], "month": f"{m[2]}-{m[3]}", "topic": m[4], "partition": int(m[5]),
            "start": int(m[6]), "end": int(m[7])}


def today() -> dt.date:
    return dt.datetime.now(AMSTERDAM).date()


def ledger_event_id(event_id: str | None, token) -> str | None:
    """Event ids as ledgers keep them. A reaction's id names the person who reacted
    (`<platform>:<id>:reaction:<actor>`): the actor becomes a keyed pseudonym, since
    ledgers sit in the archive bucket. `token(label, value)` is the pseudonymiser's."""
    if not event_id or ":reaction:" not in event_id:
        return event_id
    head, _, actor = event_id.partition(":reaction:")
    return f"{head}:reaction:{token('PERSOON', actor)}"
