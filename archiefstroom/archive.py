"""The archive bucket: writing committed batches, and reading them back (ls, cat, lookup).

Order of a batch write, the basis of "nothing lost, nothing duplicated":
  1. ledger (intent): the batch's offset range, its objects and every offset's fate;
  2. Avro objects, named by partition and offset range (idempotent puts);
  3. dead letters / quarantine to their Kafka topics, pending holds and archived
     edits/deletes to the rules' compacted state topics (flushed);
  4. the consumer group's offset commit (end + 1).
A crash before 4 makes the next run read the batch again; the ledger tells it
the same boundaries, so the same object names are overwritten with the same
bytes. Step 2 also writes the batch's archived ids per creation day
(core.archived_ids): re-sent events are recognised and recorded as duplicates
instead of being archived twice, and a writer reads only the days it meets.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections import Counter, OrderedDict, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import fastavro

from archiefstroom import kafka as kafka_clients
from archiefstroom import s3 as s3io
from archiefstroom import schemas
from archiefstroom.config import Config
from archiefstroom.core import archived_ids, layout
from archiefstroom.core.envelope import Disposition, position_of
from archiefstroom.core.rules.versions import changelog

log = logging.getLogger(__name__)

SCHEMA_NAME = "archive_record"
# the contract's version number lives in the .avsc itself ("version" attribute)
SCHEMA_VERSION = str(schemas.raw_json(SCHEMA_NAME).get("version", 1))
TOPIC_FOR_KIND = {"dead_letter": "dead_letter", "quarantine": "quarantine", "handover": "handover"}


def encode_avro(records: list[dict], key: str, codec: str = "deflate") -> bytes:
    """Deterministic Avro container bytes: the sync marker derives from the object key."""
    buf = io.BytesIO()
    fastavro.writer(buf, schemas.load_for_files(SCHEMA_NAME), records, codec=codec,
                    sync_marker=hashlib.md5(key.encode()).digest(),
                    metadata={"archiefstroom.schema_version": SCHEMA_VERSION, "archiefstroom.key": key})
    return buf.getvalue()


def decode_avro(body: bytes) -> list[dict]:
    return list(fastavro.reader(io.BytesIO(body)))


@dataclass
class BatchResult:
    topic: str
    partition: int
    start: int
    end: int
    counts: Counter = field(default_factory=Counter)
    objects: list[str] = field(default_factory=list)


def _token_for(cfg: Config):
    """The pseudonymiser's keyed token function (for personal parts of event ids)."""
    from pathlib import Path

    from archiefstroom.core.pseudonymise.runtime import load_keyring
    base = Path(cfg.source_file).parent if cfg.source_file else Path(cfg.data_dir)
    ring = load_keyring(cfg.pseudonymisation, base, str(cfg.source_file or "pseudonymisation"))
    return ring.token


def _entry(item, kind: str | None = None, key: str | None = None, token=None) -> dict:
    pos = position_of(item)
    if isinstance(item, Disposition):
        eid = layout.ledger_event_id(item.event_id, token) if token else item.event_id
        return {"offset": pos.offset, "event_id": eid, "kind": item.kind, "reason": item.reason,
                "detail": {k: v for k, v in item.detail.items() if k != "hold_payload"}}
    fired = [t["rule"] for t in ((item.get("decision") or {}).get("rules") or []) if t.get("fired")]
    ev = item["event"]
    return {"offset": pos.offset, "event_id": ev["event_id"], "kind": kind or "archived",
            "object": key, "record_version": item.get("record_version") or 1,
            "rule": fired[-1] if fired else None,
            "platform": ev["platform"], "account": layout.safe(ev["account"]["handle"] or ev["account"]["id"])}


def identity(record: dict) -> tuple[str, int]:
    """What makes an archive record unique: a webcare verdict adds a new version of an event."""
    return record["event"]["event_id"], int(record.get("record_version") or 1)


_PUTS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3-put")


