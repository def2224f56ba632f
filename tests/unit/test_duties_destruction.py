"""Destruction's decisions on hand-written tables: what is due, what is kept and why, the list's
hash, what `apply` still refuses, and what a changed selectielijst does to tags and locks."""
from __future__ import annotations

import datetime as dt

from archiefstroom.core.catalog import Query
from archiefstroom.core.duties import destruction as d
from archiefstroom.core.retention import Category
from tests.catalog_cases import EDIT_ID, filled_catalog, search_ids

D = dt.date
V13 = {"retention_class": "V", "selectielijst_category": "1.3", "destroy_after": "2017-10-31", "hotspot": "false",
       "schema_version": "3"}
KEY = "archive/V-1.3-2017-10-31/2012/10/raw+0+00000000000000000010-00000000000000000020.avro"


def state(tags=V13, **kw):
    return d.ObjectState(kw.pop("key", KEY), dict(tags), **kw)


def test_due_only_v_objects_past_their_date_and_held_by_nothing():
    before = D(2026, 12, 6)
    table = [  # tags / state, holds, expected reason (None: due)
        (state(), {}, None),
        (state({**V13, "destroy_after": "2026-12-05"}), {}, None),          # the day before: due
        (state({**V13, "destroy_after": "2026-12-06"}), {}, d.NOT_DUE),     # on the day itself: not yet
        (state({**V13, "destroy_after": "2031-10-31"}), {}, d.NOT_DUE),
        (state({**V13, "retention_class": "B", "destroy_after": "permanent"}), {}, d.CLASS_B),
        (state({**V13, "hotspot": "true", "retention_class": "B", "destroy_after": "permanent"}), {}, d.HOTSPOT),
        (state({**V13, "destroy_after": "permanent"}), {}, d.NO_DATE),
        (state(legal_hold=True), {}, d.LEGAL_HOLD),
        (state(), {KEY: ["woo:WOO-2026-1", "woo:WOO-2026-7"]}, "woo:WOO-2026-1, woo:WOO-2026-7"),
        (state(), {"archive/other.avro": ["woo:WOO-2026-1"]}, None),
        (state(lock_until=D(2027, 1, 1)), {}, "object lock until 2027-01-01"),
        (state(lock_until=D(2026, 12, 1)), {}, None),                        # a lock already past
    ]
    for st, holds, want in table:
        assert d.why_kept(st, before=before, holds=holds) == want, (st, holds)


def test_left_out_names_only_what_a_hold_kept():
    before = D(2026, 12, 6)
    hot = {**V13, "hotspot": "true", "retention_class": "B", "destroy_after": "permanent"}
    assert d.left_out(state(legal_hold=True), d.LEGAL_HOLD, before)
    assert d.left_out(state(), "woo:WOO-1", before)
    assert d.left_out(state(hot), d.HOTSPOT, before)                     # its key says 2017: due but for the hotspot
    late = "archive/V-1.3-2031-10-31/2026/10/raw+0+00000000000000000010-00000000000000000020.avro"
    assert not d.left_out(state(hot, key=late), d.HOTSPOT, before)       # not due anyway
    assert not d.left_out(state(), d.NOT_DUE, before)
    assert not d.left_out(state(), d.CLASS_B, before)
    assert d.key_date(late) == D(2031, 10, 31)
    assert d.key_date("archive/B-1.1-permanent/2026/10/raw+0+00000000000000000001-00000000000000000002.avro") is None


def item(key="archive/a.avro", category="1.3", etag="e1", versions=("v1",), records=(("x:1", 1),)):
    return {"key": key, "category": category, "destroy_after": "2017-10-31", "etag": etag, "versions": list(versions),
            "size": 10, "records": [{"event_id": e, "record_version": v} for e, v in records]}


def test_grouping_by_category_in_code_order():
    items = [item("k3", "1.10"), item("k2", "1.3"), item("k1", "1.3"), item("k0", "1.2")]
    groups = d.by_category(items)
    assert list(groups) == ["1.2", "1.3", "1.10"]
    assert [i["key"] for i in groups["1.3"]] == ["k1", "k2"]


def test_list_hash_is_stable_and_covers_what_is_destroyed():
    a, b = item("k1"), item("k2", records=(("x:2", 1), ("x:3", 2)))
    h = d.list_hash(D(2026, 12, 6), [a, b])
    assert h == d.list_hash("2026-12-06", [b, a])                                 # order does not matter
    assert len(h) == 64
    assert h != d.list_hash(D(2026, 12, 7), [a, b])                               # the date
    assert h != d.list_hash(D(2026, 12, 6), [a])                                  # an object
    assert h != d.list_hash(D(2026, 12, 6), [a, item("k2", records=(("x:2", 1),))])   # a record
    assert h != d.list_hash(D(2026, 12, 6), [a, {**b, "etag": "other"}])          # the bytes
    assert d.list_id(D(2026, 12, 6), h) == f"VL-2026-12-06-{h[:10]}"


