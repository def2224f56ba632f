"""The archiving pipeline, read top to bottom like the design card:

  raw topic ─▶ ReadFromKafka ─▶ ValidateEvents ─▶ ApplyRules ─┬─ records ─▶ RecordStages ─┐
                    │                 │               │        └─ linked ──▶ RecordStages ─┤
                    │ ticks           │ dead letters  │ dropped/held                       │ tagged, quarantine
                    └─────────────────┴───────────────┴────────────────────────────────────┴──▶ WriteArchive
                                                                             (S3 + side topics + commit)
  RecordStages: DetectBurgerbrief (─▶ PublishAlerts) ─▶ Pseudonymise ─▶ TagRetention ─▶ KeepMedia
  feedback topic ─▶ ReadFromKafka ─▶ ApplyWebcareFeedback ─▶ WriteArchive (new record versions)
  rules.seal_threads (issue 17): tagged records and the rules' drops in threads ─▶ SealThreads
  (keyed by thread, a timer at the harvest window's close) ─▶ WriteArchive; seals ─▶ WriteSeals

Every stage sends what it does not archive to the sink as a Disposition, so the
sink sees every Kafka offset once and commits only what is accounted for.
Burgerbrief detection runs before pseudonymisation because webcare must answer
the citizen (the alert topic carries the original text, see docs/webcare.md);
nothing reaches the archive before pseudonymisation.
"""
from __future__ import annotations

import threading
import uuid

import apache_beam as beam

from archiefstroom.catalog.read import CatalogLookup
from archiefstroom.core.rules.registry import Registry, government_ids
from archiefstroom.ground.config import Config
from archiefstroom.transforms import burgerbrief, pseudonymise
from archiefstroom.transforms.archive_sink import WriteArchive, WriteSeals
from archiefstroom.transforms.burgerbrief import ApplyWebcareFeedback, DetectBurgerbrief, PublishAlerts
from archiefstroom.transforms.drain import DrainSignal
from archiefstroom.transforms.kafka_source import ReadFromKafka
from archiefstroom.transforms.media import KeepMedia
from archiefstroom.transforms.pseudonymise import Pseudonymise
from archiefstroom.transforms.retention import TagRetention
from archiefstroom.transforms.rules import NOTED, ApplyRules, SealThreads
from archiefstroom.transforms.validate import ValidateEvents


class ArchiveSocialMedia(beam.PTransform):
    """Raw platform events in, committed archive batches out."""

    def __init__(self, cfg: Config, registry: Registry, *, stop_at: dict[int, int] | None = None,
                 drain: DrainSignal | None = None):
        super().__init__()
        self.cfg, self.registry, self.stop_at, self.drain = cfg, registry, stop_at, drain

    def expand(self, pbegin):
        cfg = self.cfg
        raw = pbegin | "ReadRawTopic" >> ReadFromKafka(cfg.kafka, cfg.topics.raw, stop_at=self.stop_at,
                                                       poll_max_records=cfg.pipeline.poll_max_records,
                                                       event_time_slack_s=cfg.pipeline.event_time_slack_seconds,
                                                       drain=self.drain)
        checked = raw.records | "Validate" >> ValidateEvents(cfg.pipeline.max_event_bytes)
        sealing = cfg.rules.enabled and cfg.rules.seal_threads
        run = uuid.uuid4().hex if sealing and self.stop_at is not None else None   # a bounded run's id
        ruled = checked.valid | "ArchivingRules" >> ApplyRules(cfg, self.registry, drain=self.drain, bounded_run=run)
        outcomes = [checked.dead_letter, ruled["dispositions"], raw.ticks]
        final = [ruled[NOTED]] if sealing else []
        # the record stages once per archived output of the rules (see transforms/rules.py): the
        # common path stays fused from the read to the sink's shuffle; models are shared per process
        for prefix, records in (("", ruled["records"]), ("Linked", ruled["linked"])):
            tagged, quarantine = records | f"{prefix}RecordStages" >> RecordStages(cfg, self.registry)
            outcomes.append(quarantine)
            (final if sealing else outcomes).append(tagged)
        if sealing:   # issue 17: the final records pass their thread's harvest window on the way to the sink
            sealed = (tuple(final) | "ThreadRecords" >> beam.Flatten()
                      | "SealThreads" >> SealThreads(cfg, self.registry, drain=self.drain, run=run))
            outcomes.append(sealed["items"])
            sealed["seals"] | "WriteSeals" >> WriteSeals(cfg)
        return (tuple(outcomes)
                | "AllOutcomes" >> beam.Flatten()
                | "WriteArchive" >> WriteArchive(cfg, cfg.topics.raw))


