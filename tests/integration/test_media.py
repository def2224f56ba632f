"""Media kept beside the records, end to end: the sample set with real image bytes attached to
government posts (served by a local HTTP fake of a platform's media host on 127.0.0.1) runs
through the whole pipeline on the embedded stack. Expected entries are written out by hand; the
stored bytes are compared with the fixture files and their tags and lock with the records'."""
from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pytest

from archiefstroom import replay, runner, stack
from archiefstroom.samples.generator import generate
from tests.media_fake import FIXTURES, FakeCdn

from .spine_helpers import archived_records, body, s3_client, tags

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
GOPHER = ("bb0f81f512c23c752cf0ffaa3094ab5e205bdcf0372854516cf68610680eea10", 23019)   # sha256sum, wc -c
UTRECHT = "@gemeente_utrecht@social.overheid.nl"
PYTHON_JPG = ("0171178ae901e108f56305aff7e36268a690bc49933a24b1aaa587fda00f4d3b", 543)


def _media(*urls):
    return [{"url": u, "media_type": "photo", "alt_text": None} for u in urls]


@pytest.fixture(scope="module")
def kept(stack_cfg, stack_dir, tmp_path_factory):
    from tests.conftest import build_cfg
    reg_dir = tmp_path_factory.mktemp("media-registry")     # `hotspot add` writes its registry file
    for f in ("hotspots.yaml", "selectielijst.yaml"):
        shutil.copy(REPO / "deploy" / "registry" / f, reg_dir / f)
    cdn = FakeCdn()
    gopher = cdn.image("/media/gopher.png", "gopher.png", "image/png")
    jpeg = cdn.image("/media/python.jpg", "python.jpg", "application/octet-stream")   # a server that does not know
    png = (FIXTURES / "gopher.png").read_bytes()
    flaky = cdn.serve("/media/flaky.png", (503, {}, b"busy"), (503, {}, b"busy"),
                      (200, {"Content-Type": "image/png"}, png))
    gone = cdn.serve("/media/gone.png", (404, {}, b"not found"))
    citizen = cdn.image("/media/citizen.png", "gopher.png", "image/png")
    name = "media" + uuid.uuid4().hex[:8]
    cfg = build_cfg(stack_dir, name, "tansu",
                    media={"hosts": [], "private_hosts": [cdn.host], "attempts": 3, "backoff_seconds": 0.05},
                    rules={"hotspots": str(reg_dir / "hotspots.yaml"),
                           "selectielijst": str(reg_dir / "selectielijst.yaml")})
    stack.ensure(cfg)
    events = []
    posts = replies = old = 0
    for raw in generate(11, threads_per_account=1):
        try:
            ev = json.loads(raw)
        except ValueError:
            events.append(raw)
            continue
        own = isinstance(ev, dict) and ev.get("author", {}).get("id") == ev.get("account", {}).get("id")
        if own and ev.get("platform") == "x" and ev.get("event_type") == "post" and posts < 2:
            ev["media"] = _media(gopher, jpeg, flaky, gone) if posts == 0 else _media(gopher)
            if posts == 1:   # a hotspot added after the fact keeps it (the last test)
                ev["hashtags"] = [*ev.get("hashtags", []), "mediastorm"]
            posts += 1
            raw = json.dumps(ev).encode()
        elif (own and ev.get("platform") == "mastodon" and ev.get("event_type") == "post"
              and ev["account"]["id"] == UTRECHT and old < 1):
            # a post of 2012 (class V, 10 years: due since 2022, no lock), its media with it
            for f in ("created_at", "captured_at"):
                ev[f] = ev[f].replace("2026-", "2012-", 1)
            ev["media"] = _media(jpeg)
            old += 1
            raw = json.dumps(ev).encode()
        elif (isinstance(ev, dict) and not own and ev.get("platform") == "mastodon"
              and ev.get("event_type") == "reply" and replies < 1):
            ev["media"] = _media(citizen)
            replies += 1
            raw = json.dumps(ev).encode()
        events.append(raw)
    assert (posts, replies, old) == (2, 1, 1)
    summary = runner.run(cfg, stop_at=replay.produce(cfg, events), progress=False)
    yield {"cfg": cfg, "cdn": cdn, "summary": summary, "urls": (gopher, jpeg, flaky, gone, citizen)}
    cdn.close()


