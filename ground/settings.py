"""Typed loading of YAML files into dataclasses, with errors that name file, line and field.

This is the one config loader: the main configuration (archiefstroom.ground.config)
and every registry file (accounts, selectielijst, hotspots, ...) are read
through `load_yaml(path, DataclassType)`. Dataclass fields carry their own
checks, declared with `core.fields.check` / `core.fields.secret`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml

from archiefstroom.core.fields import CHECK, ENV, EXPECTED


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


def _plain(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def load_yaml(path: str | Path, cls: type, *, overrides: dict | None = None):
    """Read `path` into an instance of dataclass `cls`; raise ConfigError on any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "", "an existing YAML file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "", "UTF-8 text") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(path, mark.line + 1 if mark else None, "", f"valid YAML ({getattr(exc, 'problem', exc)})") from None
    if node is None:
        node = yaml.compose("{}")
    return _build(cls, node, path, "", overrides or {})


def from_dict(data: dict, cls: type, *, source: str = "<dict>"):
    """Same checks for a value built in code (tests, defaults)."""
    node = yaml.compose(yaml.safe_dump(data))
    return _build(cls, node, Path(source), "", {})


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _build(tp: Any, node: yaml.Node, file: Path, path: str, overrides: dict):
    origin = get_origin(tp)
    if tp is Any:
        return _plain(node)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            if type(None) in get_args(tp):
                return None
        errors = []
        for arg in args:
            try:
                return _build(arg, node, file, path, overrides)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise ConfigError(file, _line(node), path, " or ".join(e.expected for e in errors), _plain(node))
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, node, file, path, overrides)
    if origin is Literal:
        value = _plain(node)
        if value not in get_args(tp):
            raise ConfigError(file, _line(node), path, "one of " + ", ".join(map(repr, get_args(tp))), value)
        return value
    if origin in (list, tuple):
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(file, _line(node), path, "a list", _plain(node))
        (item,) = get_args(tp)[:1] or (Any,)
        items = [_build(item, n, file, f"{path}[{i}]", {}) for i, n in enumerate(node.value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(file, _line(node), path, "a mapping", _plain(node))
        key_t, val_t = get_args(tp)
        out = {}
        for k, v in node.value:
            key = _plain(k)
            if not isinstance(key, str):
                key = str(key)
            out[key] = _build(val_t, v, file, f"{path}.{key}" if path else key, {})
        return out
    value = _plain(node)
    return _scalar(tp, value, file, _line(node), path)


def _scalar(tp: Any, value: Any, file: Path, line: int | None, path: str):
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(file, line, path, "true or false", value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(file, line, path, "an integer", value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(file, line, path, "a number", value)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(file, line, path, "a string", value)
    if tp is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(file, line, path, "a date YYYY-MM-DD", value)
    if tp is dt.datetime:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
            except ValueError:
                pass
        raise ConfigError(file, line, path, "an ISO-8601 date-time", value)
    if tp is Path:
        if isinstance(value, str):
            return Path(value)
        raise ConfigError(file, line, path, "a path", value)
    raise TypeError(f"unsupported config type {tp!r} at {path}")


def _build_dataclass(cls, node, file: Path, path: str, overrides: dict):
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(file, _line(node), path, "a mapping", _plain(node))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    given: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = _plain(key_node)
        sub = f"{path}.{key}" if path else str(key)
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(file, _line(key_node), sub, f"a known field (one of: {known})", key)
        given[key] = value_node
    kwargs = {}
    for name, f in fields.items():
        sub = f"{path}.{name}" if path else name
        env = f.metadata.get(ENV)
        if env and os.environ.get(env):
            kwargs[name] = os.environ[env]
            continue
        if name in given:
            value = _build(hints[name], given[name], file, sub, overrides.get(name, {}) if isinstance(overrides.get(name), dict) else {})
            checker = f.metadata.get(CHECK)
            if checker is not None and not checker(value):
                raise ConfigError(file, _line(given[name]), sub, f.metadata[EXPECTED], value)
            kwargs[name] = value
        elif f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        else:
            raise ConfigError(file, _line(node), sub, "this required field to be present")
    try:
        obj = cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(file, _line(node), path, str(exc)) from None
    post = getattr(obj, "validate", None)
    if callable(post):
        try:
            post()
        except ConfigError:
            raise
        except ValueError as exc:
            # validate() raises ValueError("field: expected ...") for cross-field checks
            field_name, _, expected = str(exc).partition(": ")
            sub = f"{path}.{field_name}" if path else field_name
            line = _line(given.get(field_name)) or _line(node)
            expected = (expected or str(exc)).removeprefix("expected ")
            raise ConfigError(file, line, sub, expected) from None
    return obj
