"""`archiefstroom catalog run|rebuild|status`: the archive's index (SQLite or PostgreSQL).

`run` follows the sink's announcements and indexes each committed batch (a consumer of its
own, so a cluster scales it beside the pipeline; `--partitions` splits the topic over several
instances); `rebuild` recreates the index from the bucket alone.
"""
from __future__ import annotations

import signal
import sys
import threading
import time

from archiefstroom import stack
from archiefstroom.catalog import feed
from archiefstroom.catalog.index import Catalog
from archiefstroom.ground import config
from archiefstroom.ground import metrics as ground_metrics


def register(sub):
    p = sub.add_parser("catalog", help="keep the archive's search index current, rebuild it, or show its size")
    a = p.add_subparsers(dest="catalog_action", required=True, metavar="ACTION")
    r = a.add_parser("run", help="index announced batches until stopped (SIGTERM/Ctrl-C)")
    r.add_argument("--until-caught-up", action="store_true", help="stop once every announcement so far is indexed")
    r.add_argument("--partitions", help="comma-separated partitions of the announcement topic (default: all)")
    a.add_parser("rebuild", help="drop the index and recreate it from the ledgers and objects in the bucket")
    a.add_parser("status", help="what the index holds and how far behind the announcements it is")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    with Catalog.open(cfg) as catalog:
        if args.catalog_action == "rebuild":
            t = time.perf_counter()
            done = feed.rebuild(cfg, catalog)
            print(f"rebuilt {catalog.db.where}: {done.ledgers} batches, {done.records} records, "
                  f"{done.outcomes} other outcomes in {time.perf_counter() - t:.1f} s")
            return 0
        if not cfg.catalog.announce_topic:
            print("archiefstroom: catalog.announce_topic is null: nothing announces batches (use `catalog rebuild`)",
                  file=sys.stderr)
            return 2
        stack.ensure(cfg)
        parts = [int(x) for x in args.partitions.split(",")] if getattr(args, "partitions", None) else None
        with feed.Follower(cfg, catalog, parts) as follower:
            if args.catalog_action == "status":
                print(f"{catalog.db.where}: " + ", ".join(f"{k} {v}" for k, v in catalog.counts().items())
                      + f"; announcements not yet indexed: {follower.lag()}")
                return 0
            server = feed.start_metrics(cfg, follower)
            if args.until_caught_up:
                done = follower.catch_up(timeout_s=3600)
            else:
                stop = threading.Event()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, lambda *_: stop.set())
                follower.follow(stop)
                done = follower.totals
            ground_metrics.stop(server)
            print(f"indexed {done.ledgers} batches ({done.records} records, {done.outcomes} other outcomes; "
                  f"{done.skipped} announced again, already indexed)")
            return 0
