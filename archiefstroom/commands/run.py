"""`archiefstroom run`: the production entry point; streams until stopped (SIGTERM drains)."""
from __future__ import annotations

import json
from pathlib import Path

from archiefstroom import runner, runtimes
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("run", help="run the streaming archiving pipeline until stopped (SIGTERM/Ctrl-C drains)",
                       description="Any other --option is a Beam pipeline option (e.g. --runner flink, "
                                   "--parallelism 2); it wins over pipeline.runner and pipeline.beam_options.")
    p.add_argument("--stop-at", type=Path,
                   help="JSON {partition: end offset} (from replay --offsets-out): stop once those are archived")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run, accepts_beam_options=True)


def run(args) -> int:
    cfg = config.load(args.config)
    stop_at = None
    if args.stop_at:
        stop_at = {int(k): int(v) for k, v in json.loads(args.stop_at.read_text()).items()}
    beam_options = list(getattr(args, "beam_options", []) or [])
    print(f"archiving {cfg.topics.raw} -> s3://{cfg.s3.bucket}/{cfg.s3.prefix}/ "
          f"(runner {runtimes.runner_for(cfg.pipeline.runner, cfg.pipeline.beam_options, beam_options)}); "
          "Ctrl-C or SIGTERM drains and stops", flush=True)
    summary = runner.run(cfg, stop_at=stop_at, progress=not args.quiet, argv=beam_options)
    c = summary.counters
    print(f"{'drained' if summary.drained else 'finished'} after {summary.seconds:.1f}s: read {c.get('events_read', 0)}, "
          f"archived {c.get('archived', 0)}, dead-lettered {c.get('dead_lettered', 0)}, dropped {c.get('dropped', 0)}, "
          f"duplicates {c.get('duplicates', 0)}, objects written {c.get('objects_written', 0)}, "
          f"lag {summary.lag if summary.lag is not None else '?'}")
    return 0
