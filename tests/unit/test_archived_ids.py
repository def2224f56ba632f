"""Which parts of a day's archived-ids index a writer reads: hand-written key lists."""
from __future__ import annotations

import datetime as dt

from archiefstroom.core import archived_ids as ix

DAY = dt.date(2026, 10, 3)
P = "_ids/raw/00002/2026-10-03/"


def test_keys_are_per_partition_and_creation_day():
    assert ix.delta_key("raw", 2, DAY, 10, 19) == P + "00000000000000000010-00000000000000000019.json"
    assert ix.delta_key("raw", 2, DAY, 7, 7, late="0a1b2c") == P + "00000000000000000007-00000000000000000007.late-0a1b2c.json"
    assert ix.snapshot_key("raw", 2, DAY, 19) == P + "snapshot-00000000000000000019.json"


def test_only_committed_batches_count_and_late_writes_always_do():
    keys = [P + "00000000000000000000-00000000000000000009.json",
            P + "00000000000000000010-00000000000000000019.json",
            P + "00000000000000000020-00000000000000000029.json",      # the crashed run's last batch
            P + "00000000000000000004-00000000000000000004.late-0a1b2c.json"]
    assert ix.deltas_to_read(keys, 20) == [keys[0], keys[3], keys[1]]
    assert ix.deltas_to_read(keys, None) == [keys[3]]            # nothing committed yet


def test_a_snapshot_covers_batches_up_to_its_offset_and_the_late_writes_it_names():
    keys = [P + "00000000000000000000-00000000000000000009.json",
            P + "00000000000000000010-00000000000000000019.json",
            P + "00000000000000000020-00000000000000000029.json",
            P + "00000000000000000004-00000000000000000004.late-0a1b2c.json",
            P + "00000000000000000012-00000000000000000012.late-0a1b2c.json",
            P + "snapshot-00000000000000000009.json",
            P + "snapshot-00000000000000000019.json"]
    assert ix.newest_snapshot(keys) == P + "snapshot-00000000000000000019.json"
    got = ix.deltas_to_read(keys, 30, through=19, late_in_snapshot={keys[3]})
    assert got == [keys[4], keys[2]]


def test_the_creation_day_is_the_utc_date():
    late_evening = dt.datetime(2026, 10, 3, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert ix.day_of({"event": {"created_at": late_evening}}) == dt.date(2026, 10, 4)


def test_through_is_the_last_normal_batch():
    assert ix.through_of([P + "00000000000000000010-00000000000000000019.json",
                          P + "00000000000000000030-00000000000000000030.late-0a1b2c.json"]) == 19
