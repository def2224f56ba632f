"""Woo requests: find the records through the catalog, write the package, keep the hold.

`export` searches the catalog for each search term (an OR over the terms: a Woo request lists
zoektermen; the words of one term must all occur, as in `archive search`), in the period and on
the accounts asked, over every version; each matching post or reaction comes with all of its
archived versions (original, edits, tombstone, webcare versions), as the request is about the
document and its history. The records are read from their objects, lakt (core/duties/woo.py) and
written as a package. Before the package is written the request is stored in the duties register
with the object keys of its records: while it is open those objects are on hold
(`Register.held_objects`). `close` lifts the hold. Every action leaves an audit entry.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import catalog as core_catalog
from archiefstroom.core.catalog import Entry, Query
from archiefstroom.core.duties import woo as core
from archiefstroom.duties.documents import Document, sha256_file, write_csv, write_manifest

KIND = "woo"
PAGE = 1000


class WooError(ValueError):
    """A request that cannot be carried out as asked (the message says why; no personal data)."""


@dataclass
class Exported:
    request_id: str
    out_dir: Path
    files: list[Path]
    manifest: Path
    assessed: list[core.Assessment]
    objects: list[str]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def find(catalog: Catalog, terms: list[str], date_from: dt.date, date_to: dt.date,
         accounts: list[str] | None = None) -> list[Entry]:
    """Every archived version of each item that a search term finds in the period (and on the
    accounts, when given), in the package's order: by the item's first creation, then its
    version chain."""
    items: set[str] = set()
    for term in terms or [""]:
        for account in accounts or [None]:
            q = Query(terms=term, account=account, date_from=date_from, date_to=date_to, version="all", limit=PAGE)
            while True:
                page = catalog.search(q)
                items.update(e.item_id for e in page.entries)
                q.offset += PAGE
                if q.offset >= page.total:
                    break
    entries: dict[tuple[str, int], Entry] = {}
    for item in sorted(items):
        for e in catalog.versions(item):
            entries[(e.event_id, e.record_version)] = e
    first = {}
    for e in entries.values():
        first[e.item_id] = min(first.get(e.item_id, e.created_at), e.created_at)
    return sorted(entries.values(), key=lambda e: (first[e.item_id], e.item_id, core_catalog.order_key(e)))


def _document(request_id: str, about: dict, assessed: list[core.Assessment]) -> Document:
    counts = core.summary(assessed)
    doc = Document(f"Woo-verzoek {request_id}: inventarislijst en documenten", wide=True, facts=[
        ("Verzoek", request_id), ("Periode", f"{about['from']} t/m {about['to']} (aanmaakdatum, UTC)"),
        ("Zoektermen", ", ".join(about["terms"]) or "(geen: alle records in de periode)"),
        ("Accounts", ", ".join(about["accounts"]) or "(alle)"),
        ("Records", f"{len(assessed)}: {counts[core.OPENBAAR]} openbaar, {counts[core.DEELS_OPENBAAR]} deels "
                    f"openbaar, {counts[core.NIET_OPENBAAR]} niet openbaar"),
        ("Samengesteld", f"{about['made_at']} door {about['made_by']}")])
    doc.heading("Toelichting")
    doc.paragraph("Persoonsgegevens van burgers zijn in het archief al gepseudonimiseerd. In dit pakket is elk "
                  "pseudoniem gelakt: op die plaats staat de code van de weigeringsgrond, bijvoorbeeld "
                  "[gelakt: 5.1.2e] (zie de tabel). Berichten "
                  "van derden die de overheid deelde (regel 6 van de archiveringsregels) zijn niet openbaar "
                  "zonder beoordeling; hun inhoud is weggelaten tot die beoordeling er is.")
    doc.table(["code", "weigeringsgrond"], [[g, text] for g, text in core.GROUNDS.items()])
    doc.heading("Inventarislijst")
    doc.table(core.INVENTORY_HEADER, core.inventory_rows(assessed))
    doc.heading("Documenten")
    for i, a in enumerate(assessed, 1):
        doc.heading(f"{i}. {a.event_id} (recordversie {a.record_version})")
        doc.paragraph(f"{a.event_type} op {a.platform}, account {a.account}"
                      + (f" ({a.organisation})" if a.organisation else "") + f", {a.created}"
                      + (f", versie {a.version} in de keten" if a.version else "")
                      + f". Beslissing: {a.decision}" + (f" ({a.ground_codes})" if a.grounds else "") + ".")
        if a.fields:
            doc.table(["veld", "inhoud"], [[k, v] for k, v in a.fields.items()])
    return doc


def _record_json(nr: int, a: core.Assessment) -> dict:
    return {"nr": nr, "kenmerk": a.event_id, "recordversie": a.record_version, "object_id": a.object_id,
            "datum": a.created, "platform": a.platform, "account": a.account, "organisatie": a.organisation,
            "soort": a.event_type, "versie": a.version, "beslissing": a.decision,
            "weigeringsgronden": list(a.grounds), "gelakt": a.marks, "velden": a.fields}


def export(cfg, request_id: str, terms: list[str], date_from: dt.date, date_to: dt.date, out_dir: Path,
           actor: str, accounts: list[str] | None = None, *, catalog: Catalog | None = None,
           store: ArchiveStore | None = None) -> Exported:
    """Find, hold, write the package, audit. The hold is stored before any file is written, so a
    failure half-way leaves the records held, never unprotected."""
    core.check_request_id(request_id)
    if date_to < date_from:
        raise WooError(f"--to ({date_to}) is before --from ({date_from})")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise WooError(f"{out_dir}: expected a new or empty directory for the package")
    store = store or ArchiveStore(cfg.s3)
    register = Register(store)
    existing = register.get(KIND, request_id)
    if existing and existing.get("status") == "closed":
        raise WooError(f"Woo request {request_id} is closed; a new request needs a new id")
    own = catalog is None
    catalog = catalog or Catalog.open(cfg)
    try:
        entries = find(catalog, terms, date_from, date_to, accounts)
    finally:
        if own:
            catalog.close()
    records = read.records(store, entries)
    assessed = [core.assess(r, e.object_key) for r, e in zip(records, entries)]
    media = {i: core.media_in_package(i, r, a.decision) for i, (r, a) in enumerate(zip(records, assessed), 1)}
    # the records' media files are held with them: destruction keeps a held file (duties/destruction.py)
    objects = sorted({e.object_key for e in entries} | {f["object_key"] for files in media.values() for _, f in files})
    made_at = _now()
    about = {"request_id": request_id, "terms": list(terms or []), "accounts": list(accounts or []),
             "from": date_from.isoformat(), "to": date_to.isoformat(), "made_at": made_at, "made_by": actor}

    # the hold first: objects of every export of an open request stay held until it is closed
    doc = existing or {"request_id": request_id, "status": "open", "opened_at": made_at, "opened_by": actor,
                       "objects": [], "records": [], "exports": []}
    doc["objects"] = sorted(set(doc.get("objects", [])) | set(objects))
    known = {(r["event_id"], r["record_version"]) for r in doc.get("records", [])}
    doc["records"] = doc.get("records", []) + [
        {"event_id": e.event_id, "record_version": e.record_version, "object": e.object_key,
         "decision": a.decision, "grounds": list(a.grounds)}
        for e, a in zip(entries, assessed) if (e.event_id, e.record_version) not in known]
    register.put(KIND, request_id, doc)

    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_csv(out_dir / "inventarislijst.csv", core.INVENTORY_HEADER, core.inventory_rows(assessed))]
    lines = out_dir / "documenten.jsonl"
    lines.write_text("".join(json.dumps({**_record_json(i, a), "bestanden": [path for path, _ in media[i]]},
                                        ensure_ascii=False, sort_keys=True) + "\n"
                             for i, a in enumerate(assessed, 1)), encoding="utf-8")
    files.append(lines)
    for i, record in enumerate(records, 1):
        for path, f in media[i]:
            data = store.get(f["object_key"])
            if data is None or hashlib.sha256(data).hexdigest() != f["sha256"]:
                raise WooError(f"record {i}: a media file is missing or not the bytes its SHA-256 names; "
                               f"the package is incomplete (the request stays open and its records held)")
            (out_dir / path).parent.mkdir(exist_ok=True)
            (out_dir / path).write_bytes(data)
            files.append(out_dir / path)
    files += _document(request_id, about, assessed).write(out_dir, f"woo-{request_id}")
    manifest = write_manifest(out_dir, files, **about, records=len(assessed), objects=len(objects),
                              decisions=core.summary(assessed), grounds=core.GROUNDS)
    manifest_sha = sha256_file(manifest)

    doc["exports"] = doc.get("exports", []) + [{**about, "records": len(assessed), "objects": len(objects),
                                                "manifest_sha256": manifest_sha}]
    register.put(KIND, request_id, doc)
    register.audit("woo.export", actor, request_id=request_id, records=len(assessed), objects=len(objects),
                   manifest_sha256=manifest_sha, **{"from": about["from"], "to": about["to"]})
    return Exported(request_id, out_dir, files, manifest, assessed, objects)


def close(cfg, request_id: str, actor: str, *, store: ArchiveStore | None = None) -> dict:
    """Close the request: its records are no longer held by it."""
    core.check_request_id(request_id)
    register = Register(store or ArchiveStore(cfg.s3))
    doc = register.get(KIND, request_id)
    if doc is None:
        raise WooError(f"no Woo request {request_id} in the register")
    if doc.get("status") == "closed":
        raise WooError(f"Woo request {request_id} is already closed (since {doc.get('closed_at')})")
    doc.update(status="closed", closed_at=_now(), closed_by=actor)
    register.put(KIND, request_id, doc)
    register.audit("woo.close", actor, request_id=request_id, objects=len(doc.get("objects", [])))
    return doc


def requests(cfg, *, store: ArchiveStore | None = None) -> list[dict]:
    """Every Woo request in the register, oldest first."""
    docs = [d for d in Register(store or ArchiveStore(cfg.s3)).all(KIND) if d]
    return sorted(docs, key=lambda d: (d.get("opened_at") or "", d.get("request_id") or ""))
