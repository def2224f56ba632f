"""Soak run (issue 14): the streaming pipeline at a steady rate for ten minutes or more, with the
resident memory of every process sampled; flat memory is the target (the slope is reported).

    .venv/bin/python bench/soak.py [--minutes 12] [--rate 20] [--sample-seconds 10] [--warm-minutes 2]
    .venv/bin/python bench/soak.py --caches [--people 800000]
    .venv/bin/python bench/soak.py --profile DIR [--broker kafka] ...

It starts its own stack (Tansu, SeaweedFS) on its own ports in a temporary directory, then
`archiefstroom run` (streaming, Prism, its in-run catalog indexer) in a child process. A thread
of this benchmark stands in for the connectors: it produces sample events with fresh event and
object ids (new posts and reactions, not versions of the same ones) at `rate` per second,
paced per event. Each repetition of the sample follows the one before it in event time (its
span and an hour later), the last ending when the soak starts: event time moves on as in a
live stream, only faster (about 9 days per repetition), so holds expire and harvest windows
close and their state goes, as it would over weeks of real traffic. `--sample-times` keeps
the sample's own times instead (event time stands still; the soaks before 2026-12-08 ran so). Every `sample-seconds` it records VmRSS of: the run and each of its
descendants (Prism, its SDK workers), the broker and the object store, and the consumer lag.

`--caches`: what the per-process caches of a worker that meets new people all the time (the
key ring's tokens, normalised values, the vault's known entries, SQLite's pages) hold at most:
this process pseudonymises N distinct people through the real KeyRing and SharedVault (embedded
SQLite) and prints its RSS every 50,000. A soak shorter than it takes to fill them shows them
growing; this shows where they stop.

`--profile DIR`: where the slope comes from. The run is started through `bench/traced_run.py`
(a census of its live objects by type from the end of the warm-up, every `--profile-minutes`)
and Prism is
`bench/prism_pprof` (Prism's own job server plus Go's heap profiler; built with `go build` into
.venv/bin the first time), whose heap profile is saved at the same moments. Printed at the end:
the kinds of Python objects that grew most between the first and the last census, and `go tool pprof -top -diff_base` of Prism's first and last heap profiles.
`--broker kafka` soaks on Apache Kafka (its log on disk) instead of Tansu (topics in memory).

Reported per process: RSS at the end of the warm-up, at the end, and the least-squares slope
over the samples after the warm-up (MiB per hour); the lag samples; and the accounting after a
drain: events produced, lag 0, and the ledgers' outcomes (each event once).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import urllib.request
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
from bench.backfill import cpu_tree, rss_tree  # noqa: E402  (one way to read a process tree's memory and CPU)
from bench.spine import make_cfg, stream_events  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PORTS = {"broker_port": 47092, "s3_port": 47333, "weed_port_base": 47400}
KAFKA = {"broker": "kafka", "controller_port": 47093}
PPROF_PORT = 47061


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) in MiB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if not sxx else sum((x - mx) * (y - my) for x, y in points) / sxx * 3600


def produce(cfg, rate: float, seconds: float, sent: list[int], done: threading.Event, moving_time: bool) -> None:
    producer = kafka_clients.producer(cfg.kafka, linger_ms=5)
    ending = dt.datetime.now(dt.timezone.utc) if moving_time else None
    try:
        t0 = time.monotonic()
        for value in stream_events(int(rate * seconds) + 1, fresh_objects=True, periods_ending=ending):
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


def prism_pprof() -> str:
    """bench/prism_pprof built into .venv/bin (once): Prism with Go's heap profiler."""
    out = Path(sys.executable).parent / "prism-pprof"
    if not out.exists():
        subprocess.run(["go", "build", "-o", str(out), "."], cwd=ROOT / "bench" / "prism_pprof", check=True,
                       env={**os.environ, "GOFLAGS": "-mod=mod"})
    return str(out)


def save_go_heap(profile: Path, n: int) -> None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PPROF_PORT}/debug/pprof/heap?gc=1", timeout=60) as r:
            (profile / f"prism-heap-{n:03d}.pb.gz").write_bytes(r.read())
    except OSError as e:
        print(f"no heap profile from Prism: {e}", file=sys.stderr)


def report_profile(profile: Path, top: int = 15) -> str:
    """The growth between the first and the last census (Python) and heap profile (Prism)."""
    lines = []
    counts = sorted(profile.glob("census-*.json"))
    if len(counts) >= 2:
        first, last = (json.loads(p.read_text()) for p in (counts[0], counts[-1]))
        grew = sorted(last["bytes"], key=lambda k: last["bytes"][k] - first["bytes"].get(k, 0), reverse=True)
        total = sum(last["bytes"].values()) - sum(first["bytes"].values())
        lines.append(f"Python objects (shallow sizes), {counts[0].name} -> {counts[-1].name}: {total / 2**20:+.1f} MiB, "
                     f"{sum(last['counts'].values()) - sum(first['counts'].values()):+d} objects")
        for k in grew[:top]:
            lines.append(f"  {(last['bytes'][k] - first['bytes'].get(k, 0)) / 2**20:+8.2f} MiB "
                         f"{last['counts'][k] - first['counts'].get(k, 0):+9d}  {k}")
    heaps = sorted(profile.glob("prism-heap-*.pb.gz"))
    if len(heaps) >= 2 and shutil.which("go"):
        out = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=25", "-sample_index=inuse_space",
                              "-diff_base", str(heaps[0]), str(heaps[-1])], capture_output=True, text=True)
        lines.append(f"Prism (Go heap, in use), {heaps[0].name} -> {heaps[-1].name}:")
        lines += ["  " + x for x in (out.stdout or out.stderr).splitlines()]
    return "\n".join(lines)


