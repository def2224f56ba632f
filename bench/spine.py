"""Benchmark of the capture spine on the embedded stack (figures go in the README).

    .venv/bin/python bench/spine.py [--events N] [--latency-seconds S] [--rate R] [--runner R] [--parallelism P]

1. throughput: the sample set (repeated to N events) is put in the raw topic, then
   the whole pipeline archives it (bounded run). Reported: events/s over the run,
   and the same for the raw-copy baseline: kafka-python consume + fastavro write of
   the same events to S3, no Beam, no rules, no NLP, no pseudonymisation.
2. latency: the pipeline runs continuously while events are produced at R events/s;
   for every burgerbrief alert, the time from the event's append to the raw topic to
   the alert's append to the alert topic; for every archived event, the time from its
   append to the write of its batch's ledger (second resolution: S3 LastModified).

It starts its own stack on its own ports, in a temporary directory. `--runner` (prism, the
default, or flink) and `--parallelism` are handed to `archiefstroom run` as Beam options.

3. objects: records per object and the share of Avro headers in the archive's bytes,
   after the throughput run and after the latency run;
4. start-up: `archiefstroom run` started as a user does, on the archive the throughput
   run filled: seconds to the first record read and to the first batch committed.

The pipeline always runs in the main thread (Beam's portable job server sets a signal
handler when it starts, which only the main thread may do); producers run beside it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import fastavro

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiefstroom import replay, runner, schemas, stack  # noqa: E402
from archiefstroom.core import layout  # noqa: E402
from archiefstroom.ground import kafka as kafka_clients  # noqa: E402
from archiefstroom.ground import s3 as s3io  # noqa: E402
from archiefstroom.ground.config import Config  # noqa: E402
from archiefstroom.ground.settings import from_dict  # noqa: E402
from archiefstroom.samples.generator import generate  # noqa: E402

PORTS = {"broker_port": 45092, "s3_port": 44333, "weed_port_base": 45333}
PIPELINE: dict = {}   # pipeline settings of this benchmark run (--batch-max-seconds)


def make_cfg(data_dir: Path, name: str, *, ensure: bool = True, ports: dict = PORTS, **sections) -> Config:
    doc = stack.isolated_config(data_dir, name, ports, **sections)
    doc.setdefault("pipeline", {}).update(PIPELINE)
    cfg = from_dict(doc, Config).resolve_paths(data_dir)
    cfg.as_dict = doc
    if ensure:
        stack.ensure(cfg)
    return cfg


TIME_FIELDS = ("created_at", "edited_at", "captured_at")


def stream_events(n: int, fresh_objects: bool = False, periods_ending: dt.datetime | None = None):
    """The sample set repeated to n events, generated lazily; repetitions get fresh event ids so
    that they are not duplicates (the sample's deliberately malformed lines stay malformed).
    `fresh_objects`: fresh object ids too (and the thread links that name them), so that a
    repetition holds new posts and reactions rather than new versions of the same ones.
    `periods_ending`: each repetition is moved in time to follow the one before it (the sample's
    span and an hour apart), the last ending at this moment; so event time moves on as in a live
    stream, faster than the clock, and holds expire and harvest windows close during a soak."""
    base = generate()
    shift = period = None
    if periods_ending is not None:
        times = [t for d in _docs(base) for f in TIME_FIELDS if (t := _time_or_none(d.get(f)))]
        period = max(times) - min(times) + dt.timedelta(hours=1)
        last = -(-n // len(base)) - 1
        shift = periods_ending - max(times) - last * period
    sent = i = 0
    while sent < n:
        for raw in base:
            if sent >= n:
                return
            try:
                doc = json.loads(raw)
                doc["event_id"] = f"{doc['event_id']}~{i}"
                if fresh_objects:
                    for k in ("object_id", "in_reply_to", "thread_root"):
                        if doc.get(k):
                            doc[k] = f"{doc[k]}~{i}"
                if shift is not None:
                    _move(doc, shift + i * period)
                yield json.dumps(doc, ensure_ascii=False).encode()
            except (ValueError, KeyError, TypeError):
                yield raw
            sent += 1
        i += 1


def _move(doc: dict, by: dt.timedelta) -> None:
    """The event's times moved by `by`; a time that is not one stays as it is (validation's to judge)."""
    for f in TIME_FIELDS:
        try:
            doc[f] = (_when(doc[f]) + by).isoformat(timespec="microseconds").replace("+00:00", "Z")
        except (KeyError, TypeError, ValueError, AttributeError):
            pass


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


def _time_or_none(value) -> dt.datetime | None:
    try:
        return _when(value)
    except (TypeError, ValueError, AttributeError):
        return None


def _docs(base: list[bytes]):
    for raw in base:
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict):
            yield doc


def events(n: int) -> list[bytes]:
    return list(stream_events(n))


def pipeline_throughput(cfg: Config, values: list[bytes], argv: list[str] | None = None) -> dict:
    ends = replay.produce(cfg, values)
    t = time.monotonic()
    summary = runner.run(cfg, stop_at=ends, progress=False, argv=argv)
    seconds = time.monotonic() - t
    return {"events": len(values), "seconds": round(seconds, 1), "events_per_s": round(len(values) / seconds, 1),
            "archived": summary.counters.get("archived", 0), "dropped": summary.counters.get("dropped", 0)}


def baseline_throughput(cfg: Config, values: list[bytes]) -> dict:
    """kafka-python consume + fastavro write of the same events to S3, nothing else."""
    ends = replay.produce(cfg, values)
    from kafka import TopicPartition
    t = time.monotonic()
    c = kafka_clients.consumer(cfg.kafka)
    tps = [TopicPartition(cfg.topics.raw, p) for p in ends]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    schema = schemas.load("social_event")
    writer = s3io.Writer(cfg.s3)
    done, batch, n_obj = 0, [], 0
    while any(c.position(tp) < ends[tp.partition] for tp in tps):
        for tp, msgs in c.poll(timeout_ms=200, max_records=5000).items():
            for m in msgs:
                done += 1
                try:
                    batch.append(schemas.from_wire(json.loads(m.value), "social_event"))
                except Exception:  # malformed lines: the baseline just skips them
                    pass
        if len(batch) >= 1000:
            buf = io.BytesIO()
            fastavro.writer(buf, schema, batch, codec="deflate")
            writer.put(f"baseline/{n_obj:06d}.avro", buf.getvalue())
            n_obj, batch = n_obj + 1, []
    if batch:
        buf = io.BytesIO()
        fastavro.writer(buf, schema, batch, codec="deflate")
        writer.put(f"baseline/{n_obj:06d}.avro", buf.getvalue())
    c.close()
    seconds = time.monotonic() - t
    return {"events": done, "seconds": round(seconds, 2), "events_per_s": round(done / seconds, 1)}


def alert_latency(cfg: Config, values: list[bytes], rate: float, seconds: float,
                  argv: list[str] | None = None) -> dict:
    """Continuous run; events trickle in at `rate`/s; latency = alert append - raw append.
    The pipeline runs in the main thread (Beam's job server sets a signal handler, which
    only the main thread may); a helper thread produces, samples the consumer lag and
    asks for a drain at the end."""
    sent, lag = [0], []

    def produce():
        producer = kafka_clients.producer(cfg.kafka, linger_ms=0)
        try:
            _warm_up(cfg, producer, values[0])  # measure the steady state, not the models loading
            sent[0] = 1
            t0 = next_lag = time.monotonic()
            while time.monotonic() - t0 < seconds and sent[0] < len(values):
                key, headers = replay.message(values[sent[0]])
                producer.send(cfg.topics.raw, key=key, value=values[sent[0]], headers=headers)
                sent[0] += 1
                if time.monotonic() >= next_lag:
                    lag.append((round(time.monotonic() - t0), runner.lag(cfg)))
                    next_lag += 10
                time.sleep(max(0.0, t0 + sent[0] / rate - time.monotonic()))
            producer.flush()
            time.sleep(cfg.pipeline.batch_max_seconds + 8)
        finally:
            producer.close()
            runner.request_drain(cfg)

    th = threading.Thread(target=produce, daemon=True)
    th.start()
    runner.run(cfg, progress=False, argv=argv)
    th.join(timeout=60)
    from archiefstroom.commands import webcare
    from archiefstroom.core.burgerbrief import alerts
    raw_ts = {}
    for m in webcare.read_topic(cfg, cfg.topics.raw):
        try:
            raw_ts[json.loads(m.value)["event_id"]] = m.timestamp
        except (ValueError, KeyError, TypeError):
            pass
    raw_ts.pop(json.loads(values[0])["event_id"], None)  # the warm-up event
    lat, detect = [], []   # raw append -> alert append; raw append -> classified (the alert's detected_at)
    for m in webcare.read_topic(cfg, cfg.burgerbrief.alert_topic):
        a = alerts.decode(m.value, alerts.ALERT_SCHEMA)
        if a["event_id"] in raw_ts:
            lat.append((m.timestamp - raw_ts[a["event_id"]]) / 1000)
            detect.append(a["detected_at"].timestamp() - raw_ts[a["event_id"]] / 1000)
    # archive latency: raw append -> the ledger of the batch that archived it (written before its objects)
    stored = []
    reader = s3io.Writer(cfg.s3)
    for obj in reader.list(f"{layout.LEDGER_PREFIX}/{layout.safe(cfg.topics.raw)}/"):
        written_ms = obj["LastModified"].timestamp() * 1000
        for e in json.loads(reader.get(obj["Key"]) or b"{}").get("entries", []):
            if e["kind"] == "archived" and e["event_id"] in raw_ts:
                stored.append((written_ms - raw_ts[e["event_id"]]) / 1000)
    return {"events_sent": sent[0], "rate_per_s": rate, "seconds": seconds, "alerts": _percentiles(lat),
            "alerts_to_detection": _percentiles(detect),
            "archived": _percentiles(stored), "lag_every_10s": lag, "objects": object_stats(cfg)}


def object_stats(cfg: Config) -> dict:
    """Records per object and the share of the archive's bytes that is Avro headers."""
    from fastavro.read import HEADER_SCHEMA
    reader = s3io.Writer(cfg.s3)
    objs = [o for o in reader.list(cfg.s3.prefix + "/") if o["Key"].endswith(".avro")]
    total = sum(o["Size"] for o in objs)
    records = header = 0
    for o in objs:
        body = io.BytesIO(reader.get(o["Key"]))
        fastavro.schemaless_reader(body, HEADER_SCHEMA, HEADER_SCHEMA)
        header += body.tell()
        body.seek(0)
        records += sum(1 for _ in fastavro.reader(body))
    if not objs:
        return {"objects": 0}
    return {"objects": len(objs), "records": records, "records_per_object": round(records / len(objs), 1),
            "mean_object_kib": round(total / len(objs) / 1024, 1), "header_share": round(header / total, 3)}


