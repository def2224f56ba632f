"""Kafka record -> archive record datum, or a dead letter with its reason and original bytes."""
from __future__ import annotations

import datetime as dt

import apache_beam as beam

from archiefstroom import __version__
from archiefstroom.transforms import metrics
from archiefstroom.core.envelope import Disposition, Position
from archiefstroom.core.validation import InvalidEvent, parse_event

DEAD = "dead_letter"


def _millis(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(max(ms, 0) / 1000, dt.timezone.utc)


class _Validate(beam.DoFn):
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.invalid = metrics.counter("dead_lettered")

    def process(self, rec):
        pos = Position(rec.topic, rec.partition, rec.offset)
        try:
            event = parse_event(rec.value, max_bytes=self.max_bytes)
        except InvalidEvent as exc:
            self.invalid.inc()
            metrics.inc(f"dead_lettered.{exc.code}")
            yield beam.pvalue.TaggedOutput(DEAD, Disposition(pos, "dead_letter", exc.reason,
                                                             payload=rec.value, detail={"code": exc.code}))
            return
        yield {
            "event": event,
            "source": pos.datum(),
            # custody time: when the archive's intake log (Kafka) accepted the event;
            # taken from Kafka so that a replay writes byte-identical objects
            "archived_at": _millis(rec.timestamp_ms),
            "pipeline_version": __version__,
        }


class ValidateEvents(beam.PTransform):
    """Outputs: main (archive record datums) and `dead_letter` (Dispositions)."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self.max_bytes = max_bytes

    def expand(self, records):
        return records | beam.ParDo(_Validate(self.max_bytes)).with_outputs(DEAD, main="valid")
