"""How a settings dataclass in `core` declares its checks; the loader enforces them.

Core's settings are plain dataclasses. A field made with `check(...)` carries a
predicate and what was expected; one made with `secret(...)` may come from an
environment variable. `archiefstroom.ground.settings` (the one loader) reads this
metadata and names file, line and field when a check fails. Cross-field checks are
a `validate()` method raising ValueError("field: expected ...").
"""
from __future__ import annotations

import dataclasses

CHECK, EXPECTED, ENV, SECRET = "check", "expected", "env", "secret"


def check(fn, expected: str, **kw):
    """Field with a validation predicate; `expected` is said when it fails."""
    return dataclasses.field(metadata={CHECK: fn, EXPECTED: expected}, **kw)


def secret(env: str, default=None):
    """Field whose value may come from the environment variable `env` (which wins over the file)."""
    return dataclasses.field(default=default, metadata={ENV: env, SECRET: True})
