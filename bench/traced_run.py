"""`archiefstroom ...` with a census of its live Python objects, for memory diagnosis only
(bench/soak.py --profile).

    python bench/traced_run.py OUT_DIR START_AFTER_S EVERY_S -- --config F run ...

Every EVERY_S seconds from START_AFTER_S on (after the models are loaded), the objects the
garbage collector tracks are counted by type, with their shallow sizes, into
OUT_DIR/census-NNN.json; comparing the first with the last (bench/soak.py --profile does) shows
which kinds of objects keep growing. A census, not tracemalloc: tracing every allocation made
the run three times slower, so that it fell behind at 20 events/s and measured itself.
"""
from __future__ import annotations

import gc
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path


def census() -> dict:
    counts, sizes = Counter(), Counter()
    for obj in gc.get_objects():
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj, 0)
    return {"counts": dict(counts), "bytes": dict(sizes), "frozen": gc.get_freeze_count()}


def _census_loop(out: Path, start_after: float, every: float) -> None:
    time.sleep(start_after)
    n = 0
    while True:
        n += 1
        t = time.monotonic()
        doc = census()
        doc["seconds_to_count"] = round(time.monotonic() - t, 2)
        (out / f"census-{n:03d}.json").write_text(json.dumps(doc))
        time.sleep(every)


def main() -> int:
    out, start_after, every = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    args = sys.argv[5:] if sys.argv[4:5] == ["--"] else sys.argv[4:]
    threading.Thread(target=_census_loop, args=(out, start_after, every), daemon=True, name="census").start()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from archiefstroom import cli
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
