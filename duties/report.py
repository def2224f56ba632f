"""The monthly compliance report: gather from the catalog, the ledgers, the register and S3, then
write CSV, HTML and PDF (core/duties/report.py does the counting).

Records are the catalog's entries created in the period (every version, as `archive search
--version all --from --to` finds them), with the rules that fired read from their records.
The other fates (dead letter, quarantine, dropped, held, duplicate) carry no event time in the
catalog (a dead letter may not even be readable), so they are dated by their batch: the day
their ledger was written, i.e. when the pipeline processed them. Holds: the open Woo requests
in the duties register and the objects under an S3 legal hold (asked of S3 per object).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import layout
from archiefstroom.core.catalog import Entry, Query
from archiefstroom.core.duties import report as core
from archiefstroom.duties.documents import Document, write_csv, write_manifest
from archiefstroom.ground import registries

PAGE = 1000
LEGAL_HOLD = "legal hold (S3)"
WOO = "Woo-verzoek"


@dataclass
class Made:
    report: core.Report
    out_dir: Path
    files: list[Path]
    manifest: Path


def period_entries(catalog: Catalog, start: dt.date, end: dt.date) -> list[Entry]:
    """Every archived record version created in the period."""
    q = Query(date_from=start, date_to=end, version="all", limit=PAGE)
    out: list[Entry] = []
    while True:
        page = catalog.search(q)
        out += page.entries
        q.offset += PAGE
        if q.offset >= page.total:
            return out


def _fired(record: dict) -> tuple[tuple[str, str], ...]:
    return tuple((t["rule"], t.get("outcome") or "") for t in (record.get("decision") or {}).get("rules") or []
                 if t.get("fired"))


def _ledger_days(store: ArchiveStore) -> dict[str, dt.date]:
    """Ledger key -> the UTC day it was written (one listing of the ledgers)."""
    return {o["Key"]: o["LastModified"].astimezone(dt.timezone.utc).date()
            for o in store.objects(layout.LEDGER_PREFIX + "/")}


def _legal_holds(store: ArchiveStore, keys: set[str]) -> set[str]:
    held = set()
    for key in sorted(keys):
        head = store.head(key)
        if head and head.get("legal_hold"):
            held.add(key)
    return held


def gather(cfg, start: dt.date, end: dt.date, made: dt.date, *, catalog: Catalog,
           store: ArchiveStore) -> core.Report:
    entries = period_entries(catalog, start, end)
    records = read.records(store, entries)
    captures = [core.Capture(e.organisation, e.account_handle, e.platform, e.event_type, e.created_at,
                             e.record_version, e.object_key, _fired(r)) for e, r in zip(entries, records)]

    reg = registries.load_for(cfg)
    accounts = {(a.platform, a.id): (a.organisation, a.handle or a.id) for a in reg.accounts.accounts}
    registered = [core.RegisteredAccount(a.organisation, a.handle or a.id, a.platform, a.type)
                  for a in reg.accounts.accounts if a.type in ("corporate", "hybrid")]
    days = _ledger_days(store)
    objects: dict[str, tuple[str | None, str, str] | None] = {}
    outcomes = []
    for o in catalog.all_outcomes():
        day = days.get(o["ledger"])
        if day is None or not start <= day <= end:
            continue
        for oid in (core.outcome_object_id(o["event_id"], o["detail"]), o["detail"].get("hold_key")):
            if oid and oid not in objects:
                found = catalog.versions(oid)
                objects[oid] = (found[0].organisation, found[0].account_handle, found[0].platform) if found else None
        outcomes.append(core.attribute(o["kind"], o["reason"], o["event_id"], o["detail"], day, accounts,
                                       {k: v for k, v in objects.items() if v}))

    holds = []
    for doc in Register(store).all("woo"):
        if doc and doc.get("status") == "open":
            holds.append(core.Hold(WOO, doc["request_id"], doc.get("opened_at"), set(doc.get("objects", []))))
    legal = _legal_holds(store, {c.object_key for c in captures})
    holds.append(core.Hold(LEGAL_HOLD, "S3 Object Lock legal hold", None, legal))
    return core.build(start, end, made, captures, outcomes, registered, holds)


def document(r: core.Report, actor: str, made_at: str) -> Document:
    t = r.totals
    doc = Document(f"Nalevingsrapportage sociale media {r.start} t/m {r.end}", wide=True, facts=[
        ("Periode", f"{r.start} t/m {r.end} (records: aanmaakdatum; overige uitkomsten: verwerkingsdatum; UTC)"),
        ("Records vastgelegd", f"{t['records']} (bewerkingen {t['edit']}, verwijderingen {t['delete']})"),
        ("Niet gearchiveerd", f"dead letters {t['dead_letter']}, quarantaine {t['quarantine']}, "
                              f"niet gearchiveerd volgens de regels {t['dropped']}, vastgehouden {t['held']}, "
                              f"dubbel {t['duplicate']}"),
        ("Holds", f"{t['open_woo_requests']} open Woo-verzoek(en); records onder Woo-hold {t['records_on_woo_hold']}, "
                  f"onder legal hold {t['records_on_legal_hold']}"),
        ("Opgesteld", f"{made_at} door {actor}")])
    doc.heading("Vastgelegd per organisatie en account")
    doc.paragraph("Alle recordversies met een aanmaakdatum in de periode, per soort gebeurtenis; bewerkingen (edit) "
                  "en verwijderingen (delete) zijn eigen records in de versieketen.")
    doc.table(core.CAPTURED_HEADER, r.captured)
    doc.heading("Niet gearchiveerd: dead letters, quarantaine, regels")
    doc.paragraph("Gedateerd op de dag dat de batch is verwerkt. Een dead letter is niet leesbaar en dus niet aan "
                  "een account toe te wijzen.")
    doc.table(core.OUTCOMES_HEADER, r.not_archived)
    if r.reasons:
        doc.table(core.REASONS_HEADER, r.reasons)
    doc.heading("Uitkomsten van de archiveringsregels")
    doc.table(core.RULES_HEADER, r.rules)
    doc.heading("Dekking: dagen zonder vastlegging")
    doc.paragraph("Hele dagen (UTC) in de periode, tot de dag van opstellen, zonder enig record dat die dag is "
                  "aangemaakt, per geregistreerd of vastgelegd account, en per platform de dagen zonder enig "
                  "account. Een gat is een vraag (connector uit? een stille dag?), geen oordeel.")
    doc.table(core.GAPS_HEADER, r.gaps or [["", "geen gaten", "", "", "", "", ""]])
    doc.heading("Holds")
    doc.table(core.HOLDS_HEADER, r.holds)
    doc.table(core.HELD_HEADER, r.held_records)
    return doc


def make(cfg, start: dt.date, end: dt.date, out_dir: Path, actor: str, *, today: dt.date | None = None,
         catalog: Catalog | None = None, store: ArchiveStore | None = None) -> Made:
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir}: expected a new or empty directory for the report")
    store = store or ArchiveStore(cfg.s3)
    made_at = dt.datetime.now(dt.timezone.utc)
    own = catalog is None
    catalog = catalog or Catalog.open(cfg)
    try:
        r = gather(cfg, start, end, today or made_at.date(), catalog=catalog, store=store)
    finally:
        if own:
            catalog.close()
    stamp = made_at.isoformat(timespec="seconds")
    files = [write_csv(out_dir / name, header, rows) for name, header, rows in (
        ("captured.csv", core.CAPTURED_HEADER, r.captured), ("not-archived.csv", core.OUTCOMES_HEADER, r.not_archived),
        ("not-archived-reasons.csv", core.REASONS_HEADER, r.reasons), ("rules.csv", core.RULES_HEADER, r.rules),
        ("coverage-gaps.csv", core.GAPS_HEADER, r.gaps), ("holds.csv", core.HOLDS_HEADER, r.holds),
        ("held-records.csv", core.HELD_HEADER, r.held_records))]
    files += document(r, actor, stamp).write(out_dir, "report")
    manifest = write_manifest(out_dir, files, report="compliance", **{"from": start.isoformat(), "to": end.isoformat()},
                              made_at=stamp, made_by=actor, totals=r.totals)
    Register(store).audit("report", actor, **{"from": start.isoformat(), "to": end.isoformat()},
                          records=r.totals["records"])
    return Made(r, out_dir, files, manifest)
