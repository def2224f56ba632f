"""Put events into the raw topic (the sample set, or a JSON-lines file) and say where they landed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from archiefstroom.core.envelope import raw_message
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.config import Config


def message(value: bytes) -> tuple[bytes | None, list]:
    """Key and headers as the connectors make them (core.envelope.raw_message); a line that
    is not a JSON object goes as it is (the pipeline dead-letters it)."""
    try:
        doc = json.loads(value)
    except ValueError:
        return None, []
    return raw_message(doc) if isinstance(doc, dict) else (None, [])


def produce(cfg: Config, values: Iterable[bytes], topic: str | None = None) -> dict[int, int]:
    """Returns partition -> end offset (exclusive) of what was written."""
    producer = kafka_clients.producer(cfg.kafka)
    futures = []
    for v in values:
        key, headers = message(v)
        futures.append(producer.send(topic or cfg.topics.raw, key=key, value=v, headers=headers))
    producer.flush()
    ends: dict[int, int] = {}
    for f in futures:
        md = f.get(timeout=60)
        ends[md.partition] = max(ends.get(md.partition, 0), md.offset + 1)
    producer.close()
    return ends


def read_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]
