"""Pseudonymise archive records before the sink; anything that fails goes to quarantine (fail closed).

Thin Beam wrapper around archiefstroom.core.pseudonymise. The runtime (key ring,
vault, deduce lookup structures from their cache) is built once per worker
process in setup(), never per element or per bundle.
"""
from __future__ import annotations

import json
import logging

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from archiefstroom import schemas
from archiefstroom.core.envelope import Disposition, Position
from archiefstroom.ground import pseudonymisation
from archiefstroom.transforms import metrics, resources

log = logging.getLogger(__name__)

RECORDS = "records"
QUARANTINE = "quarantine"

def runtime(cfg, public_accounts: frozenset[str]):
    """One Runtime per worker process and configuration, shared by all DoFn instances (threads)."""
    key = ("pseudonymise.runtime", str(getattr(cfg, "source_file", "")), str(cfg.data_dir),
           cfg.pseudonymisation.key_id, public_accounts)
    return resources.shared(key, lambda: pseudonymisation.for_config(cfg, public_accounts),
                            long_lived=True)


def _original_bytes(record: dict) -> bytes | None:
    """The event as raw-topic JSON, for the quarantine topic (restricted, like the raw topic)."""
    try:
        return schemas.dumps(record["event"], "social_event")
    except Exception:   # the record is broken in a way the codec cannot show: keep what we can
        try:
            return json.dumps(record.get("event"), default=str, ensure_ascii=False).encode("utf-8")
        except Exception:
            return None


class _Pseudonymise(beam.DoFn):
    """Pseudonymises each record at once; holds it until its bundle's vault entries are written in
    one go (finish_bundle, or every MAX_HELD records), then emits it, or quarantines it when a
    token of it already stands for someone else. A record leaves only with its entries durable."""

    MAX_HELD = 1000

    def __init__(self, cfg, public_accounts: frozenset[str]):
        self.cfg, self.public_accounts = cfg, public_accounts
        self.done = metrics.counter("pseudonymised")
        self.failed = metrics.counter("quarantined")
        self.entities = {}

    def setup(self):
        if self.cfg.pseudonymisation.enabled:
            self.rt = runtime(self.cfg, self.public_accounts)
        else:
            self.rt = None
            log.warning("pseudonymisation is DISABLED in the configuration: records are archived in the clear")

    def start_bundle(self):
        self.held = []

    def finish_bundle(self):
        yield from self._release()

    def teardown(self):
        if getattr(self, "rt", None) is not None and self.rt.vault is not None:
            self.rt.vault.sync()

    def process(self, record, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        if self.rt is None:
            yield record
            return
        try:
            prepared = self.rt.prepare(record)
        except Exception as exc:
            yield self._quarantine(record, type(exc).__name__)
            return
        if self.rt.vault is None:
            yield self._passed(prepared.record)
            return
        self.held.append((record, prepared, timestamp, window))
        if len(self.held) >= self.MAX_HELD:
            yield from self._release()

    def _release(self):
        """The held records' vault entries in one write, made durable, then the records out."""
        held, self.held = self.held, []
        if self.rt is None or self.rt.vault is None:
            return
        ok = self.rt.store([p for _, p, _, _ in held]) if held else []
        # vault entries of this bundle reach the disk before the sink can commit their offsets
        self.rt.vault.sync()
        for (record, prepared, timestamp, window), fine in zip(held, ok):
            out = self._passed(prepared.record) if fine else self._quarantine(record, "TokenCollision")
            if isinstance(out, beam.pvalue.TaggedOutput):
                yield beam.pvalue.TaggedOutput(out.tag, WindowedValue(out.value, timestamp, (window,)))
            else:
                yield WindowedValue(out, timestamp, (window,))

    def _passed(self, out: dict) -> dict:
        self.done.inc()
        for label, n in out["pseudonymisation"]["entity_counts"].items():
            c = self.entities.get(label)
            if c is None:
                c = self.entities[label] = metrics.counter(f"entities.{label}")
            c.inc(n)
        return out

    def _quarantine(self, record, error: str):
        # the reason names the stage and the error type only: messages may quote personal data
        self.failed.inc()
        metrics.inc(f"quarantined.{error}")
        try:
            pos = Position.of(record)
        except Exception:
            pos = Position("unknown", -1, -1)
        event = record.get("event") if isinstance(record, dict) else None
        object_id = event.get("object_id") if isinstance(event, dict) else None
        log.warning("pseudonymisation failed at %s/%s/%s (%s): quarantined", pos.topic, pos.partition,
                    pos.offset, error)
        return beam.pvalue.TaggedOutput(QUARANTINE, Disposition(
            pos, "quarantine", f"pseudonymisation failed ({error})", event_id=None,
            payload=_original_bytes(record), detail={"stage": "pseudonymise", "object_id": str(object_id)}))


class Pseudonymise(beam.PTransform):
    """Record dicts in; outputs `records` (pseudonymised, `pseudonymisation` filled) and
    `quarantine` (Dispositions, kind "quarantine", payload = the original event bytes)."""

    def __init__(self, cfg, public_accounts: set[str] | None = None):
        super().__init__()
        self.cfg, self.public_accounts = cfg, frozenset(a.lower() for a in (public_accounts or ()))

    def expand(self, records):
        return records | beam.ParDo(_Pseudonymise(self.cfg, self.public_accounts)).with_outputs(QUARANTINE, main=RECORDS)