class BatchWriter:
    """Writes planned batches of one topic; one per sink worker."""

    def __init__(self, cfg: Config, topic: str):
        self.cfg, self.topic = cfg, topic
        self.s3 = s3io.Writer(cfg.s3)
        self.producer = kafka_clients.producer(cfg.kafka)
        self.committer = kafka_clients.consumer(cfg.kafka, group=True)
        self.extra_topics = {"dead_letter": cfg.topics.dead_letter, "quarantine": cfg.topics.quarantine,
                             "handover": cfg.burgerbrief.handover_topic}
        # (partition, creation day) -> archived (event id, record version): the days in use
        self.days: OrderedDict[tuple[int, object], set[tuple[str, int]]] = OrderedDict()
        self._days_lock = threading.Lock()
        self._recovered: dict[int, tuple[int, int | None]] = {}   # partition -> (start, its boundary)
        self.held_topic = getattr(cfg.rules, "held_topic", None)
        self.versions_topic = getattr(cfg.rules, "versions_topic", None)
        self.token = _token_for(cfg)
        self._committed: dict[int, int | None] = {}

    def close(self):
        self.producer.close()
        self.committer.close()

    # -- recovery -------------------------------------------------------------
    def committed(self, partition: int) -> int | None:
        from kafka import TopicPartition
        if partition not in self._committed:
            self._committed[partition] = self.committer.committed(TopicPartition(self.topic, partition))
        return self._committed[partition]

    def resume_offset(self, partition: int) -> int:
        """The first offset this run must account for: where the source began reading."""
        from kafka import TopicPartition
        return kafka_clients.resume_offset(self.committer, TopicPartition(self.topic, partition))

    def recovered_boundary(self, partition: int, start: int) -> int | None:
        """End offset of a batch a crashed run started writing at `start`, if any: only
        then can its keys already exist (and are checked, so a redo adds no S3 versions)."""
        known = self._recovered.get(partition)
        if known is None or known[0] != start:
            body = self.s3.get(layout.ledger_key(self.topic, partition, start))
            known = self._recovered[partition] = (start, json.loads(body)["end"] if body else None)
        return known[1]

    # -- archived ids (core.archived_ids) --------------------------------------
    MAX_DAYS = 400   # creation days kept in memory (about a year of a live stream); older ones reload

    def archived(self, partition: int, day) -> set[tuple[str, int]]:
        """The ids archived in `partition` of events created on `day`, read on first use."""
        with self._days_lock:
            ids = self.days.get((partition, day))
            if ids is not None:
                self.days.move_to_end((partition, day))
                return ids
        ids = self._load_day(partition, day)
        with self._days_lock:
            self.days[(partition, day)] = ids
            while len(self.days) > self.MAX_DAYS:
                self.days.popitem(last=False)
        return ids

    def _load_day(self, partition: int, day) -> set[tuple[str, int]]:
        keys = [o["Key"] for o in self.s3.list(archived_ids.day_prefix(self.topic, partition, day))]
        ids: set[tuple[str, int]] = set()
        through, late_done = -1, set()
        snap = archived_ids.newest_snapshot(keys)
        if snap:
            body = json.loads(self.s3.get(snap) or b"{}")
            ids.update(map(tuple, body.get("ids", [])))
            through, late_done = body.get("through", -1), set(body.get("late", []))
        deltas = archived_ids.deltas_to_read(keys, self.committed(partition), through=through,
                                            late_in_snapshot=late_done)
        for body in _PUTS.map(self.s3.get, deltas):
            ids.update(map(tuple, json.loads(body or b"{}").get("ids", [])))
        if len(deltas) > archived_ids.COMPACT_AFTER:
            through = max(through, archived_ids.through_of(deltas))
            late = sorted(late_done | {k for k in deltas if ".late-" in k})
            self.s3.put(archived_ids.snapshot_key(self.topic, partition, day, through),
                        json.dumps({"through": through, "late": late, "ids": sorted(ids)}).encode(),
                        content_type="application/json", check_existing=False)
        return ids

    def _end_holds(self, items: list) -> None:
        """Holds that these (now durable) items end are removed from the held topic."""
        if not self.held_topic:
            return
        from archiefstroom.core.rules.holds import ended_hold
        keys = [k for k in map(ended_hold, items) if k]
        for key in keys:
            self.producer.send(self.held_topic, value=None, key=key.encode())
        if keys:
            self.producer.flush()

    # -- writing --------------------------------------------------------------
    def write(self, partition: int, start: int, end: int, items: list, *, late: bool = False) -> BatchResult:
        result = BatchResult(self.topic, partition, start, end)
        entries, groups = [], defaultdict(list)
        seen_here: set[tuple[str, int]] = set()
        new_ids: dict[object, list[tuple[str, int]]] = defaultdict(list)   # creation day -> ids
        days = {archived_ids.day_of(i) for i in items if not isinstance(i, Disposition)}
        tag = layout.late_tag(position_of(i).offset for i in items) if late else None
        known = {d: self.archived(partition, d) for d in sorted(days)}
        for item in items:
            if isinstance(item, Disposition):
                entries.append(_entry(item, token=self.token))
                result.counts[item.kind] += 1
                continue
            eid = identity(item)
            day = archived_ids.day_of(item)
            if eid in known[day] or eid in seen_here:
                dup = Disposition(position_of(item), "duplicate", "event id already archived", event_id=eid[0],
                                  detail={"record_version": eid[1]})
                entries.append(_entry(dup, token=self.token))
                result.counts["duplicate"] += 1
                continue
            seen_here.add(eid)
            new_ids[day].append(eid)
            group = layout.group_of(item)
            key = layout.object_key(self.cfg.s3.prefix, group, self.topic, partition, start, end, late=tag)
            groups[key].append(item)
            entries.append(_entry(item, key=key))
            result.counts["archived"] += 1
        ledger = {"topic": self.topic, "partition": partition, "start": start, "end": end, "late": late,
                  "objects": sorted(groups), "entries": entries,
                  "counts": dict(result.counts)}
        ledger_key = layout.ledger_key(self.topic, partition, start)
        if late:
            ledger_key = ledger_key.replace(".json", f".late-{end}-{tag}.json")
        redo = late or self.recovered_boundary(partition, start) is not None
        self.s3.put(ledger_key, json.dumps(ledger, sort_keys=True, default=str).encode(),
                    content_type="application/json", check_existing=redo)
        def put(key: str) -> str:
            records = sorted(groups[key], key=lambda r: r["source"]["offset"])
            ret = records[0]["retention"]
            self.s3.put(key, encode_avro(records, key, self.cfg.pipeline.codec),
                        tags=layout.object_tags(records[0], SCHEMA_VERSION),
                        retain_until=layout.object_until(ret), legal_hold=ret["retention_class"] == "B",
                        content_type="avro/binary", check_existing=redo)
            return key
        # the objects of one batch are independent: write them concurrently, all before the commit
        result.objects.extend(_PUTS.map(put, sorted(groups)))
        def put_ids(day) -> None:
            self.s3.put(archived_ids.delta_key(self.topic, partition, day, start, end, late=tag),
                        json.dumps({"ids": sorted(new_ids[day])}).encode(), content_type="application/json",
                        check_existing=redo)
        list(_PUTS.map(put_ids, sorted(new_ids)))
        sent = []
        if self.versions_topic:
            # rule 10: archived edits/deletes, so a restarted run links later edits to them
            for records in groups.values():
                for key, value in filter(None, map(changelog, records)):
                    sent.append(self.producer.send(self.versions_topic, value=value, key=key))
        for item in items:
            if isinstance(item, Disposition) and item.kind == "held" and self.held_topic:
                # the pending hold survives a crash on the compacted held topic (rules restore it)
                sent.append(self.producer.send(self.held_topic, value=item.payload,
                                               key=str(item.detail.get("hold_key") or item.event_id).encode()))
            elif isinstance(item, Disposition) and item.kind in TOPIC_FOR_KIND:
                pos = item.position
                headers = [("reason", item.reason.encode()), ("source", f"{pos.topic}/{pos.partition}/{pos.offset}".encode()),
                           ("code", str(item.detail.get("code", item.kind)).encode())]
                sent.append(self.producer.send(self.extra_topics[item.kind], value=item.payload or b"",
                                               key=f"{pos.topic}/{pos.partition}/{pos.offset}".encode(),
                                               headers=headers))
        if sent:
            self.producer.flush()
            for fut in sent:
                fut.get(timeout=30)  # raise if the broker did not take it: no commit then
        self._end_holds(items)
        if not late:
            from kafka import TopicPartition
            kafka_clients.commit(self.committer, {TopicPartition(self.topic, partition): end + 1},
                                 metadata=ledger_key)
            self._committed[partition] = end + 1
        for day, ids in new_ids.items():
            known[day].update(ids)
        return result


