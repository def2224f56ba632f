"""Thread scenarios for the rules that wait (5, 7, 8): hold, release, expiry, restore."""
from __future__ import annotations

import datetime as dt

from archiefstroom import schemas
from archiefstroom.core.rules import engine, holds
from archiefstroom.core.rules.scenarios import GOV, citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings

S = RulesSettings(hold_window_hours=48)
W = dt.timedelta(hours=48)
ACC = "GemeenteTweeweg"


def item_for(ev, offset):
    """What EvaluateRules hands the thread step for this event."""
    routed = holds.route(record(ev, offset), engine.evaluate(ev, example_registry(), S), W)
    assert not isinstance(routed, holds.Out), routed
    return routed[1]


def mention(minutes=0):
    return event("post", account=ACC, native_id="500", author=citizen(), mentions=["GemeenteTweeweg"],
                 minutes=minutes)


def answer(hours, author_id=ACC, native="501"):
    return event("reply", account=ACC, native_id=native, author={**GOV, "id": author_id}, in_reply_to="x:500",
                 thread_root="x:500", minutes=hours * 60)


def test_government_reaction_inside_window_releases_both():
    st = holds.ThreadState()
    held = holds.step(st, item_for(mention(), 10), W)
    assert [o.disposition.kind for o in held] == ["held"]
    assert held[0].disposition.detail["hold_key"] == "x:500" and held[0].disposition.payload
    outs = holds.step(st, item_for(answer(30), 11), W)
    recs = {o.record["event"]["event_id"]: o.record for o in outs}
    assert set(recs) == {"x:500", "x:501"}
    assert recs["x:500"]["decision"]["context"] == ["x:501"]
    assert recs["x:501"]["decision"]["context"] == ["x:500"]
    assert holds.RELEASED in recs["x:500"]["decision"]["flags"]
    assert recs["x:500"]["decision"]["rules"][-1]["outcome"].startswith("released")
    # the answer was archived by its own rule: the release is a note in its trace, not a firing
    fired = [t["rule"] for t in recs["x:501"]["decision"]["rules"] if t["fired"]]
    assert fired[-1] == "R1-corporate-post"
    assert recs["x:501"]["decision"]["rules"][-1] == {
        "rule": "R5-citizen-mention", "fired": False, "outcome": "government reaction releases a held item",
        "inputs": {"released": "x:500"}}
    assert holds.ended_hold(recs["x:500"]) == "x:500" and holds.ended_hold(recs["x:501"]) is None
    assert st.pending == {} and holds.expire(st, mention()["created_at"] + 10 * W, W) == []


def test_late_government_reaction_outside_window_drops_the_post_but_keeps_the_reaction():
    st = holds.ThreadState()
    holds.step(st, item_for(mention(), 10), W)
    outs = holds.step(st, item_for(answer(49), 11), W)
    assert [o.record["event"]["event_id"] for o in outs if o.record] == ["x:501"]
    (drop,) = [o.disposition for o in outs if o.disposition]
    assert drop.kind == "dropped" and "after the 48h window" in drop.reason
    assert holds.ended_hold(drop) == "x:500" and drop.position.offset == 10


def test_expiry_without_reaction_is_counted_and_dropped():
    st = holds.ThreadState()
    holds.step(st, item_for(mention(), 10), W)
    assert st.next_expiry() == mention()["created_at"] + W
    assert holds.expire(st, mention()["created_at"] + W - dt.timedelta(seconds=1), W) == []
    (out,) = holds.expire(st, mention()["created_at"] + W, W)
    assert out.metric == "R5-citizen-mention.expired"
    assert out.disposition.reason == "R5-citizen-mention: expired: no reaction from the organisation within 48h"
    assert out.disposition.detail["organisations"] == ["Gemeente Voorbeeld"]
    assert "u4711" not in repr(out.disposition.detail)


