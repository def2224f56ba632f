"""Sealed threads (issue 17): the seal's content and hashes, late reactions, the restore topic."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from archiefstroom import schemas
from archiefstroom.archive import format as avro
from archiefstroom.connectors.pollers import MastodonPoller
from archiefstroom.connectors.runtime import Checkpoint, ListSink
from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.core.rules import engine, seal
from archiefstroom.core.rules.scenarios import GOV, T0, citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import registries
from archiefstroom.ground.config import DEFAULT_CONFIG
from archiefstroom.ground.settings import ConfigError, from_dict

S = RulesSettings()
ACC = "GemeenteTweeweg"
REG = example_registry()


def archived(ev, offset):
    """The record as the rules archive it (decision and retention filled)."""
    return engine.apply(record(ev, offset), engine.evaluate(ev, REG, S))


def root():
    return archived(event("post", account=ACC, native_id="700", author={**GOV, "id": ACC}), 1)


def reply(native, minutes, offset, author=None):
    return archived(event("reply", account=ACC, native_id=native, author=author or citizen(), in_reply_to="x:700",
                          thread_root="x:700", minutes=minutes), offset)


def thread_state():
    st = seal.ThreadSeal("x:700")
    # arrival order differs from creation order on purpose: the seal does not depend on it
    assert seal.add_record(st, reply("702", 120, 3), 30, "corporate") == "added"
    assert seal.add_record(st, root(), 30, "corporate") == "added"
    assert seal.add_record(st, reply("701", 60, 2), 30, "corporate") == "added"
    assert seal.add_record(st, reply("701", 60, 2), 30, "corporate") == "known"   # a replay adds nothing
    assert seal.add_not_archived(st, "x:700:reaction:u1", "R2-sentiment", T0, "x", "corporate", 30)
    return st


def test_the_seal_lists_root_window_reactions_and_counts_by_hand():
    datum = seal.seal(thread_state())
    sha = {eid: seal.record_sha256(r) for eid, r in
           (("x:700", root()), ("x:701", reply("701", 60, 2)), ("x:702", reply("702", 120, 3)))}
    row = lambda eid, kind, minutes: {"event_id": eid, "object_id": eid, "event_type": kind, "record_version": 1,  # noqa: E731
                                      "version": 1, "created_at": T0 + dt.timedelta(minutes=minutes),
                                      "sha256": sha[eid]}
    expected = {
        "seal_id": "seal:x:700", "thread": "x:700", "root": row("x:700", "post", 0),
        "platform": "x", "account_type": "corporate",
        "window": {"opens": T0, "closes": dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc), "days": 30},
        "reactions": [row("x:701", "reply", 60), row("x:702", "reply", 120)],
        "not_archived": {"R2-sentiment": 1},
    }
    assert {k: v for k, v in datum.items() if k != "sha256"} == expected
    schemas.validate(datum, "sealed_thread")


def test_the_seal_hash_is_over_its_canonical_json_written_out_by_hand():
    datum = seal.seal(thread_state())
    r = datum["reactions"]
    canonical = (
        '{"account_type":"corporate","not_archived":{"R2-sentiment":1},"platform":"x",'
        '"reactions":[{"created_at":"2026-03-02T10:00:00.000Z","event_id":"x:701","event_type":"reply",'
        f'"object_id":"x:701","record_version":1,"sha256":"{r[0]["sha256"]}","version":1}},'
        '{"created_at":"2026-03-02T11:00:00.000Z","event_id":"x:702","event_type":"reply",'
        f'"object_id":"x:702","record_version":1,"sha256":"{r[1]["sha256"]}","version":1}}],'
        '"root":{"created_at":"2026-03-02T09:00:00.000Z","event_id":"x:700","event_type":"post",'
        f'"object_id":"x:700","record_version":1,"sha256":"{datum["root"]["sha256"]}","version":1}},'
        '"seal_id":"seal:x:700","thread":"x:700",'
        '"window":{"closes":"2026-04-01T09:00:00.000Z","days":30,"opens":"2026-03-02T09:00:00.000Z"}}')
    assert datum["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_record_hash_is_recomputed_from_the_archived_object():
    rec = reply("701", 60, 2)
    stored = avro.decode(avro.encode([rec], "some/key.avro"))[0]
    assert seal.record_sha256(stored) == seal.record_sha256(rec)
    assert len(seal.record_sha256(rec)) == 64


def test_verify_finds_a_changed_record_a_missing_one_and_a_changed_seal():
    datum = seal.seal(thread_state())
    recs = [root(), reply("701", 60, 2), reply("702", 120, 3)]
    assert seal.verify(datum, recs) == []
    changed = {**recs[1], "event": {**recs[1]["event"], "text": "anders"}}
    assert seal.verify(datum, [recs[0], changed]) == ["x:701 (version 1): SHA-256 differs",
                                                      "x:702 (version 1): not in the archive"]
    assert seal.verify({**datum, "platform": "mastodon"}, recs) == ["the seal's hash does not match its content"]


def test_a_reaction_after_the_seal_is_late_unless_the_seal_holds_it():
    st = thread_state()
    datum = seal.seal(st)
    seal.mark_sealed(st, datum)
    assert seal.add_record(st, reply("701", 60, 2), 30, "corporate") == "known"
    late = reply("799", 60 * 24 * 40, 9)
    assert seal.add_record(st, late, 30, "corporate") == "late"
    assert not seal.add_not_archived(st, "x:799:reaction:u2", "R2-sentiment", T0, "x", "corporate", 30)
    assert st.sealed_closes == dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc) and not st.records
    add = seal.late_addendum(late, datum["seal_id"], st.sealed_closes)
    assert seal.LATE_FLAG in add["decision"]["flags"] and "seal:x:700" in add["decision"]["context"]
    assert add["decision"]["rules"][-1]["rule"] == seal.RULE
    d = seal.late_disposition(late, datum["seal_id"])
    assert (d.kind, d.reason, d.detail["seal"]) == ("dropped", "R-late-reaction: arrived after the thread was sealed",
                                                   "seal:x:700")


def test_a_forgotten_seal_read_back_from_its_object_judges_as_the_state_did():
    st = thread_state()
    assert st.next_timer(24) == dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc)   # open: the close
    datum = seal.seal(st)
    seal.mark_sealed(st, datum)
    assert st.next_timer(24) == dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.timezone.utc)   # sealed: memory's end
    # the seal's memory ends a given number of hours (event time) after the window's close
    assert st.forget_sealed_at(24) == dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.timezone.utc)
    assert st.forget_sealed_at(0) == dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert seal.ThreadSeal("x:1").forget_sealed_at(24) is None
    # the object as the bucket gives it back (Avro, written and read), not the datum in memory
    back = avro.decode(avro.encode_as(seal.SCHEMA, [datum], seal.object_key("x:700"), "deflate"))[0]
    again = seal.sealed_state(back)
    assert (again.thread, again.sealed, again.sealed_closes) == (
        "x:700", datum["sha256"], dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc))
    assert again.sealed_ids == {("x:700", 1), ("x:701", 1), ("x:702", 1)}
    assert seal.add_record(again, reply("701", 60, 2), 30, "corporate") == "known"     # a replay
    assert seal.add_record(again, reply("799", 60 * 24 * 40, 9), 30, "corporate") == "late"
    # forgetting tombstones the seal's marker on the threads topic, nothing else
    assert seal.forget_sealed("x:700") == seal.Forget("x:700", ("seal|x:700",))


def test_late_reactions_of_a_seal_are_read_back_from_the_ledger_and_the_addenda():
    late = "R-late-reaction: arrived after the thread was sealed"
    outcomes = [{"event_id": "x:801", "reason": late, "detail": {"rule": "R-late-reaction", "seal": "seal:x:700"}},
                {"event_id": "x:802", "reason": late, "detail": {"rule": "R-late-reaction", "seal": "seal:x:900"}},
                {"event_id": "x:803", "reason": "R2-sentiment: a like", "detail": {"seal": "seal:x:700"}},
                {"event_id": "x:801", "reason": late, "detail": {"rule": "R-late-reaction", "seal": "seal:x:700"}}]
    flagged = lambda eid, ctx: {"event": {"event_id": eid},  # noqa: E731
                                "decision": {"flags": ["late_addendum"], "context": ctx}}
    records = [flagged("x:804", ["seal:x:700"]), flagged("x:805", ["seal:x:900"]),
               {"event": {"event_id": "x:806"}, "decision": {"flags": [], "context": ["seal:x:700"]}},
               {"event": {"event_id": "x:807"}}]
    assert seal.late_reactions("seal:x:700", outcomes, records) == {"counted": ["x:801"], "addendum": ["x:804"]}
    assert seal.late_reactions("seal:x:1", outcomes, records) == {"counted": [], "addendum": []}


def test_a_reaction_created_after_the_close_is_late_even_before_the_seal():
    st = thread_state()
    assert seal.add_record(st, reply("798", 60 * 24 * 31, 8), 30, "corporate") == "late"
    assert ("x:798", 1) not in st.records
    assert seal.add_record(st, reply("797", 60 * 24 * 29, 7), 30, "corporate") == "added"


def test_the_threads_topic_restores_an_open_thread_and_a_sealed_one():
    st = thread_state()
    notes = [seal.record_note(st, r, seal.entry_of(r)) for r in (root(), reply("701", 60, 2), reply("702", 120, 3))]
    notes.append(seal.dropped_note(st, "x:700:reaction:u1", "R2-sentiment", T0))
    assert sorted(k.decode() for k, _ in notes) == st.note_keys()
    restored, bad = seal.restore(v for _, v in notes)
    assert bad == 0
    assert seal.seal(restored["x:700"]) == seal.seal(st)        # a restart seals the same bytes
    key, value = seal.sealed_note(seal.seal(st))
    assert key == b"seal|x:700"
    again, bad = seal.restore([*(v for _, v in notes), value, b"not json"])
    assert again["x:700"].sealed == seal.seal(st)["sha256"] and ("x:702", 1) in again["x:700"].sealed_ids
    assert again["x:700"].sealed_closes == seal.seal(st)["window"]["closes"] and bad == 1
    assert json.loads(value)["ids"] == [["x:700", 1], ["x:701", 1], ["x:702", 1]]


def test_the_harvest_window_comes_from_the_registry_with_a_default():
    reg = registries.build({"organisations": {"O": {}}, "accounts": []},
                           {"harvest_window_days": 21,
                            "platforms": {"x": {"reactions_can_be_switched_off": True,
                                                "harvest_window_days": {"hybrid": 7}}}},
                           _selectielijst())
    assert reg.harvest_window_days("x", "hybrid") == 7
    assert reg.harvest_window_days("x", "corporate") == 21
    assert reg.harvest_window_days("mastodon", "corporate") == 21
    assert example_registry().harvest_window_days("x", "corporate") == 30


def test_a_wrong_harvest_window_is_refused_with_its_field():
    for platforms, where in (({"harvest_window_days": 0, "platforms": {}}, "harvest_window_days"),
                             ({"platforms": {"x": {"reactions_can_be_switched_off": True,
                                                   "harvest_window_days": {"private": 3}}}}, "harvest_window_days")):
        with pytest.raises(ConfigError, match=where):
            registries.build({"organisations": {}, "accounts": []}, platforms, _selectielijst())


def _selectielijst():
    return {"categories": {"P": {"retention_class": "B"}, "V10": {"retention_class": "V", "years": 10}},
            "default_category": "V10", "hotspot_category": "P"}


def test_a_poller_stops_following_a_thread_whose_harvest_window_closed(tmp_path):
    """The connector's own window is 60 days, the registry's harvest window 30: a thread of 40
    days ago is no longer fetched (counted), one of 10 days ago still is."""
    s = from_dict({"platform": "mastodon", "base_url": "https://social.example", "thread_window_days": 60,
                   "accounts": [{"id": "@gemeente_utrecht@social.overheid.nl"}]}, ConnectorSettings)
    deploy = registries.load(RulesSettings(), DEFAULT_CONFIG.parent)
    poller = MastodonPoller(s, ListSink(), Checkpoint(tmp_path / "cp.json"), registry=deploy)
    now = dt.datetime.now(dt.timezone.utc)
    threads = {name: (now - dt.timedelta(days=days)).isoformat() for name, days in
               (("old", 40), ("new", 10), ("ancient", 70))}
    fetched = []
    poller.follow_threads(threads, "context", lambda tid, key: fetched.append(tid) or [], account=s.accounts[0])
    assert fetched == ["new"] and set(threads) == {"new"}
    assert poller.metrics.counters["threads_window_closed"] == 1      # "ancient" left the connector's own window
    assert poller.metrics.counters["threads_followed"] == 1
    assert MastodonPoller(s, ListSink(), Checkpoint(tmp_path / "cp2.json")).window_days(s.accounts[0]) == 60