def _records_with_media(cfg):
    out = {}
    for key, records in archived_records(cfg).items():
        for r in records:
            if r["event"]["media"]:
                out[r["event"]["event_id"]] = (key, r)
    return out


def _strip(entry):
    return {k: entry[k] for k in ("url", "kind", "status", "reason", "attempts", "sha256", "content_type", "size")}


def test_a_government_post_s_media_are_stored_or_their_failure_recorded(kept):
    gopher, jpeg, flaky, gone, _ = kept["urls"]
    found = _records_with_media(kept["cfg"])
    posts = sorted((k, r) for eid, (k, r) in found.items() if r["event"]["platform"] == "x")
    assert len(posts) == 2
    first = next(r for _, r in posts if len(r["event"]["media"]) == 4)
    assert [_strip(e) for e in first["media_files"]] == [
        {"url": gopher, "kind": "media", "status": "stored", "reason": None, "attempts": 1,
         "sha256": GOPHER[0], "content_type": "image/png", "size": GOPHER[1]},
        {"url": jpeg, "kind": "media", "status": "stored", "reason": None, "attempts": 1,
         "sha256": PYTHON_JPG[0], "content_type": "image/jpeg", "size": PYTHON_JPG[1]},
        {"url": flaky, "kind": "media", "status": "stored", "reason": None, "attempts": 3,
         "sha256": GOPHER[0], "content_type": "image/png", "size": GOPHER[1]},
        {"url": gone, "kind": "media", "status": "failed", "reason": "HTTP 404", "attempts": 1,
         "sha256": None, "content_type": None, "size": None},
    ]
    assert first["media_files"][0]["fetched_at"] is not None and first["media_files"][3]["object_key"] is None


def test_stored_bytes_sit_beside_their_records_with_the_records_tags_and_lock(kept):
    cfg = kept["cfg"]
    for eid, (avro_key, record) in _records_with_media(cfg).items():
        retention_dir = avro_key.split("/")[1]            # {prefix}/{retention dir}/yyyy/mm/...
        record_tags = tags(cfg, avro_key)
        record_head = s3_client(cfg).head_object(Bucket=cfg.s3.bucket, Key=avro_key)
        for entry in record["media_files"]:
            if entry["status"] != "stored":
                continue
            sha = entry["sha256"]
            assert entry["object_key"] == f"{cfg.s3.prefix}/{retention_dir}/media/{sha[:2]}/{sha}"
            data = body(cfg, entry["object_key"])
            fixture = {GOPHER[0]: "gopher.png", PYTHON_JPG[0]: "python.jpg"}[sha]
            assert data == (FIXTURES / fixture).read_bytes()
            assert tags(cfg, entry["object_key"]) == {**record_tags, "schema_version": "media"}
            head = s3_client(cfg).head_object(Bucket=cfg.s3.bucket, Key=entry["object_key"])
            assert head["ContentType"] == entry["content_type"]
            for field in ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus"):
                assert head.get(field) == record_head.get(field), field


def test_the_same_bytes_in_one_retention_group_are_stored_once(kept):
    cfg, cdn = kept["cfg"], kept["cdn"]
    gopher_keys = [k for k in _all_media_keys(cfg) if k.endswith(GOPHER[0])]
    groups = {k.split("/")[1] for k in gopher_keys}
    assert len(gopher_keys) == len(groups)           # one object per retention group
    # fetched again by a worker that had not seen it (records of one run may meet on two workers),
    # never stored twice; each try of the flaky one and the missing one was a request
    assert 1 <= cdn.requests.count("/media/gopher.png") <= 2
    assert cdn.requests.count("/media/flaky.png") == 3 and cdn.requests.count("/media/gone.png") == 1


def _all_media_keys(cfg):
    c, keys = s3_client(cfg), []
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=cfg.s3.bucket, Prefix=cfg.s3.prefix + "/"):
        keys += [o["Key"] for o in page.get("Contents", []) if "/media/" in o["Key"]]
    return keys


