"""Sealed threads (issue 17) on the embedded stack: a thread with reactions inside and after
its harvest window, sealed once although the pipeline stops between its last reaction and
the seal, and a reaction after the seal archived as a late addendum."""
from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest

from archiefstroom import replay, runner, schemas, stack
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.commands.archive import _seal_lines
from archiefstroom.core.rules import seal
from archiefstroom.core.rules.scenarios import citizen, event

from .spine_helpers import archived_records, ledger_entries, s3_client, topic_messages

pytestmark = pytest.mark.integration
VAULT_KEY = "base64:" + base64.b64encode(bytes(range(32))).decode()
ACC = "@gemeente_utrecht@social.overheid.nl"
GOV = {"id": ACC, "handle": "gemeente_utrecht@social.overheid.nl", "display_name": "Gemeente Utrecht",
       "profile_url": None, "avatar_url": None}
OTHER = "@rijksoverheid@social.overheid.nl"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
ROOT = "mastodon:8100"


def _wire(ev) -> bytes:
    return json.dumps(schemas.to_wire(ev, "social_event"), ensure_ascii=False).encode()


def _post(native, days, account=ACC, author=GOV):
    return event("post", platform="mastodon", account=account, author={**author, "id": account}, native_id=native,
                 text="Bericht van de gemeente", created=T0 + dt.timedelta(days=days))


def _reply(native, days, author=None):
    return event("reply", platform="mastodon", account=ACC, author=author or citizen(int(native)), native_id=native,
                 in_reply_to=ROOT, thread_root=ROOT, text="Een reactie", created=T0 + dt.timedelta(days=days))


def _like(native, days):
    return event("reaction", platform="mastodon", account=ACC, author=citizen(9), native_id=native,
                 in_reply_to=ROOT, thread_root=ROOT, text=None, reaction_kind="favourite",
                 created=T0 + dt.timedelta(days=days))


@pytest.fixture(scope="module")
def sealed(stack_cfg, stack_dir):
    """Three bounded runs on one archive. Run 1 ends after the thread's last reaction inside
    the window (the crash window: nothing has passed the window yet). Run 2 brings a
    reaction after the window and another account's post 40 days on, which moves the
    watermark past the window: the seal is written. Run 3, after the seal, brings one more
    late reaction, archived as an addendum, and a replay of a sealed reply. Run 4, with late reactions only counted (the
    default), brings one more: dropped, its ledger entry naming the seal."""
    from tests.conftest import build_cfg
    name = "seal" + uuid.uuid4().hex[:8]
    extra = {"pseudonymisation": {"key_id": "test-2026", "key": "a-test-key-that-is-long-enough-for-hmac",
                                  "allow_dev_key": False,
                                  "vault": {"enabled": True, "key": VAULT_KEY, "path": f"vault-{name}",
                                            "audit_log": f"vault-{name}/audit.jsonl"}},
             "burgerbrief": {"enabled": False},
             "rules": {"seal_threads": True, "threads_topic": f"{name}.threads", "late_reactions": "addendum"}}
    cfg = build_cfg(stack_dir, name, "tansu", **extra)
    stack.ensure(cfg)
    first = [_post("8100", 0), _reply("8101", 1), _reply("8102", 2), _like("8103", 3),
             _reply("8104", 4, author=GOV)]
    ends = replay.produce(cfg, [_wire(e) for e in first])
    runs = [runner.run(cfg, stop_at=ends, progress=False)]
    keys_after_first = _seal_keys(cfg)
    second = [_reply("8105", 35), _post("8200", 40, account=OTHER, author={**GOV, "handle": "rijksoverheid"})]
    runs.append(runner.run(cfg, stop_at=replay.produce(cfg, [_wire(e) for e in second]), progress=False))
    # run 3 starts with the sealed thread forgotten (24 h after the close, the default memory):
    # the seal object answers, for a new late reaction and for a replay of a sealed reply
    runs.append(runner.run(cfg, stop_at=replay.produce(cfg, [_wire(_reply("8106", 36)), _wire(_reply("8101", 1))]),
                           progress=False))
    counting = build_cfg(stack_dir, name, "tansu", **{**extra, "rules": {**extra["rules"], "late_reactions": "count"}})
    runs.append(runner.run(counting, stop_at=replay.produce(counting, [_wire(_reply("8107", 37))]), progress=False))
    return {"cfg": cfg, "runs": runs, "keys_after_first": keys_after_first}


def _seal_keys(cfg):
    out = s3_client(cfg).list_object_versions(Bucket=cfg.s3.bucket, Prefix="_sealed/")
    return [(v["Key"], v["VersionId"]) for v in out.get("Versions", [])]


def _records_by_id(cfg):
    return {(r["event"]["event_id"], r.get("record_version") or 1): r
            for recs in archived_records(cfg).values() for r in recs}


