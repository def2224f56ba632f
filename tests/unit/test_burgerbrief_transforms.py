"""DetectBurgerbrief / PublishAlerts / ApplyWebcareFeedback on the DirectRunner (no Kafka, no S3)."""
from __future__ import annotations

import datetime as dt
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from archiefstroom import schemas
from archiefstroom.core.burgerbrief import alerts
from archiefstroom.core.validation import parse_event
from archiefstroom.ground import config, registries
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.samples.generator import BURGERBRIEF, OPINION, generate
from archiefstroom.transforms import burgerbrief as bb
from archiefstroom.transforms.kafka_source import KafkaRecord
from tests.conftest import pipeline_options

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)
OUT: dict[str, list] = {}
REG = registries.load_for(config.Config())          # the shipped registries (deploy/registry)
GOVERNMENT = bb.government_authors(config.Config().burgerbrief, REG)


def store(x, name):
    """Top-level (pickled by reference), so the in-process DirectRunner appends to this module's OUT."""
    OUT.setdefault(name, []).append(x)


def sample_records(n=400):
    out = []
    for i, raw in enumerate(generate()[:n]):
        try:
            ev = parse_event(raw, max_bytes=1_000_000)
        except Exception:
            continue
        out.append({"event": ev, "source": {"topic": "raw", "partition": 0, "offset": i}, "archived_at": T0,
                    "pipeline_version": "test"})
    return out


@pytest.fixture(autouse=True)
def _clear():
    OUT.clear()


def _check_detection(records):
    recs, al = OUT["records"], OUT.get("alerts", [])
    assert len(recs) == len(records)                                 # nothing lost, nothing added
    government = bb.government_authors(config.Config().burgerbrief, REG)
    by_id = {r["event"]["event_id"]: r for r in recs}
    reactions = [r for r in records if alerts.is_reaction(r["event"], government)]
    assert reactions
    for r in records:
        out = by_id[r["event"]["event_id"]]
        assert (out.get("burgerbrief") is not None) == (r in reactions)
    flagged = {r["event"]["event_id"] for r in recs if r.get("burgerbrief") and alerts.should_alert(r["burgerbrief"])}
    decoded = [alerts.decode(v, alerts.ALERT_SCHEMA) for _, v in al]
    assert {a["event_id"] for a in decoded} == flagged and len(decoded) == len(flagged)
    for key, a in zip((k for k, _ in al), decoded):
        assert key == a["thread_key"].encode()
        assert a["text"] == by_id[a["event_id"]]["event"]["text"]
    # the sample's burgerbrief templates are mostly found, its opinions mostly not
    fixed_bb = [t.split("{")[0][:25] for t in BURGERBRIEF]
    hits = [r for r in reactions if any(r["event"]["text"].startswith(p) for p in fixed_bb if len(p) > 12)]
    assert hits and sum(by_id[r["event"]["event_id"]]["burgerbrief"]["label"] for r in hits) >= 0.8 * len(hits)
    opinions = [r for r in reactions if r["event"]["text"] in OPINION]
    assert sum(by_id[r["event"]["event_id"]]["burgerbrief"]["label"] for r in opinions) <= 0.2 * max(1, len(opinions))


def test_detect_batch():
    records = sample_records()
    cfg = config.Config()
    cfg.burgerbrief.batch_size = 16                                   # flushes inside the bundle too
    with beam.Pipeline(options=pipeline_options()) as p:
        out = p | beam.Create(records) | bb.DetectBurgerbrief(cfg, GOVERNMENT)
        out.records | "R" >> beam.Map(store, "records")
        out.alerts | "A" >> beam.Map(store, "alerts")
    _check_detection(records)


