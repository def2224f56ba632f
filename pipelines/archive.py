"""The archiving pipeline, read top to bottom like the design card:

  raw topic ─▶ ReadFromKafka ─▶ ValidateEvents ─┬─▶ TagRetention ─▶ ┐
                                                 └─ dead letters ──▶ ├─▶ WriteArchive (S3 + DLQ + commit)

Later stages (archiving rules, burgerbrief detection, pseudonymisation) slot in
between validation and the sink; everything they do not archive flows into the
sink as a Disposition so every Kafka offset is accounted for before commit.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from archiefstroom.config import Config
from archiefstroom.transforms.archive_sink import WriteArchive
from archiefstroom.transforms.kafka_source import ReadFromKafka
from archiefstroom.transforms.retention import TagRetention
from archiefstroom.transforms.validate import ValidateEvents


class ArchiveSocialMedia(beam.PTransform):
    """Raw platform events in, committed archive batches out."""

    def __init__(self, cfg: Config, *, stop_at: dict[int, int] | None = None):
        super().__init__()
        self.cfg, self.stop_at = cfg, stop_at

    def expand(self, pbegin):
        cfg = self.cfg
        raw = pbegin | "ReadRawTopic" >> ReadFromKafka(cfg.kafka, cfg.topics.raw, stop_at=self.stop_at,
                                                       poll_max_records=cfg.pipeline.poll_max_records)
        checked = raw.records | "Validate" >> ValidateEvents(cfg.pipeline.max_event_bytes)
        tagged = checked.valid | "RetentionTags" >> TagRetention(cfg.retention)
        return ((tagged, checked.dead_letter, raw.ticks)
                | "AllOutcomes" >> beam.Flatten()
                | "WriteArchive" >> WriteArchive(cfg, cfg.topics.raw))


def options(cfg: Config, extra: list[str] | None = None) -> PipelineOptions:
    """Runner and its options come from configuration only: FlinkRunner or DataflowRunner
    run the same pipeline (see deploy/README.md)."""
    runner = [] if cfg.pipeline.runner in ("local", "DirectRunner") else [f"--runner={cfg.pipeline.runner}"]
    opts = PipelineOptions([*runner, *cfg.pipeline.beam_options, *(extra or [])])
    opts.view_as(StandardOptions).streaming = True
    return opts


def pipeline(cfg: Config, extra: list[str] | None = None) -> beam.Pipeline:
    """A Pipeline on the configured runner; "local" (or DirectRunner) is the bundle-based
    Python direct runner in streaming mode (see archiefstroom/local_runner.py)."""
    from archiefstroom import local_runner
    opts = options(cfg, extra)
    if cfg.pipeline.runner in local_runner.NAMES:
        return beam.Pipeline(runner=local_runner.LocalStreamingRunner(), options=opts)
    return beam.Pipeline(options=opts)


def build(p: beam.Pipeline, cfg: Config, *, stop_at: dict[int, int] | None = None):
    return p | "ArchiveSocialMedia" >> ArchiveSocialMedia(cfg, stop_at=stop_at)
