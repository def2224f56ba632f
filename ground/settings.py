"""Typed loading of YAML files into dataclasses, with errors that name file, line and field.

This is the one config loader: the main configuration (archiefstroom.ground.config)
and every registry file (accounts, selectielijst, hotspots, ...) are read
through `load_yaml(path, DataclassType)`.

Pydantic (v2) validates; the design choice: core's settings stay stdlib dataclasses (core
code and tests build and change them freely, unvalidated, and core has no loader), and their
checks are part of the fields' types, `Annotated[int, check(...)]`, where `check` is a
pydantic AfterValidator (archiefstroom.core.fields: pydantic as a pure library, no IO). A
`pydantic.TypeAdapter` per class coerces and checks the types, refuses unknown and missing
fields, runs the checks and builds the instances. Two things pydantic cannot do for a stdlib
dataclass are done here: the environment's secrets (`secret()`) are put into the data before
validation, and the cross-field `validate()` methods run after it (pydantic would only call
`__post_init__`, which also runs whenever code builds one).

A pydantic error's `loc` is followed through the YAML nodes to its line, and its type
becomes the wording of what was expected: `file:line: field 'a.b.c': expected X, got Y`.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

from archiefstroom.core.fields import CHECK, EnvSecret

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml, when the wheel has it

# Lax mode: YAML's own types plus pydantic's documented coercions (e.g. "5" for an integer);
# a number where a string is expected becomes that string, as an unquoted category code 1.5
_CONFIG = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

# pydantic's error types in the words of what was expected
_EXPECTED = {
    "missing": "this required field to be present",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "finite_number": "a number",
    "string_type": "a string",
    "path_type": "a path",
    "list_type": "a list", "tuple_type": "a list",
    "dict_type": "a mapping", "dataclass_type": "a mapping",
}
_UNKNOWN = "unexpected_keyword_argument"   # extra="forbid" on a dataclass
_KEY = "[key]"                             # pydantic's loc of a mapping key (after the key)


class ConfigError(ValueError):
    """A configuration file is wrong. The message names file, line, field and what was expected."""

    def __init__(self, file: str | Path, line: int | None, field: str, expected: str, got: Any = None):
        where = f"{file}:{line}" if line else str(file)
        detail = f"{where}: field '{field or '<root>'}': expected {expected}"
        if got is not None:
            detail += f", got {_show(got)}"
        super().__init__(detail)
        self.file, self.line, self.field, self.expected = str(file), line, field, expected


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_yaml(path: str | Path, cls: type):
    """Read `path` into an instance of dataclass `cls`; raise ConfigError on any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "", "an existing YAML file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "", "UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(path, mark.line + 1 if mark else None, "", f"valid YAML ({getattr(exc, 'problem', exc)})") from None
    return _validate(cls, {} if data is None else data, path, text)


def from_dict(data: dict, cls: type, *, source: str = "<dict>"):
    """Same checks for a value built in code (tests, defaults); errors name no line."""
    return _validate(cls, data, Path(source), None)


def line_in(path: Path, keys) -> int | None:
    """Line of the YAML node at `keys` (mapping keys and list indexes) in `path`, if it is there."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return None
    node, _, found = _walk(root, list(keys))
    return _start(node) if found else None


def _validate(cls: type, data: Any, file: Path, text: str | None):
    try:
        (obj,) = _adapter(cls).validate_python((_with_secrets(cls, data),))
    except ValidationError as exc:
        raise _config_error(exc, cls, file, text) from None
    _cross_checks(obj, [], file, text)
    return obj


@functools.cache
def _adapter(cls: type) -> TypeAdapter:
    # pydantic refuses a config for a dataclass (it may have its own `__pydantic_config__`):
    # around a one-item tuple the config applies to it and to every dataclass inside it
    return TypeAdapter(tuple[cls], config=_CONFIG)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in typing.get_type_hints(cls, include_extras=True).items() if k in names}


def _bare(tp: Any) -> Any:
    """`tp` without Annotated and without the None of an optional."""
    if get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


def _with_secrets(cls: type, data: Any) -> Any:
    """`data` with the environment's secrets for `cls`'s sections (copied where one is set): they win
    over the file, also in a section the file leaves out."""
    if not isinstance(data, dict):
        return data
    found = {}
    for name, hint in _hints(cls).items():
        env = next((m.env for m in getattr(hint, "__metadata__", ()) if isinstance(m, EnvSecret)), None)
        if env and os.environ.get(env):
            found[name] = os.environ[env]
        elif dataclasses.is_dataclass(section := _bare(hint)):
            given = data.get(name, {})
            if (filled := _with_secrets(section, given)) is not given:
                found[name] = filled
    return {**data, **found} if found else data


def _config_error(exc: ValidationError, cls: type, file: Path, text: str | None) -> ConfigError:
    """The first field pydantic refused; a union's members each say what they expected."""
    first, expected = None, []
    for err in exc.errors(include_url=False):
        where = _follow(cls, err["loc"][1:])     # [0] is the one-item tuple's index
        if first is None:
            first = where, err
        if where[:2] == first[0][:2] and (said := _expected(err, where[2])) not in expected:
            expected.append(said)
    (segments, field, owner), err = first
    key = bool(segments) and segments[-1] == _KEY
    segments = segments[:-1] if key else segments
    got = None if err["type"] == "missing" else segments[-1] if err["type"] == _UNKNOWN else err["input"]
    node, key_node, found = _walk(_root(text), segments)
    line = _start(key_node if (key or err["type"] == _UNKNOWN) and found else node)
    return ConfigError(file, line, field, " or ".join(expected), got)


