"""Benchmark of a backfill: a large backlog archived by `archiefstroom run` as a user starts it.

    .venv/bin/python bench/backfill.py [--events N] [--runner R] [--sample-seconds S]

N events (default 1,000,000: the sample set repeated with fresh ids) are put in the raw
topic first, streamed from a generator (the benchmark never holds the backlog). Then
`archiefstroom run --stop-at` archives them in a child process, and every S seconds the
benchmark samples the resident memory (VmRSS) of that process and of each of its
descendants (Prism, the job server) and the consumer lag. Reported: events/s over the
run, the RSS samples per process (flat = reading is back-pressured; growing with the
backlog = it is not), and `run`'s start-up on the archive the backfill filled.

It starts its own stack on its own ports, in a temporary directory.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from archiefstroom import replay, runner, stack  # noqa: E402
from archiefstroom.ground import kafka as kafka_clients  # noqa: E402
from archiefstroom.ground.config import Config  # noqa: E402
from bench.spine import make_cfg, startup, stream_events  # noqa: E402  (the same set-up and measures)

PORTS = {"broker_port": 46092, "s3_port": 46333, "weed_port_base": 46400}


def produce(cfg: Config, n: int) -> dict[int, int]:
    producer = kafka_clients.producer(cfg.kafka, linger_ms=50)   # replay.produce keeps a future per event
    t = time.monotonic()
    for value in stream_events(n):
        key, headers = replay.message(value)
        producer.send(cfg.topics.raw, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()
    print(f"produced {n} events in {time.monotonic() - t:.0f} s", file=sys.stderr)
    return runner.end_offsets(cfg)


def _tree(pid: int):
    """(pid, command, /proc status text) of `pid` and its descendants; gone processes are skipped."""
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            yield p, status.split("\n", 1)[0].split()[-1], status
            todo.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue


def rss_tree(pid: int) -> dict[str, int]:
    """VmRSS in MiB of `pid` and its descendants, by 'pid:command'."""
    return {f"{p}:{name}": next((int(line.split()[1]) // 1024 for line in status.splitlines()
                                 if line.startswith("VmRSS")), 0) for p, name, status in _tree(pid)}


def cpu_tree(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of `pid` and its descendants, by 'pid:command'."""
    out, tick = {}, os.sysconf("SC_CLK_TCK")
    for p, name, _ in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[f"{p}:{name}"] = round((int(fields[11]) + int(fields[12])) / tick, 1)   # utime, stime
    return out


def backfill(cfg: Config, tmp: Path, n: int, argv: list[str], every_s: float, log: Path | None = None) -> dict:
    ends = produce(cfg, n)
    path = tmp / "backfill.yaml"
    path.write_text(yaml.safe_dump(cfg.as_dict))
    stop = tmp / "stop.json"
    stop.write_text(json.dumps({str(p): e for p, e in ends.items()}))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "archiefstroom.cli", "--config", str(path), "run", "--quiet",
                             "--stop-at", str(stop), *argv], stdout=subprocess.DEVNULL,
                            stderr=open(log or tmp / "run.log", "w"), start_new_session=True)
    samples = []
    try:
        while proc.poll() is None:
            time.sleep(every_s)
            lag = runner.lag(cfg)
            samples.append({"s": round(time.monotonic() - t0), "lag": lag, "rss_mib": rss_tree(proc.pid)})
            print(json.dumps(samples[-1]), file=sys.stderr)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    seconds = time.monotonic() - t0
    peaks: dict[str, int] = {}
    for s in samples:
        for k, v in s["rss_mib"].items():
            name = k.split(":", 1)[1]
            peaks[name] = max(peaks.get(name, 0), v)
    return {"events": n, "returncode": proc.returncode, "seconds": round(seconds), "events_per_s": round(n / seconds, 1),
            "peak_rss_mib": peaks, "samples": samples}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runner", help="Beam runner (default: the config's, prism)")
    ap.add_argument("--sample-seconds", type=float, default=30)
    ap.add_argument("--log", type=Path, help="keep the run's log here")
    args = ap.parse_args()
    argv = ["--runner", args.runner] if args.runner else []
    with tempfile.TemporaryDirectory() as tmp:
        base = make_cfg(Path(tmp), "setup", ensure=False, ports=PORTS)
        stack.up(base, quiet=True)
        try:
            cfg = make_cfg(Path(tmp), "f" + uuid.uuid4().hex[:6], ports=PORTS)
            out = {"backfill": backfill(cfg, Path(tmp), args.events, argv, args.sample_seconds, args.log)}
            out["startup_after"] = startup(cfg, Path(tmp), argv)
            print(json.dumps(out, indent=2))
        finally:
            stack.down(base, quiet=True)


if __name__ == "__main__":
    main()
