"""The Avro schemas are the contract; everything else derives from them.

`load(name)` gives the parsed schema of `schemas/<name>.avsc` (named types of
earlier files resolved). `from_wire`/`to_wire` convert between the plain JSON
form that travels on Kafka topics (timestamps as ISO-8601 strings, dates as
YYYY-MM-DD, unions as bare values) and the Python datum that fastavro writes.
Both walk the schema, so adding a field to an .avsc file is all it takes.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import fastavro
from fastavro.validation import validate as _validate

SCHEMA_DIR = Path(__file__).resolve().parent
HISTORY_DIR = SCHEMA_DIR / "history"

# Files in dependency order: later files may reference named types of earlier ones.
SCHEMA_FILES = ("social_event", "decision", "pseudonymisation", "burgerbrief", "archive_record")


class WireError(ValueError):
    """A wire document does not fit the schema; `path` names the field."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path or '<root>'}: {message}")
        self.path = path


def all_files() -> list[str]:
    """SCHEMA_FILES first (dependency order), then any other schemas/*.avsc alphabetically."""
    rest = sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc") if p.stem not in SCHEMA_FILES)
    return [*SCHEMA_FILES, *rest]


_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _collect(schema: Any, namespace: str, out: dict[str, Any]) -> None:
    """Named type definitions (fullname -> raw JSON) found anywhere in `schema`."""
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, namespace, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            ns = schema.get("namespace", namespace)
            out[_fullname(schema["name"], ns)] = schema
            namespace = ns
        for f in schema.get("fields", []):
            _collect(f["type"], namespace, out)
        for key in ("items", "values"):
            if key in schema:
                _collect(schema[key], namespace, out)
        if isinstance(kind, (dict, list)):
            _collect(kind, namespace, out)


