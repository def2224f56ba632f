"""Benchmark of the catalog (issue 12; figures go in the README).

    .venv/bin/python bench/catalog.py search [--records 1000000] [--db sqlite|postgresql|both]
    .venv/bin/python bench/catalog.py feed [--config deploy/archiefstroom.yaml | --events N]

search: N index entries made from the sample generator's events (its vocabulary, its
  accounts; ids made unique per repetition, creation times spread over four years) are
  indexed in batches of 5,000 as `catalog run` does (records/s), then 20 mixed queries (terms,
  prefixes, exclusions, filters, both versions) run 5 times each: p50/p95/max in ms, without
  and with facets (the web asks for facets). PostgreSQL: a server started on 127.0.0.1.
feed: on an archive that `scripts/demo` filled (or, with --events N, one the pipeline fills
  with N sample events, each repetition with fresh event and object ids, on a stack of this
  benchmark's own, `run`'s indexer thread off),
  (a) `catalog rebuild` from the bucket into a fresh SQLite file, seconds; (b) a fresh
  consumer group follows the announcement topic from its start into another fresh file, as
  `catalog run` does: records/s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiefstroom import pgserver  # noqa: E402
from archiefstroom.catalog import feed  # noqa: E402
from archiefstroom.catalog.index import Catalog  # noqa: E402
from archiefstroom.core.catalog import Query, entry_of  # noqa: E402
from archiefstroom.core.validation import InvalidEvent, parse_event  # noqa: E402
from archiefstroom.ground import config  # noqa: E402
from archiefstroom.ground.config import Config  # noqa: E402
from archiefstroom.ground.settings import from_dict  # noqa: E402
from archiefstroom.samples.generator import generate  # noqa: E402

RETENTION = {"V": {"retention_class": "V", "category": "1.3", "destroy_after": dt.date(2031, 1, 1),
                   "account_type": "corporate", "hotspot": None},
             "B": {"retention_class": "B", "category": "1.1", "destroy_after": None, "account_type": "corporate",
                   "hotspot": None}}
BASE = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)


def sample_events() -> list[dict]:
    out = []
    for raw in generate():
        try:
            out.append(parse_event(raw, max_bytes=1_000_000))
        except InvalidEvent:
            pass
    return out


def entries(n: int):
    """Batches of entries: the sample repeated, each repetition four days later (four years for 1M)."""
    events = sample_events()
    first = min(e["created_at"] for e in events)
    batch, made, rep = [], 0, 0
    chain: dict[str, int] = {}      # object id -> versions so far (rule 10 numbers edits)
    while made < n:
        shift = BASE - first + dt.timedelta(days=4 * rep)
        for ev in events:
            if made >= n:
                break
            ev = {**ev, "event_id": f"{ev['event_id']}#{rep}", "object_id": f"{ev['object_id']}#{rep}",
                  "in_reply_to": ev["in_reply_to"] and f"{ev['in_reply_to']}#{rep}",
                  "thread_root": ev["thread_root"] and f"{ev['thread_root']}#{rep}",
                  "created_at": ev["created_at"] + shift}
            rec = {"event": ev, "source": {"topic": "raw", "partition": made % 3, "offset": made},
                   "retention": RETENTION["B" if ev["event_type"] == "post" else "V"], "record_version": 1,
                   "decision": {"organisation": ev["account"]["display_name"], "publishable": True,
                                "version": chain.setdefault(ev["object_id"], 0) + 1},
                   "burgerbrief": ({"label": hash(ev["event_id"]) % 4 == 0, "score": 0.5, "verdict": None}
                                   if ev["event_type"] == "reply" else None)}
            chain[ev["object_id"]] += 1
            batch.append(entry_of(rec, f"archive/bench/{made // 5000:06d}.avro"))
            made += 1
            if len(batch) == 5000:
                yield batch
                batch = []
        rep += 1
    if batch:
        yield batch


def queries(account: str) -> list[Query]:
    d = dt.date
    return [
        Query("huurtoeslag"), Query("toeslag*"), Query("huurtoeslag aanvraag"), Query("zorgtoeslag", platform="x"),
        Query("woningbouw", date_from=d(2024, 3, 1), date_to=d(2024, 3, 31)), Query("bezwaar", burgerbrief=True),
        Query("energietransitie", retention="1.3"), Query(account=account, date_from=d(2025, 1, 1), date_to=d(2025, 6, 30)),
        Query("stikstof -boeren"), Query("jeugdzorg", event_type="reply"), Query("kinderopvangtoeslag", version="all"),
        Query(platform="mastodon", date_from=d(2026, 1, 1)), Query("digitale overheid"), Query("gemeente*", retention="B"),
        Query("antwoord", burgerbrief=False, platform="facebook"), Query("aow*", date_from=d(2023, 6, 1), date_to=d(2023, 12, 31)),
        Query("woz", version="all", limit=200), Query(event_type="edit"), Query("ov", platform="linkedin"),
        Query(burgerbrief=True, date_from=d(2026, 6, 1), offset=50)]


def _cfg(data_dir: Path, url: str) -> Config:
    return from_dict({"data_dir": str(data_dir), "catalog": {"url": url}}, Config).resolve_paths(data_dir)


def bench_search(n: int, url: str, data_dir: Path) -> dict:
    catalog = Catalog.open(_cfg(data_dir, url))
    t, done = time.perf_counter(), 0
    for batch in entries(n):
        done += catalog.index(batch)
    index_s = time.perf_counter() - t
    account = catalog.search(Query(limit=1)).entries[0].account_handle
    out = {"db": catalog.db.dialect, "records": done, "index_s": round(index_s, 1),
           "index_per_s": round(done / index_s)}
    for facets in (False, True):
        times = []
        for _ in range(5):
            for q in queries(account):
                t = time.perf_counter()
                catalog.search(q, facets=facets)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        key = "with_facets" if facets else "plain"
        out[key] = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * len(times)) - 1], 1),
                    "max_ms": round(times[-1], 1)}
    out["matches"] = [catalog.search(q).total for q in queries(account)]
    catalog.close()
    return out


def bench_feed(cfg_path: str | None, events: int | None = None) -> dict:
    if not events:
        return _feed(config.load(cfg_path))
    from archiefstroom import replay, runner, stack
    from bench.spine import make_cfg, stream_events
    ports = {"broker_port": 48092, "s3_port": 48333, "weed_port_base": 48400}
    tmp = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    base = make_cfg(tmp, "setup", ensure=False, ports=ports)
    stack.up(base, quiet=True)
    try:
        cfg = make_cfg(tmp, "c" + uuid.uuid4().hex[:6], ports=ports)
        cfg.catalog.index_in_run = False
        ends = replay.produce(cfg, stream_events(events, fresh_objects=True))
        summary = runner.run(cfg, stop_at=ends, progress=False)
        return {"archived": summary.counters.get("archived"), **_feed(cfg)}
    finally:
        stack.down(base, quiet=True)


def _feed(cfg: Config) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    rebuilt = _cfg(tmp, f"sqlite:///{tmp}/rebuilt.sqlite")
    rebuilt.s3 = cfg.s3
    rebuilt.catalog.read_processes = cfg.catalog.read_processes
    catalog = Catalog.open(rebuilt)
    t = time.perf_counter()
    done = feed.rebuild(rebuilt, catalog)
    rebuild_s = time.perf_counter() - t
    catalog.close()
    followed = _cfg(tmp, f"sqlite:///{tmp}/followed.sqlite")
    followed.s3, followed.kafka = cfg.s3, cfg.kafka
    followed.catalog.read_processes = cfg.catalog.read_processes
    followed.catalog.announce_topic = cfg.catalog.announce_topic
    followed.catalog.consumer_group = "catalog-bench-" + uuid.uuid4().hex[:8]
    catalog = Catalog.open(followed)
    follower = feed.Follower(followed, catalog)
    t = time.perf_counter()
    got = follower.catch_up(timeout_s=600)
    follow_s = time.perf_counter() - t
    follower.close()
    catalog.close()
    return {"rebuild": {"ledgers": done.ledgers, "records": done.records, "outcomes": done.outcomes,
                        "seconds": round(rebuild_s, 2)},
            "follow": {"announced_batches": got.ledgers, "records": got.records, "seconds": round(follow_s, 2),
                       "records_per_s": round(got.records / follow_s) if follow_s else None}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("search")
    s.add_argument("--records", type=int, default=1_000_000)
    s.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    s.add_argument("--pg-port", type=int, default=45532)
    f = sub.add_parser("feed")
    f.add_argument("--config")
    f.add_argument("--events", type=int, help="archive this many sample events first, on the benchmark's own stack")
    args = p.parse_args(argv)
    if args.what == "feed":
        print(bench_feed(args.config, args.events), flush=True)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    if args.db in ("sqlite", "both"):
        print(bench_search(args.records, "sqlite:///bench.sqlite", tmp), flush=True)
    if args.db in ("postgresql", "both"):
        server = pgserver.Server(args.pg_port).start()
        try:
            print(bench_search(args.records, server.create_database("bench"), tmp), flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
