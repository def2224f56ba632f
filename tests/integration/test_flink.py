"""The same pipeline on Apache Flink (Beam's portable FlinkRunner, an embedded Flink 1.19
cluster started by the job server scripts/setup fetched, LOOPBACK workers), with nothing but
options changed: the archive it writes equals Prism's, and a SIGKILL of the whole run (job
server and Flink included) followed by a restart archives every event exactly once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml

from archiefstroom import replay, runner, runtimes

from .spine_helpers import all_keys, archived_records, body, counts_by_id, topic_messages, wait_for_ledgers
from .test_spine import accounted, sample

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(runtimes.flink_job_server_jar() is None,
                       reason="no Flink job server: scripts/setup fetches it when Maven and Java are there"),
]
FLINK = ["--runner", "flink", "--parallelism", "2"]


def _records(cfg) -> dict[str, list[dict]]:
    """event id -> its records (every version), without what differs between two runs of the
    same events on separate topics and buckets: the time of archiving and the topic's name.
    Object names are left out too (they follow the batches, which follow timing)."""
    out: dict[str, list[dict]] = {}
    for recs in archived_records(cfg).values():
        for r in recs:
            r = dict(r, archived_at=None, source=dict(r["source"], topic=None))
            out.setdefault(r["event"]["event_id"], []).append(r)
    return {i: sorted(rs, key=lambda r: r["record_version"]) for i, rs in out.items()}


def _ledgers(cfg) -> Counter:
    """Every offset's outcome in the ledgers (topic, partition, offset, event, outcome, rule,
    reason, record version), without the object it names. Two things follow timing on any
    runner and are left out: a `held` marker superseded by the same offset's later outcome
    (it is in the ledger only when the hold's batch was written before the hold ended:
    core.batching.plan), and where a line without a key (the malformed ones) went: the
    producer picks its partition at random, so those dead letters are compared without it."""
    entries = []
    for key in all_keys(cfg, "_ledger/"):
        _, topic, partition, _ = key.split("/", 3)
        topic = topic.replace(cfg.topics.raw.rsplit(".", 1)[0], "")   # the test's own topic prefix
        for e in json.loads(body(cfg, key))["entries"]:
            entries.append(((topic, int(partition)), {k: v for k, v in e.items() if k != "object"}))
    decided = {(where, e["offset"]) for where, e in entries if e["kind"] != "held"}
    out = Counter()
    for where, e in entries:
        if e["kind"] == "held" and (where, e["offset"]) in decided:
            continue
        if e["kind"] == "dead_letter" and e.get("event_id") is None:
            where, e = (where[0], None), {k: v for k, v in e.items() if k != "offset"}
        out[(*where, json.dumps(e, sort_keys=True))] += 1
    return out


def _diff(a: Counter, b: Counter) -> str:
    return "only on Flink:\n" + "\n".join(map(str, a - b)) + "\nonly on Prism:\n" + "\n".join(map(str, b - a))


def _archive(cfg) -> dict:
    return {"records": _records(cfg), "ledgers": _ledgers(cfg),
            "dead_letters": sorted(m.value for m in topic_messages(cfg, cfg.topics.dead_letter, timeout_s=3)),
            "alerts": sorted(m.key for m in topic_messages(cfg, cfg.burgerbrief.alert_topic, timeout_s=3))}


def test_the_sample_on_flink_with_parallelism_2_archives_what_prism_archives(make_cfg):
    events, valid_ids, bad = sample()
    on = {"prism": make_cfg(), "flink": make_cfg()}
    for name, cfg in on.items():
        ends = replay.produce(cfg, events)
        summary = runner.run(cfg, stop_at=ends, progress=False, argv=FLINK if name == "flink" else None)
        assert summary.runner == ("FlinkRunner" if name == "flink" else "PrismRunner")
        assert summary.counters["events_read"] == len(events), (name, summary)
        assert summary.lag == 0, (name, summary)
    prism, flink = (_archive(cfg) for cfg in on.values())

    # Prism's archive is right (test_spine checks it in detail); Flink's is the same
    ids = counts_by_id(archived_records(on["flink"]))
    assert ids and max(ids.values()) == 1 and set(ids) <= set(valid_ids)
    assert set(accounted(on["flink"])) >= set(valid_ids)
    assert flink["dead_letters"] == sorted(bad)
    assert sorted(flink["records"]) == sorted(prism["records"])
    for event_id, recs in prism["records"].items():
        assert flink["records"][event_id] == recs, event_id
    assert flink["ledgers"] == prism["ledgers"], _diff(flink["ledgers"], prism["ledgers"])
    assert flink["dead_letters"] == prism["dead_letters"] and flink["alerts"] == prism["alerts"]
    kinds = Counter(json.loads(k[2])["kind"] for k in flink["ledgers"].elements())
    assert kinds["archived"] and kinds["dropped"] and kinds["dead_letter"] == len(bad)


def test_flink_sigkill_of_the_whole_run_then_restart_archives_every_event_exactly_once(make_cfg, tmp_path):
    cfg = make_cfg(pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    events, valid_ids, _ = sample(threads=6)
    first, rest = events[:len(events) // 2], events[len(events) // 2:]
    cfg_file = tmp_path / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.as_dict))
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg_file), "run", "--quiet", *FLINK]
    log = (tmp_path / "run.log").open("w")
    # its own session: the job server (java, with the embedded Flink cluster) is its child
    proc = subprocess.Popen(cli, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ends = replay.produce(cfg, first)
        wait_for_ledgers(cfg, 3, 150, proc, tmp_path / "run.log")
        assert _group_alive(proc.pid), "the job server runs in the run's process group"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(proc.pid), "SIGKILL left part of the run (the job server?) alive"
    committed_at_kill = len(all_keys(cfg, "_ledger/"))
    # the second half arrives while nothing runs: the restart has work of its own, whatever
    # the first run had done when it was killed
    for p, end in replay.produce(cfg, rest).items():
        ends[p] = max(ends.get(p, 0), end)
    stop = tmp_path / "stop.json"
    stop.write_text(json.dumps({str(p): e for p, e in ends.items()}))
    cli = [a for a in cli if a != "--quiet"]
    done = subprocess.run([*cli, "--stop-at", str(stop)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runner FlinkRunner" in done.stdout, done.stdout[-2000:]
    assert len(all_keys(cfg, "_ledger/")) > committed_at_kill
    ids = counts_by_id(archived_records(cfg))
    assert max(ids.values()) == 1
    outcomes = accounted(cfg)
    assert set(outcomes) >= set(valid_ids)
    assert all(kinds.count("archived") <= 1 for kinds in outcomes.values())
    assert runner.lag(cfg) == 0


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (not a zombie)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False