def _expected(err: dict, owner: type | None) -> str:
    kind = err["type"]
    if kind == CHECK:
        return err["ctx"]["expected"]
    if kind == "literal_error":        # pydantic says "'a', 'b' or 'c'"
        return "one of " + ", ".join(err["ctx"]["expected"].rsplit(" or ", 1))
    if kind.startswith("date_"):
        return "a date YYYY-MM-DD"
    if kind == _UNKNOWN and owner is not None:
        return f"a known field (one of: {', '.join(sorted(_hints(owner)))})"
    return _EXPECTED.get(kind, err["msg"])


def _follow(cls: type, loc: tuple) -> tuple[tuple, str, type | None]:
    """Pydantic's `loc` through the types: the mapping keys and list indexes without the union
    members pydantic names, the field as written ('a.b[2].c') and the dataclass of its last key."""
    segments, field, owner, tp = [], "", None, cls
    for seg in loc:
        tp = _bare(tp)
        if get_origin(tp) in (typing.Union, types.UnionType):   # seg names the member pydantic tried
            tp = next((m for m in get_args(tp) if getattr(m, "__name__", None) == seg), None)
            continue
        segments.append(seg)
        origin = get_origin(tp)
        if seg == _KEY:
            tp = None
        elif origin in (list, tuple):
            field += f"[{seg}]"
            tp = (get_args(tp) or (None,))[0]
        else:
            field += f".{seg}" if field else str(seg)
            if dataclasses.is_dataclass(tp):
                owner, tp = tp, _hints(tp).get(seg)
            else:
                tp = get_args(tp)[1] if origin is dict else None
    return tuple(segments), field, owner


def _root(text: str | None) -> yaml.Node | None:
    """The nodes of `text`, for the lines: composed only when there is a mistake to place."""
    if text is None:
        return None
    return yaml.compose(text, Loader=_Loader) or yaml.compose("{}", Loader=_Loader)


def _walk(root: yaml.Node | None, segments) -> tuple[yaml.Node | None, yaml.Node | None, bool]:
    """The deepest node along `segments`, the key node that led to it, and whether all were found."""
    node, key_node = root, None
    for seg in segments:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(seg)), None)
            if hit is None:
                return node, key_node, False
            key_node, node = hit
        elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and 0 <= seg < len(node.value):
            key_node, node = None, node.value[seg]
        else:
            return node, key_node, False
    return node, key_node, node is not None


def _start(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _cross_checks(obj: Any, segments: list, file: Path, text: str | None) -> None:
    """Every dataclass's validate(), inner ones first; its ValueError("field: expected ...") names
    a field of that dataclass."""
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _cross_checks(getattr(obj, f.name), [*segments, f.name], file, text)
        if callable(post := getattr(obj, "validate", None)):
            try:
                post()
            except ValueError as exc:
                name, _, expected = str(exc).partition(": ")
                at = [*segments, *name.split(".")]
                node, _, _ = _walk(_root(text), at)
                field = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in at).lstrip(".")
                raise ConfigError(file, _start(node), field, (expected or str(exc)).removeprefix("expected ")) from None
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _cross_checks(item, [*segments, i], file, text)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _cross_checks(v, [*segments, k], file, text)
