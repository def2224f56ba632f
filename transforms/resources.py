"""Process-wide resources shared by DoFn instances: clients, models, writers.

Beam runners may create and set up a DoFn per bundle or per worker thread, but
a Kafka producer, an S3 writer or a spaCy pipeline costs far too much to build per
bundle. `shared(key, factory)` builds one per process and key, thread-safely;
`close_all()` closes what has a close() when a run ends. Each key has its own lock,
so that two stages set up at once (the classifier's spaCy and the pseudonymiser's
name lookups) build their resources side by side instead of one after the other.

Models are `long_lived`: once built, the process's objects move to CPython's permanent
generation (`gc.freeze`). deduce's lookup structures alone are ~4.7 million tracked
objects; left to the cyclic collector, every older-generation collection walks them all
(seconds each, with the GIL held), which stalled every stage of the worker and took
three quarters of the pseudonymiser's time and most of the start-up (importing spaCy
after deduce: 11 s instead of 0.7 s).
"""
from __future__ import annotations

import gc
import threading
from typing import Any, Callable

_LOCK = threading.Lock()
_RESOURCES: dict[Any, Any] = {}
_BUILDING: dict[Any, threading.Lock] = {}


def shared(key: Any, factory: Callable[[], Any], *, long_lived: bool = False) -> Any:
    with _LOCK:
        if key in _RESOURCES:
            return _RESOURCES[key]
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:  # one build per key; other keys build meanwhile
        with _LOCK:
            if key in _RESOURCES:
                return _RESOURCES[key]
        value = factory()
        if long_lived:
            gc.freeze()  # also freezes whatever else lives now: a one-off, bounded cost
        with _LOCK:
            _RESOURCES[key] = value
            _BUILDING.pop(key, None)
        return value


def close_all() -> None:
    with _LOCK:
        items = list(_RESOURCES.values())
        _RESOURCES.clear()
    for item in items:
        close = getattr(item, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # closing is best effort at the end of a run
                pass
