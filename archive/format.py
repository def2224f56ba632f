"""Archive records as Avro object container files (fastavro), deterministic per object key.

The schema is embedded in every object (readable without this code, decades from now);
the sync marker derives from the key, so rewriting a batch after a crash produces the
same bytes and the store sees no change.
"""
from __future__ import annotations

import hashlib
import io

import fastavro

from archiefstroom import schemas

SCHEMA_NAME = "archive_record"
# the contract's version number lives in the .avsc itself ("version" attribute)
SCHEMA_VERSION = str(schemas.raw_json(SCHEMA_NAME).get("version", 1))
CONTENT_TYPE = "avro/binary"
EXTENSION = ".avro"


def encode(records: list[dict], key: str, codec: str = "deflate") -> bytes:
    """Container bytes for `records` stored under `key`."""
    buf = io.BytesIO()
    fastavro.writer(buf, schemas.load_for_files(SCHEMA_NAME), records, codec=codec,
                    sync_marker=hashlib.md5(key.encode()).digest(),
                    metadata={"archiefstroom.schema_version": SCHEMA_VERSION, "archiefstroom.key": key})
    return buf.getvalue()


def version_of(schema_name: str) -> str:
    return str(schemas.raw_json(schema_name).get("version", 1))


def encode_as(schema_name: str, records: list[dict], key: str, codec: str = "deflate") -> bytes:
    """Container bytes of another schema's records (a sealed thread), deterministic per key."""
    buf = io.BytesIO()
    fastavro.writer(buf, schemas.load_for_files(schema_name), records, codec=codec,
                    sync_marker=hashlib.md5(key.encode()).digest(),
                    metadata={"archiefstroom.schema": schema_name,
                              "archiefstroom.schema_version": version_of(schema_name), "archiefstroom.key": key})
    return buf.getvalue()


def decode(body: bytes) -> list[dict]:
    return list(fastavro.reader(io.BytesIO(body)))
