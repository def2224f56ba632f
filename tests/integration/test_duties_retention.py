"""Destruction by the selectielijst and hotspots on a real archive (issue 13).

The sample set runs through the whole pipeline on the embedded stack (Tansu, SeaweedFS with
Object Lock, the SQLite catalog), with the events of the Mastodon and Facebook accounts moved
back to October 2012: their V records' destroy-after dates (2017, 2022) have passed and their
objects have no lock, while the rest (October 2026) is locked until 2031 and later. The tests
below run in order on that archive, as an archivist would: a hotspot added after the fact, a
vernietigingslijst (with a legal hold, an open Woo request and the hotspot left out), its
approval and application (a changed object kept, a locked object refused by S3 itself), the
verklaring, the catalog's tombstones, and a re-tag after a changed selectielijst.

Expectations are read from the bucket with boto3 and fastavro directly, not through the code
under test, plus what is known by hand of the sample (which accounts were moved to 2012).
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import os
import shutil
import uuid
from pathlib import Path

import fastavro
import pypdfium2
import pytest
import yaml
from botocore.exceptions import ClientError

from archiefstroom import cli
from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import feed, overlays
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import layout
from archiefstroom.core.catalog import entry_of
from archiefstroom.ground import registries
from archiefstroom.ground import s3 as s3io
from tests.catalog_cases import filled_catalog, open_catalog
from tests.integration.conftest import SAMPLE_SEED, SAMPLE_THREADS, VAULT_KEY
from tests.unit.test_duties_destruction import check_set_retention, check_tombstones

REPO = Path(__file__).resolve().parents[2]
MOVED = ("mastodon", "facebook")          # platforms whose events are moved back to 2012
TODAY = layout.today()
WRITE_DOC_IMAGES = os.environ.get("ARCHIEFSTROOM_WRITE_DOC_IMAGES") == "1"


def _to_2012(raw: bytes) -> bytes:
    try:
        e = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(e, dict) or e.get("platform") not in MOVED:
        return raw
    for f in ("created_at", "captured_at", "edited_at"):
        if e.get(f):
            e[f] = e[f].replace("2026-", "2012-", 1)
    return json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory, stack_cfg, stack_dir):
    from archiefstroom import replay, runner, stack
    from archiefstroom.samples.generator import generate
    from tests.conftest import build_cfg, config_dict
    name = "retention" + uuid.uuid4().hex[:8]
    tmp = tmp_path_factory.mktemp("retention")
    reg_dir = tmp / "registry"
    reg_dir.mkdir()
    for f in ("hotspots.yaml", "selectielijst.yaml"):
        shutil.copy(REPO / "deploy" / "registry" / f, reg_dir / f)
    extra = {"pseudonymisation": {"key_id": "test-2026", "key": "a-test-key-that-is-long-enough-for-hmac",
                                  "allow_dev_key": False,
                                  "vault": {"enabled": True, "key": VAULT_KEY, "path": f"vault-{name}",
                                            "audit_log": f"vault-{name}/audit.jsonl"}},
             "rules": {"hotspots": str(reg_dir / "hotspots.yaml"), "selectielijst": str(reg_dir / "selectielijst.yaml")},
             "pipeline": {"batch_max_records": 60}}         # small batches: many objects per category
    cfg = build_cfg(stack_dir, name, "tansu", **extra)
    stack.ensure(cfg)
    cfg_file = tmp / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(config_dict(stack_dir, name, "tansu", **extra)))
    events = [_to_2012(e) for e in generate(SAMPLE_SEED, threads_per_account=SAMPLE_THREADS)]
    ends = replay.produce(cfg, events)
    runner.run(cfg, stop_at=ends, progress=False)
    s3 = s3io.client(cfg.s3)
    return {"cfg": cfg, "file": cfg_file, "tmp": tmp, "reg_dir": reg_dir, "s3": s3, "bucket": cfg.s3.bucket,
            "store": ArchiveStore(cfg.s3), "state": {}}


def run_cli(world, capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main(["--config", str(world["file"]), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


# -- the bucket, read directly -------------------------------------------------------------
def keys(world) -> list[str]:
    out = []
    for page in world["s3"].get_paginator("list_objects_v2").paginate(Bucket=world["bucket"], Prefix="archive/"):
        out += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".avro")]
    return sorted(out)


def tags(world, key) -> dict:
    return {t["Key"]: t["Value"] for t in world["s3"].get_object_tagging(Bucket=world["bucket"], Key=key)["TagSet"]}


def records(world, key) -> list[dict]:
    body = world["s3"].get_object(Bucket=world["bucket"], Key=key)["Body"].read()
    return list(fastavro.reader(io.BytesIO(body)))


def versions(world, key) -> tuple[list, list]:
    r = world["s3"].list_object_versions(Bucket=world["bucket"], Prefix=key)
    return ([v for v in r.get("Versions", []) if v["Key"] == key],
            [m for m in r.get("DeleteMarkers", []) if m["Key"] == key])


def legal_hold(world, key) -> str:
    try:
        return world["s3"].get_object_legal_hold(Bucket=world["bucket"], Key=key)["LegalHold"]["Status"]
    except ClientError:
        return "none"


def old_v(world) -> list[str]:
    """Objects of the records moved to 2012 that are still V by their tags."""
    return [k for k in keys(world) if "/2012/" in k and tags(world, k)["retention_class"] == "V"]


# -- 1. a hotspot added after the fact ------------------------------------------------------
def test_hotspot_add_keeps_the_objects_of_matching_records(world, capsys):
    storm = [k for k in keys(world) if "/2012/" in k
             and any("code_oranje" in [h.lower() for h in r["event"]["hashtags"] or []]
                     and dt.date(2012, 10, 1) <= r["event"]["created_at"].date() <= dt.date(2012, 10, 31)
                     for r in records(world, k))]
    assert storm, "the sample has storm posts (#code_oranje) on the moved accounts"
    before = {k: tags(world, k) for k in keys(world)}
    rc, out, err = run_cli(world, capsys, "archive", "hotspot", "add", "--name", "storm-2012-10", "--from", "2012-10-01",
                           "--to", "2012-10-31", "--hashtags", "code_oranje", "--description", "Storm oktober 2012",
                           "--by", "anna")
    assert rc == 0, err
    assert f"{len(storm)} objects re-tagged to B / permanent" in out
    for k in keys(world):
        t = tags(world, k)
        if k in storm:
            assert (t["retention_class"], t["destroy_after"], t["hotspot"], t["hotspot_name"]) == \
                ("B", "permanent", "true", "storm-2012-10")
            assert t["selectielijst_category"] == "1.6"
            assert t["category_before"] == before[k]["selectielijst_category"]
            assert legal_hold(world, k) == "ON"
        else:
            assert t == before[k], k
    # the registry file holds it (its comments kept) and still loads as the pipeline loads it
    text = (world["reg_dir"] / "hotspots.yaml").read_text()
    assert text.startswith("# Hotspot register") and "name: storm-2012-10" in text
    assert [h.name for h in registries.load_for(world["cfg"]).hotspots.hotspots] == ["storm-2026-10", "storm-2012-10"]
    with Catalog.open(world["cfg"]) as c:
        for k in storm:
            entries = c.object_entries(k)
            assert entries and {(e.retention_class, e.hotspot, e.destroy_after) for e in entries} == \
                {("B", "storm-2012-10", None)}
    # again: nothing twice; the same name again is refused without a traceback
    rc, out, _ = run_cli(world, capsys, "archive", "hotspot", "apply", "storm-2012-10", "--by", "anna")
    assert rc == 0 and "0 objects re-tagged" in out and f"{len(storm)} kept for it before" in out
    rc, _, err = run_cli(world, capsys, "archive", "hotspot", "add", "--name", "storm-2012-10", "--from", "2012-10-01",
                         "--to", "2012-10-31", "--hashtags", "x")
    assert rc == 1 and "already in" in err and "Traceback" not in err
    rc, _, err = run_cli(world, capsys, "archive", "hotspot", "add", "--name", "leeg", "--from", "2012-10-01",
                         "--to", "2012-10-31")
    assert rc == 1 and "at least one of terms, hashtags or accounts" in err
    rc, out, _ = run_cli(world, capsys, "archive", "hotspot", "list")
    assert rc == 0 and "storm-2012-10" in out and f"keeps {len(storm)} objects; added by anna" in out
    world["state"]["storm"] = storm


# -- 2. the vernietigingslijst ------------------------------------------------------------------
def test_due_lists_exactly_the_objects_past_their_date_that_nothing_holds(world, capsys):
    store, register = world["store"], Register(world["store"])
    candidates = old_v(world)
    assert len(candidates) >= 4
    held, woo = candidates[-1], candidates[-2]          # keys sort by class and category: two 1.3 objects
    store.set_legal_hold(held, True, versions(world, held)[0][0]["VersionId"])
    register.put("woo", "WOO-2026-0042", {"request_id": "WOO-2026-0042", "status": "open", "objects": [woo]})
    register.put("woo", "WOO-2026-0001", {"request_id": "WOO-2026-0001", "status": "closed", "objects": [candidates[0]]})
    expected = sorted(set(candidates) - {held, woo})
    out_dir = world["tmp"] / "lijst"
    rc, out, err = run_cli(world, capsys, "retention", "due", "--before", TODAY.isoformat(), "--out", str(out_dir),
                           "--by", "bert")
    assert rc == 0, err
    list_id = out.split()[1]
    doc = register.get("destruction", list_id)
    assert sorted(i["key"] for i in doc["objects"]) == expected
    assert all("/2012/10/" in i["key"] for i in doc["objects"])            # nothing of 2026 is due
    assert {"1.2", "1.3"} <= {i["category"] for i in doc["objects"]} <= {"1.2", "1.3", "1.5"}
    for i in doc["objects"]:
        recs = records(world, i["key"])
        assert sorted((r["event_id"], r["record_version"]) for r in i["records"]) == \
            sorted((r["event"]["event_id"], r["record_version"] or 1) for r in recs)
        assert i["etag"] == world["s3"].head_object(Bucket=world["bucket"], Key=i["key"])["ETag"].strip('"')
    left = {x["key"]: x["reason"] for x in doc["left_out"]}
    assert left[held] == "legal hold" and left[woo] == "woo:WOO-2026-0042"
    assert {k for k, why in left.items() if why == "hotspot"} == {k for k in world["state"]["storm"]
                                                                  if k.split("/")[1].startswith("V-")}
    assert doc["status"] == "draft" and doc["approval"] is None and len(doc["sha256"]) == 64
    # the files: CSV one row per record, grouped by category; the PDF a real one
    files = {p.name: p for p in out_dir.iterdir()}
    csv_rows = list(csv.DictReader(files[f"vernietigingslijst-{list_id}.csv"].open()))
    assert len(csv_rows) == sum(len(i["records"]) for i in doc["objects"])
    assert [r["category"] for r in csv_rows] == sorted((r["category"] for r in csv_rows), key=lambda c: c.split("."))
    assert {r["object"] for r in csv_rows} == set(expected)
    html = files[f"vernietigingslijst-{list_id}.html"].read_text()
    assert "Vernietigingslijst" in html and doc["sha256"] in html and "woo:WOO-2026-0042" in html
    assert "Categorie 1.3: Reacties van burgers" in html
    pdf = pypdfium2.PdfDocument(str(files[f"vernietigingslijst-{list_id}.pdf"]))
    page = pdf[0]
    assert "Vernietigingslijst" in page.get_textpage().get_text_range() and list_id in page.get_textpage().get_text_range()
    image = page.render(scale=1.4).to_pil()
    assert image.getextrema() != ((255, 255), (255, 255), (255, 255))
    if WRITE_DOC_IMAGES:
        image.save(REPO / "docs" / "img" / "vernietigingslijst.png")
    # the same list again is the same list (its approval, later, is not overwritten)
    rc, out, _ = run_cli(world, capsys, "retention", "due", "--before", TODAY.isoformat(), "--out", str(out_dir))
    assert rc == 0 and f"vernietigingslijst {list_id} (registered before; unchanged)" in out
    world["state"].update(list_id=list_id, expected=expected, held=held, woo=woo, out_dir=out_dir)


# -- 3. approval and destruction ----------------------------------------------------------------
def test_apply_destroys_exactly_the_approved_objects_every_version(world, capsys):
    st = world["state"]
    list_id, expected = st["list_id"], st["expected"]
    rc, _, err = run_cli(world, capsys, "retention", "apply", "--list", list_id, "--by", "bert")
    assert rc == 1 and "is not approved" in err
    rc, _, err = run_cli(world, capsys, "retention", "approve", "--list", "VL-nope", "--by", "carla")
    assert rc == 1 and "no vernietigingslijst 'VL-nope'" in err
    rc, out, err = run_cli(world, capsys, "retention", "approve", "--list", list_id, "--by", "carla")
    assert rc == 0, err
    doc = Register(world["store"]).get("destruction", list_id)
    assert doc["approval"]["by"] == "carla" and doc["approval"]["sha256"] == doc["sha256"]
    # an object changed after the list was made (a new version, even of the same bytes) is kept
    changed = expected[-1]                              # a 1.3 object
    body = world["s3"].get_object(Bucket=world["bucket"], Key=changed)["Body"].read()
    world["s3"].put_object(Bucket=world["bucket"], Key=changed, Body=body,
                           Tagging="&".join(f"{k}={v}" for k, v in tags(world, changed).items()))
    all_before = set(keys(world))
    out_dir = world["tmp"] / "verklaring"
    rc, out, err = run_cli(world, capsys, "retention", "apply", "--list", list_id, "--by", "bert", "--out", str(out_dir))
    assert rc == 0, err
    destroyed = sorted(set(expected) - {changed})
    assert f"destroyed {len(destroyed)} objects now; kept 1" in out
    assert set(keys(world)) == all_before - set(destroyed)
    for k in destroyed:
        assert versions(world, k) == ([], []), k                    # the data is gone, not hidden by a marker
    assert len(versions(world, changed)[0]) == 2
    for k in (st["held"], st["woo"], *st["storm"]):
        assert versions(world, k)[0], k
    # the verklaring van vernietiging
    statement = json.loads((out_dir / f"verklaring-van-vernietiging-{list_id}.json").read_text())
    assert sorted(d["key"] for d in statement["destroyed"]) == destroyed
    assert statement["kept"] == [{"key": changed, "category": tags(world, changed)["selectielijst_category"],
                                  "reason": "changed since the list was made (ETag or versions differ)"}]
    assert statement["approval"]["by"] == "carla" and statement["list_sha256"] == doc["sha256"]
    n_records = sum(len(i["records"]) for i in doc["objects"] if i["key"] in destroyed)
    assert statement["counts"] == {"objects": len(destroyed), "records": n_records, "kept": 1}
    assert (out_dir / f"verklaring-van-vernietiging-{list_id}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Verklaring van vernietiging" in (out_dir / f"verklaring-van-vernietiging-{list_id}.html").read_text()
    # the catalog: no live entry of a destroyed record, a tombstone for each
    with Catalog.open(world["cfg"]) as c:
        for i in doc["objects"]:
            if i["key"] in destroyed:
                assert c.object_entries(i["key"]) == []
                for r in i["records"]:
                    assert c.get(r["event_id"], r["record_version"]) is None
                    assert [t["list_id"] for t in c.destroyed(r["event_id"])
                            if t["record_version"] == r["record_version"]] == [list_id]
        assert c.destroyed_count(list_id) == n_records
        assert c.object_entries(changed)
    # `archive show` of a destroyed record says so, and by which list
    one = next(r for i in doc["objects"] if i["key"] in destroyed for r in i["records"])
    rc, out, _ = run_cli(world, capsys, "archive", "show", one["event_id"])
    assert rc == 0 and f"destroyed by vernietigingslijst {list_id}" in out
    # again: nothing twice
    rc, out, _ = run_cli(world, capsys, "retention", "apply", "--list", list_id, "--by", "bert", "--out", str(out_dir))
    assert rc == 0 and f"destroyed 0 objects now, {len(destroyed)} before; kept 1" in out
    assert set(keys(world)) == all_before - set(destroyed)
    st.update(destroyed=destroyed, changed=changed)


def test_a_locked_object_is_refused_by_s3_itself(world, capsys):
    store = world["store"]
    locked = next(k for k in keys(world) if "/2026/" in k and tags(world, k)["retention_class"] == "V")
    head = world["s3"].head_object(Bucket=world["bucket"], Key=locked)
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"].date() > TODAY
    (version,), _ = versions(world, locked)
    with pytest.raises(ClientError) as refused:         # our own delete, none of our checks in the way
        store.delete_version(locked, version["VersionId"])
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "ObjectLocked")
    assert versions(world, locked)[0][0]["VersionId"] == version["VersionId"]
    # a list drawn up for 2040 names the 2026 objects; applied today it destroys none of them
    # (only the object kept above for its new version, due and unheld, goes on this list)
    before = set(keys(world))
    changed = world["state"]["changed"]
    rc, out, _ = run_cli(world, capsys, "retention", "due", "--before", "2040-01-01", "--out", str(world["tmp"] / "2040"))
    assert rc == 0
    future = out.split()[1]
    doc = Register(store).get("destruction", future)
    assert locked in [i["key"] for i in doc["objects"]]
    assert run_cli(world, capsys, "retention", "approve", "--list", future, "--by", "carla")[0] == 0
    # as if an earlier run had deleted one of the changed object's two versions and then crashed
    register = Register(store)
    crashed = register.get("destruction", future)
    crashed["outcomes"] = {changed: {"status": "destroying", "at": "2026-12-06T00:00:00+00:00"}}
    register.put("destruction", future, crashed)
    older = versions(world, changed)[0][-1]["VersionId"]
    world["s3"].delete_object(Bucket=world["bucket"], Key=changed, VersionId=older)
    rc, out, _ = run_cli(world, capsys, "retention", "apply", "--list", future, "--by", "bert",
                         "--out", str(world["tmp"] / "2040"))
    assert rc == 0 and "destroyed 1 objects now" in out           # the crashed run is finished
    assert set(keys(world)) == before - {changed}
    assert versions(world, changed) == ([], [])
    kept = Register(store).get("destruction", future)["outcomes"]
    assert kept[locked]["reason"].startswith("not yet due (destroy_after 20")


# -- 4. a changed selectielijst ------------------------------------------------------------------
def test_retag_follows_a_changed_selectielijst_and_only_lengthens_locks(world, capsys):
    path = world["reg_dir"] / "selectielijst.yaml"
    text = path.read_text()
    old = '"1.3": {retention_class: V, years: 5,'
    assert old in text
    path.write_text(text.replace(old, '"1.3": {retention_class: V, years: 12,'))
    v13 = [k for k in keys(world) if tags(world, k)["selectielijst_category"] == "1.3"
           and tags(world, k)["hotspot"] == "false"]
    recent = [k for k in v13 if "/2026/10/" in k]
    old13 = [k for k in v13 if "/2012/10/" in k]
    assert recent and all(tags(world, k)["destroy_after"] == "2031-10-31" for k in recent)
    before = {k: tags(world, k) for k in keys(world)}
    out_dir = world["tmp"] / "retag"
    rc, out, err = run_cli(world, capsys, "retention", "retag", "--dry-run", "--out", str(out_dir))
    assert rc == 0, err
    assert f"would re-tag {len(v13)} objects" in out
    assert {k: tags(world, k) for k in keys(world)} == before
    rc, out, err = run_cli(world, capsys, "retention", "retag", "--out", str(out_dir))
    assert rc == 0 and f"re-tagged {len(v13)} objects" in out
    report = [p for p in out_dir.iterdir() if not p.name.endswith("-dry-run.csv")]
    rows = list(csv.DictReader(report[0].open()))
    changes = {r["object"]: (r["tag"], r["before"], r["after"], r["lock_extended_to"]) for r in rows if r["tag"]}
    assert changes == {**{k: ("destroy_after", "2031-10-31", "2038-10-31", "2038-10-31") for k in recent},
                       **{k: ("destroy_after", "2017-10-31", "2024-10-31", "") for k in old13}}
    for k in keys(world):
        t = tags(world, k)
        if k in recent:
            assert t == {**before[k], "destroy_after": "2038-10-31"}
            head = world["s3"].head_object(Bucket=world["bucket"], Key=k)
            assert head["ObjectLockRetainUntilDate"].date() == dt.date(2038, 10, 31)
        elif k in old13:
            assert t == {**before[k], "destroy_after": "2024-10-31"}
        else:
            assert t == before[k], k
    with Catalog.open(world["cfg"]) as c:
        e = c.object_entries(recent[0])[0]
        assert e.destroy_after == (e.created.date().replace(year=e.created.year + 12)).isoformat()
    # nothing left to do
    rc, out, _ = run_cli(world, capsys, "retention", "retag", "--out", str(out_dir))
    assert rc == 0 and "re-tagged 0 objects" in out


# -- 5. the register: overlays and the audit trail ------------------------------------------------
def test_overlays_and_audit_trail(world, tmp_path):
    register = Register(world["store"])
    with Catalog.open(world["cfg"]) as c:
        before = c.dump()
        counts = overlays.apply(c, register)
        assert c.dump() == before                    # the live catalog already says all of it
        live = {(e.event_id, e.record_version, e.retention_class, e.category, e.destroy_after, e.hotspot, e.latest)
                for k in keys(world) for e in c.object_entries(k)}
        live_stones = c.destroyed_count()
    # a catalog made afresh from the objects still in the bucket, with the register laid over it,
    # says what the live one says
    with open_catalog(tmp_path, "sqlite:///rebuilt.sqlite") as fresh:
        for k in keys(world):
            fresh.index([entry_of(r, k) for r in world["store"].records(k)])
        overlays.apply(fresh, register)
        assert {(e.event_id, e.record_version, e.retention_class, e.category, e.destroy_after, e.hotspot, e.latest)
                for k in keys(world) for e in fresh.object_entries(k)} == live
        assert fresh.destroyed_count() == live_stones
    # and so does `catalog rebuild` itself: every ledger, the destroyed objects skipped, the register laid over
    rebuilt_cfg = copy.deepcopy(world["cfg"])
    rebuilt_cfg.catalog.url = f"sqlite:///{tmp_path}/rebuild.sqlite"
    with Catalog.open(world["cfg"]) as live, Catalog.open(rebuilt_cfg) as rebuilt:
        feed.rebuild(rebuilt_cfg, rebuilt)
        live_dump, rebuilt_dump = live.dump(), rebuilt.dump()
        assert rebuilt_dump[:2] == live_dump[:2]           # entries, outcomes
        # batches: the same ledgers with the same other fates; `records` counts what a batch had in
        # the bucket when it was indexed, so a rebuild after a destruction counts fewer
        assert [(b[0], b[2]) for b in rebuilt_dump[2][1:]] == [(b[0], b[2]) for b in live_dump[2][1:]]
        assert sum(b[1] for b in rebuilt_dump[2][1:]) < sum(b[1] for b in live_dump[2][1:])
        assert rebuilt.destroyed_count() == live.destroyed_count()
    gone = {*world["state"]["destroyed"], world["state"]["changed"]}
    assert counts["destroyed"] == len(gone)
    assert counts["hotspot"] == len(world["state"]["storm"])
    assert set(overlays.destroyed_objects(register)) == gone
    actions = [(a["action"], a["actor"]) for a in register.audit_trail()]
    for want in [("hotspot.add", "anna"), ("hotspot.apply", "anna"), ("retention.due", "bert"),
                 ("retention.approve", "carla"), ("retention.apply.start", "bert"), ("retention.apply", "bert"),
                 ("retention.retag.dry-run", None), ("retention.retag", None)]:
        assert any(a == want[0] and (want[1] is None or who == want[1]) for a, who in actions), want


# -- the catalog's tombstones and re-tags on PostgreSQL, as on SQLite (tests/unit) -------------------
@pytest.mark.parametrize("check", [check_tombstones, check_set_retention], ids=["tombstones", "set_retention"])
def test_catalog_duties_on_postgresql(postgres, tmp_path, check):
    with filled_catalog(tmp_path, postgres.create_database("ret" + uuid.uuid4().hex[:8])) as c:
        check(c)
