"""Burgerbrief detection in the pipeline, alerts to webcare, and webcare's verdicts back onto the archive.

Wiring (pipelines/archive.py), after the rules and BEFORE pseudonymisation (the classifier needs clear text):

    bb = ruled.records | "Burgerbrief" >> DetectBurgerbrief(cfg, government_authors(cfg.burgerbrief, registry))
    bb.alerts | "PublishAlerts" >> PublishAlerts(cfg)        # straight to Kafka, not via the sink's batches
    bb.records | "Pseudonymise" >> ...

and a second branch for the feedback topic:

    fb = p | ReadFromKafka(cfg.kafka, cfg.burgerbrief.feedback_topic)
    applied = fb.records | "WebcareFeedback" >> ApplyWebcareFeedback(cfg, EventLookup(cfg), registry)
    (applied.records, applied.dispositions, fb.ticks) | Flatten() | WriteArchive(cfg, feedback_topic)
"""
from __future__ import annotations

import datetime as dt
import logging
import typing

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.windowed_value import WindowedValue

from archiefstroom import __version__, schemas
from archiefstroom.core.burgerbrief import alerts as alerts_core
from archiefstroom.core.burgerbrief.classifier import Classifier
from archiefstroom.core.envelope import Disposition, Position
from archiefstroom.core.rules.engine import retention_for
from archiefstroom.core.rules.registry import government_ids
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.settings import ConfigError
from archiefstroom.transforms import metrics, resources

log = logging.getLogger(__name__)

RECORDS, ALERTS = "records", "alerts"
DISPOSITIONS = "dispositions"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def government_authors(settings, registry) -> frozenset[str]:
    """Lower-cased ids/handles never scored: the settings' own plus the registry's government accounts."""
    return frozenset({a.lower().lstrip("@") for a in settings.government_authors} | government_ids(registry))


def classifier(settings):
    """The process's classifier for these settings (built once, shared by every DoFn)."""
    s = settings
    return resources.shared(("burgerbrief.classifier", str(s.model_path), s.threshold, s.base_rate),
                            lambda: Classifier(model_path=s.model_path, threshold=s.threshold, base_rate=s.base_rate),
                            long_lived=True)


class _Detect(beam.DoFn):
    """Buffers a bundle and classifies it in one nlp.pipe pass; flushes at `batch_size` and at bundle end,
    so latency is bounded by the bundle, never by the sink's batching."""

    def __init__(self, cfg, government: frozenset[str]):
        self.cfg, self.government = cfg, government
        self.settings = cfg.burgerbrief

    def setup(self):
        self.classifier = classifier(self.settings)
        self.scored = metrics.counter("burgerbrief_scored")
        self.flagged = metrics.counter("burgerbrief_alerts")
        self.failed = metrics.counter("burgerbrief_failed")

    def start_bundle(self):
        self.buffer: list[tuple[dict, object, object]] = []

    def process(self, record, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        if not self.settings.enabled or not alerts_core.is_reaction(record["event"], self.government):
            yield record
            return
        self.buffer.append((record, timestamp, window))
        if len(self.buffer) >= self.settings.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self):
        items, self.buffer = self.buffer, []
        if not items:
            return
        try:
            results = self.classifier.classify_batch(
                [r["event"]["text"] for r, _, _ in items],
                [(r.get("decision") or {}).get("organisation") or r["event"]["account"].get("display_name")
                 for r, _, _ in items])
        except Exception as exc:  # detection must never stop archiving: records pass on unscored
            self.failed.inc(len(items))
            log.error("burgerbrief: classifier failed on a batch of %d (%s)", len(items), type(exc).__name__)
            for record, ts, win in items:
                yield WindowedValue(record, ts, [win])
            return
        detected = _now()
        self.scored.inc(len(items))
        for (record, ts, win), res in zip(items, results):
            bb = res.datum()
            out = {**record, "burgerbrief": bb}
            yield WindowedValue(out, ts, [win])
            if alerts_core.should_alert(bb):
                self.flagged.inc()
                if isinstance(record.get("archived_at"), dt.datetime):   # raw topic append -> detection
                    metrics.observe(metrics.ALERT_LATENCY, (detected - record["archived_at"]).total_seconds())
                alert = alerts_core.alert_datum(out, bb, detected)
                key = alert["thread_key"].encode("utf-8")
                value = alerts_core.encode(alert, alerts_core.ALERT_SCHEMA, self.settings.alert_format)
                yield beam.pvalue.TaggedOutput(ALERTS, WindowedValue((key, value), ts, [win]))