def test_a_citizen_s_media_are_not_fetched_and_the_record_says_why(kept):
    _, _, _, _, citizen = kept["urls"]
    found = _records_with_media(kept["cfg"])
    (reply,) = [r for _, r in found.values() if r["event"]["platform"] == "mastodon"
                and r["event"]["author"]["id"] != UTRECHT]
    assert [_strip(e) for e in reply["media_files"]] == [
        {"url": citizen, "kind": "media", "status": "skipped",
         "reason": "citizen's media not fetched (personal data; media.citizen_media)", "attempts": 0,
         "sha256": None, "content_type": None, "size": None}]
    assert "/media/citizen.png" not in kept["cdn"].requests


def test_the_run_counts_files_by_status(kept):
    c = kept["summary"].counters
    assert (c.get("media.stored"), c.get("media.failed"), c.get("media.skipped")) == (5, 1, 1)
    assert c.get("media_bytes") == GOPHER[1] * 3 + PYTHON_JPG[1] * 2


def test_a_transfer_carries_each_record_s_media_as_bestanden_with_their_checksums(kept, tmp_path):
    """Overbrengen: the class-B posts' media travel in the package beside the record's JSON, each
    with a bestand sidecar (validated against the MDTO XSD by the build) and in the bag's manifest."""
    import datetime as dt

    import bagit
    from lxml import etree

    from archiefstroom.duties import transfer
    out = tmp_path / "ob"
    transfer.build(kept["cfg"], dt.date.today() + dt.timedelta(days=1), out, by="archivaris")
    bag = bagit.Bag(str(out))
    bag.validate()
    media = sorted(p for p in (out / "data").rglob("*.media-*") if not p.name.endswith(".xml"))
    by_hash = {}
    for p in media:
        by_hash.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p)
    # what the archive holds of class-B records (read with fastavro): the first post (Rijksoverheid, a
    # key function: B) has gopher, jpeg and flaky (gopher again), its 404 is no file; the second is V
    expected = {}
    for _, record in _records_with_media(kept["cfg"]).values():
        if record["retention"]["retention_class"] == "B":
            for f in record["media_files"]:
                if f["status"] == "stored":
                    expected[f["sha256"]] = expected.get(f["sha256"], 0) + 1
    assert expected == {GOPHER[0]: 2, PYTHON_JPG[0]: 1}
    assert {h: len(ps) for h, ps in by_hash.items()} == expected
    assert {p.suffix for p in media} == {".png", ".jpg"}
    ns = {"m": "https://www.nationaalarchief.nl/mdto"}
    for p in media:
        side = etree.parse(str(p) + ".bestand.mdto.xml")
        assert side.findtext(".//m:omvang", namespaces=ns) == str(p.stat().st_size)
        values = side.xpath(".//m:checksum[m:checksumAlgoritme/m:begripLabel='SHA256']/m:checksumWaarde/text()",
                            namespaces=ns)
        assert values == [hashlib.sha256(p.read_bytes()).hexdigest()]
        assert side.findtext(".//m:bestandsformaat/m:begripLabel", namespaces=ns) in ("image/png", "image/jpeg")


