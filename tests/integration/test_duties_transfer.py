"""`archive transfer` on the sample archived by the real pipeline (the session's `archived_sample`,
read only: the transfer writes its package to a temporary directory and its record under
`_duties/`). What must be in the package is worked out here from the bucket's objects
themselves, not from the catalog the transfer reads."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections import defaultdict
from pathlib import Path

import bagit
import pytest
from lxml import etree

from archiefstroom import cli
from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.duties.transfer import validate

NS = {"m": "https://www.nationaalarchief.nl/mdto"}
AMSTERDAM = dt.timezone(dt.timedelta(hours=2))   # the sample is of October 2026: CEST until the 25th


def _bucket_class_b(cfg) -> dict[str, list[dict]]:
    """Item id -> its class-B records, read straight from every Avro object in the bucket."""
    store = ArchiveStore(cfg.s3)
    items = defaultdict(list)
    for key in store.keys(cfg.s3.prefix + "/"):
        if not key.endswith(".avro"):
            continue
        for rec in store.records(key):
            if rec["retention"]["retention_class"] == "B":
                ev = rec["event"]
                items[ev["event_id"] if ev["event_type"] == "reaction" else ev["object_id"]].append(rec)
    return items


@pytest.fixture(scope="module")
def package(archived_sample, tmp_path_factory):
    cfg = archived_sample["cfg"]
    items = _bucket_class_b(cfg)
    assert items, "the sample must hold class-B records (key-function accounts)"
    first = {i: min(r["event"]["created_at"] for r in recs) for i, recs in items.items()}
    assert max(first.values()) < dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.timezone.utc)
    days = sorted({t.astimezone(AMSTERDAM).date() for t in first.values()})
    assert len(days) >= 2, "the sample spans more than one day"
    before = days[-1]                      # the last day's items are not yet due
    expected = {i for i, t in first.items() if t.astimezone(AMSTERDAM).date() < before}
    out = tmp_path_factory.mktemp("transfer") / "package"
    code = cli.main(["--config", str(archived_sample["file"]), "archive", "transfer", "--before", before.isoformat(),
                     "--out", str(out), "--by", "archivaris-test"])
    assert code == 0
    note = json.loads((out / "pakbon.json").read_text(encoding="utf-8"))
    return {"cfg": cfg, "out": out, "before": before, "items": items, "expected": expected,
            "not_due": set(items) - expected, "pakbon": note}


def _sidecars(out: Path) -> list[Path]:
    return sorted((out / "data").rglob("*.mdto.xml"))


def _xml(path: Path):
    return etree.parse(str(path)).getroot()


def _one(root, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, path
    return found[0].text


def test_every_due_class_b_record_is_in_the_package(package):
    assert package["expected"] and package["not_due"]
    out = package["out"]
    archiefstukken, records = set(), set()
    for path in _sidecars(out):
        root = _xml(path)
        if root.find("m:informatieobject/m:aggregatieniveau", NS) is not None and \
                _one(root, "m:informatieobject/m:aggregatieniveau/m:begripLabel") == "Archiefstuk":
            archiefstukken.add(_one(root, "m:informatieobject/m:identificatie/m:identificatieKenmerk"))
    for path in sorted((out / "data").rglob("*.json")):
        wire = json.loads(path.read_text(encoding="utf-8"))
        assert wire["retention"]["retention_class"] == "B"
        records.add((wire["event"]["event_id"], wire["record_version"]))
    assert archiefstukken == package["expected"]
    want = {(r["event"]["event_id"], r.get("record_version") or 1)
            for i in package["expected"] for r in package["items"][i]}
    assert records == want
    assert not archiefstukken & package["not_due"]


def test_every_sidecar_validates_and_names_its_file(package):
    out = package["out"]
    sidecars = _sidecars(out)
    assert sidecars
    files = 0
    for path in sidecars:
        assert validate(path.read_bytes()) == [], path.name
        root = _xml(path)
        if root.find("m:bestand", NS) is not None:
            files += 1
            data = (path.parent / _one(root, "m:bestand/m:naam")).read_bytes()
            assert path.name == _one(root, "m:bestand/m:naam") + ".bestand.mdto.xml"
            assert int(_one(root, "m:bestand/m:omvang")) == len(data)
            sums = dict(zip(root.xpath("m:bestand/m:checksum/m:checksumAlgoritme/m:begripLabel/text()", namespaces=NS),
                            root.xpath("m:bestand/m:checksum/m:checksumWaarde/text()", namespaces=NS)))
            assert sums == {"SHA256": hashlib.sha256(data).hexdigest(), "SHA512": hashlib.sha512(data).hexdigest()}
        else:
            io = root.find("m:informatieobject", NS)
            assert _one(io, "m:waardering/m:begripLabel") == "Blijvend te bewaren"
            assert io.find("m:archiefvormer", NS) is not None and io.find("m:beperkingGebruik", NS) is not None
            if _one(io, "m:aggregatieniveau/m:begripLabel") == "Archiefstuk":
                assert _one(io, "m:informatiecategorie/m:begripCode") in ("1.1", "1.6")
                labels = io.xpath("m:event/m:eventType/m:begripLabel/text()", namespaces=NS)
                assert labels[0] == "Creatie" and "Vastlegging" in labels
                for name in io.xpath("m:heeftRepresentatie/m:verwijzingNaam/text()", namespaces=NS):
                    assert (path.parent / name).is_file() and (path.parent / f"{name}.bestand.mdto.xml").is_file()
    assert files == len(list((out / "data").rglob("*.json")))


def test_edits_and_deletes_are_events(package):
    """An item with an edit and a tombstone in the bucket says so in its sidecar."""
    chains = {i: {r["event"]["event_type"] for r in package["items"][i]} for i in package["expected"]}
    edited = sorted(i for i, kinds in chains.items() if "edit" in kinds)
    deleted = sorted(i for i, kinds in chains.items() if "delete" in kinds)
    assert edited, "the sample has edits of key-function posts"
    labels = {}
    for path in _sidecars(package["out"]):
        root = _xml(path)
        if root.find("m:informatieobject/m:aggregatieniveau", NS) is not None:
            kenmerk = _one(root, "m:informatieobject/m:identificatie/m:identificatieKenmerk")
            labels[kenmerk] = root.xpath("m:informatieobject/m:event/m:eventType/m:begripLabel/text()", namespaces=NS)
    for i in edited:
        assert labels[i].count("Wijziging") == sum(r["event"]["event_type"] == "edit" for r in package["items"][i])
    for i in deleted:
        assert "Verwijdering op platform" in labels[i]


def test_the_bag_validates_with_both_checksums(package):
    bag = bagit.Bag(str(package["out"]))
    bag.validate()
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert (package["out"] / "tagmanifest-sha256.txt").read_text().count("pakbon.json") == 1
    assert bag.info["External-Identifier"] == package["pakbon"]["transfer_id"]


def test_pakbon_figures_match_the_bag(package):
    out, note = package["out"], package["pakbon"]
    manifest = (out / "manifest-sha256.txt").read_bytes()
    assert note["package_hash"]["value"] == hashlib.sha256(manifest).hexdigest()
    payload = [p for p in (out / "data").rglob("*") if p.is_file()]
    assert note["payload"] == {"files": len(payload), "bytes": sum(p.stat().st_size for p in payload)}
    assert bagit.Bag(str(out)).info["Payload-Oxum"] == f"{note['payload']['bytes']}.{note['payload']['files']}"
    assert len(manifest.decode().splitlines()) == len(payload)
    series = [p for p in (out / "data").iterdir() if p.is_dir()]
    assert note["informatieobjecten"]["series"] == len(series)
    assert note["informatieobjecten"]["archiefstukken"] == len(package["expected"])
    assert note["informatieobjecten"]["total"] == len(series) + len(package["expected"])
    assert note["bestanden"] == len([p for p in payload if p.suffix == ".json"])
    assert note["sidecars"] == len([p for p in payload if p.name.endswith(".mdto.xml")])
    assert note["before"] == package["before"].isoformat() and note["by"] == "archivaris-test"
    assert "Rijksoverheid" in note["archiefvormers"]


@pytest.mark.parametrize("target", ["payload", "pakbon"])
def test_a_tampered_file_fails_validation(package, tmp_path, target):
    copy = tmp_path / "bag"
    shutil.copytree(package["out"], copy)
    # same size, one character changed: only the checksums can tell
    if target == "payload":
        victim, old, new = next(iter(sorted((copy / "data").rglob("*.json")))), '"B"', '"V"'
    else:
        victim, old, new = copy / "pakbon.json", "archivaris-test", "archivaris-tesx"
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert victim.read_text(encoding="utf-8") != text
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(copy)).validate()


def test_no_personal_value_is_in_the_package(package, archived_sample):
    personal = {v for v in archived_sample["personal"] if v and len(v) >= 3}
    assert personal
    for path in sorted(p for p in package["out"].rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        leaked = sorted(v for v in personal if v in text)
        assert leaked == [], f"{path.relative_to(package['out'])} holds personal data"


def test_the_transfer_is_recorded(package):
    register = Register(ArchiveStore(package["cfg"].s3))
    tid = package["pakbon"]["transfer_id"]
    doc = register.get("transfer", tid)
    assert doc["pakbon"] == package["pakbon"]
    assert set(doc["items"]) == package["expected"]
    assert doc["by"] == "archivaris-test" and doc["before"] == package["before"].isoformat()
    audits = [a for a in register.audit_trail() if a["action"] == "transfer" and a.get("transfer_id") == tid]
    assert len(audits) == 1
    assert audits[0]["actor"] == "archivaris-test"
    assert audits[0]["package_hash"] == package["pakbon"]["package_hash"]["value"]


def test_refusals_are_plain_messages(package, archived_sample, tmp_path, capsys):
    config = ["--config", str(archived_sample["file"]), "archive", "transfer"]
    # an existing, non-empty directory is never written into
    assert cli.main([*config, "--before", "2030-01-01", "--out", str(package["out"]), "--by", "a"]) == 2
    err = capsys.readouterr().err
    assert "expected a new or empty directory" in err and "Traceback" not in err
    # nothing created before the sample began: nothing due, and no package left behind
    empty = tmp_path / "empty"
    assert cli.main([*config, "--before", "2020-01-01", "--out", str(empty), "--by", "a"]) == 1
    assert "nothing to transfer" in capsys.readouterr().err
    assert not empty.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as bad:
        cli.main([*config, "--before", "1 oktober", "--out", str(empty)])
    assert bad.value.code == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_woo_decisions_become_restrictions(package, tmp_path):
    """A Woo decision on a record (handed in directly: the shared register is not written) is a
    beperkingGebruik of its archiefstuk; the others are untouched."""
    from archiefstroom.duties import transfer
    item = sorted(package["expected"])[0]
    event_id = package["items"][item][0]["event"]["event_id"]
    woo = [{"request_id": "WOO-TEST-1", "status": "closed",
            "records": [{"event_id": event_id, "decision": "niet openbaar", "ground": "art. 5.1 lid 2 sub e Woo"}]}]
    done = transfer.build(package["cfg"], package["before"], tmp_path / "woo", "archivaris-test", woo=woo)
    assert package["pakbon"]["transfer_id"] in done.earlier          # the same items went before
    marked = {}
    for path in _sidecars(done.path):
        root = _xml(path)
        io = root.find("m:informatieobject", NS)
        if io is not None and _one(io, "m:aggregatieniveau/m:begripLabel") == "Archiefstuk":
            marked[_one(io, "m:identificatie/m:identificatieKenmerk")] = [
                (p.findtext("m:beperkingGebruikType/m:begripLabel", namespaces=NS),
                 p.findtext("m:beperkingGebruikNadereBeschrijving", namespaces=NS))
                for p in io.findall("m:beperkingGebruik", NS)]
    assert ("Woo-besluit: niet openbaar", "Woo-verzoek WOO-TEST-1: art. 5.1 lid 2 sub e Woo") in marked[item]
    assert not any(label.startswith("Woo") for i, found in marked.items() if i != item for label, _ in found)


def test_the_command_reports_what_it_made(package, archived_sample, tmp_path, capsys):
    out = tmp_path / "again"
    assert cli.main(["--config", str(archived_sample["file"]), "archive", "transfer", "--before",
                     package["before"].isoformat(), "--out", str(out), "--by", "archivaris-test"]) == 0
    lines = capsys.readouterr().out.splitlines()
    note = json.loads((out / "pakbon.json").read_text(encoding="utf-8"))
    assert lines[0] == (f"transfer {note['transfer_id']}: {len(package['expected'])} archiefstukken in "
                        f"{note['informatieobjecten']['series']} series, {note['bestanden']} bestanden, "
                        f"{note['sidecars']} MDTO sidecars, {note['payload']['bytes']} bytes")
    assert f"package hash (sha256 of manifest-sha256.txt): {note['package_hash']['value']}" in lines[2]
    assert any(f"also in transfer {package['pakbon']['transfer_id']}" in line for line in lines[3:])
    # the same records make the same payload: only the times in the sidecars differ
    assert note["bestanden"] == package["pakbon"]["bestanden"]
    assert note["payload"]["files"] == package["pakbon"]["payload"]["files"]
