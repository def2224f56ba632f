"""`archiefstroom explain`: readable from archived records (with trace) and ledger dispositions."""
from __future__ import annotations

from archiefstroom.commands.explain import explain
from archiefstroom.core.rules import engine
from archiefstroom.core.rules.scenarios import citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings


def test_explain_archived_record_shows_trace_and_retention():
    ev = event("reply", account="GemeenteTweeweg", author=citizen(), in_reply_to="x:9", thread_root="x:9")
    rec = engine.apply(record(ev, 5), engine.evaluate(ev, example_registry(), RulesSettings()))
    out = explain(ev["event_id"], [{"kind": "archived", "object": "archive/x/obj.avro", "record": rec,
                                    "source": rec["source"]}])
    assert "ARCHIVED (Kafka archiefstroom.raw/0/5)" in out
    assert "FIRED R4-route-2" in out and "reaction on a route-2 account" in out
    assert "retention: V (category V5)" in out and "route 2" in out


def test_explain_dropped_and_held():
    entries = [{"kind": "dropped", "reason": "R5-citizen-mention: expired: no reaction within 72h",
                "detail": {"rule": "R5-citizen-mention", "window_hours": "72"},
                "source": {"topic": "t", "partition": 1, "offset": 9}},
               {"kind": "held", "reason": "R5-citizen-mention: held until Gemeente Amsterdam reacts or 72h pass",
                "detail": {}, "source": {"topic": "t", "partition": 1, "offset": 9}}]
    out = explain("x:1", entries)
    assert out.index("HELD") < out.index("DROPPED") and "window_hours: 72" in out
    assert "not in the archive's catalog" in explain("x:2", [])