def _fullname(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


@functools.lru_cache(maxsize=None)
def _definitions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in all_files():
        raw = _read(SCHEMA_DIR / f"{name}.avsc")
        _collect(raw, raw.get("namespace", ""), out)
    return out


def _inline(schema: Any, namespace: str, seen: set[str]) -> Any:
    """Replace references to named types of other files by their definitions (first use
    only, as Avro requires), so that every container file carries a self-contained schema."""
    defs = _definitions()
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return schema
        full = _fullname(schema, namespace)
        if full in seen or full not in defs:
            return full if full in defs else schema
        return _inline(defs[full], full.rpartition(".")[0], seen)
    if isinstance(schema, list):
        return [_inline(b, namespace, seen) for b in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    kind = schema.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        namespace = schema.get("namespace", namespace)
        seen.add(_fullname(schema["name"], namespace))
        out["namespace"] = namespace
        if "fields" in schema:
            out["fields"] = [{**f, "type": _inline(f["type"], namespace, seen)} for f in schema["fields"]]
        return out
    for key in ("items", "values"):
        if key in schema:
            out[key] = _inline(schema[key], namespace, seen)
    if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in _PRIMITIVES
                                           and kind not in ("array", "map")):
        return _inline(kind, namespace, seen) if not (set(schema) - {"type"}) else {**out, "type": _inline(kind, namespace, seen)}
    return out


@functools.lru_cache(maxsize=None)
def _named() -> dict[str, Any]:
    """fullname -> parsed definition, for resolving repeated uses of a named type."""
    named: dict[str, Any] = {}
    for name in all_files():
        fastavro.parse_schema(expanded(_read(SCHEMA_DIR / f"{name}.avsc")), named_schemas=named)
    return named


def expanded(raw: dict) -> dict:
    """`raw` with every named type it uses defined inline: a self-contained schema."""
    return _inline(raw, raw.get("namespace", ""), set())


@functools.lru_cache(maxsize=None)
def load(name: str) -> dict:
    """Parsed, self-contained schema for `schemas/<name>.avsc`."""
    return fastavro.parse_schema(expanded(_read(SCHEMA_DIR / f"{name}.avsc")), _write_hint=True)


def _undocumented(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_undocumented(x) for x in schema]
    if isinstance(schema, dict):
        return {k: _undocumented(v) for k, v in schema.items() if k != "doc"}
    return schema


@functools.lru_cache(maxsize=None)
def load_for_files(name: str) -> dict:
    """`load(name)` without the documentation: the writer schema in every archive object's
    header. The docs stay in schemas/*.avsc, the contract, whose version every object names
    in its metadata; without them the header is 40 % smaller, and one header per object
    is a real share of the archive."""
    return fastavro.parse_schema(_undocumented(expanded(_read(SCHEMA_DIR / f"{name}.avsc"))), _write_hint=True)


def load_file(path: str | Path) -> dict:
    """Parse an .avsc file (e.g. one in schemas/history/), resolving named types of the current files."""
    return fastavro.parse_schema(expanded(_read(Path(path))))


def raw_json(name: str) -> dict:
    """The .avsc document itself, for tools that want plain JSON (named types not expanded)."""
    return _read(SCHEMA_DIR / f"{name}.avsc")


def validate(datum: dict, name: str) -> None:
    """Raise WireError when `datum` is not writable with schema `name`. The quiet check runs
    first: with raise_errors=True fastavro builds (and JSON-formats) an exception for every
    union branch a valid datum does not take - a tenth of the pipeline's CPU on the sample."""
    schema = load(name)
    if _validate(datum, schema, raise_errors=False):
        return
    try:
        _validate(datum, schema, raise_errors=True)
    except Exception as exc:  # fastavro's ValidationError lists the failing paths
        raise WireError("", str(exc)) from None


# ---------------------------------------------------------------- wire codec

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _parse_time(value: Any, path: str) -> dt.datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return _EPOCH + dt.timedelta(milliseconds=int(value))
        except (OverflowError, ValueError):       # beyond the calendar, inf, nan
            raise WireError(path, "expected a timestamp in the calendar's range") from None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise WireError(path, "expected an ISO-8601 timestamp") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.astimezone(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    raise WireError(path, f"expected a timestamp, got {type(value).__name__}")


def _parse_date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise WireError(path, "expected a date YYYY-MM-DD")


def _type_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union"
    return schema.get("logicalType") or schema["type"]


def _fits(value: Any, schema: Any) -> bool:
    """Cheap test used to pick a union branch for a bare JSON value."""
    kind = _type_name(schema)
    if value is None:
        return kind == "null"
    return {
        "null": False,
        "boolean": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "long": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "bytes": isinstance(value, (str, bytes)),
        "timestamp-millis": isinstance(value, (str, int, dt.datetime)) and not isinstance(value, bool),
        "date": isinstance(value, (str, dt.date)),
        "array": isinstance(value, list),
        "map": isinstance(value, dict),
        "record": isinstance(value, dict),
        "enum": isinstance(value, str),
    }.get(kind, False)


def _resolve(schema: Any) -> Any:
    if isinstance(schema, str) and schema in _named():
        return _named()[schema]
    return schema


def from_wire(doc: Any, name_or_schema: str | dict, path: str = "") -> Any:
    """Convert a wire JSON document into an Avro datum, checking it field by field."""
    schema = load(name_or_schema) if isinstance(name_or_schema, str) else name_or_schema
    return _decode(doc, schema, path)


def _decode(value: Any, schema: Any, path: str) -> Any:
    schema = _resolve(schema)
    kind = _type_name(schema)
    if kind == "union":
        for branch in schema:
            if _fits(value, _resolve(branch)):
                return _decode(value, branch, path)
        allowed = ", ".join(_type_name(_resolve(b)) for b in schema)
        raise WireError(path, f"expected one of [{allowed}], got {type(value).__name__}")
    if kind == "record":
        if not isinstance(value, dict):
            raise WireError(path, f"expected an object, got {type(value).__name__}")
        out = {}
        for field in schema["fields"]:
            fpath = f"{path}.{field['name']}" if path else field["name"]
            if field["name"] in value:
                out[field["name"]] = _decode(value[field["name"]], field["type"], fpath)
            elif "default" in field:
                out[field["name"]] = field["default"]
            else:
                raise WireError(fpath, "required field is missing")
        return out
    if kind == "array":
        if not isinstance(value, list):
            raise WireError(path, f"expected a list, got {type(value).__name__}")
        return [_decode(v, schema["items"], f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise WireError(path, f"expected an object, got {type(value).__name__}")
        return {k: _decode(v, schema["values"], f"{path}.{k}") for k, v in value.items()}
    if kind == "enum":
        if value not in schema["symbols"]:
            # no value in the message: reasons are logged and kept in ledgers, values may be personal
            raise WireError(path, f"expected one of {schema['symbols']}, got another {type(value).__name__}")
        return value
    if kind == "timestamp-millis":
        return _parse_time(value, path)
    if kind == "date":
        return _parse_date(value, path)
    if not _fits(value, schema):
        raise WireError(path, f"expected {kind}, got {type(value).__name__}")
    if kind in ("float", "double"):
        return float(value)
    return value


def to_wire(datum: Any, name_or_schema: str | dict) -> Any:
    """Inverse of from_wire: an Avro datum as plain JSON-able values."""
    schema = load(name_or_schema) if isinstance(name_or_schema, str) else name_or_schema
    return _encode(datum, schema)


def _encode(value: Any, schema: Any) -> Any:
    schema = _resolve(schema)
    kind = _type_name(schema)
    if kind == "union":
        if value is None:
            return None
        for branch in schema:
            if branch != "null" and _fits(value, _resolve(branch)):
                return _encode(value, branch)
        return value
    if kind == "record":
        return {f["name"]: _encode(value.get(f["name"], f.get("default")), f["type"]) for f in schema["fields"]}
    if kind == "array":
        return [_encode(v, schema["items"]) for v in value]
    if kind == "map":
        return {k: _encode(v, schema["values"]) for k, v in value.items()}
    if kind == "timestamp-millis":
        if isinstance(value, int):
            value = _EPOCH + dt.timedelta(milliseconds=value)
        return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if kind == "date":
        if isinstance(value, int):
            value = dt.date(1970, 1, 1) + dt.timedelta(days=value)
        return value.isoformat()
    if kind == "bytes" and isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def dumps(datum: dict, name: str) -> bytes:
    """Wire bytes (compact UTF-8 JSON) for an Avro datum."""
    return json.dumps(to_wire(datum, name), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