def startup(cfg: Config, tmp: Path, argv: list[str] | None = None, n: int = 50) -> dict:
    """`archiefstroom run` as a user starts it, on an archive that already holds what the
    throughput run archived: seconds from the command to the first new record read and to
    the first new batch committed (rotation set to 1 s for this measurement)."""
    import subprocess

    import yaml
    ledgers = s3io.Writer(cfg.s3)
    before = {o["Key"] for o in ledgers.list(layout.LEDGER_PREFIX + "/")}
    replay.produce(cfg, events(n))
    doc = {**cfg.as_dict, "pipeline": {**cfg.as_dict.get("pipeline", {}), "batch_max_seconds": 1.0}}
    path = tmp / f"startup-{cfg.topics.raw}.yaml"
    path.write_text(yaml.safe_dump(doc))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "archiefstroom.cli", "--config", str(path), "run", *(argv or [])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    first_read = first_commit = None
    try:
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() - t0 < 300 and first_commit is None:
            if first_read is None and sel.select(timeout=0.2):
                line = proc.stdout.readline()
                parts = line.split()
                if len(parts) > 1 and parts[0] == "read" and parts[1].isdigit() and int(parts[1]) > 0:
                    first_read = time.monotonic() - t0
            if any(o["Key"] not in before for o in ledgers.list(layout.LEDGER_PREFIX + "/")):
                first_commit = time.monotonic() - t0
            time.sleep(0.2)
    finally:
        runner.stop_process_group(proc)
    return {"ledgers_before": len(before), "first_read_s": first_read and round(first_read, 1),
            "first_commit_s": first_commit and round(first_commit, 1)}


