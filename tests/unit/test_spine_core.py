"""Unit tests of the spine's pure pieces: configuration, schemas, validation, batching, layout."""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import avro.datafile
import avro.io
import fastavro
import pytest

from archiefstroom import schemas
from archiefstroom.archive import format as archive_format
from archiefstroom.core import batching, layout
from archiefstroom.core.envelope import Disposition, Position
from archiefstroom.core.validation import InvalidEvent, parse_event
from archiefstroom.ground import config
from archiefstroom.ground.settings import ConfigError
from archiefstroom.samples.generator import generate, generate_with_personal, malformed

ROOT = Path(__file__).resolve().parents[2]


# -- configuration --------------------------------------------------------------

def write(tmp_path, text: str) -> Path:
    p = tmp_path / "archiefstroom.yaml"
    p.write_text(text)
    return p


def test_shipped_configurations_load():
    for name in ("archiefstroom.yaml", "archiefstroom.example.yaml"):
        cfg = config.load(ROOT / "deploy" / name)
        assert cfg.topics.raw and cfg.rules.accounts and cfg.burgerbrief.alert_topic


@pytest.mark.parametrize("text, field, expected", [
    ("pipeline:\n  batch_max_seconds: 0\n", "pipeline.batch_max_seconds", "seconds between"),
    ("kafka:\n  bootstrap_servers: [localhost]\n", "kafka.bootstrap_servers", "host:port"),
    ("s3:\n  bucket: Not_A_Bucket\n", "s3.bucket", "bucket name"),
    ("topics:\n  partitions: many\n", "topics.partitions", "an integer"),
    ("pipeline:\n  codec: zip\n", "pipeline.codec", "one of"),
    ("pipline:\n  runner: local\n", "pipline", "a known field"),
    ("retention:\n  default_category: '9.9'\n", "retention.default_category", "category code"),
    ("kafka:\n  security_protocol: SASL_SSL\n", "kafka.sasl_mechanism", "mechanism"),
])
def test_a_wrong_value_names_file_line_field_and_expectation(tmp_path, text, field, expected):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert str(p) in msg and f"'{field}'" in msg and expected in msg
    assert err.value.line is not None


def test_broken_yaml_and_missing_file_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="valid YAML"):
        config.load(write(tmp_path, "kafka: [\n"))
    with pytest.raises(ConfigError, match="existing YAML file"):
        config.load(tmp_path / "nope.yaml")


def test_secrets_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIEFSTROOM_S3_SECRET_ACCESS_KEY", "from-env")
    cfg = config.load(write(tmp_path, "s3:\n  secret_access_key: in-file\n"))
    assert cfg.s3.secret_access_key == "from-env"


# -- schemas ---------------------------------------------------------------------

def _record(raw: bytes, offset: int = 0) -> dict:
    ev = parse_event(raw, max_bytes=1_000_000)
    return {"event": ev, "source": {"topic": "raw", "partition": 0, "offset": offset},
            "retention": {"retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 10, 1),
                          "account_type": "corporate", "hotspot": None},
            "archived_at": ev["captured_at"], "pipeline_version": "test"}


def test_wire_form_round_trips_through_the_schema():
    for raw in generate(3, threads_per_account=1)[:50]:
        doc = json.loads(raw)
        datum = schemas.from_wire(doc, "social_event")
        assert json.loads(json.dumps(schemas.to_wire(datum, "social_event"))) == \
            json.loads(json.dumps(schemas.to_wire(schemas.from_wire(schemas.to_wire(datum, "social_event"),
                                                                    "social_event"), "social_event")))


def test_data_written_with_schema_v1_is_read_with_the_current_schema():
    rec = _record(generate(3, threads_per_account=1)[0])
    (read,) = _written_with("archive_record.v1.avsc", rec)
    assert read["event"]["event_id"] == rec["event"]["event_id"]
    assert read["record_version"] == 1 and read["decision"] is None and read["burgerbrief"] is None


def test_data_written_with_schema_v2_is_read_with_the_current_schema():
    rec = _record(generate(3, threads_per_account=1)[0])
    rec["decision"] = {"rules": [], "flags": ["version"], "supersedes": "x:1", "context": []}
    (read,) = _written_with("archive_record.v2.avsc", rec)
    assert read["decision"]["supersedes"] == "x:1"
    assert read["decision"]["original"] is None and read["decision"]["version"] is None


def test_data_written_with_schema_v3_is_read_with_the_current_schema():
    rec = _record(generate(3, threads_per_account=1)[0])
    rec["decision"] = {"rules": [], "flags": [], "supersedes": None, "context": [], "original": "x:1", "version": 2}
    (read,) = _written_with("archive_record.v3.avsc", rec)
    assert read["decision"]["version"] == 2 and read["media_files"] == []


