"""CPU per raw event of each pure stage, without Beam: where a record's own cost goes.

    .venv/bin/python bench/stages.py [--config FILE] [--profile]

The sample set goes through the core functions the transforms wrap, in pipeline order:
validation, the archiving rules, the burgerbrief classifier (reactions, one batch) and
pseudonymisation (archived records; the vault is left out: it is I/O). Reported: CPU
milliseconds per raw event for each stage (process time of this one process, so one
core), and events/s per core for all of them together. The models are built first,
through the same `transforms` factories the pipeline uses, and are not timed.
`--profile` prints cProfile's top functions of the pseudonymiser.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiefstroom.core.rules import engine  # noqa: E402
from archiefstroom.core.rules.registry import government_ids  # noqa: E402
from archiefstroom.core.validation import InvalidEvent, parse_event  # noqa: E402
from archiefstroom.ground import config as config_loader  # noqa: E402
from archiefstroom.ground import registries  # noqa: E402
from archiefstroom.samples.generator import generate  # noqa: E402
from archiefstroom.transforms.burgerbrief import classifier  # noqa: E402
from archiefstroom.transforms.pseudonymise import runtime  # noqa: E402

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "archiefstroom.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    cfg = config_loader.load(args.config)
    registry = registries.load_for(cfg)
    clf = classifier(cfg.burgerbrief)
    rt = runtime(cfg, government_ids(registry))
    rt.vault = None
    raw = generate()
    ms: dict[str, float] = {}

    def timed(name, fn, items):
        t = time.process_time()
        out = [fn(x) for x in items]
        ms[name] = (time.process_time() - t) / len(raw) * 1000
        return out

    def validate(value):
        try:
            return parse_event(value, max_bytes=cfg.pipeline.max_event_bytes)
        except InvalidEvent:
            return None

    events = [e for e in timed("validate", validate, raw) if e is not None]
    now = dt.datetime.now(dt.timezone.utc)
    records = [{"event": e, "source": {"topic": "raw", "partition": 0, "offset": i}, "archived_at": now,
                "pipeline_version": "bench"} for i, e in enumerate(events)]

    def rules(record):
        verdict = engine.evaluate(record["event"], registry, cfg.rules)
        return engine.apply(record, verdict), verdict

    ruled = timed("rules", rules, records)
    archived = [r for r, v in ruled if v.action == "archive"]
    reactions = [r for r in archived if r["event"].get("text")]
    t = time.process_time()
    results = clf.classify_batch([r["event"]["text"] for r in reactions], [None] * len(reactions))
    ms["burgerbrief"] = (time.process_time() - t) / len(raw) * 1000
    for record, res in zip(reactions, results):
        record["burgerbrief"] = res.datum()
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    timed("pseudonymise", rt.pseudonymise, archived)
    if prof:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    total = sum(ms.values())
    print(json.dumps({"raw_events": len(raw), "valid": len(events), "archived": len(archived),
                      "cpu_ms_per_raw_event": {k: round(v, 3) for k, v in ms.items()},
                      "total_ms": round(total, 2), "events_per_s_per_core": round(1000 / total)}, indent=2))


if __name__ == "__main__":
    main()
