"""The archived-ids index on the real S3 server: a writer reads only the committed deltas
of a day, and compacts many deltas into a snapshot that a later writer reads instead."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from kafka import TopicPartition

from archiefstroom.archive.writer import TopicWriter
from archiefstroom.core import archived_ids as ix
from archiefstroom.ground import kafka as kafka_clients

from .spine_helpers import all_keys

pytestmark = pytest.mark.integration
DAY = dt.date(2026, 10, 3)


def test_a_day_loads_committed_deltas_and_many_are_compacted_into_a_snapshot(make_cfg):
    cfg = make_cfg()
    topic, partition = cfg.topics.raw, 1
    first = TopicWriter(cfg, topic)
    # 70 committed batches of one id each (offsets 0..69), one late write, one uncommitted batch
    for off in range(70):
        first.store.s3.put(ix.delta_key(topic, partition, DAY, off, off), json.dumps({"ids": [[f"x:{off}", 1]]}).encode())
    first.store.s3.put(ix.delta_key(topic, partition, DAY, 5, 5, late="0a1b2c"), json.dumps({"ids": [["x:late", 1]]}).encode())
    first.store.s3.put(ix.delta_key(topic, partition, DAY, 70, 79), json.dumps({"ids": [["x:redone", 1]]}).encode())
    kafka_clients.commit(first.committer, {TopicPartition(topic, partition): 70})

    expected = {(f"x:{o}", 1) for o in range(70)} | {("x:late", 1)}
    assert first.seen.of(partition, DAY, first.partition(partition).committed()) == expected
    snapshots = [k for k in all_keys(cfg, ix.PREFIX + "/") if "snapshot-" in k]
    assert snapshots == [ix.snapshot_key(topic, partition, DAY, 69)]
    assert first.seen.of(partition, DAY + dt.timedelta(days=1), 70) == set()   # another day: nothing

    # a new delta after the snapshot; a fresh writer reads the snapshot and that delta only
    first.store.s3.put(ix.delta_key(topic, partition, DAY, 70, 79), json.dumps({"ids": [["x:70", 1]]}).encode())
    kafka_clients.commit(first.committer, {TopicPartition(topic, partition): 80})
    second = TopicWriter(cfg, topic)
    keys = [o["Key"] for o in second.store.s3.list(ix.day_prefix(topic, partition, DAY))]
    body = json.loads(second.store.s3.get(ix.newest_snapshot(keys)))
    assert ix.deltas_to_read(keys, 80, through=body["through"], late_in_snapshot=set(body["late"])) == [
        ix.delta_key(topic, partition, DAY, 70, 79)]
    assert second.seen.of(partition, DAY, second.partition(partition).committed()) == expected | {("x:70", 1)}
    first.close()
    second.close()
