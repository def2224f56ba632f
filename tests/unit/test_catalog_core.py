"""The catalog's plain core: folding, terms, latest versions, the thread tree, announcements,
integrity. Expected values are written by hand."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from archiefstroom.core import catalog as core
from tests.catalog_cases import EDIT_ID, LIKE_ID, entries, records


@pytest.mark.parametrize("text, folded", [
    ("Één Café", "een cafe"), ("BELASTINGEN", "belastingen"), ("naïef", "naief"), ("Curaçao", "curacao"),
    ("coördinatie", "coordinatie"), ("ß", "ss"),
])
def test_fold_drops_case_and_accents(text, folded):
    assert core.fold(text) == folded


def test_terms_prefix_negation_and_stop_words():
    got = [(t.word, t.prefix, t.negated) for t in core.parse_terms("Belasting* -Spam de café-brug")]
    assert got == [("belasting", True, False), ("spam", False, True), ("cafe", False, False), ("brug", False, False)]


def test_query_refuses_what_it_cannot_mean():
    with pytest.raises(ValueError, match="version"):
        core.Query(version="newest")
    with pytest.raises(ValueError, match="type"):
        core.Query(event_type="tweet")


def test_date_bounds_are_whole_utc_days():
    q = core.Query(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2))
    assert q.ms_range() == (1772409600000, 1772495999999)


def test_entry_of_a_record():
    e = entries()[1]
    assert (e.event_id, e.object_id, e.in_reply_to, e.event_type, e.author) == ("x:2", "x:2", "x:1", "reply", "burger4711")
    assert (e.retention_class, e.category, e.destroy_after) == ("V", "1.3", "2031-03-02")
    assert (e.burgerbrief, e.verdict, e.created_at) == (True, None, 1772442300000)
    assert entries()[6].verdict == "geen_burgerbrief"


def test_latest_is_the_newest_version_of_each_object():
    latest = {(e.event_id, e.record_version) for e in core.mark_latest(entries()) if e.latest}
    assert latest == {(EDIT_ID, 1), ("x:2", 2), ("x:3", 1), ("mastodon:4:delete", 1), (LIKE_ID, 1)}


def test_thread_tree_follows_replies_and_tombstones_keep_their_place():
    def shape(nodes):
        return [(n.entry.event_id, shape(n.children)) for n in nodes]
    assert shape(core.thread_tree(core.mark_latest(entries()))) == [
        (EDIT_ID, [("x:2", [("x:3", [])]), (LIKE_ID, [])]), ("mastodon:4:delete", [])]


def test_announcements_list_every_record_and_split_big_batches():
    recs = records()
    groups = {"b.avro": recs[4:6], "a.avro": recs[:4]}
    (one,) = core.announcements("_ledger/t/00000/0.json", "t", 0, 0, 5, False, groups, outcomes=2)
    assert [o["key"] for o in one["objects"]] == ["a.avro", "b.avro"]
    assert [r["offset"] for r in one["objects"][0]["records"]] == [0, 1, 2, 3]
    assert (one["part"], one["parts"], one["outcomes"]) == (1, 1, 2)
    assert core.decode_announcement(core.encode_announcement(one)) == one
    many = {"x.avro": [recs[0]] * 12001}
    parts = core.announcements("l", "t", 0, 0, 12000, False, many, outcomes=0)
    assert [len(p["objects"][0]["records"]) for p in parts] == [5000, 5000, 2001]
    assert [p["part"] for p in parts] == [1, 2, 3] and {p["parts"] for p in parts} == {3}


def test_integrity_compares_the_payload_with_its_hash():
    rec = records()[0]
    assert core.integrity(rec).ok
    rec["event"]["raw"]["payload"] = '{"tampered": true}'
    check = core.integrity(rec)
    assert not check.ok and check.computed == hashlib.sha256(b'{"tampered": true}').hexdigest()
