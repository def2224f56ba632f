"""Overbrengen to the Nationaal Archief: the class-B records due, packaged for an e-depot.

Reads the catalog (which records are class B, and when they were made) and the objects that
hold them; writes a BagIt bag (sha256 and sha512 manifests) whose payload is one folder per
serie (account) with, per archiefstuk (post, reply or reaction), its MDTO sidecar, one JSON
file per archived version and that file's bestand sidecar; a pakbon (delivery note) beside
the manifests. Every sidecar is checked against the official MDTO 1.0.1 XSD before it is
written: a package that would not validate is never handed over. The transfer is recorded
in the duties register, with an audit entry. What is due and how records map onto MDTO is
decided in archiefstroom.core.duties.transfer (docs/duties-transfer.md).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.resources
import json
import os
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from lxml import etree

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import read as catalog_read
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import catalog as core_catalog
from archiefstroom.core import media as core_media
from archiefstroom.core.catalog import Entry, Query
from archiefstroom.core.duties import mdto
from archiefstroom.core.duties import transfer as core
from archiefstroom.core.duties.transfer import NothingDue
from archiefstroom.ground import registries

XSD = "MDTO-XML1.0.1.xsd"
CHECKSUMS = ("sha256", "sha512")
PAKBON = "pakbon.json"
_PAGE = 1000

__all__ = ["NothingDue", "TransferError", "Transfer", "build", "validate", "schema"]


class TransferError(ValueError):
    """The transfer cannot be made as asked; the message says why (no personal data)."""


@functools.lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The official MDTO 1.0.1 XSD, shipped as package data (duties/xsd/README.md)."""
    with importlib.resources.files("archiefstroom.duties").joinpath("xsd", XSD).open("rb") as f:
        return etree.XMLSchema(etree.parse(f))


def validate(xml: bytes) -> list[str]:
    """What is wrong with a sidecar by the MDTO XSD; an empty list when it is valid."""
    try:
        doc = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    xsd = schema()
    if xsd.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]


@dataclass
class Transfer:
    transfer_id: str
    path: Path
    pakbon: dict
    items: list[str]                      # item ids, as the catalog names them
    earlier: dict[str, int] = field(default_factory=dict)   # earlier transfer id -> items it also held


def _class_b(catalog: Catalog) -> list[Entry]:
    """Every class-B record version in the catalog (pages of the public search)."""
    out, offset = [], 0
    while True:
        page = catalog.search(Query(retention="B", version="all", limit=_PAGE, offset=offset)).entries
        out += page
        if len(page) < _PAGE:
            return out
        offset += _PAGE


