"""Where records go in the archive bucket, what the objects are tagged with, and the ledger.

Object names are deterministic, derived from the Kafka partition and offset
range of the batch (as the Confluent S3 sink does), so a replay after a crash
overwrites instead of duplicating. One object holds records of one retention
group only, because S3 tags are per object.

  {prefix}/{platform}/{account}/{yyyy}/{mm}/{dd}/{class}-{category}-{until}[-hotspot]/{topic}+{partition}+{start}-{end}.avro

The date is the event's creation date in Europe/Amsterdam: the day an archivist
would file it under. The ledger (`_ledger/{topic}/{partition}/{start}.json`)
records, for every offset of a batch, what happened to it; it is written before
the objects, so after a crash the batch is redone with the same boundaries.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LEDGER_PREFIX = "_ledger"
_unsafe = re.compile(r"[^A-Za-z0-9._@\-]+")


def safe(part: str) -> str:
    """Key segment: keep handles readable, replace anything S3/shell-unfriendly."""
    return _unsafe.sub("_", part).strip("_") or "_"


def retention_dir(retention: dict) -> str:
    until = retention["destroy_after"].isoformat() if retention.get("destroy_after") else "permanent"
    name = f"{retention['retention_class']}-{safe(retention['category'])}-{until}"
    if retention.get("hotspot"):
        name += f"-hotspot-{safe(retention['hotspot'])}"
    return name


def group_of(record: dict) -> tuple:
    """Records sharing this tuple share an object."""
    ev, ret = record["event"], record["retention"]
    day = ev["created_at"].astimezone(AMSTERDAM).date()
    return (ev["platform"], safe(ev["account"]["handle"] or ev["account"]["id"]), day, retention_dir(ret))


def object_key(prefix: str, group: tuple, topic: str, partition: int, start: int, end: int) -> str:
    platform, account, day, rdir = group
    return (f"{prefix}/{platform}/{account}/{day:%Y/%m/%d}/{rdir}/"
            f"{safe(topic)}+{partition}+{start:020d}-{end:020d}.avro")


def ledger_key(topic: str, partition: int, start: int) -> str:
    return f"{LEDGER_PREFIX}/{safe(topic)}/{partition:05d}/{start:020d}.json"


def object_tags(record: dict, schema_version: str) -> dict[str, str]:
    ret = record["retention"]
    return {
        "retention_class": ret["retention_class"],
        "selectielijst_category": ret["category"],
        "destroy_after": ret["destroy_after"].isoformat() if ret.get("destroy_after") else "permanent",
        "account_type": ret["account_type"],
        "hotspot": "true" if ret.get("hotspot") else "false",
        "schema_version": schema_version,
        "platform": record["event"]["platform"],
    }


def parse_object_key(key: str) -> dict | None:
    m = re.search(r"/([^/]+)/([^/]+)/(\d{4})/(\d{2})/(\d{2})/([^/]+)/([^/+]+)\+(\d+)\+(\d+)-(\d+)\.avro$", key)
    if not m:
        return None
    return {"platform": m[1], "account": m[2], "date": f"{m[3]}-{m[4]}-{m[5]}", "retention": m[6],
            "topic": m[7], "partition": int(m[8]), "start": int(m[9]), "end": int(m[10])}


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
