"""Dead letters and quarantined events back into the pipeline, after a fix, each once (issue 14).

A letter is where it lies (topic/partition/offset), its headers (reason, code, source: what the
sink or a connector wrote) and its payload:
* the pipeline's dead letters and quarantined events hold the raw message as it was read: it goes
  back on the raw topic as it is, keyed as the connectors key it (`replay.message`);
* a connector's dead letter (`code: connector`) holds the platform's payload: it is normalised
  again by its platform's normaliser, and the events go on the raw topic as a connector sends them.
Every raw message put back carries `redriven_from: TOPIC/PARTITION/OFFSET`. After the broker took
them, the letter is marked on the compacted topic `topics.redriven` (key: where it lay), so a
second redrive skips it. Produce first, mark after: a crash in between redrives it again, and the
sink recognises the event ids it archived already (at least once on the topic, once in the archive).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from archiefstroom import replay
from archiefstroom.connectors import registry as normalisers
from archiefstroom.connectors.base import Body, Context, check_event
from archiefstroom.core.envelope import raw_message
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.config import Config

KINDS = ("dead_letter", "quarantine")


@dataclass
class Letter:
    topic: str
    partition: int
    offset: int
    headers: dict[str, str]
    payload: bytes
    redriven: dict | None          # the mark, when it went back before

    @property
    def where(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def reason(self) -> str:
        return self.headers.get("reason", "")

    @property
    def code(self) -> str:
        return self.headers.get("code", "")


def topic_of(cfg: Config, kind: str) -> str:
    return {"dead_letter": cfg.topics.dead_letter, "quarantine": cfg.topics.quarantine}[kind]


def letters(cfg: Config, kind: str) -> list[Letter]:
    """Every letter of the topic, oldest first per partition, with its redrive mark if any."""
    topic = topic_of(cfg, kind)
    kafka_clients.ensure_topics(cfg.kafka, [cfg.topics.redriven], 1, compacted=[cfg.topics.redriven])
    marks = {k.decode(): json.loads(v) for k, v in kafka_clients.read_compacted(cfg.kafka, cfg.topics.redriven).items()}
    c = kafka_clients.consumer(cfg.kafka)
    out: list[Letter] = []
    try:
        tps = kafka_clients.partitions(c, topic)
        ends = kafka_clients.high_watermarks(c, tps)
        c.assign(tps)
        c.seek_to_beginning(*tps)
        todo = {tp for tp in tps if c.position(tp) < ends[tp]}
        while todo:
            batch = c.poll(timeout_ms=1000)
            for msgs in batch.values():
                for m in msgs:
                    headers = {k: v.decode("utf-8", "replace") for k, v in (m.headers or [])}
                    where = f"{m.topic}/{m.partition}/{m.offset}"
                    out.append(Letter(m.topic, m.partition, m.offset, headers, m.value or b"", marks.get(where)))
            todo = {tp for tp in todo if c.position(tp) < ends[tp]}
            if not batch and todo:     # compaction or retention removed the tail
                todo = {tp for tp in todo if c.position(tp) < ends[tp] - 1}
    finally:
        c.close()
    return sorted(out, key=lambda x: (x.partition, x.offset))


def select(found: list[Letter], *, code: str | None = None, reason: str | None = None,
           where: set[str] | None = None, again: bool = False) -> list[Letter]:
    """The letters to act on: by code (e.g. `oversized`, `connector`), reason prefix and/or exact
    places; marked ones only with `again`."""
    return [x for x in found
            if (code is None or x.code == code) and (reason is None or x.reason.startswith(reason))
            and (where is None or x.where in where) and (again or x.redriven is None)]


def raw_messages(letter: Letter) -> list[tuple[bytes | None, bytes, list]]:
    """(key, value, headers) for the raw topic. Raises what the normaliser raises when a
    connector's payload is still unreadable (the letter then stays where it is)."""
    origin = [("redriven_from", letter.where.encode())]
    if letter.code == "connector":
        platform = letter.headers.get("platform")
        if not platform:
            raise ValueError("a connector's dead letter without its platform header (written before it had one)")
        text = letter.payload.decode("utf-8")
        ctx = Context(platform=platform, connector_name=letter.headers.get("source", "").removeprefix("connector:"))
        out = []
        for ev in normalisers.normalise_body(platform, Body.parse(text), ctx):
            check_event(ev)
            key, headers = raw_message(ev)
            out.append((key, json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                        [*headers, *origin]))
        return out
    key, headers = replay.message(letter.payload)
    return [(key, letter.payload, [*headers, *origin])]


@dataclass
class Outcome:
    redriven: list[Letter]
    messages: int
    refused: dict[str, str]            # where -> why it stayed (still unreadable)
    ends: dict[int, int]               # raw partition -> end offset of what was put back (run --stop-at)


def redrive(cfg: Config, chosen: list[Letter], *, by: str) -> Outcome:
    """Put the chosen letters back on the raw topic, then mark each; see the module docstring."""
    producer = kafka_clients.producer(cfg.kafka)
    done, refused, sent, ends = [], {}, 0, {}
    try:
        for letter in chosen:
            try:
                messages = raw_messages(letter)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
                refused[letter.where] = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"[:200]
                continue
            futures = [producer.send(cfg.topics.raw, key=k, value=v, headers=h) for k, v, h in messages]
            producer.flush()
            placed = [f.get(timeout=60) for f in futures]
            for md in placed:
                ends[md.partition] = max(ends.get(md.partition, 0), md.offset + 1)
            mark = {"at": dt.datetime.now(dt.timezone.utc).isoformat(), "by": by, "reason": letter.reason,
                    "raw": [f"{md.topic}/{md.partition}/{md.offset}" for md in placed]}
            producer.send(cfg.topics.redriven, key=letter.where.encode(),
                          value=json.dumps(mark).encode()).get(timeout=60)
            letter.redriven = mark
            done.append(letter)
            sent += len(messages)
    finally:
        producer.close()
    return Outcome(done, sent, refused, ends)