# -- reading -------------------------------------------------------------------

def reader(cfg: Config) -> s3io.Writer:
    return s3io.Writer(cfg.s3)


def list_objects(cfg: Config, prefix: str = "") -> list[dict]:
    w = reader(cfg)
    base = cfg.s3.prefix + "/" + prefix.lstrip("/") if prefix else cfg.s3.prefix + "/"
    return [o for o in w.list(base) if o["Key"].endswith(".avro")]


def read_object(cfg: Config, key: str) -> list[dict]:
    body = reader(cfg).get(key)
    if body is None:
        raise FileNotFoundError(key)
    return decode_avro(body)


def ledgers(cfg: Config, topic: str | None = None) -> list[dict]:
    w = reader(cfg)
    prefix = f"{layout.LEDGER_PREFIX}/" + (f"{layout.safe(topic)}/" if topic else "")
    return [json.loads(w.get(o["Key"]) or b"{}") for o in w.list(prefix)]


def lookup(cfg: Config, event_id: str) -> list[dict]:
    """Everything the archive knows of an event id: archived records and ledger entries."""
    wanted = {event_id, layout.ledger_event_id(event_id, _token_for(cfg))}
    return _find(cfg, lambda eid: eid in wanted, lambda rec: rec["event"]["event_id"] == event_id)