class DetectBurgerbrief(beam.PTransform):
    """Outputs `records` (reactions get `burgerbrief` filled; other records unchanged) and
    `alerts` ((thread key bytes, alert value bytes) per schemas/burgerbrief_alert.avsc).
    `government`: ids/handles never scored (`government_authors`)."""

    def __init__(self, cfg, government: frozenset[str]):
        super().__init__()
        self.cfg, self.government = cfg, government

    def expand(self, records):
        return records | beam.ParDo(_Detect(self.cfg, self.government)).with_outputs(ALERTS, main=RECORDS)


class _Publish(beam.DoFn):
    def __init__(self, cfg):
        self.cfg = cfg

    def setup(self):
        self.producer = resources.shared(("kafka.producer.alerts", tuple(self.cfg.kafka.bootstrap_servers)),
                                         lambda: kafka_clients.producer(self.cfg.kafka, linger_ms=0))
        self.topic = self.cfg.burgerbrief.alert_topic
        self.sent = metrics.counter("burgerbrief_alerts_published")
        self.pending = []

    def process(self, item):
        key, value = item
        self.pending.append(self.producer.send(self.topic, key=key, value=value))
        yield key

    def finish_bundle(self):
        if self.pending:
            self.producer.flush()
            for fut in self.pending:
                fut.get(timeout=30)  # fail the bundle (and retry it) if the broker did not take an alert
            self.sent.inc(len(self.pending))
            self.pending = []


