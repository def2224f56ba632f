"""Keep each archived record's media beside it (archive/media.py), after its retention is known.

Thin Beam wrapper: one MediaKeeper per worker process and configuration; every record leaves
with `media_files` saying what became of each of its files (stored, failed, skipped).
"""
from __future__ import annotations

import apache_beam as beam

from archiefstroom.archive.media import MediaKeeper
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.transforms import metrics, resources


def keeper(cfg, government: frozenset[str]) -> MediaKeeper:
    key = ("media.keeper", str(getattr(cfg, "source_file", "")), cfg.s3.bucket, cfg.s3.prefix, government)
    return resources.shared(key, lambda: MediaKeeper(cfg.media, ArchiveStore(cfg.s3), cfg.s3.prefix,
                                                     outage_s=cfg.pipeline.outage_seconds, government=government))


class _Keep(beam.DoFn):
    def __init__(self, cfg, government: frozenset[str]):
        self.cfg, self.government = cfg, government

    def setup(self):
        self.keeper = keeper(self.cfg, self.government)

    def process(self, record: dict):
        ev = record["event"]
        if not (ev.get("media") or (self.cfg.media.linked_pages and ev.get("urls"))):
            yield record
            return
        files = self.keeper.keep(record)
        for f in files:
            metrics.inc(f"media.{f['status']}")
            if f["status"] == "stored":
                metrics.inc("media_bytes", f["size"] or 0)
        yield {**record, "media_files": files}


class KeepMedia(beam.PTransform):
    """Records in, the same records out with their media kept and listed in `media_files`."""

    def __init__(self, cfg, government: frozenset[str]):
        super().__init__()
        self.cfg, self.government = cfg, government

    def expand(self, records):
        return records | beam.ParDo(_Keep(self.cfg, self.government))