def _fresh(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TransferError(f"{out}: expected a new or empty directory for the package")
    if not out.parent.is_dir():
        raise TransferError(f"{out.parent}: no such directory")


def _write_sidecar(path: Path, root: etree._Element) -> None:
    xml = mdto.to_bytes(root)
    problems = validate(xml)
    if problems:   # fail closed: the e-depot would refuse it
        raise TransferError(f"{path.name} does not validate against MDTO 1.0.1: {problems[0]}")
    path.write_bytes(xml)


def build(cfg, before: dt.date, out: Path, by: str, *, now: dt.datetime | None = None,
          woo: list[dict] | None = None) -> Transfer:
    """Package every class-B item due before `before` into the new directory `out` and record
    the transfer. `woo`: the Woo requests to take into account (default: the register's)."""
    out = Path(out).absolute()
    _fresh(out)
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    with Catalog.open(cfg) as catalog:
        items = core.due(_class_b(catalog), before)
    if not items:
        raise NothingDue(f"no class-B record created before {before.isoformat()} is in the catalog")
    flat = [e for versions in items.values() for e in versions]
    try:
        read = catalog_read.records(store, flat)
    except (FileNotFoundError, LookupError) as exc:
        raise TransferError(f"the catalog and the bucket disagree ({exc}); run `archiefstroom catalog rebuild`") from None
    records = dict(zip(((e.event_id, e.record_version) for e in flat), read))
    for e in flat:
        if not core_catalog.integrity(records[(e.event_id, e.record_version)]).ok:
            raise TransferError(f"{e.event_id}: the raw payload does not match its SHA-256 in {e.object_key}; "
                                f"nothing was packaged")
    reg = registries.load_for(cfg)
    ctx = core.Context(now=now, categories={code: (c.description, c.years) for code, c in reg.selectielijst.categories.items()},
                       selectielijst=f"Selectielijst sociale media archiefstroom (registers {reg.version})",
                       woo=core.woo_marks(woo if woo is not None else register.all("woo")))
    transfer_id = f"OB-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        figures = _package(staging, items, records, ctx, store)
        organisations = figures.pop("organisations")
        bag = bagit.make_bag(str(staging), {
            "Source-Organization": "; ".join(organisations),
            "External-Identifier": transfer_id,
            "External-Description": f"Overbrenging van blijvend te bewaren sociale-media-archiefstukken, "
                                    f"geplaatst voor {before.isoformat()} (MDTO 1.0.1)",
            "Bagging-Date": now.date().isoformat(),
            "Contact-Name": by,
        }, checksums=list(CHECKSUMS))
        manifest = (staging / "manifest-sha256.txt").read_bytes()
        payload_bytes, payload_files = (int(x) for x in bag.info["Payload-Oxum"].split("."))
        note = core.pakbon(transfer_id=transfer_id, created=now, before=before, by=by,
                           manifest_sha256=hashlib.sha256(manifest).hexdigest(), payload_files=payload_files,
                           payload_bytes=payload_bytes, organisations=organisations, **figures)
        (staging / PAKBON).write_text(json.dumps(note, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        bag.save()   # the tag manifests now cover the pakbon too
        if out.exists():
            out.rmdir()
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    earlier = _earlier(register, set(items))
    register.put("transfer", transfer_id, {
        "transfer_id": transfer_id, "created": note["created"], "before": before.isoformat(), "by": by,
        "path": str(out), "pakbon": note, "items": sorted(items),
        "records": [{"event_id": e.event_id, "record_version": e.record_version, "object": e.object_key} for e in flat]})
    register.audit("transfer", by, transfer_id=transfer_id, before=before.isoformat(),
                   package_hash=note["package_hash"]["value"], archiefstukken=len(items),
                   bestanden=note["bestanden"], bytes=payload_bytes)
    return Transfer(transfer_id, out, note, sorted(items), earlier)


def _earlier(register: Register, items: set[str]) -> dict[str, int]:
    """Earlier recorded transfers that held some of these items (the archivist is told; an
    e-depot may have refused that package, so nothing is left out for it)."""
    out = {}
    for doc in register.all("transfer"):
        if doc:
            n = len(items & set(doc.get("items") or []))
            if n:
                out[doc["transfer_id"]] = n
    return out


def _media_bytes(store: ArchiveStore, record: dict, file: dict) -> bytes:
    data = store.get(file["object_key"])
    if data is None or hashlib.sha256(data).hexdigest() != file["sha256"]:
        raise TransferError(f"{record['event']['event_id']}: media file {file['object_key']} is "
                            f"{'missing' if data is None else 'not the bytes its SHA-256 names'}; nothing was packaged")
    return data


def _package(root: Path, items: dict[str, list[Entry]], records: dict, ctx: core.Context,
             store: ArchiveStore) -> dict:
    """The payload (before it is bagged): a folder per serie with its archiefstukken, their
    files (each version's JSON and its media files) and every sidecar. Returns the pakbon's counts."""
    series: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item, versions in items.items():
        series[(versions[0].platform, versions[0].account_id)].append(item)
    serie_dirs = core.unique_names(f"{p}-{(items[ids[0]][0].account_handle)}" for (p, _), ids in series.items())
    item_names = core.unique_names(items)
    counts = {"series": 0, "items": 0, "files": 0, "sidecars": 0}
    organisations = set()
    for (platform, account_id), ids in sorted(series.items()):
        first = items[ids[0]][0]
        organisation = next((v.organisation for i in ids for v in items[i] if v.organisation), None)
        organisations.add(organisation or first.account_handle)
        serie_dir = serie_dirs[f"{platform}-{first.account_handle}"]
        folder = root / serie_dir
        folder.mkdir()
        serie_ref = mdto.Ref(core.serie_name(platform, first.account_handle, organisation),
                             f"{platform}:{account_id}", core.SOURCE_SERIE)
        objects = []
        for item in sorted(ids):
            recs = [records[(e.event_id, e.record_version)] for e in items[item]]
            base = item_names[item]
            name = core.item_name(item, recs)
            item_ref = mdto.Ref(name, item, core.SOURCE_ITEM)
            files = []
            for n, rec in enumerate(recs, start=1):
                data = core.record_file(rec)
                file_name = f"{base}.{n}.json"
                (folder / file_name).write_bytes(data)
                b = core.bestand(file_name, data, rec, item_ref, ctx.now)
                _write_sidecar(folder / f"{file_name}.bestand.mdto.xml", mdto.bestand(b))
                files.append(b.ref)
                for k, media in enumerate(core_media.stored(rec), start=1):
                    data = _media_bytes(store, rec, media)
                    media_name = core.media_name(base, n, k, media.get("content_type"))
                    (folder / media_name).write_bytes(data)
                    mb = core.media_bestand(media_name, data, rec, media, item_ref, ctx.now)
                    _write_sidecar(folder / f"{media_name}.bestand.mdto.xml", mdto.bestand(mb))
                    files.append(mb.ref)
            io = core.item_object(item, recs, files, serie_ref, ctx, {e.object_key for e in items[item]},
                                  core.effective_retention(items[item][-1]))
            _write_sidecar(folder / f"{base}.mdto.xml", mdto.informatieobject(io))
            objects.append(io)
            counts["items"] += 1
            counts["files"] += len(files)
            counts["sidecars"] += 1 + len(files)
        created = [v.created for i in ids for v in items[i]]
        serie = core.serie_object(platform, account_id, first.account_handle, organisation, objects,
                                  min(created), max(created))
        _write_sidecar(root / f"{serie_dir}.mdto.xml", mdto.informatieobject(serie))
        counts["series"] += 1
        counts["sidecars"] += 1
    return {**counts, "organisations": sorted(organisations)}