def soak(cfg, tmp: Path, minutes: float, rate: float, every_s: float, warm_s: float,
         profile: Path | None = None, profile_every_s: float = 600, moving_time: bool = True) -> dict:
    path = tmp / "soak.yaml"
    path.write_text(yaml.safe_dump(cfg.as_dict))
    log = tmp / "run.log"
    cmd, env = [sys.executable, "-m", "archiefstroom.cli"], dict(os.environ)
    if profile is not None:
        cmd = [sys.executable, str(ROOT / "bench" / "traced_run.py"), str(profile), str(warm_s), str(profile_every_s), "--"]
        env.update({"ARCHIEFSTROOM_PRISM": prism_pprof(), "PRISM_PPROF_PORT": str(PPROF_PORT)})
    proc = subprocess.Popen([*cmd, "--config", str(path), "run", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
    services = {s.name: s.pid for s in stack.status(cfg) if s.alive}
    sent, done = [0], threading.Event()
    producer = threading.Thread(target=produce, args=(cfg, rate, minutes * 60, sent, done, moving_time), daemon=True)
    samples: list[dict] = []
    t0 = time.monotonic()
    heap_at, heaps = warm_s, 0
    try:
        producer.start()
        while not done.is_set():
            time.sleep(every_s)
            if profile is not None and time.monotonic() - t0 >= heap_at:
                heaps += 1
                save_go_heap(profile, heaps)
                heap_at += profile_every_s
            if proc.poll() is not None:
                raise RuntimeError("the run ended during the soak:\n" + log.read_text()[-3000:])
            label = lambda group, k: f"{group}/{k.split(':', 1)[1]}:{k.split(':', 1)[0]}"  # noqa: E731
            rss = {label("run", k): v for k, v in rss_tree(proc.pid).items()}
            cpu = {label("run", k): v for k, v in cpu_tree(proc.pid).items()}
            for name, pid in services.items():
                rss.update({label(name, k): v for k, v in rss_tree(pid).items()})
                cpu.update({label(name, k): v for k, v in cpu_tree(pid).items()})
            samples.append({"s": round(time.monotonic() - t0), "sent": sent[0], "lag": runner.lag(cfg), "rss_mib": rss,
                            "cpu_s": cpu})
            print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
        producer.join()
        if profile is not None:
            save_go_heap(profile, heaps + 1)
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
                             "max_mib": max(v for _, v in pts), "slope_mib_per_hour": round(slope_per_hour(pts), 1),
                             "cpu_share_by_quarter": cpu_shares(samples, name, warm_s)}
    return {"minutes": minutes, "rate_per_s": rate, "broker": cfg.stack.broker, "durable_broker": cfg.stack.durable_broker, "event_time_moves": moving_time, "events_produced": sent[0], "warm_up_s": warm_s,
            "samples": len(samples), "lag_at_end": runner.lag(cfg), "returncode": proc.returncode,
            "outcomes": dict(final), "accounted": sum(final.values()), "archived_twice": twice,
            "memory": per_process,
            "lag_max": max((s["lag"] or 0 for s in samples), default=None),
            "lag_samples": " ".join(f"{s['s']}s:{s['lag']}" for s in samples)}


def cpu_shares(samples: list[dict], name: str, warm_s: float) -> list[float]:
    """The process's share of one core in each quarter of the soak after the warm-up: a process
    whose work per event grows with what it holds shows it here before the lag does."""
    pts = [(s["s"], s.get("cpu_s", {}).get(name)) for s in samples if s["s"] >= warm_s]
    pts = [(t, c) for t, c in pts if c is not None]
    if len(pts) < 5:
        return []
    out, n = [], len(pts) - 1
    for q in range(4):
        (t0, c0), (t1, c1) = pts[q * n // 4], pts[(q + 1) * n // 4]
        out.append(round((c1 - c0) / (t1 - t0), 2) if t1 > t0 else 0.0)
    return out


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
    ap.add_argument("--sample-times", action="store_true",
                    help="every repetition keeps the sample's own times (event time stands still: no hold "
                         "expires, no harvest window closes)")
    ap.add_argument("--broker", choices=("tansu", "kafka"), default="tansu")
    ap.add_argument("--durable-broker", action="store_true",
                    help="Tansu keeps its log in the embedded S3 server, as `run` does by default "
                         "(the isolated stack of the tests and benchmarks keeps it in memory)")
    ap.add_argument("--profile", type=Path, help="a directory for object censuses and heap profiles (see the module docstring)")
    ap.add_argument("--profile-minutes", type=float, default=10, help="between censuses")
    args = ap.parse_args()
    if args.caches:
        caches(args.people)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ports = {**PORTS, **(KAFKA if args.broker == "kafka" else {})}
        sections = {"stack": {"durable_broker": args.durable_broker}}
        base = make_cfg(Path(tmp), "setup", ensure=False, ports=ports, **sections)
        try:
            stack.up(base, quiet=True)
            cfg = make_cfg(Path(tmp), "s" + uuid.uuid4().hex[:6], ports=ports, **sections)
            print(json.dumps(soak(cfg, Path(tmp), args.minutes, args.rate, args.sample_seconds,
                                  args.warm_minutes * 60, args.profile, args.profile_minutes * 60,
                                  not args.sample_times), indent=2))
            if args.profile is not None:
                print(report_profile(args.profile))
        finally:
            stack.down(base, quiet=True)


if __name__ == "__main__":
    main()
