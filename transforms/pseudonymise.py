"""Pseudonymise archive records before the sink; anything that fails goes to quarantine (fail closed).

Thin Beam wrapper around archiefstroom.core.pseudonymise. The runtime (key ring,
vault, deduce lookup structures from their cache) is built once per worker
process in setup(), never per element or per bundle.
"""
from __future__ import annotations

import json
import logging

import apache_beam as beam

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

    def finish_bundle(self):
        # vault entries of this bundle reach the disk before the sink can commit their offsets
        if self.rt is not None and self.rt.vault is not None:
            self.rt.vault.sync()

    def teardown(self):
        if getattr(self, "rt", None) is not None and self.rt.vault is not None:
            self.rt.vault.sync()

    def process(self, record):
        if self.rt is None:
            yield record
            return
        try:
            out = self.rt.pseudonymise(record)
        except Exception as exc:
            # the reason names the stage and the error type only: messages may quote personal data
            self.failed.inc()
            try:
                pos = Position.of(record)
            except Exception:
                pos = Position("unknown", -1, -1)
            event = record.get("event") if isinstance(record, dict) else None
            object_id = event.get("object_id") if isinstance(event, dict) else None
            log.warning("pseudonymisation failed at %s/%s/%s (%s): quarantined", pos.topic, pos.partition,
                        pos.offset, type(exc).__name__)
            yield beam.pvalue.TaggedOutput(QUARANTINE, Disposition(
                pos, "quarantine", f"pseudonymisation failed ({type(exc).__name__})", event_id=None,
                payload=_original_bytes(record), detail={"stage": "pseudonymise", "object_id": str(object_id)}))
            return
        self.done.inc()
        for label, n in out["pseudonymisation"]["entity_counts"].items():
            c = self.entities.get(label)
            if c is None:
                c = self.entities[label] = metrics.counter(f"entities.{label}")
            c.inc(n)
        yield out


class Pseudonymise(beam.PTransform):
    """Record dicts in; outputs `records` (pseudonymised, `pseudonymisation` filled) and
    `quarantine` (Dispositions, kind "quarantine", payload = the original event bytes)."""

    def __init__(self, cfg, public_accounts: set[str] | None = None):
        super().__init__()
        self.cfg, self.public_accounts = cfg, frozenset(a.lower() for a in (public_accounts or ()))

    def expand(self, records):
        return records | beam.ParDo(_Pseudonymise(self.cfg, self.public_accounts)).with_outputs(QUARANTINE, main=RECORDS)