class RecordStages(beam.PTransform):
    """Archived records in: burgerbrief detection (alerts published), pseudonymisation, retention
    tags, media kept beside them (issue 15). Out: a list of the PCollections the sink takes
    (tagged records, quarantine)."""

    def __init__(self, cfg: Config, registry: Registry):
        super().__init__()
        self.cfg = cfg
        self.government = burgerbrief.government_authors(cfg.burgerbrief, registry)
        self.public = government_ids(registry)

    def expand(self, records):
        cfg = self.cfg
        detected = records | "Burgerbrief" >> DetectBurgerbrief(cfg, self.government)
        detected.alerts | "PublishAlerts" >> PublishAlerts(cfg)
        private = detected.records | "Pseudonymise" >> Pseudonymise(cfg, self.public)
        tagged = private.records | "RetentionTags" >> TagRetention(cfg.retention)
        if cfg.media.enabled:   # after the tags: a file is stored under its record's retention group
            tagged = tagged | "KeepMedia" >> KeepMedia(cfg, self.government)
        return [tagged, private.quarantine]


class ApplyFeedback(beam.PTransform):
    """Webcare verdicts become new versions of archive records (their own offsets, own sink)."""

    def __init__(self, cfg: Config, registry: Registry, *, stop_at: dict[int, int] | None = None,
                 drain: DrainSignal | None = None):
        super().__init__()
        self.cfg, self.registry, self.stop_at, self.drain = cfg, registry, stop_at, drain

    def expand(self, pbegin):
        cfg = self.cfg
        topic = cfg.burgerbrief.feedback_topic
        feedback = pbegin | "ReadFeedbackTopic" >> ReadFromKafka(cfg.kafka, topic, stop_at=self.stop_at,
                                                                 poll_max_records=cfg.pipeline.poll_max_records,
                                                                 event_time_slack_s=cfg.pipeline.event_time_slack_seconds,
                                                                 drain=self.drain)
        applied = feedback.records | "Verdicts" >> ApplyWebcareFeedback(cfg, CatalogLookup(cfg), self.registry)
        return ((applied["records"], applied["dispositions"], feedback.ticks)
                | "FeedbackOutcomes" >> beam.Flatten()
                | "WriteVersions" >> WriteArchive(cfg, topic))


def prepare(cfg: Config, registry: Registry) -> None:
    """Build the models the stages share (classifier, pseudonymiser) in this process, side
    by side. When the SDK workers run in the launching process (LOOPBACK), calling this
    while the job server starts takes their loading off the first records' path."""
    jobs = []
    if cfg.burgerbrief.enabled:
        jobs.append(lambda: burgerbrief.classifier(cfg.burgerbrief))
    if cfg.pseudonymisation.enabled:
        jobs.append(lambda: pseudonymise.runtime(cfg, government_ids(registry)))
    threads = [threading.Thread(target=job, daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def build(p: beam.Pipeline, cfg: Config, registry: Registry, *, stop_at: dict[int, int] | None = None,
          feedback_stop_at: dict[int, int] | None = None, drain: DrainSignal | None = None):
    """The graph, without I/O. `registry`: the rules' registries (archiefstroom.ground.registries,
    loaded once at start-up and handed to every stage). `stop_at` bounds the raw topic read
    (partition -> end offset); the feedback read is bounded by `feedback_stop_at` (or unbounded)
    when `stop_at` is given and it is not. `drain`: the signal that ends unbounded reads
    (archiefstroom run's SIGTERM)."""
    archived = p | "ArchiveSocialMedia" >> ArchiveSocialMedia(cfg, registry, stop_at=stop_at, drain=drain)
    if cfg.burgerbrief.enabled:
        fb_stop = feedback_stop_at if feedback_stop_at is not None else ({} if stop_at is not None else None)
        p | "ApplyFeedback" >> ApplyFeedback(cfg, registry, stop_at=fb_stop, drain=drain)
    return archived
