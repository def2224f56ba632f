"""`archiefstroom demo`: the main job on the embedded default, end to end.

Starts the embedded stack, replays the shipped sample set into the raw topic
(once: a marker remembers it, so a second demo does not put it in twice),
runs the streaming pipeline until everything in the topic is archived, and
prints what was archived where. Running it again archives nothing twice:
offsets are committed, and event ids already in the archive are recognised.
"""
from __future__ import annotations

import json

from archiefstroom import replay, runner, stack
from archiefstroom.archive import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.commands.archive import format_search, format_summary
from archiefstroom.core.catalog import Query
from archiefstroom.ground import config
from archiefstroom.samples.generator import DEFAULT_SEED, generate


def register(sub):
    p = sub.add_parser("demo", help="start the embedded stack, replay the sample set, archive it, print a summary")
    p.add_argument("--seed", type=int, default=None, help="sample generator seed (default: the shipped set)")
    p.set_defaults(func=run)


def _replay_once(cfg, seed) -> str:
    seed = DEFAULT_SEED if seed is None else seed
    marker = stack.stack_dir(cfg) / f"sample-replayed-{seed}.json"
    ends_now = runner.end_offsets(cfg)
    if marker.exists():
        done = {int(k): v for k, v in json.loads(marker.read_text())["ends"].items()}
        if all(ends_now.get(p, 0) >= end for p, end in done.items()):
            return f"sample set (seed {seed}) is already in {cfg.topics.raw}: not replayed again"
    values = generate(seed)
    ends = replay.produce(cfg, values)
    marker.write_text(json.dumps({"seed": seed, "events": len(values), "ends": ends}))
    return f"replayed {len(values)} sample events (seed {seed}) into {cfg.topics.raw}"


def run(args) -> int:
    cfg = config.load(args.config)
    print(f"1/4 embedded stack (data in {cfg.data_dir})", flush=True)
    stack.up(cfg)
    print(f"2/4 {_replay_once(cfg, args.seed)}", flush=True)
    stop_at = runner.end_offsets(cfg)
    print(f"3/4 archiving {cfg.topics.raw} up to offsets {dict(sorted(stop_at.items()))}", flush=True)
    s = runner.run(cfg, stop_at=stop_at)
    c = s.counters
    print(f"    this run: read {c.get('events_read', 0)}, archived {c.get('archived', 0)}, "
          f"dead-lettered {c.get('dead_lettered', 0)}, dropped {c.get('dropped', 0)}, "
          f"duplicates {c.get('duplicates', 0)}, objects written {c.get('objects_written', 0)} "
          f"in {s.seconds:.1f}s; lag now {s.lag}")
    print(f"4/4 the archive: s3://{cfg.s3.bucket}/{cfg.s3.prefix}/ at {cfg.s3.endpoint_url} "
          f"(dead letters in topic {cfg.topics.dead_letter})")
    print(format_summary(read.summarise(cfg, cfg.topics.raw)))
    q = Query("huurtoeslag", limit=3)
    with Catalog.open(cfg) as catalog:
        counts, found = catalog.counts(), catalog.search(q)
    print(f"\nthe catalog ({catalog.db.where}): {counts['entries']} record versions of {counts['latest']} posts and "
          f"reactions, {counts['outcomes']} other outcomes; `archiefstroom archive search huurtoeslag`:")
    print(format_search(found, q))
    print("\nnext: `archiefstroom archive search WORDS`, `archive thread ID`, `archive show ID`, `explain ID`, "
          "`archive ls`, `stack down`")
    return 0