def test_the_pipeline_seals_the_thread_once_with_the_hand_written_content(sealed):
    cfg = sealed["cfg"]
    assert sealed["keys_after_first"] == []          # run 1 ended inside the window: no seal yet
    versions = _seal_keys(cfg)
    assert [k for k, _ in versions] == [seal.object_key(ROOT)]   # one object, one version: sealed once
    datum = ArchiveStore(cfg.s3).records(seal.object_key(ROOT))[0]
    archived = _records_by_id(cfg)
    row = lambda eid, kind, days: {"event_id": eid, "object_id": eid, "event_type": kind, "record_version": 1,  # noqa: E731
                                   "version": 1, "created_at": T0 + dt.timedelta(days=days),
                                   "sha256": seal.record_sha256(archived[(eid, 1)])}
    assert {k: v for k, v in datum.items() if k != "sha256"} == {
        "seal_id": "seal:mastodon:8100", "thread": ROOT, "root": row(ROOT, "post", 0),
        "platform": "mastodon", "account_type": "corporate",
        "window": {"opens": T0, "closes": dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc), "days": 30},
        "reactions": [row("mastodon:8101", "reply", 1), row("mastodon:8102", "reply", 2),
                      row("mastodon:8104", "reply", 4)],
        "not_archived": {"R2-sentiment": 1},
    }
    assert seal.verify(datum, archived.values()) == []
    assert sum(r.counters.get("seals_written", 0) for r in sealed["runs"]) == 1


def test_reactions_after_the_window_are_counted_and_archived_as_addenda_linked_to_the_seal(sealed):
    cfg = sealed["cfg"]
    archived = _records_by_id(cfg)
    for eid in ("mastodon:8105", "mastodon:8106"):   # one before the seal was written, one after a restart
        d = archived[(eid, 1)]["decision"]
        assert seal.LATE_FLAG in d["flags"] and "seal:mastodon:8100" in d["context"]
        assert d["rules"][-1]["rule"] == "R-late-reaction"
    late = [r.counters.get("rules.R-late-reaction.addendum", 0) for r in sealed["runs"]]
    assert late == [0, 1, 1, 0]
    assert [r.counters.get("rules.R-late-reaction.count", 0) for r in sealed["runs"]] == [0, 0, 0, 1]
    assert ("mastodon:8107", 1) not in archived
    (counted,) = [e for e in ledger_entries(cfg) if e.get("event_id") == "mastodon:8107"]
    assert (counted["kind"], counted["reason"], counted["detail"]["seal"]) == (
        "dropped", "R-late-reaction: arrived after the thread was sealed", "seal:mastodon:8100")
    # every offset is accounted for in the ledgers: nothing silently dropped; the replay of
    # sealed reply 8101 is known to the seal read back from the bucket, not late
    assert {e["kind"] for e in ledger_entries(cfg) if e.get("event_id")} == {"archived", "dropped", "duplicate"}
    assert [e["kind"] for e in ledger_entries(cfg) if e.get("event_id") == "mastodon:8101"] == ["archived", "duplicate"]


def test_a_sealed_thread_leaves_the_stage_state_and_is_read_back_from_its_seal_object(sealed):
    # run 2 seals and, its input reaching day 40, forgets the thread (close + 24 h); runs 3 and 4
    # read the seal back from the bucket (their first item of the thread) and forget it again
    assert [r.counters.get("rules.seals", 0) for r in sealed["runs"]] == [0, 1, 0, 0]
    assert [r.counters.get("rules.seals.forgotten", 0) for r in sealed["runs"]] == [0, 1, 1, 1]
    assert [r.counters.get("rules.seals.read_back", 0) for r in sealed["runs"]] == [0, 0, 1, 1]


def test_the_threads_topic_forgets_the_sealed_notes_and_then_the_seal_marker(sealed):
    cfg = sealed["cfg"]
    latest, seen = {}, set()
    for m in topic_messages(cfg, cfg.rules.threads_topic, timeout_s=3):
        latest[m.key.decode()] = m.value
        seen.add(m.key.decode())
    live = {k for k, v in latest.items() if v is not None}
    assert "seal|mastodon:8100" in seen and "seal|mastodon:8100" not in live   # written, then tombstoned
    assert not {k for k in live if k.startswith(("rec|mastodon:81", "drop|mastodon:81"))}
    assert "rec|mastodon:8200|1" in live       # the other account's thread is still open


def test_archive_thread_shows_the_seal_and_verifies_it(sealed):
    cfg = sealed["cfg"]
    with Catalog.open(cfg) as catalog:
        lines = _seal_lines(cfg, catalog, catalog.thread(ROOT))
    assert lines[0].startswith("seal: seal:mastodon:8100 sealed at 2026-04-01T09:00:00+00:00 (30 days")
    assert "3 reactions, not archived: R2-sentiment 1" in lines[0]
    assert lines[2] == "  verified: the seal's hash and all 4 records match the archive"
    # counted per thread: the two reactions after the window archived as addenda, the third counted
    assert lines[3:] == ["  after the seal (R-late-reaction): 1 counted, not archived; 2 archived as addenda "
                         "linked to the seal", "    counted: mastodon:8107",
                         "    addendum: mastodon:8105", "    addendum: mastodon:8106"]
