"""Named points where a fault test kills the process, to hit a crash window deterministically.

`ARCHIEFSTROOM_FAILPOINTS="archive.after_objects=3"`: the third time this process passes
`point("archive.after_objects")` it SIGKILLs itself: no cleanup, no flush, as a power cut would.
Several points: comma-separated. Unset (always, in production) a point is one dict lookup. The
points sit between the writer's durable steps (archive/writer.py), so a test can stop a run
exactly between the object write and the offset commit instead of hoping a timer lands there.
"""
from __future__ import annotations

import os
import signal
import threading

ENV = "ARCHIEFSTROOM_FAILPOINTS"


def _parse(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, n = part.partition("=")
        out[name.strip()] = int(n or 1)
    return out


_SPEC = _parse(os.environ.get(ENV, ""))
_PASSED: dict[str, int] = {}
_LOCK = threading.Lock()


def point(name: str) -> None:
    if not _SPEC or name not in _SPEC:
        return
    with _LOCK:
        _PASSED[name] = _PASSED.get(name, 0) + 1
        if _PASSED[name] >= _SPEC[name]:
            os.kill(os.getpid(), signal.SIGKILL)