def test_detect_streaming_keeps_timestamps():
    records = sample_records(150)
    stream = TestStream()
    for chunk in (records[:50], records[50:100], records[100:]):   # three bundles
        stream = stream.add_elements([TimestampedValue(r, Timestamp.from_utc_datetime(r["event"]["created_at"]))
                                      for r in chunk])
    stream = stream.advance_watermark_to_infinity()
    with beam.Pipeline(options=pipeline_options(streaming=True)) as p:
        out = p | stream | bb.DetectBurgerbrief(config.Config(), GOVERNMENT)
        (out.records | "R" >> beam.Map(lambda r, t=beam.DoFn.TimestampParam:
                                       (r["event"]["event_id"], t.micros // 1000, r["event"]["created_at"]))
         | "RC" >> beam.Map(store, "stamps"))
        out.records | "R2" >> beam.Map(store, "records")
        out.alerts | "A" >> beam.Map(store, "alerts")
    for _, millis, created in OUT["stamps"]:
        assert millis == int(created.timestamp() * 1000)
    _check_detection(records)


def test_disabled_passes_everything_unscored():
    records = sample_records(100)
    cfg = config.Config()
    cfg.burgerbrief.enabled = False
    with beam.Pipeline(options=pipeline_options()) as p:
        out = p | beam.Create(records) | bb.DetectBurgerbrief(cfg, GOVERNMENT)
        out.records | "R" >> beam.Map(store, "records")
        out.alerts | "A" >> beam.Map(store, "alerts")
    assert len(OUT["records"]) == len(records) and not OUT.get("alerts")
    assert all(r.get("burgerbrief") is None for r in OUT["records"])


class _Future:
    def get(self, timeout=None):
        return None


class FakeProducer:
    sent: list = []
    flushes = 0

    def send(self, topic, key=None, value=None):
        FakeProducer.sent.append((topic, key, value))
        return _Future()

    def flush(self):
        FakeProducer.flushes += 1

    def close(self):
        pass


def test_publish_alerts_keyed_and_flushed(monkeypatch):
    monkeypatch.setattr(kafka_clients, "producer", lambda settings, **kw: FakeProducer())
    FakeProducer.sent, FakeProducer.flushes = [], 0
    cfg = config.Config()
    items = [(b"x:1", b"a"), (b"x:1", b"b"), (b"x:2", b"c")]
    with beam.Pipeline(options=pipeline_options()) as p:
        p | beam.Create(items) | bb.PublishAlerts(cfg)
    assert sorted(FakeProducer.sent) == sorted((cfg.burgerbrief.alert_topic, k, v) for k, v in items)
    assert FakeProducer.flushes >= 1


ARCHIVED = {}


def fake_lookup(event_id):
    return [{"kind": "archived", "record": r} for r in ARCHIVED.get(event_id, [])]


def _archived_reaction():
    rec = next(r for r in sample_records() if alerts.is_reaction(r["event"]))
    rec = {**rec, "retention": {"retention_class": "V", "category": "1.3", "destroy_after": dt.date(2031, 10, 1),
                                "account_type": "corporate", "hotspot": None}, "record_version": 1,
           "decision": None, "pseudonymisation": None,
           "burgerbrief": {"label": True, "score": 0.9, "category": "vraag", "reasons": [], "urgent": False,
                           "model_version": "m", "verdict": None}}
    return rec


def _feedback(event_id, decision, offset, fmt="avro"):
    fb = alerts.feedback_datum(event_id, decision, "anna", T0)
    return KafkaRecord("fb", 0, offset, int(T0.timestamp() * 1000), event_id.encode(),
                       alerts.encode(fb, alerts.FEEDBACK_SCHEMA, fmt))


@pytest.mark.parametrize("keep", [True, False])
def test_apply_feedback(keep):
    rec = _archived_reaction()
    eid = rec["event"]["event_id"]
    ARCHIVED.clear()
    ARCHIVED[eid] = [rec]
    cfg = config.Config()
    cfg.burgerbrief.keep_in_social_archive = keep
    msgs = [_feedback(eid, "burgerbrief", 0), _feedback("x:unknown", "burgerbrief", 1, "json"),
            KafkaRecord("fb", 0, 2, 0, None, b"\x00garbage"), _feedback(eid, "geen_burgerbrief", 3, "json")]
    with beam.Pipeline(options=pipeline_options()) as p:
        out = p | beam.Create(msgs) | bb.ApplyWebcareFeedback(cfg, fake_lookup, REG)
        out.records | "R" >> beam.Map(store, "records")
        out.dispositions | "D" >> beam.Map(store, "dispositions")
    recs = sorted(OUT.get("records", []), key=lambda r: r["source"]["offset"])
    disp = sorted(OUT["dispositions"], key=lambda d: d.position.offset)
    assert [(d.position.offset, d.kind) for d in disp] == (
        ([(0, "handover")] if not keep else []) + [(1, "dead_letter"), (2, "dead_letter")])
    handed = []
    if not keep:   # the handed-over version travels as the payload for the handover topic
        handed = [schemas.from_wire(json.loads(disp[0].payload), "archive_record")]
        assert handed[0]["burgerbrief"]["verdict"]["decision"] == "burgerbrief" and handed[0]["record_version"] == 2
    assert all("anna" not in d.reason for d in disp)
    confirmed = [r for r in recs if r["burgerbrief"]["verdict"]["decision"] == "burgerbrief"]
    rejected = [r for r in recs if r["burgerbrief"]["verdict"]["decision"] == "geen_burgerbrief"]
    assert len(confirmed) == (1 if keep else 0) and len(rejected) == 1
    assert [r["retention"]["category"] for r in confirmed + handed] == ["1.5"]
    # the stage remembers what it produced: two verdicts before the sink wrote either get versions 2 and 3
    produced = {(r["source"]["offset"], r["record_version"]) for r in recs + handed}
    assert sorted(v for _, v in produced) == [2, 3]
    assert all(r["source"]["topic"] == "fb" for r in recs)
    assert rejected[0]["retention"]["category"] != "1.5"


def test_unknown_selectielijst_category_is_a_config_error(tmp_path):
    cfg = config.Config()
    cfg.burgerbrief.selectielijst_category = "9.9"
    with pytest.raises(Exception) as info:
        with beam.Pipeline(options=pipeline_options()) as p:
            p | beam.Create([_feedback("x:1", "burgerbrief", 0)]) | bb.ApplyWebcareFeedback(cfg, fake_lookup, REG)
    assert "selectielijst_category" in str(info.value)
