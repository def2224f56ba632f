"""The drain request: `archiefstroom run` asks every reader to finish what it has read.

A drain must reach the workers wherever the runner put them: in the launching process
(Prism's LOOPBACK workers) or in separate worker processes (an EXTERNAL worker pool
on the same machine, Flink's local cluster). A marker file in the data directory is
seen by all of them; on a cluster, the runner's own drain (Flink stop-with-savepoint
--drain, Dataflow drain) does the same job (deploy/README.md).
"""
from __future__ import annotations

import os
import time
from pathlib import Path


class DrainSignal:
    """A marker file; `requested()` looks at the file system at most every `every_s`."""

    def __init__(self, path: str | os.PathLike, every_s: float = 0.25):
        self.path = str(path)
        self.every_s = every_s
        self._seen = False
        self._checked = 0.0

    @classmethod
    def for_run(cls, data_dir, group: str) -> "DrainSignal":
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in group)
        return cls(Path(data_dir) / "run" / f"{safe}.drain")

    def requested(self) -> bool:
        if self._seen:
            return True
        now = time.monotonic()
        if now - self._checked >= self.every_s:
            self._checked = now
            self._seen = os.path.exists(self.path)
        return self._seen

    def request(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path).write_text(str(os.getpid()))

    def clear(self) -> None:
        Path(self.path).unlink(missing_ok=True)
        self._seen = False

    def __getstate__(self):  # pickled into the pipeline: only the path travels
        return {"path": self.path, "every_s": self.every_s}

    def __setstate__(self, state):
        self.__init__(state["path"], state["every_s"])
