"""The capture spine end to end on the real embedded broker and S3 server."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import yaml

from archiefstroom import replay, runner
from archiefstroom.core.layout import ledger_event_id
from archiefstroom.ground import pseudonymisation
from archiefstroom.samples.generator import generate, malformed

from .spine_helpers import (
    all_keys,
    archived_records,
    body,
    counts_by_id,
    ledger_entries,
    read_with_reference_avro,
    tags,
    topic_messages,
    wait_for_ledgers,
)

pytestmark = pytest.mark.integration
SEED = 7


def sample(threads=3):
    events = generate(SEED, threads_per_account=threads)
    bad = malformed(None)
    assert events[-len(bad):] == bad
    valid_ids = [json.loads(e)["event_id"] for e in events[:-len(bad)]]
    return events, valid_ids, bad


def accounted(cfg) -> dict[str, list[str]]:
    """event id -> outcome kinds over all committed ledgers (reaction ids are kept pseudonymised
    in ledgers: they are mapped back here through the same keyed token)."""
    token = pseudonymisation.keyring_for(cfg).token
    back = {ledger_event_id(i, token): i for i in sample()[1]}
    back.update({ledger_event_id(i, token): i for i in sample(threads=1)[1]})
    back.update({ledger_event_id(i, token): i for i in sample(threads=6)[1]})
    out: dict[str, list[str]] = {}
    for e in ledger_entries(cfg):
        if e.get("event_id"):
            out.setdefault(back.get(e["event_id"], e["event_id"]), []).append(e["kind"])
    return out


def test_events_in_are_archived_once_with_tags_and_dead_letters(make_cfg):
    cfg = make_cfg()
    events, valid_ids, bad = sample()
    ends = replay.produce(cfg, events)
    summary = runner.run(cfg, stop_at=ends, progress=False)
    assert summary.counters["events_read"] == len(events), summary

    records = archived_records(cfg)
    ids = counts_by_id(records)
    assert ids
    # nothing duplicated, nothing invented; everything valid archived or accounted for with a reason
    assert max(ids.values()) == 1
    assert set(ids) <= set(valid_ids)
    outcomes = accounted(cfg)
    assert set(outcomes) >= set(valid_ids)
    assert all(kinds == ["archived"] for i, kinds in outcomes.items() if i in ids)
    assert len(ids) + sum(1 for i in valid_ids if i not in ids) == len(valid_ids)

    for key, recs in records.items():
        # readable with the reference implementation too, same content
        ref = read_with_reference_avro(body(cfg, key))
        assert [r["event"]["event_id"] for r in ref] == [r["event"]["event_id"] for r in recs]
        t = tags(cfg, key)
        classes = {r["retention"]["retention_class"] for r in recs}
        assert classes == {t["retention_class"]}, key
        # objects go in monthly destruction lots: never before a record's own date
        untils = {r["retention"]["destroy_after"] for r in recs}
        if t["destroy_after"] == "permanent":
            assert untils == {None}
        else:
            lot = dt.date.fromisoformat(t["destroy_after"])
            assert all(u <= lot and (u.year, u.month) == (lot.year, lot.month) for u in untils), (key, untils)
        assert {r["retention"]["category"] for r in recs} == {t["selectielijst_category"]}
        assert t["schema_version"] == "4" and t["hotspot"] in ("true", "false")
        months = {r["event"]["created_at"].astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y/%m") for r in recs}
        assert months == {key.split("/")[-3] + "/" + key.split("/")[-2]}

    dead = topic_messages(cfg, cfg.topics.dead_letter, timeout_s=3)
    assert sorted(m.value for m in dead) == sorted(bad)
    assert all(dict(m.headers).get("reason") for m in dead)


def test_second_run_adds_nothing(make_cfg):
    cfg = make_cfg()
    events, valid_ids, _ = sample(threads=1)
    ends = replay.produce(cfg, events)
    runner.run(cfg, stop_at=ends, progress=False)
    before = {k: body(cfg, k) for k in all_keys(cfg, cfg.s3.prefix + "/")}
    # the same events again: offsets move on, event ids are recognised
    ends = replay.produce(cfg, events)
    second = runner.run(cfg, stop_at=ends, progress=False)
    after = {k: body(cfg, k) for k in all_keys(cfg, cfg.s3.prefix + "/")}
    assert after == before
    assert second.counters.get("archived", 0) == 0
    assert second.counters.get("duplicates", 0) == len(set(counts_by_id(archived_records(cfg))))


@pytest.mark.parametrize("broker", ["tansu", "kafka"])
def test_sigkill_mid_stream_then_restart_archives_every_event_exactly_once(make_cfg, tmp_path, broker):
    cfg = make_cfg(broker, pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    events, valid_ids, _ = sample(threads=6)
    cfg_file = tmp_path / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.as_dict))
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg_file), "run", "--quiet"]
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(cli, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ends = replay.produce(cfg, events)
        wait_for_ledgers(cfg, 3, 60, proc, tmp_path / "run.log", poll_s=0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    committed_at_kill = len(all_keys(cfg, "_ledger/"))
    stop = tmp_path / "stop.json"
    stop.write_text(json.dumps({str(p): e for p, e in ends.items()}))
    done = subprocess.run([*cli[:-1], "--stop-at", str(stop)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(all_keys(cfg, "_ledger/")) > committed_at_kill, "the kill came after everything was written"
    ids = counts_by_id(archived_records(cfg))
    assert max(ids.values()) == 1
    outcomes = accounted(cfg)
    assert set(outcomes) >= set(valid_ids)
    assert runner.lag(cfg) == 0


def test_sigterm_drains_writes_and_commits_in_flight_records_then_exits(make_cfg, tmp_path):
    cfg = make_cfg(pipeline={"batch_max_records": 5000, "batch_max_seconds": 3600})  # nothing flushes by itself
    events, valid_ids, _ = sample(threads=1)
    cfg_file = tmp_path / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.as_dict))
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg_file), "run"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        ends = replay.produce(cfg, events)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until everything has been read, then drain
            out = (tmp_path / "run.log").read_text()
            if f"read {len(events):>7}" in out:
                break
            time.sleep(0.5)
        assert not all_keys(cfg, "_ledger/"), "with these batch limits only a drain writes"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0, (tmp_path / "run.log").read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    out = (tmp_path / "run.log").read_text()
    assert "draining" in out and "drained after" in out
    assert runner.lag(cfg) == 0
    assert set(accounted(cfg)) >= set(valid_ids)
    assert sum(ends.values()) == len(events)