def history(cfg: Config, object_id: str) -> list[dict]:
    """The archived versions of one post or reaction (original, edits, tombstone), in chain order."""
    def ours(eid: str) -> bool:
        return eid == object_id or eid.startswith(object_id + ":edit:") or eid == object_id + ":delete"
    found = _find(cfg, ours, lambda rec: rec["event"]["object_id"] == object_id and ours(rec["event"]["event_id"]))
    records = [f["record"] for f in found if f["kind"] == "archived"]
    return sorted(records, key=lambda r: ((r.get("decision") or {}).get("version") or 1, r["event"]["event_id"],
                                          r.get("record_version") or 1))


def _find(cfg: Config, wanted, matches) -> list[dict]:
    """Ledger entries whose event id is `wanted`, with the archived records they point at."""
    found = []
    for ledger in ledgers(cfg):
        for e in ledger.get("entries", []):
            if not e.get("event_id") or not wanted(e["event_id"]):
                continue
            source = {"topic": ledger["topic"], "partition": ledger["partition"], "offset": e["offset"]}
            if e["kind"] == "archived":
                for rec in read_object(cfg, e["object"]):
                    if matches(rec) and rec["source"]["offset"] == e["offset"]:
                        found.append({"kind": "archived", "object": e["object"], "record": rec, "source": source})
            else:
                found.append({"kind": e["kind"], "reason": e.get("reason"), "detail": e.get("detail", {}),
                              "source": source})
    return found


@dataclass
class Summary:
    """What the archive holds, from the committed ledgers (no object needs to be read)."""
    objects: int = 0
    archived: Counter = field(default_factory=Counter)      # (platform, account, retention dir) -> records
    outcomes: Counter = field(default_factory=Counter)      # kind -> count (archived, dead_letter, dropped, ...)
    reasons: Counter = field(default_factory=Counter)       # (kind, reason) -> count, for everything not archived
    rules: Counter = field(default_factory=Counter)         # archiving rule that decided -> archived records


def summarise(cfg: Config, topic: str | None = None) -> Summary:
    out, objects = Summary(), set()
    for ledger in ledgers(cfg, topic):
        for e in ledger.get("entries", []):
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


def format_summary(s: Summary) -> str:
    lines = [f"{s.outcomes.get('archived', 0)} records in {s.objects} objects; "
             + ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items()) if k != "archived")]
    lines.append(f"{'platform':10} {'account':36} {'retention':12} {'records':>7}")
    for (platform, account, ret), n in sorted(s.archived.items()):
        lines.append(f"{platform:10} {account:36} {ret:12} {n:>7}")
    if s.rules:
        lines.append("archived by rule:")
        for rule, n in sorted(s.rules.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>6}  {rule}")
    if s.reasons:
        lines.append("not archived:")
        for (kind, reason), n in sorted(s.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>6}  {kind:12} {reason}")
    return "\n".join(lines)
