"""Fault tests on the embedded stack (issue 14). The pipeline killed (SIGKILL) three times while it
works through a backlog, each time at a failpoint inside the window between a batch's durable
steps (ground/failpoints.py, archive/writer.py) — after the ledger, after the objects, after the
side topics and before the offset commit — then run to the end. Every event is accounted for
once, and as in a run nobody killed. S3 away for 30 s mid-stream: the writer waits it out
(pipeline.outage_seconds) and nothing is lost. The broker stopped for 10 s and started again
mid-stream: the run finds it again within seconds and nothing is lost."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml
from kafka import TopicPartition

from archiefstroom import replay, runner, stack
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import from_dict
from tests.conftest import TEST_PORTS

from .spine_helpers import all_keys, archived_records, body, counts_by_id
from .test_spine import accounted, sample

pytestmark = pytest.mark.integration
KILLS = ("archive.after_ledger=2", "archive.after_objects=3", "archive.before_commit=2")


def _committed(cfg) -> dict[int, int]:
    tps = [TopicPartition(cfg.topics.raw, p) for p in range(cfg.topics.partitions)]
    return {tp.partition: off or 0 for tp, off in kafka_clients.committed(cfg.kafka, tps).items()}


def _ledger_ends(cfg) -> dict[int, int]:
    """partition -> end + 1 of the furthest ledger written (intent: may be ahead of the commit)."""
    out: dict[int, int] = {}
    for key in all_keys(cfg, "_ledger/"):
        doc = json.loads(body(cfg, key))
        out[doc["partition"]] = max(out.get(doc["partition"], 0), doc["end"] + 1)
    return out


def _final(kinds: list[str]) -> str:
    """An event's outcome over every ledger: archived if any batch archived it (a redone batch
    after a kill may also list it as a duplicate), else what its last entry says (held: still
    waiting on the held topic)."""
    return "archived" if "archived" in kinds else kinds[-1]


def test_three_kills_inside_the_write_window_lose_and_duplicate_nothing(make_cfg, tmp_path):
    cfg = make_cfg(pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    events, valid_ids, bad = sample(threads=6)
    cfg_file = tmp_path / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.as_dict))
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg_file), "run", "--quiet"]
    ends = replay.produce(cfg, events)                   # the backlog the runs work through
    windows = []
    for n, kill in enumerate(KILLS):
        log = tmp_path / f"run-{n}.log"
        env = {**os.environ, "ARCHIEFSTROOM_FAILPOINTS": kill}
        with log.open("w") as out:
            proc = subprocess.Popen(cli, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
            try:
                code = proc.wait(timeout=240)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)      # what the kill left of the run (Prism)
                except ProcessLookupError:
                    pass
        assert code == -signal.SIGKILL, f"{kill}: the run ended with {code}, not at its failpoint:\n" + \
            run_log(log)[-3000:]
        committed, written = _committed(cfg), _ledger_ends(cfg)
        # the window was hit: some partition has a ledger (intent) past what the group committed
        windows.append(any(written.get(p, 0) > committed.get(p, 0) for p in written))
    assert windows == [True, True, True]

    stop = tmp_path / "stop.json"
    stop.write_text(json.dumps({str(p): e for p, e in ends.items()}))
    done = subprocess.run([*cli[:-1], "--stop-at", str(stop)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    ids = counts_by_id(archived_records(cfg))
    assert max(ids.values()) == 1                                     # nothing archived twice
    outcomes = accounted(cfg)
    missing = set(valid_ids) - set(outcomes)
    assert not missing, sorted(missing)[:5]                           # nothing lost
    # and each ends as it does in a run nobody killed (same events, a fresh archive)
    calm = make_cfg(pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    runner.run(calm, stop_at=replay.produce(calm, events), progress=False)
    expected = {eid: _final(kinds) for eid, kinds in accounted(calm).items()}
    assert {eid: _final(kinds) for eid, kinds in outcomes.items()} == expected
    assert Counter(expected.values())["archived"] == len(ids)
    assert runner.lag(cfg) == 0
    assert _committed(cfg) == {p: e for p, e in ends.items()} | {p: 0 for p in range(cfg.topics.partitions)
                                                                   if p not in ends}


@pytest.fixture
def own_stack(tmp_path, request):
    """A stack of its own (the outage must not reach other tests' stack), on ports beside the
    session stack's: SeaweedFS, and Tansu in memory (or, with `durable`, its log in S3, so that
    it can be stopped and started again)."""
    ports = {"broker_port": TEST_PORTS["broker_port"] + 7, "s3_port": TEST_PORTS["s3_port"] + 7,
             "weed_port_base": TEST_PORTS["weed_port_base"] + 20, "broker": "tansu"}
    durable = getattr(request, "param", False)
    doc = stack.isolated_config(tmp_path / "stack", "outage", ports, stack={"durable_broker": durable},
                                pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    cfg = from_dict(doc, Config).resolve_paths(tmp_path / "stack")
    cfg.as_dict = doc
    try:
        stack.up(cfg, quiet=True)
        stack.ensure(cfg)
        yield cfg
    finally:
        stack.down(cfg, quiet=True)


@contextlib.contextmanager
def streaming(cfg, tmp_path, first_half: list[bytes]):
    """`run` as a user starts it, fed `first_half`, once its first batch is committed; at the
    end drained (SIGTERM), or killed if the drain hangs. Yields the run's log path."""
    cfg_file = tmp_path / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.as_dict))
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg_file), "run", "--quiet"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        replay.produce(cfg, first_half)
        deadline = time.monotonic() + 120
        while not all_keys(cfg, "_ledger/") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert all_keys(cfg, "_ledger/"), run_log(log)[-3000:]
        yield proc, log
    finally:
        runner.stop_process_group(proc)


