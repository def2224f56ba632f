"""`archiefstroom replay`: put the shipped sample set (or a JSON-lines file) into the raw topic."""
from __future__ import annotations

import json
from pathlib import Path

from archiefstroom import replay
from archiefstroom.ground import config
from archiefstroom.samples.generator import generate


def register(sub):
    p = sub.add_parser("replay", help="produce the sample data set (or --file FILE.jsonl) into the raw topic")
    p.add_argument("--file", type=Path, help="JSON lines of canonical events (default: the generated sample set)")
    p.add_argument("--seed", type=int, default=None, help="sample generator seed")
    p.add_argument("--offsets-out", type=Path, help="write partition -> end offset JSON here (for run --stop-at)")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    if args.file:
        values = replay.read_lines(args.file)
    else:
        values = generate() if args.seed is None else generate(args.seed)
    ends = replay.produce(cfg, values)
    print(f"replayed {len(values)} events into {cfg.topics.raw}: end offsets {dict(sorted(ends.items()))}")
    if args.offsets_out:
        args.offsets_out.write_text(json.dumps({str(k): v for k, v in ends.items()}))
    return 0