def _written_with(history_file: str, rec: dict) -> list[dict]:
    buf = io.BytesIO()
    fastavro.writer(buf, schemas.load_file(schemas.HISTORY_DIR / history_file), [rec])
    buf.seek(0)
    return list(fastavro.reader(buf, reader_schema=schemas.load("archive_record")))


def test_archive_files_carry_a_self_contained_schema_readable_by_the_reference_library():
    recs = [_record(r, i) for i, r in enumerate(generate(3, threads_per_account=1)[:20])]
    body = archive_format.encode(recs, "archive/x/key.avro")
    assert archive_format.encode(recs, "archive/x/key.avro") == body          # deterministic bytes: replays overwrite
    with avro.datafile.DataFileReader(io.BytesIO(body), avro.io.DatumReader()) as r:
        assert [x["event"]["event_id"] for x in r] == [x["event"]["event_id"] for x in recs]
    assert [x["event"]["event_id"] for x in archive_format.decode(body)] == [x["event"]["event_id"] for x in recs]


# -- validation ------------------------------------------------------------------

def test_every_kind_of_malformed_input_gets_its_own_reason():
    codes = []
    for raw in malformed(None):
        with pytest.raises(InvalidEvent) as err:
            parse_event(raw, max_bytes=1_000_000)
        codes.append(err.value.code)
        assert err.value.reason
    assert set(codes) >= {"not_json", "invalid_utf8", "not_object", "schema", "oversized", "empty"}


def test_a_valid_event_with_a_wrong_raw_hash_is_refused():
    doc = json.loads(generate(3, threads_per_account=1)[0])
    doc["raw"]["sha256"] = "0" * 64
    with pytest.raises(InvalidEvent) as err:
        parse_event(json.dumps(doc).encode(), max_bytes=1_000_000)
    assert err.value.code == "raw_hash"


# -- batching: the offset arithmetic behind "nothing lost, nothing duplicated" ---

def rec(offset: int) -> dict:
    return {"event": {"event_id": f"x:{offset}"}, "source": {"topic": "t", "partition": 0, "offset": offset}}


def test_a_batch_is_the_contiguous_run_from_the_next_offset():
    p = batching.plan([rec(o) for o in (5, 3, 4, 7)], 3, max_records=10)
    assert (p.start, p.end) == (3, 5) and [batching._offset(i) for i in p.rest] == [7]


def test_a_missing_offset_is_waited_for_unless_kafka_skipped_it():
    items = [rec(3), rec(5)]
    assert batching.plan(items, 3, max_records=10).end == 3
    assert batching.plan(items, 3, max_records=10, known_gaps=[(4, 4)]).end == 5
    assert batching.plan([rec(6)], 3, max_records=10).batch == []


def test_a_restart_ends_its_first_batch_where_the_crashed_run_did():
    items = [rec(o) for o in range(10, 20)]
    assert batching.plan(items, 10, max_records=100, boundary=14).end == 14
    assert batching.plan(items[:3], 10, max_records=100, boundary=14).batch == []   # wait for the rest


def test_already_committed_offsets_are_late_and_a_release_supersedes_its_hold_marker():
    held = Disposition(Position("t", 0, 4), "held", "R5: waits")
    p = batching.plan([rec(2), held, rec(4)], 3, max_records=10)
    assert [batching._offset(i) for i in p.late] == [2]
    assert p.batch == []  # offset 3 is still missing: nothing yet
    p = batching.plan([rec(3), held, rec(4)], 3, max_records=10)
    assert p.batch == [rec(3), rec(4)]


def test_max_records_bounds_a_batch():
    p = batching.plan([rec(o) for o in range(100)], 0, max_records=30)
    assert (p.start, p.end, len(p.rest)) == (0, 29, 70)


# -- layout ----------------------------------------------------------------------

def test_object_keys_are_deterministic_readable_and_parse_back():
    r = _record(generate(3, threads_per_account=1)[0], 7)
    key = layout.object_key("archive", layout.group_of(r), "archiefstroom.raw", 2, 7, 42)
    assert key == layout.object_key("archive", layout.group_of(r), "archiefstroom.raw", 2, 7, 42)
    parts = layout.parse_object_key(key)
    assert (parts["partition"], parts["start"], parts["end"]) == (2, 7, 42)
    assert r["retention"]["destroy_after"] == dt.date(2036, 10, 1)
    assert parts["retention"] == "V-1.2-2036-10-31" and parts["month"] == "2026-10"
    assert key == "archive/V-1.2-2036-10-31/2026/10/archiefstroom.raw+2+00000000000000000007-00000000000000000042.avro"
    tags = layout.object_tags(r, "2")
    assert tags == {"retention_class": "V", "selectielijst_category": "1.2", "destroy_after": "2036-10-31",
                    "hotspot": "false", "schema_version": "2"}