def test_apply_refuses_what_changed_since_the_list():
    today = before = D(2026, 12, 6)
    it = item(KEY)
    now = state(etag="e1", versions=("v1",))
    assert d.why_not_destroy(it, now, today=today, before=before, holds={}) is None
    table = [
        (None, "not in the bucket"),
        (state(etag="e2", versions=("v1",)), "changed since the list was made (ETag or versions differ)"),
        (state(etag="e1", versions=("v1", "v2")), "changed since the list was made (ETag or versions differ)"),
        (state({**V13, "destroy_after": "2031-10-31"}, etag="e1", versions=("v1",)), "re-tagged since the list was made"),
        (state({**V13, "hotspot": "true", "retention_class": "B"}, etag="e1", versions=("v1",)), d.HOTSPOT),
        (state(etag="e1", versions=("v1",), legal_hold=True), d.LEGAL_HOLD),
        (state(etag="e1", versions=("v1",), lock_until=D(2030, 1, 1)), "object lock until 2030-01-01"),
    ]
    for st, want in table:
        assert d.why_not_destroy(it, st, today=today, before=before, holds={}) == want
    assert d.why_not_destroy(it, now, today=today, before=before, holds={KEY: ["woo:W-1"]}) == "woo:W-1"
    # a list drawn up for a later date is not applied before the objects' date
    future = {**item(KEY), "destroy_after": "2027-03-31"}
    st = state({**V13, "destroy_after": "2027-03-31"}, etag="e1", versions=("v1",))
    assert d.why_not_destroy(future, st, today=today, before=D(2028, 1, 1), holds={}) == \
        "not yet due (destroy_after 2027-03-31)"
    assert d.why_not_destroy(future, st, today=D(2027, 4, 1), before=D(2028, 1, 1), holds={}) is None


def test_new_destroy_after_is_the_month_end_of_the_latest_records_new_date():
    assert d.new_destroy_after([D(2012, 10, 3), D(2012, 10, 28)], 5) == D(2017, 10, 31)
    assert d.new_destroy_after([D(2012, 2, 29)], 1) == D(2013, 2, 28)
    assert d.new_destroy_after([D(2012, 10, 31), D(2012, 11, 1)], 10) == D(2022, 11, 30)


def test_retag_follows_the_selectielijst_and_only_lengthens_locks():
    today = D(2026, 12, 6)
    created = [D(2026, 10, 2), D(2026, 10, 20)]
    tags = {**V13, "destroy_after": "2031-10-31"}
    # unchanged term: nothing to do
    same = d.retag(KEY, tags, Category("V", 5), created, lock_until=D(2031, 10, 31), legal_hold=False,
                   bucket_locked=True, today=today)
    assert (same.changes, same.tags, same.extend_lock, same.legal_hold, same.note) == ({}, None, None, False, "")
    # longer term: tag and lock move to 2036
    longer = d.retag(KEY, tags, Category("V", 10), created, lock_until=D(2031, 10, 31), legal_hold=False,
                     bucket_locked=True, today=today)
    assert longer.changes == {"destroy_after": ("2031-10-31", "2036-10-31")}
    assert longer.tags["destroy_after"] == "2036-10-31" and longer.tags["schema_version"] == "3"
    assert longer.extend_lock == D(2036, 10, 31) and longer.years == 10
    # shorter term: the tag follows, the lock stays where it is
    shorter = d.retag(KEY, tags, Category("V", 2), created, lock_until=D(2031, 10, 31), legal_hold=False,
                      bucket_locked=True, today=today)
    assert shorter.changes == {"destroy_after": ("2031-10-31", "2028-10-31")}
    assert shorter.extend_lock is None
    assert shorter.note == "object lock stays until 2031-10-31 (never shortened)"
    # V turned B: permanent, with a legal hold
    kept = d.retag(KEY, tags, Category("B"), created, lock_until=D(2031, 10, 31), legal_hold=False,
                   bucket_locked=True, today=today)
    assert kept.changes == {"retention_class": ("V", "B"), "destroy_after": ("2031-10-31", "permanent")}
    assert kept.legal_hold and kept.extend_lock is None and kept.years is None
    # B turned V: tagged V, but the legal hold is not lifted by a re-tag
    b = {**V13, "retention_class": "B", "destroy_after": "permanent", "selectielijst_category": "1.1"}
    freed = d.retag(KEY, b, Category("V", 10), created, lock_until=None, legal_hold=True, bucket_locked=True,
                    today=today)
    assert freed.changes == {"retention_class": ("B", "V"), "destroy_after": ("permanent", "2036-10-31")}
    assert freed.extend_lock == D(2036, 10, 31) and not freed.legal_hold
    assert "legal hold stays on" in freed.note
    # an old object whose new date has passed gets no lock (S3 takes none in the past)
    old = d.retag(KEY, V13, Category("V", 10), [D(2012, 10, 5)], lock_until=None, legal_hold=False,
                  bucket_locked=True, today=today)
    assert old.changes == {"destroy_after": ("2017-10-31", "2022-10-31")} and old.extend_lock is None
    # without Object Lock: tags only
    nolock = d.retag(KEY, tags, Category("V", 10), created, lock_until=None, legal_hold=False, bucket_locked=False,
                     today=today)
    assert nolock.extend_lock is None and nolock.tags["destroy_after"] == "2036-10-31"