def test_reaction_by_another_organisation_does_not_release():
    st = holds.ThreadState()
    holds.step(st, item_for(mention(), 10), W)
    gov_item = item_for(answer(1), 11)
    gov_item.detail["author_org"] = "Gemeente Elders"
    outs = holds.step(st, gov_item, W)
    assert [o.record["event"]["event_id"] for o in outs] == ["x:501"] and "x:500" in st.pending


def test_private_repost_released_as_context_of_the_government_reaction():
    quote = event("quote", account=ACC, native_id="600", author=citizen(), minutes=0,
                  referenced={"object_id": "x:1", "text": "Bericht", "url": None, "author": {**GOV, "id": ACC}})
    st = holds.ThreadState()
    (held,) = holds.step(st, item_for(quote, 20), W)
    assert held.disposition.reason.startswith("R7-private-repost: held until the organisation reacts")
    assert held.disposition.detail["organisations"] == ["Gemeente Voorbeeld"]
    reply = event("reply", account=ACC, native_id="601", author={**GOV, "id": ACC}, in_reply_to="x:600",
                  thread_root="x:600", minutes=90)
    outs = holds.step(st, item_for(reply, 21), W)
    recs = {o.record["event"]["event_id"]: o.record for o in outs}
    assert recs["x:601"]["decision"]["context"] == ["x:600"]
    assert holds.CONTEXT in recs["x:600"]["decision"]["flags"]


def test_replayed_hold_reports_held_again_but_keeps_one_pending():
    st = holds.ThreadState()
    holds.step(st, item_for(mention(), 10), W)
    again = holds.step(st, item_for(mention(), 10), W)
    assert [o.disposition.kind for o in again] == ["held"] and len(st.pending) == 1


def test_hold_payload_survives_a_restart():
    st = holds.ThreadState()
    (held,) = holds.step(st, item_for(mention(), 10), W)
    restored = holds.decode_hold(held.disposition.payload, W)
    assert restored.kind == "restore" and restored.expires_at == mention()["created_at"] + W
    schemas.validate(restored.record, "archive_record")
    fresh = holds.ThreadState()
    assert holds.step(fresh, restored, W) == []
    outs = holds.step(fresh, item_for(answer(2), 11), W)
    assert {o.record["event"]["event_id"] for o in outs} == {"x:500", "x:501"}
    # a changed window applies to restored holds
    assert holds.decode_hold(held.disposition.payload, dt.timedelta(hours=1)).expires_at == \
        mention()["created_at"] + dt.timedelta(hours=1)


HY = "wethouder_voorbeeld"


def hybrid_thread(tags):
    post = event("post", account=HY, native_id="700", hashtags=tags)
    reply = event("reply", account=HY, native_id="701", author=citizen(), in_reply_to="x:700", thread_root="x:700",
                  minutes=5)
    return post, reply


def test_hybrid_reactions_follow_their_root_post():
    post, reply = hybrid_thread(["raad"])
    st = holds.ThreadState()
    assert [o.record["event"]["event_id"] for o in holds.step(st, item_for(post, 1), W)] == ["x:700"]
    (o,) = holds.step(st, item_for(reply, 2), W)
    assert o.record is not None and holds.RELEASED in o.record["decision"]["flags"]

    post, reply = hybrid_thread(["weekend"])
    st = holds.ThreadState()
    (dropped,) = holds.step(st, item_for(post, 1), W)
    assert dropped.disposition.reason == "R8-hybrid: no filter hashtag"
    (o,) = holds.step(st, item_for(reply, 2), W)
    assert o.disposition.kind == "dropped" and "lacks the filter hashtag" in o.disposition.reason


def test_hybrid_reaction_before_its_root_waits_then_resolves():
    post, reply = hybrid_thread(["raad"])
    st = holds.ThreadState()
    (held,) = holds.step(st, item_for(reply, 2), W)
    assert held.disposition.kind == "held"
    outs = holds.step(st, item_for(post, 1), W)
    assert [o.record["event"]["event_id"] for o in outs] == ["x:700", "x:701"]