def _warm_up(cfg: Config, producer, value: bytes, timeout_s: float = 180) -> None:
    """Send one event and wait until it is archived: every stage has started."""
    key, headers = replay.message(value)
    producer.send(cfg.topics.raw, key=key, value=value, headers=headers)
    producer.flush()
    reader, deadline = s3io.Writer(cfg.s3), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(True for _ in reader.list(f"{layout.LEDGER_PREFIX}/{layout.safe(cfg.topics.raw)}/")):
            return
        time.sleep(0.5)
    raise TimeoutError("the pipeline archived nothing within the warm-up time")


def _percentiles(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_s": round(statistics.median(values), 2),
            "p95_s": round(values[int(0.95 * (len(values) - 1))], 2), "max_s": round(values[-1], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5470)
    ap.add_argument("--latency-seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=10.0, help="events/s during the latency run")
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument("--runner", help="Beam runner (default: the config's, prism)")
    ap.add_argument("--parallelism", type=int, help="Beam's --parallelism (Flink; default 2 there)")
    ap.add_argument("--batch-max-seconds", type=float, help="the sink's rotation age (pipeline.batch_max_seconds)")
    args = ap.parse_args()
    if args.batch_max_seconds:
        PIPELINE["batch_max_seconds"] = args.batch_max_seconds
    argv = (["--runner", args.runner] if args.runner else []) + (
        ["--parallelism", str(args.parallelism)] if args.parallelism else [])
    with tempfile.TemporaryDirectory() as tmp:
        base = make_cfg(Path(tmp), "setup", ensure=False)
        stack.up(base, quiet=True)
        try:
            out = {}
            if not args.latency_only:
                values = events(args.events)
                pcfg = make_cfg(Path(tmp), "p" + uuid.uuid4().hex[:6])
                out["pipeline"] = pipeline_throughput(pcfg, values, argv)
                out["pipeline"]["options"] = argv
                out["pipeline"]["objects"] = object_stats(pcfg)
                out["baseline"] = baseline_throughput(make_cfg(Path(tmp), "b" + uuid.uuid4().hex[:6]), values)
                out["ratio_pipeline_to_baseline"] = round(
                    out["pipeline"]["events_per_s"] / out["baseline"]["events_per_s"], 3)
                out["startup"] = startup(pcfg, Path(tmp), argv)
            out["alert_latency"] = alert_latency(make_cfg(Path(tmp), "l" + uuid.uuid4().hex[:6]),
                                                 events(int(args.rate * args.latency_seconds) + 10),
                                                 args.rate, args.latency_seconds, argv)
            print(json.dumps(out, indent=2))
        finally:
            stack.down(base, quiet=True)


if __name__ == "__main__":
    main()
