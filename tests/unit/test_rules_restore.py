"""RestoreHolds' reader: last value per key from the held topic, tombstones end a hold."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from archiefstroom.core.rules import engine, holds
from archiefstroom.core.rules.scenarios import citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.transforms import rules as rules_transform

W = dt.timedelta(hours=24)


def held_payload(native, offset):
    ev = event("post", account="GemeenteTweeweg", native_id=native, author=citizen(), mentions=["GemeenteTweeweg"])
    routed = holds.route(record(ev, offset), engine.evaluate(ev, example_registry(), RulesSettings()), W)
    (out,) = holds.step(holds.ThreadState(), routed[1], W)
    return ev["event_id"].encode(), out.disposition.payload


class FakeConsumer:
    def __init__(self, messages):
        self.messages, self.pos = messages, 0

    def assign(self, tps):
        pass

    def seek_to_beginning(self, *tps):
        self.pos = 0

    def position(self, tp):
        return self.pos

    def poll(self, timeout_ms=0):
        batch = self.messages[self.pos:self.pos + 2]
        self.pos += len(batch)
        return {"tp": batch} if batch else {}

    def close(self):
        pass


def test_read_held_keeps_last_value_and_drops_tombstones(monkeypatch):
    k1, v1 = held_payload("1", 1)
    k2, v2 = held_payload("2", 2)
    msgs = [SimpleNamespace(key=k1, value=v1), SimpleNamespace(key=k2, value=v2),
            SimpleNamespace(key=k1, value=None)]            # hold 1 ended: tombstone
    fake = FakeConsumer(msgs)
    monkeypatch.setattr(kafka_clients, "consumer", lambda settings: fake)
    monkeypatch.setattr(kafka_clients, "partitions", lambda c, topic, timeout_s=0: ["tp"])
    monkeypatch.setattr(kafka_clients, "high_watermarks", lambda c, tps: {"tp": len(msgs)})
    items = rules_transform.read_held(None, "archiefstroom.held", W)
    assert [(key, item.kind, item.event_id) for key, item in items] == [("x:2", "restore", "x:2")]
    assert items[0][1].record["source"]["offset"] == 2


def test_read_held_without_topic_restores_nothing(monkeypatch):
    monkeypatch.setattr(kafka_clients, "consumer", lambda settings: FakeConsumer([]))

    def missing(c, topic, timeout_s=0):
        raise TimeoutError(topic)
    monkeypatch.setattr(kafka_clients, "partitions", missing)
    assert rules_transform.read_held(None, "archiefstroom.held", W) == []
