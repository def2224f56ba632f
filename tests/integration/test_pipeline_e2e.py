"""The whole pipeline on the embedded stack with the sample set: the archiving rules decide,
burgerbrieven raise alerts and webcare verdicts make new record versions, and no personal
value of the sample reaches the archive bucket in the clear (re-identification through the
vault gives it back)."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter

import fastavro
import pytest
import yaml

from archiefstroom import replay, runner, schemas
from archiefstroom.catalog import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.commands import webcare
from archiefstroom.commands.archive import format_history
from archiefstroom.core.burgerbrief import alerts
from archiefstroom.core.rules import holds, versions
from archiefstroom.core.validation import InvalidEvent, parse_event
from archiefstroom.ground import pseudonymisation, registries
from archiefstroom.samples.generator import generate_with_personal

from .spine_helpers import all_keys, archived_records, body, ledger_entries, topic_messages

pytestmark = pytest.mark.integration
SEED, THREADS = 11, 4
VAULT_KEY = "base64:" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module", params=["tansu", "kafka"])
def run(request, tmp_path_factory, stack_cfg, stack_dir):
    """One bounded run of the sample set through the whole pipeline, on each broker: every
    test below expects the same archive from both."""
    import uuid

    from archiefstroom import stack
    from tests.conftest import build_cfg, config_dict
    broker = request.param
    if broker == "kafka":
        request.getfixturevalue("kafka_stack_cfg")
    name = "e2e" + uuid.uuid4().hex[:8]
    extra = {"pseudonymisation": {"key_id": "test-2026", "key": "a-test-key-that-is-long-enough-for-hmac",
                                  "allow_dev_key": False,
                                  "vault": {"enabled": True, "key": VAULT_KEY, "path": f"vault-{name}",
                                            "audit_log": f"vault-{name}/audit.jsonl"}}}
    if broker == "kafka":   # the catalog on its production database beside the second broker
        extra["catalog"] = {"url": request.getfixturevalue("postgres").create_database(name)}
    cfg = build_cfg(stack_dir, name, broker, **extra)
    stack.ensure(cfg)
    cfg_file = tmp_path_factory.mktemp("e2e") / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(config_dict(stack_dir, name, broker, **extra)))
    events, personal = generate_with_personal(SEED, threads_per_account=THREADS)
    ends = replay.produce(cfg, events)
    summary = runner.run(cfg, stop_at=ends, progress=False)
    return {"cfg": cfg, "file": cfg_file, "events": events, "personal": personal, "summary": summary}


def _catalog(cfg, call, *args):
    with Catalog.open(cfg) as catalog:
        return call(cfg, *args, catalog)


def _valid_records(cfg, events):
    out = []
    for i, raw in enumerate(events):
        try:
            ev = parse_event(raw, max_bytes=cfg.pipeline.max_event_bytes)
        except InvalidEvent:
            continue
        out.append({"event": ev, "source": {"topic": cfg.topics.raw, "partition": 0, "offset": i},
                    "archived_at": ev["captured_at"], "pipeline_version": "expected"})
    return out


def test_the_rules_decide_what_is_archived(run):
    cfg = run["cfg"]
    reg = registries.load_for(cfg)
    expected = holds.outcome_counts(holds.simulate(_valid_records(cfg, run["events"]), reg, cfg.rules))
    want = Counter()
    for (kind, _rule), n in expected.items():
        want[kind] += n
    got = Counter(e["kind"] for e in ledger_entries(cfg) if e.get("event_id"))
    assert got["archived"] == want["archived"] > 0
    # every dropped event has a rule as its reason, and the counts per rule match the pure core
    dropped = Counter(e["reason"].split(":")[0] for e in ledger_entries(cfg) if e["kind"] == "dropped")
    assert dropped == Counter({rule: n for (kind, rule), n in expected.items() if kind == "dropped"})
    assert run["summary"].counters["archived"] == want["archived"]


def test_no_personal_value_reaches_the_archive_in_the_clear(run):
    cfg = run["cfg"]
    personal = sorted(v for v in run["personal"] if len(v) >= 6)
    assert len(personal) > 100
    pattern = re.compile("|".join(re.escape(v) for v in personal))
    scanned = 0
    for key in all_keys(cfg):
        data = body(cfg, key)
        if key.endswith(".avro"):
            recs = list(fastavro.reader(io.BytesIO(data)))
            text = json.dumps([schemas.to_wire(r, "archive_record") for r in recs], ensure_ascii=False)
            assert all(r["pseudonymisation"] and r["pseudonymisation"]["key_id"] == "test-2026" for r in recs)
        else:
            text = data.decode("utf-8", "replace")
        leaked = pattern.findall(text)
        assert not leaked, f"{key} holds personal data in the clear: {sorted(set(leaked))[:5]}"
        scanned += 1
    assert scanned > 10


def test_a_pseudonym_is_reidentified_through_the_vault_with_role_and_reason(run):
    cfg = run["cfg"]
    token = None
    for key in all_keys(cfg, cfg.s3.prefix + "/"):
        for rec in fastavro.reader(io.BytesIO(body(cfg, key))):
            m = re.search(r"\[TEL-[0-9a-f]{6,32}\]", rec["event"]["text"] or "")
            if m:
                token = m.group(0)
                break
        if token:
            break
    assert token, "the sample has phone numbers in archived reactions"
    cli = [sys.executable, "-m", "archiefstroom.cli", "--config", str(run["file"]), "reidentify", token]
    refused = subprocess.run([*cli, "--role", "intern", "--reason", "WOO-2026-0001"], capture_output=True, text=True)
    assert refused.returncode != 0
    ok = subprocess.run([*cli, "--role", "woo-coordinator", "--reason", "WOO-2026-0001"], capture_output=True,
                        text=True, env={**os.environ})
    assert ok.returncode == 0, ok.stderr
    assert any(v in ok.stdout for v in run["personal"] if re.search(r"\d{4}", v))
    store = pseudonymisation.open_store(cfg.pseudonymisation, cfg.data_dir)   # the audit log is in the vault
    audit = [(e["reason"], e["outcome"]) for e in store.audit_entries()]
    assert ("WOO-2026-0001", "refused") in audit and ("WOO-2026-0001", "revealed 1") in audit
    assert store.verify_audit()[0]


def test_a_burgerbrief_raises_an_alert_and_a_webcare_verdict_makes_a_new_version(run):
    cfg = run["cfg"]
    msgs = topic_messages(cfg, cfg.burgerbrief.alert_topic, timeout_s=3)
    assert msgs, "burgerbrieven in the sample raise alerts"
    decoded = [alerts.decode(m.value, alerts.ALERT_SCHEMA) for m in msgs]
    alert = next(a for a in decoded if a["label"])
    archived = [f for f in _catalog(cfg, read.lookup, alert["event_id"]) if f["kind"] == "archived"]
    assert [f["record"]["record_version"] for f in archived] == [1]
    assert archived[0]["record"]["burgerbrief"]["label"] is True

    webcare.send_verdict(cfg, alert["event_id"], "b", "anna", alert=alert)
    runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    recorded = sorted((f["record"] for f in _catalog(cfg, read.lookup, alert["event_id"]) if f["kind"] == "archived"),
                      key=lambda r: r["record_version"])
    assert [v["record_version"] for v in recorded] == [1, 2]
    verdict = recorded[1]["burgerbrief"]["verdict"]
    assert verdict["decision"] == "burgerbrief" and verdict["by"] == "anna"
    assert recorded[1]["retention"]["category"] == cfg.burgerbrief.selectielijst_category


def _archived_links(cfg) -> dict[str, tuple]:
    """event id -> (supersedes, original, version) of every archived edit and tombstone."""
    return {r["event"]["event_id"]: (r["decision"]["supersedes"], r["decision"]["original"], r["decision"]["version"])
            for recs in archived_records(cfg).values() for r in recs
            if r["event"]["event_type"] in versions.VERSIONED and r["record_version"] == 1}


def test_edits_link_to_the_previous_version_and_tombstones_to_the_original(run):
    cfg = run["cfg"]
    outs = holds.simulate(_valid_records(cfg, run["events"]), registries.load_for(cfg), cfg.rules)
    expected = {r["event"]["event_id"]: (r["decision"]["supersedes"], r["decision"]["original"], r["decision"]["version"])
                for r in versions.simulate(o.record for o in outs if o.record is not None)
                if versions.version_of(r["event"])}
    got = _archived_links(cfg)
    assert got == expected
    assert max(v for _, _, v in got.values()) >= 3, "the sample has objects edited twice"
    assert any(eid.endswith(":delete") and sup != orig for eid, (sup, orig, _) in got.items()), \
        "a tombstone of an edited post follows its last edit and names the original"
    # `archive history` walks the longest chain: original, edits, maybe a tombstone, each following the one before
    longest = max(got.values(), key=lambda link: link[2])[1]
    chain = _catalog(cfg, read.history, longest)
    assert chain[0]["event"]["event_id"] == longest and len(chain) >= 3
    assert all(b["decision"]["supersedes"] == a["event"]["event_id"] for a, b in zip(chain, chain[1:]))
    assert "follows " + longest in format_history(chain)
    # every archived edit/delete is on the compacted versions topic (ids and times only)
    logged = {m.key.decode() for m in topic_messages(cfg, cfg.rules.versions_topic, timeout_s=3) if m.value}
    assert logged == set(got)


def test_after_a_restart_a_new_edit_links_to_the_last_archived_version(run):
    """A new run has empty Beam state: the link comes from the versions topic."""
    cfg = run["cfg"]
    got = _archived_links(cfg)
    deleted = {orig for eid, (_, orig, _) in got.items() if eid.endswith(":delete")}
    last, (_, original, number) = max(((eid, link) for eid, link in got.items()
                                       if link[1] not in deleted and ":edit:" in eid), key=lambda kv: kv[1][2])
    raw = next(json.loads(v) for v in run["events"] if v.startswith(b"{") and json.loads(v)["event_id"] == last)
    edited = (schemas.from_wire(raw, "social_event")["edited_at"] + dt.timedelta(days=1)).isoformat()
    raw.update(event_id=f"{raw['object_id']}:edit:{edited}", edited_at=edited, text=(raw["text"] or "") + " (derde keer)")
    replay.produce(cfg, [json.dumps(raw).encode()])
    runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    after = _archived_links(cfg)
    assert after[raw["event_id"]] == (last, original, number + 1)


def test_a_confirmed_burgerbrief_handed_over_reaches_the_handover_topic(run):
    """keep_in_social_archive: false — the verdict's new version leaves the social-media archive
    for the handover topic (before the feedback offset is committed), not for nowhere."""
    cfg = run["cfg"]
    cfg.burgerbrief.keep_in_social_archive = False
    try:
        decoded = [alerts.decode(m.value, alerts.ALERT_SCHEMA)
                   for m in topic_messages(cfg, cfg.burgerbrief.alert_topic, timeout_s=3)]
        alert = [a for a in decoded if a["label"]][-1]
        webcare.send_verdict(cfg, alert["event_id"], "b", "bert", alert=alert)
        runner.run(cfg, stop_at=runner.end_offsets(cfg), progress=False)
    finally:
        cfg.burgerbrief.keep_in_social_archive = True
    handed = [schemas.from_wire(json.loads(m.value), "archive_record")
              for m in topic_messages(cfg, cfg.burgerbrief.handover_topic, timeout_s=3)]
    assert [h["event"]["event_id"] for h in handed] == [alert["event_id"]]
    assert handed[0]["burgerbrief"]["verdict"]["by"] == "bert"
    kinds = [e["kind"] for e in ledger_entries(cfg) if e.get("event_id") == alert["event_id"]]
    assert "handover" in kinds


# -- the catalog (issue 12) ----------------------------------------------------------------
def test_the_catalog_indexes_every_archived_record_and_a_rebuild_from_the_bucket_equals_it(run, tmp_path, request):
    import copy

    from archiefstroom.catalog import feed
    cfg = run["cfg"]
    stored = {(r["event"]["event_id"], r["record_version"]) for recs in archived_records(cfg).values() for r in recs}
    rebuilt_cfg = copy.deepcopy(cfg)
    rebuilt_cfg.catalog.url = (request.getfixturevalue("postgres").create_database(tmp_path.name[-40:].lower())
                               if cfg.catalog.url.startswith("postgresql") else f"sqlite:///{tmp_path}/rebuilt.sqlite")
    with Catalog.open(cfg) as live, Catalog.open(rebuilt_cfg) as rebuilt:
        live_dump = live.dump()
        assert {(row[0], row[1]) for row in live_dump[0][1:]} == stored
        # not-archived fates are indexed too (explain): as many as the ledgers hold
        assert len(live_dump[1]) - 1 == sum(1 for e in ledger_entries(cfg) if e["kind"] != "archived")
        done = feed.rebuild(rebuilt_cfg, rebuilt)
        assert done.records == len(stored)
        assert rebuilt.dump() == live_dump


def test_an_archived_post_is_found_by_a_word_of_its_text_and_its_thread_holds_its_reactions(run):
    from archiefstroom.core.catalog import Query
    cfg = run["cfg"]
    records = [r for recs in archived_records(cfg).values() for r in recs]
    replied = {r["event"]["in_reply_to"] for r in records if r["event"]["in_reply_to"]}
    post = next(r for r in records if r["event"]["event_type"] == "post" and r["event"]["object_id"] in replied
                and r["event"]["text"])
    word = max(re.findall(r"[A-Za-z]{6,}", post["event"]["text"]), key=len)
    with Catalog.open(cfg) as catalog:
        found = catalog.search(Query(word.upper(), platform=post["event"]["platform"], version="all", limit=1000))
        assert post["event"]["event_id"] in {e.event_id for e in found.entries}
        roots = catalog.thread(post["event"]["object_id"])
        assert [n.entry.object_id for n in roots][:1] == [post["event"]["object_id"]]
        children = {c.entry.object_id for c in roots[0].children}
        direct = {r["event"]["object_id"] for r in records if r["event"]["in_reply_to"] == post["event"]["object_id"]}
        assert direct and direct <= children


def test_no_personal_value_reaches_the_catalog_in_the_clear(run):
    cfg = run["cfg"]
    with Catalog.open(cfg) as catalog:
        text = json.dumps(catalog.dump(), ensure_ascii=False)
    personal = sorted(v for v in run["personal"] if len(v) >= 6)
    leaked = sorted(set(re.findall("|".join(re.escape(v) for v in personal), text)))
    assert leaked == []


def test_archivists_search_thread_and_show_on_the_command_line(run, capsys):
    from archiefstroom import cli
    cfg, cfg_file = run["cfg"], str(run["file"])
    records = [r for recs in archived_records(cfg).values() for r in recs]
    post = next(r for r in records if r["event"]["event_type"] == "post" and r["event"]["text"])
    word = max(re.findall(r"[A-Za-z]{6,}", post["event"]["text"]), key=len)
    assert cli.main(["--config", cfg_file, "archive", "search", word.title(), "--platform", post["event"]["platform"],
                     "--version", "all", "--limit", "1000", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert post["event"]["event_id"] in {line.get("event_id") for line in lines[:-1]}
    assert lines[-1]["total"] == len(lines) - 1
    assert cli.main(["--config", cfg_file, "archive", "thread", post["event"]["event_id"]]) == 0
    assert post["event"]["event_id"] in capsys.readouterr().out
    assert cli.main(["--config", cfg_file, "archive", "show", post["event"]["event_id"], "--record-version", "1"]) == 0
    out = capsys.readouterr().out
    assert "integrity: OK: raw payload SHA-256 " + post["event"]["raw"]["sha256"] in out
    assert "rules evaluated:" in out and "retention: " in out
    assert cli.main(["--config", cfg_file, "archive", "search", "zzzgeenwoord"]) == 1
    assert cli.main(["--config", cfg_file, "explain", post["event"]["event_id"]]) == 0
    assert "ARCHIVED" in capsys.readouterr().out