class PublishAlerts(beam.PTransform):
    """Produce alerts to the alert topic, keyed by thread (one partition per thread: in order);
    flushed at the end of every bundle. Output: the keys sent (for counting/tests)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg

    def expand(self, alerts):
        return alerts | beam.ParDo(_Publish(self.cfg))


class _DecodeFeedback(beam.DoFn):
    """Kafka record -> (event id, feedback with its position), or a dead letter."""

    def process(self, rec):
        pos = Position(rec.topic, rec.partition, rec.offset)
        try:
            fb = alerts_core.decode(rec.value or b"", alerts_core.FEEDBACK_SCHEMA)
        except Exception:
            yield beam.pvalue.TaggedOutput(DISPOSITIONS, Disposition(
                pos, "dead_letter", "feedback is not a webcare_feedback datum", payload=rec.value,
                detail={"code": "bad_feedback"}))
            return
        yield fb["event_id"], (pos, rec.timestamp_ms, fb, rec.value)


class _ApplyFeedback(beam.DoFn):
    """Keyed by event id. State keeps the versions this stage produced, so a second verdict that
    arrives before the sink has written the first builds on it (record_version keeps counting)."""

    PRODUCED = ReadModifyWriteStateSpec("produced", PickleCoder())
    KEEP = 3

    def __init__(self, cfg, lookup, registry):
        self.cfg, self._lookup, self.registry = cfg, lookup, registry

    def setup(self):
        self.applied = metrics.counter("webcare_verdicts_applied")

    def _rechoose(self, record):
        return retention_for(self.registry, record, burgerbrief=None)

    def process(self, element, produced=beam.DoFn.StateParam(PRODUCED)):
        event_id, (pos, timestamp_ms, fb, raw) = element
        found = self._lookup(event_id)
        versions = {(r.get("record_version") or 1): r for r in (f["record"] for f in found if f.get("kind") == "archived")}
        for r in produced.read() or []:
            versions.setdefault(r.get("record_version") or 1, r)
        if not versions:
            yield beam.pvalue.TaggedOutput(DISPOSITIONS, Disposition(
                pos, "dead_letter", "feedback for an event id with no archived version in the catalog (not archived, "
                "or the catalog is behind: replay this dead letter once `catalog status` shows no lag)",
                event_id=event_id, payload=raw, detail={"code": "unknown_event"}))
            return
        s = self.cfg.burgerbrief
        new = alerts_core.apply_verdict(
            list(versions.values()), fb, burgerbrief_category=s.selectielijst_category,
            selectielijst=self.registry.selectielijst, source=pos.datum(),
            archived_at=dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.timezone.utc),
            pipeline_version=__version__, rechoose=self._rechoose)
        produced.write(sorted([*(produced.read() or []), new], key=lambda r: r["record_version"])[-self.KEEP:])
        self.applied.inc()
        if fb["decision"] == "burgerbrief" and not s.keep_in_social_archive:
            # the new version leaves the social-media archive, but not the system: the sink puts it
            # (archive_record JSON) on the handover topic before it commits the feedback offset
            yield beam.pvalue.TaggedOutput(DISPOSITIONS, Disposition(
                pos, "handover", "confirmed burgerbrief handed over to the burgerbrief procedure",
                event_id=event_id, payload=schemas.dumps(new, "archive_record"),
                detail={"code": "burgerbrief_handover", "record_version": new["record_version"]}))
            return
        yield new


class _Outputs(dict):
    """Named outputs, readable as out["records"] or out.records (like a ParDo's outputs)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class ApplyWebcareFeedback(beam.PTransform):
    """Feedback-topic Kafka records in. Outputs: `records` (a new version of each archive record,
    record_version + 1, with burgerbrief.verdict and, when confirmed, the burgerbrief retention
    category; its `source` is the feedback message's position, so the sink commits the feedback
    topic; verdicts are keyed by event id and the stage remembers what it produced, so quick
    successive verdicts get successive versions), `dispositions` (undecodable feedback or unknown event id: dead letter; confirmed and
    `keep_in_social_archive: false`: kind "handover", the new version as payload for the handover
    topic: the one handover path). `lookup(event_id)`: what the archive holds of an event
    (archiefstroom.catalog.read.CatalogLookup: the catalog, then the objects it names); `registry`: the rules' registries (selectielijst,
    and re-choosing a retention when a burgerbrief is denied)."""

    def __init__(self, cfg, lookup, registry):
        super().__init__()
        self.cfg, self.lookup, self.registry = cfg, lookup, registry
        categories = registry.selectielijst.categories
        if cfg.burgerbrief.selectielijst_category not in categories:   # start-up validation
            raise ConfigError(cfg.source_file or "<config>", None, "burgerbrief.selectielijst_category",
                              "a category defined in the selectielijst (" + ", ".join(categories) + ")",
                              cfg.burgerbrief.selectielijst_category)

    def expand(self, feedback):
        decoded = feedback | "Decode" >> beam.ParDo(_DecodeFeedback()).with_output_types(
            typing.Tuple[str, typing.Any]).with_outputs(DISPOSITIONS, main="ok")
        applied = (decoded.ok
                   | "Apply" >> beam.ParDo(_ApplyFeedback(self.cfg, self.lookup, self.registry))
                   .with_input_types(typing.Tuple[str, typing.Any]).with_outputs(DISPOSITIONS, main=RECORDS))
        dispositions = ((decoded[DISPOSITIONS], applied[DISPOSITIONS])
                        | "AllFeedbackDispositions" >> beam.Flatten())
        return _Outputs({RECORDS: applied[RECORDS], DISPOSITIONS: dispositions})
