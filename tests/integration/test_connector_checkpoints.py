"""Connector checkpoints on the compacted Kafka topic (issue 16): a connector whose data
directory is wiped (its secrets kept) resumes where it stopped, with no event missing from
the raw topic and none sent twice. The real `archiefstroom connect` command, in its own
processes, against a fake Mastodon on 127.0.0.1 and the embedded broker."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from archiefstroom import runner
from archiefstroom.ground import kafka as kafka_clients
from tests.unit.connector_fakes import FakePlatform

from .spine_helpers import archived_records, counts_by_id, topic_messages
from .test_connector_e2e import _registry_with_test_accounts, _status, citizen_account, mastodon_route

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _connect(main_cfg: Path, conn_cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(main_cfg), "connect", "mastodon",
                           "--config", str(conn_cfg), "--once"], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TEST_MASTODON_TOKEN": "tok-123"})


def test_a_connector_on_an_empty_disk_resumes_from_its_kafka_checkpoint(make_cfg, tmp_path):
    topic = f"cp{uuid.uuid4().hex[:8]}.connector-checkpoints"
    cfg = make_cfg(topics={"connector_checkpoints": topic})
    main_cfg = tmp_path / "archiefstroom.yaml"
    main_cfg.write_text(yaml.safe_dump(cfg.as_dict))
    citizen = citizen_account()
    posts = [_status(700 + i, f"Bekendmaking {i}") for i in range(3)]
    replies = {"700": [_status(800, "Wanneer gaat dit in?", 700, citizen)]}

    fake = FakePlatform(mastodon_route(posts, replies))
    data_dir = tmp_path / "connector-data"
    secrets = tmp_path / "secrets"            # kept: only the data directory is wiped
    secrets.mkdir()
    conn_cfg = secrets / "mastodon.yaml"
    conn_cfg.write_text(yaml.safe_dump({"platform": "mastodon", "name": "mastodon-gemeente", "base_url": fake.url,
                                        "token": {"env": "TEST_MASTODON_TOKEN"}, "data_dir": str(data_dir),
                                        "accounts": [{"id": "1", "handle": "gemeente@social.example"}]}))
    try:
        first = _connect(main_cfg, conn_cfg)
        assert first.returncode == 0, first.stderr
        assert "mastodon-gemeente: 4 events" in first.stderr
        assert not (data_dir / "connectors" / "mastodon-gemeente.json").exists()   # nothing on the local disk

        shutil.rmtree(data_dir, ignore_errors=True)                  # the machine is gone; a new one starts
        posts.append(_status(703, "Bekendmaking 3"))
        replies["700"].append(_status(801, "En wanneer is het klaar?", 700, citizen))
        second = _connect(main_cfg, conn_cfg)
        assert second.returncode == 0, second.stderr
        assert "mastodon-gemeente: 2 events" in second.stderr        # the new post and the new reply only
    finally:
        fake.close()

    ids = [json.loads(m.value)["event_id"] for m in topic_messages(cfg, cfg.topics.raw, timeout_s=3)]
    assert sorted(ids) == sorted({f"mastodon:{n}" for n in (700, 701, 702, 703, 800, 801)})   # once each
    stored = json.loads(kafka_clients.read_compacted(cfg.kafka, topic)[b"mastodon-gemeente"])
    assert stored, "the checkpoint is the topic's value for the connector's name"


def test_pipeline_and_connector_restarted_on_empty_disks_miss_nothing_and_tokens_stay_reidentifiable(
        make_cfg, tmp_path, postgres):
    """The issue's scenario: the pipeline's and the connector's data directories are wiped (the
    secrets kept), both start again: no event missing or twice in Kafka or the archive, and a
    token archived before the wipe is re-identified from the vault on PostgreSQL, its audit
    entries intact and the chain verified."""
    topic = f"cp{uuid.uuid4().hex[:8]}.connector-checkpoints"
    pipeline_dir = tmp_path / "pipeline-data"
    vault = {"enabled": True, "key": "base64:" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
             "url": postgres.create_database("vaultwipe" + uuid.uuid4().hex[:6])}
    cfg = make_cfg(topics={"connector_checkpoints": topic},
                   rules={"accounts": str(_registry_with_test_accounts(tmp_path))},
                   pseudonymisation={"key_id": "test-2026", "key": "a-test-key-that-is-long-enough-for-hmac",
                                     "allow_dev_key": False, "vault": vault})
    cfg.data_dir = pipeline_dir          # the pipeline's own disk (the session stack keeps its data dir)
    cfg.as_dict["data_dir"] = str(pipeline_dir)
    main_cfg = tmp_path / "secrets-archiefstroom.yaml"
    main_cfg.write_text(yaml.safe_dump(cfg.as_dict))
    citizen = citizen_account()
    posts = [_status(900 + i, f"Bekendmaking {i}") for i in range(2)]
    replies = {"900": [_status(950, "Bel me op 06-12345678 aub", 900, citizen)]}

    fake = FakePlatform(mastodon_route(posts, replies))
    conn_dir = tmp_path / "connector-data"
    conn_cfg = tmp_path / "mastodon.yaml"
    conn_cfg.write_text(yaml.safe_dump({"platform": "mastodon", "name": "mastodon-wipe", "base_url": fake.url,
                                        "data_dir": str(conn_dir),
                                        "accounts": [{"id": "1", "handle": "gemeente@social.example"}]}))
    try:
        assert _connect(main_cfg, conn_cfg).returncode == 0
        runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
        before = [r for recs in archived_records(cfg).values() for r in recs]
        reply = next(r for r in before if r["event"]["event_id"] == "mastodon:950")
        token = next(t for t in reply["event"]["text"].split() if t.startswith("[TEL-"))

        shutil.rmtree(pipeline_dir)
        shutil.rmtree(conn_dir, ignore_errors=True)
        posts.append(_status(902, "Bekendmaking 2"))
        replies["900"].append(_status(951, "Nog steeds geen antwoord", 900, citizen))
        second = _connect(main_cfg, conn_cfg)
        assert "mastodon-wipe: 2 events" in second.stderr, second.stderr
        runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    finally:
        fake.close()

    raw_ids = [json.loads(m.value)["event_id"] for m in topic_messages(cfg, cfg.topics.raw, timeout_s=3)]
    assert sorted(raw_ids) == ["mastodon:900", "mastodon:901", "mastodon:902", "mastodon:950", "mastodon:951"]
    archived = counts_by_id(archived_records(cfg))
    assert max(archived.values()) == 1 and {"mastodon:950", "mastodon:951"} <= set(archived)
    ask = ["reidentify", token, "--role", "privacy-officer", "--reason", "WOO-2026-0016", "--actor", "tester"]
    shown = subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(main_cfg), *ask],
                           capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0 and "06-12345678" in shown.stdout, shown.stderr
    verified = subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(main_cfg),
                               "reidentify", "verify-audit"], capture_output=True, text=True, cwd=ROOT)
    assert verified.returncode == 0 and "1 entries" in verified.stdout


def test_a_connector_killed_mid_page_resumes_with_no_gap(make_cfg, tmp_path):
    """Killed (failpoint) after Kafka acknowledged its second page and before the checkpoint
    moved: the restarted connector sends that page again (same event ids) and goes on; the raw
    topic has every post, and the archive each once."""
    cfg = make_cfg(rules={"accounts": str(_registry_with_test_accounts(tmp_path))})
    main_cfg = tmp_path / "archiefstroom.yaml"
    main_cfg.write_text(yaml.safe_dump(cfg.as_dict))
    posts = [_status(1000 + i, f"Bekendmaking {i}") for i in range(25)]

    def route(method, path, query, headers, body):   # Mastodon's min_id paging: the page just after it
        if path.endswith("/statuses"):
            newer = sorted((p for p in posts if int(p["id"]) > int(query.get("min_id", 0))), key=lambda p: int(p["id"]))
            return 200, {}, sorted(newer[:int(query.get("limit", 20))], key=lambda p: -int(p["id"]))
        if path.endswith("/context"):
            return 200, {}, {"ancestors": [], "descendants": []}
        return 404, {}, {}

    fake = FakePlatform(route)
    conn_cfg = tmp_path / "mastodon.yaml"
    conn_cfg.write_text(yaml.safe_dump({"platform": "mastodon", "name": "mastodon-kill", "base_url": fake.url,
                                        "data_dir": str(tmp_path / "connector-data"), "page_size": 10,
                                        "accounts": [{"id": "1", "handle": "gemeente@social.example"}]}))
    cmd = [sys.executable, "-m", "archiefstroom.cli", "--config", str(main_cfg), "connect", "mastodon",
           "--config", str(conn_cfg), "--once"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    try:
        killed = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                env={**env, "ARCHIEFSTROOM_FAILPOINTS": "connector.after_send=2"})
        assert killed.returncode == -9, killed.stderr[-2000:]
        sent_before = [json.loads(m.value)["event_id"] for m in topic_messages(cfg, cfg.topics.raw, timeout_s=3)]
        assert sorted(sent_before) == [f"mastodon:{1000 + i}" for i in range(20)]   # two pages acknowledged
        again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        assert again.returncode == 0, again.stderr[-2000:]
    finally:
        fake.close()
    raw = Counter(json.loads(m.value)["event_id"] for m in topic_messages(cfg, cfg.topics.raw, timeout_s=3))
    assert set(raw) == {f"mastodon:{1000 + i}" for i in range(25)}                 # no gap
    assert {eid for eid, n in raw.items() if n > 1} == {f"mastodon:{1010 + i}" for i in range(10)}  # that page again
    runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    assert counts_by_id(archived_records(cfg)) == {f"mastodon:{1000 + i}": 1 for i in range(25)}
