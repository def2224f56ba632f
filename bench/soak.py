"""Soak run (issue 14): the streaming pipeline at a steady rate for ten minutes or more, with the
resident memory of every process sampled; flat memory is the target (the slope is reported).

    .venv/bin/python bench/soak.py [--minutes 12] [--rate 20] [--sample-seconds 10] [--warm-minutes 2]
    .venv/bin/python bench/soak.py --caches [--people 800000]

It starts its own stack (Tansu, SeaweedFS) on its own ports in a temporary directory, then
`archiefstroom run` (streaming, Prism, its in-run catalog indexer) in a child process. A thread
of this benchmark stands in for the connectors: it produces sample events with fresh event and
object ids (new posts and reactions, not versions of the same ones) at `rate` per second,
paced per event. Every `sample-seconds` it records VmRSS of: the run and each of its
descendants (Prism, its SDK workers), the broker and the object store, and the consumer lag.

`--caches`: what the per-process caches of a worker that meets new people all the time (the
key ring's tokens, normalised values, the vault's known entries, SQLite's pages) hold at most:
this process pseudonymises N distinct people through the real KeyRing and SharedVault (embedded
SQLite) and prints its RSS every 50,000. A soak shorter than it takes to fill them shows them
growing; this shows where they stop.

Reported per process: RSS at the end of the warm-up, at the end, and the least-squares slope
over the samples after the warm-up (MiB per hour); the lag samples; and the accounting after a
drain: events produced, lag 0, and the ledgers' outcomes (each event once).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from archiefstroom import replay, runner, stack  # noqa: E402
from archiefstroom.core import layout  # noqa: E402
from archiefstroom.ground import kafka as kafka_clients  # noqa: E402
from archiefstroom.ground import s3 as s3io  # noqa: E402
from bench.backfill import rss_tree  # noqa: E402  (one way to read a process tree's memory)
from bench.spine import make_cfg, stream_events  # noqa: E402

PORTS = {"broker_port": 47092, "s3_port": 47333, "weed_port_base": 47400}


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) in MiB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if not sxx else sum((x - mx) * (y - my) for x, y in points) / sxx * 3600


def produce(cfg, rate: float, seconds: float, sent: list[int], done: threading.Event) -> None:
    producer = kafka_clients.producer(cfg.kafka, linger_ms=5)
    try:
        t0 = time.monotonic()
        for value in stream_events(int(rate * seconds) + 1, fresh_objects=True):
            key, headers = replay.message(value)
            producer.send(cfg.topics.raw, key=key, value=value, headers=headers)
            sent[0] += 1
            time.sleep(max(0.0, t0 + sent[0] / rate - time.monotonic()))
            if time.monotonic() - t0 >= seconds:
                break
        producer.flush()
    finally:
        producer.close()
        done.set()


def outcomes(cfg) -> tuple[Counter, int]:
    """Each raw message's final outcome over all ledgers, by its position (partition, offset): archived
    if a batch archived it, else its last entry (a held reaction is released later); and how many
    event ids were archived from more than one position (duplicates in the archive)."""
    reader = s3io.Writer(cfg.s3)
    kinds: dict[tuple[int, int], list[str]] = {}
    archived_at: dict[str, set[tuple[int, int]]] = {}
    for obj in sorted(reader.list(f"{layout.LEDGER_PREFIX}/{layout.safe(cfg.topics.raw)}/"), key=lambda o: o["Key"]):
        doc = json.loads(reader.get(obj["Key"]) or b"{}")
        for e in doc.get("entries", []):
            pos = (doc["partition"], e["offset"])
            kinds.setdefault(pos, []).append(e["kind"])
            if e["kind"] == "archived":
                archived_at.setdefault(e["event_id"], set()).add(pos)
    final = Counter("archived" if "archived" in k else k[-1] for k in kinds.values())
    return final, sum(1 for p in archived_at.values() if len(p) > 1)


def soak(cfg, tmp: Path, minutes: float, rate: float, every_s: float, warm_s: float) -> dict:
    path = tmp / "soak.yaml"
    path.write_text(yaml.safe_dump(cfg.as_dict))
    log = tmp / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "archiefstroom.cli", "--config", str(path), "run", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
    services = {s.name: s.pid for s in stack.status(cfg) if s.alive}
    sent, done = [0], threading.Event()
    producer = threading.Thread(target=produce, args=(cfg, rate, minutes * 60, sent, done), daemon=True)
    samples: list[dict] = []
    t0 = time.monotonic()
    try:
        producer.start()
        while not done.is_set():
            time.sleep(every_s)
            if proc.poll() is not None:
                raise RuntimeError("the run ended during the soak:\n" + log.read_text()[-3000:])
            rss = {f"run/{k.split(':', 1)[1]}:{k.split(':', 1)[0]}": v for k, v in rss_tree(proc.pid).items()}
            for name, pid in services.items():
                rss.update({f"{name}/{k.split(':', 1)[1]}:{k.split(':', 1)[0]}": v for k, v in rss_tree(pid).items()})
            samples.append({"s": round(time.monotonic() - t0), "sent": sent[0], "lag": runner.lag(cfg), "rss_mib": rss})
            print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
        producer.join()
        deadline = time.monotonic() + 300
        while (runner.lag(cfg) or 0) > 0 and time.monotonic() < deadline:
            time.sleep(2)
        time.sleep(cfg.pipeline.batch_max_seconds + 5)
        runner.request_drain(cfg)          # as an operator ends it: the run drains and exits by itself
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if proc.poll() is None:
            runner.stop_process_group(proc)
    if proc.returncode:
        print("the run ended with %s; its log's tail:\n%s" % (proc.returncode, log.read_text()[-3000:]), file=sys.stderr)
    final, twice = outcomes(cfg)
    per_process: dict[str, dict] = {}
    names = sorted({k for s in samples for k in s["rss_mib"]})
    for name in names:
        pts = [(s["s"], s["rss_mib"][name]) for s in samples if name in s["rss_mib"] and s["s"] >= warm_s]
        if len(pts) < 3:        # a short-lived process (e.g. a worker replaced early): not a trend
            continue
        per_process[name] = {"after_warm_up_mib": pts[0][1], "end_mib": pts[-1][1],
                             "max_mib": max(v for _, v in pts), "slope_mib_per_hour": round(slope_per_hour(pts), 1)}
    return {"minutes": minutes, "rate_per_s": rate, "events_produced": sent[0], "warm_up_s": warm_s,
            "samples": len(samples), "lag_at_end": runner.lag(cfg), "returncode": proc.returncode,
            "outcomes": dict(final), "accounted": sum(final.values()), "archived_twice": twice,
            "memory": per_process,
            "lag_max": max((s["lag"] or 0 for s in samples), default=None),
            "lag_samples": " ".join(f"{s['s']}s:{s['lag']}" for s in samples)}


def caches(people: int) -> None:
    import os

    from archiefstroom.core.pseudonymise.keys import KeyRing
    from archiefstroom.ground.vault_db import SharedVault, Store

    def rss() -> int:
        return next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmRSS"))

    ring = KeyRing({"bench": os.urandom(32)}, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        vault = SharedVault(Store.open(f"sqlite:///{tmp}/vault.sqlite", Path(tmp)), os.urandom(32))
        base, held = rss(), []
        print(f"start: RSS {base} MiB")
        for n in range(1, people + 1):
            name = f"Burger Persoon Nummer {n}"
            held.append({ring.token("PERSOON", name): ("PERSOON", name)})
            if len(held) == 1000:          # as the Beam transform holds them
                vault.put_batch("bench", held)
                held = []
            if n % 50_000 == 0:
                vault.sync()
                print(f"{n:>9,} distinct people: RSS {rss()} MiB (+{rss() - base})", flush=True)
        vault.store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--rate", type=float, default=20.0, help="events/s")
    ap.add_argument("--sample-seconds", type=float, default=10)
    ap.add_argument("--warm-minutes", type=float, default=2, help="left out of the slope (models loading, caches)")
    ap.add_argument("--caches", action="store_true", help="only the cache ceiling (see the module docstring)")
    ap.add_argument("--people", type=int, default=800_000)
    args = ap.parse_args()
    if args.caches:
        caches(args.people)
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = make_cfg(Path(tmp), "setup", ensure=False, ports=PORTS)
        try:
            stack.up(base, quiet=True)
            cfg = make_cfg(Path(tmp), "s" + uuid.uuid4().hex[:6], ports=PORTS)
            print(json.dumps(soak(cfg, Path(tmp), args.minutes, args.rate, args.sample_seconds,
                                  args.warm_minutes * 60), indent=2))
        finally:
            stack.down(base, quiet=True)


if __name__ == "__main__":
    main()