def test_a_woo_package_holds_the_records_media_and_the_request_holds_them(kept, tmp_path):
    import datetime as dt

    from archiefstroom.archive.register import Register
    from archiefstroom.archive.storage import ArchiveStore
    from archiefstroom.duties import woo
    cfg = kept["cfg"]
    first = next(r for _, r in _records_with_media(cfg).values() if len(r["event"]["media"]) == 4)
    term = max(first["event"]["text"].split(), key=len).strip(".,!?")   # its longest word finds it
    day = first["event"]["created_at"].date()
    out = tmp_path / "woo"
    woo.export(cfg, "woo-media-1", [term], day, day, out, "woo-coordinator")
    docs = [json.loads(x) for x in (out / "documenten.jsonl").read_text(encoding="utf-8").splitlines()]
    (doc,) = [d for d in docs if d["bestanden"] and len(d["bestanden"]) == 3]   # the 404 is no file
    got = [(out / p).read_bytes() for p in doc["bestanden"]]
    png, jpg = (FIXTURES / "gopher.png").read_bytes(), (FIXTURES / "python.jpg").read_bytes()
    assert got == [png, jpg, png] and [p.rsplit(".", 1)[1] for p in doc["bestanden"]] == ["png", "jpg", "png"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(doc["bestanden"]) <= {f["path"] for f in manifest["files"]}
    held = Register(ArchiveStore(cfg.s3)).held_objects()
    assert all(f["object_key"] in held for f in first["media_files"] if f["status"] == "stored")
    woo.close(cfg, "woo-media-1", "woo-coordinator")


def test_a_media_file_is_destroyed_with_its_group_and_kept_while_a_record_of_it_is_held(kept, tmp_path):
    """The 2012 post's group is due. While a Woo request holds its record object the media file
    stays off the vernietigingslijst; once the request is closed both are listed and destroyed."""
    from archiefstroom.archive.register import Register
    from archiefstroom.archive.storage import ArchiveStore
    from archiefstroom.core import layout
    from archiefstroom.duties import destruction
    cfg = kept["cfg"]
    (avro_key, record), = [(k, r) for k, r in _records_with_media(cfg).values()
                           if r["event"]["author"]["id"] == UTRECHT]
    (entry,) = record["media_files"]
    media_key = entry["object_key"]
    assert avro_key.split("/")[1].startswith("V-") and media_key.split("/")[1] == avro_key.split("/")[1]
    group = [k for k in _all_avro_keys(cfg) if k.split("/")[1] == avro_key.split("/")[1]]
    register = Register(ArchiveStore(cfg.s3))
    woo = {"request_id": "woo-2026-1", "status": "open", "objects": [avro_key]}
    register.put("woo", "woo-2026-1", woo)
    held = destruction.make_list(cfg, before=layout.today(), out_dir=tmp_path / "held", by="archivaris")
    listed = {i["key"] for i in held.doc["objects"]}
    assert media_key not in listed and avro_key not in listed
    assert {x["key"]: x["reason"] for x in held.doc["left_out"]}[media_key] == \
        "a record object of its retention group is kept"
    register.put("woo", "woo-2026-1", {**woo, "status": "closed"})
    due = destruction.make_list(cfg, before=layout.today(), out_dir=tmp_path / "due", by="archivaris")
    assert {media_key, *group} <= {i["key"] for i in due.doc["objects"]}
    destruction.approve(cfg, due.list_id, by="hoofd-archief")
    applied = destruction.apply(cfg, due.list_id, by="archivaris", out_dir=tmp_path / "applied")
    assert media_key in applied.destroyed and not applied.kept
    c = s3_client(cfg)
    assert c.list_object_versions(Bucket=cfg.s3.bucket, Prefix=media_key).get("Versions", []) == []
    assert all(not c.list_object_versions(Bucket=cfg.s3.bucket, Prefix=k).get("Versions") for k in group)


def _all_avro_keys(cfg):
    return [k for k in archived_records(cfg)]


def test_a_hotspot_keeps_the_media_of_the_records_it_keeps(kept):
    """The second post (class V) carries #mediastorm: a hotspot added after the fact makes its object
    permanent, and its media file with it (the same tags, a legal hold)."""
    import datetime as dt

    from archiefstroom.duties import hotspots
    cfg = kept["cfg"]
    (avro_key, record), = [(k, r) for k, r in _records_with_media(cfg).values()
                           if "mediastorm" in r["event"]["hashtags"]]
    assert tags(cfg, avro_key)["retention_class"] == "V"
    (entry,) = record["media_files"]
    day = record["event"]["created_at"].date()
    result = hotspots.add(cfg, {"name": "mediastorm-2026", "description": "Storm met beeld",
                                "start": (day - dt.timedelta(days=1)).isoformat(),
                                "end": (day + dt.timedelta(days=1)).isoformat(), "hashtags": ["mediastorm"]},
                          by="archivaris")
    assert avro_key in result.retagged
    media_tags = tags(cfg, entry["object_key"])
    assert media_tags == {**tags(cfg, avro_key), "schema_version": "media"}
    assert media_tags["hotspot"] == "true" and media_tags["retention_class"] == "B"
    head = s3_client(cfg).head_object(Bucket=cfg.s3.bucket, Key=entry["object_key"])
    assert head.get("ObjectLockLegalHoldStatus") == "ON"
