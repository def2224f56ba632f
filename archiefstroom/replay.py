"""Put events into the raw topic (the sample set, or a JSON-lines file) and say where they landed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from archiefstroom import kafka as kafka_clients
from archiefstroom.config import Config


def _key(value: bytes) -> bytes | None:
    """Thread root (or the item itself) as key: a thread stays in one partition, in order."""
    try:
        doc = json.loads(value)
        return (doc.get("thread_root") or doc.get("object_id") or "").encode() or None
    except (ValueError, AttributeError):
        return None


def produce(cfg: Config, values: Iterable[bytes], topic: str | None = None) -> dict[int, int]:
    """Returns partition -> end offset (exclusive) of what was written."""
    producer = kafka_clients.producer(cfg.kafka)
    futures = [producer.send(topic or cfg.topics.raw, key=_key(v), value=v) for v in values]
    producer.flush()
    ends: dict[int, int] = {}
    for f in futures:
        md = f.get(timeout=60)
        ends[md.partition] = max(ends.get(md.partition, 0), md.offset + 1)
    producer.close()
    return ends


def read_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]