@pytest.mark.parametrize("day, end", [("2026-02-10", "2026-02-28"), ("2028-02-01", "2028-02-29"),
                                      ("2026-12-31", "2026-12-31"), ("2026-01-31", "2026-01-31"),
                                      ("2030-04-01", "2030-04-30")])
def test_objects_are_destroyed_in_monthly_lots_never_before_a_records_own_date(day, end):
    assert layout.month_end(dt.date.fromisoformat(day)) == dt.date.fromisoformat(end)


def test_reaction_ids_in_ledgers_do_not_name_the_person():
    token = lambda label, value: f"[{label}-{abs(hash(value)) % 1000:03d}]"  # noqa: E731
    assert layout.ledger_event_id("x:1:reaction:u123", token).startswith("x:1:reaction:[PERSOON-")
    assert layout.ledger_event_id("x:1", token) == "x:1"


# -- sample generator ------------------------------------------------------------

def test_the_sample_set_is_deterministic_and_knows_its_personal_values():
    a, pa = generate_with_personal(5, threads_per_account=2)
    b, pb = generate_with_personal(5, threads_per_account=2)
    assert a == b and pa == pb and len(pa) > 20
    assert generate(5, threads_per_account=2) == a
    types = {json.loads(x)["event_type"] for x in a[:-len(malformed(None))]}
    assert types >= {"post", "reply", "repost", "quote", "edit", "delete", "reaction", "direct_message"}


def test_a_late_write_never_takes_the_name_of_the_batch_that_committed_its_offsets():
    r = _record(generate(3, threads_per_account=1)[0], 7)
    group = layout.group_of(r)
    batch = layout.object_key("archive", group, "raw", 2, 0, 99)
    late = layout.object_key("archive", group, "raw", 2, 0, 99, late=layout.late_tag([0, 99]))
    assert late != batch and late.endswith(".late-" + layout.late_tag([99, 0]) + ".avro")
    assert layout.late_tag([0, 99]) != layout.late_tag([0, 50, 99])
    assert layout.parse_object_key(late)["end"] == 99


# -- when the sink writes (core.batching.PartitionState) ---------------------------

def _state(next_offset, offsets=(), now=0.0, **kw):
    st = batching.PartitionState(next=next_offset, **kw)
    for o in offsets:
        st.add(o, now)
    return st


def test_a_batch_is_due_by_size_or_age_once_the_next_offset_is_here():
    st = _state(10, [11, 12, 13])
    assert not st.ready() and not st.due(100.0, 3, 5.0)      # 10 is missing: wait, however old
    st.add(10, 1.0)
    assert st.ready() and st.due(0.5, 4, 5.0)                 # 4 records: size
    assert not _state(10, [10, 11]).due(4.9, 100, 5.0)        # neither size nor age
    assert _state(10, [10, 11]).due(5.0, 100, 5.0)            # age, from the oldest item
    assert _state(10, [11], gaps=[(10, 10)]).ready()          # Kafka skipped 10


def test_late_items_wait_for_the_next_rotation_not_for_the_next_offset():
    st = _state(10, [3, 7])
    assert st.late == 2 and st.ready()
    assert not st.due(1.0, 100, 5.0) and st.due(5.0, 100, 5.0)


def test_a_finished_partition_is_written_when_everything_up_to_its_end_is_buffered():
    st = _state(10, [10, 11, 13])
    st.finished_at(15)                                        # offsets 10..14
    assert not st.complete_to_drain() and not st.due(0.0, 100, 60.0)
    st.skipped([(12, 12)])
    assert not st.complete_to_drain()                         # 14 still on its way
    st.add(14, 0.0)
    assert st.complete_to_drain() and st.due(0.0, 100, 60.0)


def test_after_a_flush_the_state_keeps_only_what_is_still_buffered():
    st = _state(10, [10, 11, 13, 4])
    st.finished_at(14)
    st.skipped([(8, 9), (12, 12)])
    st.committed_through(11)
    assert st.next == 12 and st.gaps == [(12, 12)]
    st.kept([13], changed=True, now=7.0)
    assert (st.have, st.count, st.late, st.since, st.drain_to) == ({13}, 1, 0, 7.0, 14)
    st.committed_through(13)
    st.kept([], changed=True, now=8.0)
    assert (st.count, st.since, st.drain_to) == (0, None, None)   # finished: nothing to wait for