def caught_up(cfg, proc, log, timeout_s: float = 480) -> None:
    """Until the group has committed the raw topic's log end (lag 0). A lag of None (the broker
    does not answer) is not caught up; `timeout_s` is only the ceiling."""
    deadline = time.monotonic() + timeout_s
    while runner.lag(cfg) != 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1)
    assert runner.lag(cfg) == 0, (f"lag per partition {runner.partition_lag(cfg)}, run exit {proc.poll()}:\n"
                                  + run_log(log)[-6000:])


def run_log(log) -> str:
    """The run's log without kafka-python's unclosed-socket warnings (a reconnect loop leaves
    one per attempt while the broker is away): they push the lines that matter out of view."""
    out, skip = [], False
    for line in log.read_text(errors="replace").splitlines():
        if "ResourceWarning" in line:
            skip = "Enable tracemalloc" not in line
            continue
        if skip and line.startswith("  "):
            skip = False
            continue
        skip = False
        out.append(line)
    return "\n".join(out)


def each_once(cfg, valid_ids) -> None:
    ids = counts_by_id(archived_records(cfg))
    assert ids and max(ids.values()) == 1
    assert not set(valid_ids) - set(accounted(cfg))


def test_s3_down_for_30_seconds_mid_stream_loses_nothing(own_stack, tmp_path):
    cfg = own_stack
    events, valid_ids, _ = sample(threads=3)
    half = len(events) // 2
    with streaming(cfg, tmp_path, events[:half]) as (proc, log):
        stack.down(cfg, quiet=True, services=("seaweedfs",))          # the object store goes away
        replay.produce(cfg, events[half:])                           # the broker keeps taking events
        time.sleep(30)
        assert proc.poll() is None, "the run gave up while S3 was away:\n" + run_log(log)[-3000:]
        stack.up(cfg, quiet=True)                                    # and comes back
        caught_up(cfg, proc, log)
        assert "the object store unreachable" in log.read_text()      # the writer met the outage and waited
    each_once(cfg, valid_ids)


@pytest.mark.parametrize("own_stack", [True], indirect=True)
def test_the_broker_stopped_and_started_again_mid_stream_loses_nothing(own_stack, tmp_path):
    cfg = own_stack
    events, valid_ids, _ = sample(threads=3)
    half = len(events) // 2
    with streaming(cfg, tmp_path, events[:half]) as (proc, log):
        stack.down(cfg, quiet=True, services=("tansu",))              # the broker goes away ...
        time.sleep(10)
        stack.up(cfg, quiet=True)                                    # ... and comes back with its log
        assert proc.poll() is None, "the run gave up while the broker was away:\n" + run_log(log)[-3000:]
        replay.produce(cfg, events[half:])
        caught_up(cfg, proc, log)
    each_once(cfg, valid_ids)
