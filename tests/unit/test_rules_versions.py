"""Rule 10: an edit links to the previous version, a tombstone to the original (and its
predecessor); ordered by edit time, stable under replay and restart. Pure core first,
then LinkVersions inside ApplyRules on the DirectRunner."""
from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import BeamAssertException, assert_that
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from archiefstroom.core.rules import engine, versions
from archiefstroom.core.rules.scenarios import citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import config
from archiefstroom.transforms.rules import ApplyRules
from tests.conftest import pipeline_options

from .rules_helpers import archived

R2 = "GemeenteTweeweg"
REG = example_registry()


def decided(ev: dict, offset: int = 0) -> dict:
    """The record as ApplyRules' evaluation leaves it (decision filled), before linking."""
    return engine.apply(record(ev, offset), engine.evaluate(ev, REG, RulesSettings()))


def post(native="1"):
    return event("post", account=R2, native_id=native)


def edit(minutes, native="1"):
    return event("edit", account=R2, native_id=native, minutes=minutes)


def delete(minutes, native="1", author=None):
    return event("delete", account=R2, native_id=native, minutes=minutes, text=None, author=author)


def links(events):
    """(event id, supersedes, original, version) per versioned record, linked in arrival order."""
    out = versions.simulate(decided(e, i) for i, e in enumerate(events))
    return [(r["event"]["event_id"], r["decision"]["supersedes"], r["decision"]["original"],
             r["decision"]["version"]) for r in out if versions.version_of(r["event"])]


E1, E2, E3 = edit(10), edit(20), edit(30)
D = delete(40)


@pytest.mark.parametrize("arrival, expected", [
    # in order: each edit follows the one before; the tombstone follows the last edit
    ([post(), E1, E2, E3, D],
     [(E1["event_id"], "x:1", "x:1", 2), (E2["event_id"], E1["event_id"], "x:1", 3),
      (E3["event_id"], E2["event_id"], "x:1", 4), (D["event_id"], E3["event_id"], "x:1", 5)]),
    # a delete without edits is linked to the original itself
    ([post(), D], [(D["event_id"], "x:1", "x:1", 2)]),
    # the original need not have been seen in this run: it is named by the id contract
    ([E1, E2], [(E1["event_id"], "x:1", "x:1", 2), (E2["event_id"], E1["event_id"], "x:1", 3)]),
    # edit 2 arrives first (connector backfill): it can only follow the original; edit 1, placed
    # by its edit time, also follows the original. Edit 3 follows the latest edit, by time.
    ([E2, E1, E3],
     [(E2["event_id"], "x:1", "x:1", 2), (E1["event_id"], "x:1", "x:1", 2), (E3["event_id"], E2["event_id"], "x:1", 4)]),
    # a delete comes last even when it arrives before an edit
    ([D, E1], [(D["event_id"], "x:1", "x:1", 2), (E1["event_id"], "x:1", "x:1", 2)]),
    # a replayed edit gets the same link as the first time
    ([E1, E2, E2], [(E1["event_id"], "x:1", "x:1", 2), (E2["event_id"], E1["event_id"], "x:1", 3),
                    (E2["event_id"], E1["event_id"], "x:1", 3)]),
    # chains are per object
    ([E1, edit(15, native="2"), E2],
     [(E1["event_id"], "x:1", "x:1", 2), (edit(15, native="2")["event_id"], "x:2", "x:2", 2),
      (E2["event_id"], E1["event_id"], "x:1", 3)]),
])
def test_version_chain(arrival, expected):
    assert links(arrival) == expected


def test_the_trace_says_what_the_version_follows_and_what_came_first():
    out = versions.simulate([decided(E2), decided(E1), decided(E3)])
    r10 = [[t for t in r["decision"]["rules"] if t["rule"] == versions.RULE][0] for r in out]
    assert r10[0]["inputs"] == {"event_type": "edit", "version": "2", "follows": "original"}
    assert r10[1]["inputs"]["later_versions_archived_first"] == "1"
    assert r10[2]["inputs"]["follows"] == "previous edit" and r10[2]["outcome"] == "new version"
    assert "version" in out[2]["decision"]["flags"]


def test_other_records_pass_untouched():
    rec = decided(post())
    assert versions.link(versions.Chain(), rec) is rec
    assert versions.changelog(rec) is None
    assert rec["decision"]["original"] is None and rec["decision"]["version"] is None


def test_a_restart_links_to_the_versions_archived_before_it():
    first_run = versions.simulate([decided(e) for e in (post(), E1, E2)])
    log = dict(filter(None, map(versions.changelog, first_run)))
    chains, bad = versions.restore(list(log.values()) + [b"not json", b'{"v": 1}'])
    assert bad == 2 and set(chains) == {"x:1"}
    linked = versions.link(chains["x:1"], decided(E3))
    assert (linked["decision"]["supersedes"], linked["decision"]["version"]) == (E2["event_id"], 4)


def test_the_changelog_holds_no_text_and_no_actor():
    reply_delete = delete(5, native="9", author=citizen(31))
    key, value = versions.changelog(decided(reply_delete))
    doc = json.loads(value)
    assert key == b"x:9:delete" and set(doc) == {"v", "object_id", "event_id", "kind", "at"}
    assert "u31" not in value.decode() and "burger31" not in value.decode()


def test_edit_of_a_dropped_object_is_not_linked_because_it_is_not_archived():
    # route-1 account: a citizen's reply and its edit are both dropped by rule 3
    ev = event("edit", account="GemeenteVoorbeeld", native_id="5", author=citizen(), in_reply_to="x:1",
               thread_root="x:1")
    assert engine.evaluate(ev, REG, RulesSettings()).action == "drop"


def test_link_versions_inside_apply_rules_on_prism():
    """Edits sent out of order, one step at a time; a restored chain stands in for an earlier
    run of the pipeline (what the versions topic holds). Beam does not promise that a keyed
    DoFn sees elements in the order a TestStream added them (the direct runner kept that
    order, Prism does not always): each order the runner may choose has its own linking,
    written out here."""
    earlier = versions.simulate([decided(edit(5, native="7"))])
    chains, _ = versions.restore([versions.changelog(earlier[0])[1]])
    events = [post(), E2, E1, E3, edit(9, native="7"), D]
    stream = TestStream()
    for i, e in enumerate(events):
        stream = stream.add_elements([TimestampedValue(record(e, i), Timestamp.from_utc_datetime(e["created_at"]))])
    stream = stream.advance_watermark_to_infinity()
    common = [("x:1", None, None), (edit(9, native="7")["event_id"], earlier[0]["event"]["event_id"], 3),
              (D["event_id"], E3["event_id"], 5)]
    e2_first = [(E2["event_id"], "x:1", 2), (E1["event_id"], "x:1", 2), (E3["event_id"], E2["event_id"], 4)]
    e1_first = [(E1["event_id"], "x:1", 2), (E2["event_id"], E1["event_id"], 3), (E3["event_id"], E2["event_id"], 4)]
    with beam.Pipeline(options=pipeline_options(streaming=True)) as p:
        out = p | stream | ApplyRules(config.Config(), REG, restore=False, chains=chains)
        got = archived(out) | beam.Map(lambda r: (r["event"]["event_id"], r["decision"]["supersedes"],
                                                   r["decision"]["version"]))
        assert_that(got, one_of(common + e2_first, common + e1_first))


def one_of(*tables):
    """A Beam matcher: the output equals one of the tables (as multisets)."""
    def check(actual):
        if sorted(actual) not in [sorted(t) for t in tables]:
            raise BeamAssertException(f"{sorted(actual)} is none of the expected tables")
    return check