def test_retag_leaves_hotspots_and_unknown_categories_alone():
    hot = {**V13, "hotspot": "true", "retention_class": "B", "destroy_after": "permanent"}
    r = d.retag(KEY, hot, Category("V", 1), [D(2012, 1, 1)], lock_until=None, legal_hold=True, bucket_locked=True,
                today=D(2026, 12, 6))
    assert (r.changes, r.tags, r.extend_lock, r.legal_hold) == ({}, None, None, False)
    gone = d.retag(KEY, V13, None, [D(2012, 1, 1)], lock_until=None, legal_hold=False, bucket_locked=True,
                   today=D(2026, 12, 6))
    assert gone.changes == {} and gone.note == "category '1.3' is not in the selectielijst: tags left as they are"


# -- the catalog's side: tombstones and retention changed after the fact (SQLite file) ---------
def test_destroyed_records_leave_search_and_leave_tombstones(tmp_path):
    with filled_catalog(tmp_path, "sqlite:///catalog.sqlite") as c:
        check_tombstones(c)
        # the text index still matches its table (FTS5 raises on a mismatch)
        c.db.execute("INSERT INTO entries_text (entries_text, rank) VALUES ('integrity-check', 1)")


def test_set_retention_gives_each_record_its_own_date(tmp_path):
    with filled_catalog(tmp_path, "sqlite:///catalog.sqlite") as c:
        check_set_retention(c)


def check_tombstones(c):
    """Also run on PostgreSQL (tests/integration/test_duties_retention.py)."""
    assert search_ids(c, Query("2027")) == []                  # the edit is the latest version of x:1
    # objects of tests/catalog_cases: one record each, named by offset
    assert c.mark_destroyed("archive/test/00003.avro", "VL-1", "2026-12-06T10:00:00+00:00") == 1
    assert search_ids(c, Query("2027")) == ["x:1"]             # the original is the latest again
    assert search_ids(c, Query("afvalstoffenheffing", version="all")) == ["x:1"]
    c.mark_destroyed("archive/test/00001.avro", "VL-1", "2026-12-06T10:00:00+00:00")
    c.mark_destroyed("archive/test/00006.avro", "VL-1", "2026-12-06T10:00:00+00:00")
    assert search_ids(c, Query("belasting", version="all")) == []
    assert c.get("x:2") is None
    assert c.destroyed("x:2") == [
        {"event_id": "x:2", "record_version": 1, "object_key": "archive/test/00001.avro", "list_id": "VL-1",
         "destroyed_at": "2026-12-06T10:00:00+00:00", "category": "1.3"},
        {"event_id": "x:2", "record_version": 2, "object_key": "archive/test/00006.avro", "list_id": "VL-1",
         "destroyed_at": "2026-12-06T10:00:00+00:00", "category": "1.3"}]
    assert c.destroyed(EDIT_ID)[0]["list_id"] == "VL-1"
    # again: nothing changes; records the index never had get a tombstone too
    before = c.dump()
    c.mark_destroyed("archive/test/00003.avro", "VL-1", "2026-12-06T11:00:00+00:00")
    assert c.dump() == before and c.destroyed(EDIT_ID)[0]["destroyed_at"] == "2026-12-06T10:00:00+00:00"
    c.mark_destroyed("archive/gone.avro", "VL-2", "2026-12-07T00:00:00+00:00", [("x:77", 1)], category="1.2")
    assert c.destroyed("x:77")[0]["category"] == "1.2" and c.destroyed_count() == 4
    assert c.destroyed_count("VL-1") == 3


def check_set_retention(c):
    c.mark_destroyed("archive/test/00003.avro", "VL-1", "2026-12-06T10:00:00+00:00")
    assert c.set_retention("archive/test/00000.avro", retention_class="B", category="1.6", hotspot="storm",
                           years=None) == 1
    assert search_ids(c, Query(retention="B")) == ["mastodon:4:delete", "x:1"]
    e = c.get("x:1")
    assert (e.retention_class, e.category, e.hotspot, e.destroy_after) == ("B", "1.6", "storm", None)
    c.set_retention("archive/test/00001.avro", retention_class="V", category="1.3", hotspot=None, years=3)
    assert c.get("x:2", 1).destroy_after == "2029-03-02"           # created 2026-03-02 09:05 UTC, + 3 years
