"""Turn the bytes of one Kafka record into a SocialEvent datum, or say exactly why not.

Every failure is an InvalidEvent with a short machine-readable `code` and a
human reason; the pipeline sends those to the dead-letter topic with the
original bytes. Reasons never quote the payload (it may hold personal data).
"""
from __future__ import annotations

import hashlib
import json

from archiefstroom import schemas


class InvalidEvent(ValueError):
    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


def parse_event(value: bytes | None, *, max_bytes: int) -> dict:
    if value is None or len(value) == 0:
        raise InvalidEvent("empty", "the record has no value")
    if len(value) > max_bytes:
        raise InvalidEvent("oversized", f"{len(value)} bytes is more than the limit of {max_bytes}")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent("invalid_utf8", f"not valid UTF-8 at byte {exc.start}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent("not_json", f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise InvalidEvent("too_deep", "JSON nested deeper than the parser goes") from None
    if not isinstance(doc, dict):
        raise InvalidEvent("not_object", f"expected a JSON object, got {type(doc).__name__}")
    try:
        datum = schemas.from_wire(doc, "social_event")
        schemas.validate(datum, "social_event")
    except schemas.WireError as exc:
        raise InvalidEvent("schema", f"does not match schemas/social_event.avsc: {exc}") from None
    except RecursionError:
        raise InvalidEvent("too_deep", "a value nested deeper than the schema reader goes") from None
    raw = datum["raw"]
    if hashlib.sha256(raw["payload"].encode("utf-8")).hexdigest() != raw["sha256"].lower():
        raise InvalidEvent("raw_hash", "raw.sha256 is not the SHA-256 of raw.payload")
    prefix = f"{datum['platform']}:"
    if not datum["event_id"].startswith(prefix) or not datum["object_id"].startswith(prefix):
        raise InvalidEvent("id", f"event_id and object_id must start with '{prefix}'")
    return datum
