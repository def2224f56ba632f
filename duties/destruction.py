"""Destruction by the selectielijst (issue 13): the vernietigingslijst, its approval, applying it,
and re-tagging the archive after a changed selectielijst.

  due      every archive object whose `destroy_after` tag lies before the date, less what is
           held (hotspot, legal hold, an open Woo request, a lock past the date): a list per
           selectielijst category of the objects and the records they hold, as CSV, HTML and
           PDF, kept in the duties register with its SHA-256
  approve  who approved which list, when, and the hash they approved
  apply    deletes every version of each approved object that is still exactly as listed and
           still due; S3's Object Lock has the last word (a locked or held version is refused
           by S3 itself, and reported). Writes the verklaring van vernietiging and a tombstone
           per record in the catalog. Running it again does nothing twice.
  retag    tags (and, later only, locks) brought in line with the current selectielijst

The decisions are in core.duties.destruction; this module reads and writes the bucket, the
register and the catalog. Nothing here logs a record's content: ids are pseudonymised.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import layout, media
from archiefstroom.core.duties import destruction as core
from archiefstroom.duties.documents import Document, sha256_file, write_csv
from archiefstroom.ground import registries

KIND = "destruction"
STATEMENT = "verklaring"
RETAG = "retag"
RECORD_COLUMNS = ["event_id", "record_version", "event_type", "platform", "account", "created", "destroy_after"]


class DutyError(Exception):
    """A request that cannot be carried out as asked (unknown list, not approved, ...): the
    message says why; the CLI prints it without a traceback."""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def archive_objects(store: ArchiveStore, prefix: str):
    """Keys of the archive's record objects (Avro under the archive prefix)."""
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    for key in store.keys(base):
        if key.endswith(".avro") and layout.parse_object_key(key):
            yield key


def record_and_media_objects(store: ArchiveStore, prefix: str) -> tuple[list[str], list[str]]:
    """Keys of the record objects and of the media files kept beside them (core.media), from one
    listing of the bucket."""
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    records, files = [], []
    for key in store.keys(base):
        if key.endswith(".avro") and layout.parse_object_key(key):
            records.append(key)
        elif media.is_media_key(key):
            files.append(key)
    return records, files


def group_of_key(key: str) -> str:
    """The retention directory of a record object or a media file: both sit four levels down."""
    return key.split("/")[-4]


def object_state(store: ArchiveStore, key: str, tags: dict | None = None) -> core.ObjectState | None:
    """The object as the bucket has it now, over every version: None when no version is left."""
    versions = store.versions(key)
    data = [v for v in versions if not v["delete_marker"]]
    if not data:
        return None
    holds, until, size = False, None, 0
    for v in data:
        h = store.head(key, v["version_id"]) or {}
        holds = holds or bool(h.get("legal_hold"))
        if h.get("lock_until") and (until is None or h["lock_until"].date() > until):
            until = h["lock_until"].date()
        if v is data[0]:
            size = h.get("size") or 0
    latest = versions[0]
    if latest["delete_marker"]:      # deleted by someone without a version id: not as listed
        etag, tags = "(delete marker)", tags or {}
    else:
        etag = latest["etag"]
    return core.ObjectState(key, tags if tags is not None else store.tags(key), etag,
                            tuple(v["version_id"] for v in data), holds, until, size)


def record_rows(records: list[dict]) -> list[dict]:
    """What a list says of each record: ids, type, where, when; never its text or author."""
    out = []
    for r in records:
        ev, ret = r["event"], r["retention"]
        created = ev["created_at"]
        out.append({"event_id": ev["event_id"], "record_version": int(r.get("record_version") or 1),
                    "event_type": ev["event_type"], "platform": ev["platform"],
                    "account": ev["account"].get("handle") or ev["account"]["id"],
                    "created": created.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
                    if isinstance(created, dt.datetime) else str(created),
                    "destroy_after": ret["destroy_after"].isoformat() if ret.get("destroy_after") else "permanent"})
    return sorted(out, key=lambda x: (x["event_id"], x["record_version"]))


# -- due: the vernietigingslijst ----------------------------------------------------------------
@dataclass
class DueList:
    list_id: str
    doc: dict
    files: list[Path]
    created: bool           # False: the same list was registered before (left as it was)


def make_list(cfg, *, before: dt.date, out_dir: Path, by: str = "archiefstroom") -> DueList:
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    holds = register.held_objects()
    items, left, kept = [], [], set()
    record_keys, media_keys = record_and_media_objects(store, cfg.s3.prefix)
    for key in record_keys:
        tags = store.tags(key)
        quick = core.why_kept(core.ObjectState(key, tags), before=before, holds={})
        if quick == core.HOTSPOT and core.left_out(core.ObjectState(key, tags), quick, before):
            left.append({"key": key, "category": tags.get("category_before") or tags.get("selectielijst_category", ""),
                         "reason": quick})
        if quick is not None:
            kept.add(key)
            continue                                   # B, hotspot or not yet due: no need to look further
        state = object_state(store, key, tags)
        if state is None:
            continue
        reason = core.why_kept(state, before=before, holds=holds)
        if reason is None:
            records = store.records(key) or []
            items.append(core.ListItem(key, tags.get("selectielijst_category", ""), tags["destroy_after"], state.etag,
                                       list(state.versions), state.size, record_rows(records)).as_dict())
        else:
            kept.add(key)
            if core.left_out(state, reason, before):
                left.append({"key": key, "category": tags.get("category_before") or
                             tags.get("selectielijst_category", ""), "reason": reason})
    # a media file goes with its retention group: due when its tags say so and no record object of
    # its group is kept (a hold, a hotspot, a class change), since any of those records may show it
    kept_groups = {group_of_key(x["key"]) for x in left} | {group_of_key(k) for k in kept}
    for key in media_keys:
        tags = store.tags(key)
        if core.why_kept(core.ObjectState(key, tags), before=before, holds={}) is not None:
            continue
        state = object_state(store, key, tags)
        if state is None:
            continue
        reason = core.why_kept(state, before=before, holds=holds)
        if reason is None and group_of_key(key) in kept_groups:
            reason = core.GROUP_KEPT
        if reason is None:
            items.append(core.ListItem(key, tags.get("selectielijst_category", ""), tags["destroy_after"], state.etag,
                                       list(state.versions), state.size, []).as_dict())
        elif core.left_out(state, reason, before):
            left.append({"key": key, "category": tags.get("selectielijst_category", ""), "reason": reason})
    digest = core.list_hash(before, items)
    list_id = core.list_id(layout.today(), digest)
    existing = register.get(KIND, list_id)
    sl = registries.load_for(cfg).selectielijst
    doc = existing or {
        "list_id": list_id, "status": "draft", "before": before.isoformat(), "made_at": _now(), "made_by": by,
        "sha256": digest, "bucket": store.s3.bucket, "prefix": cfg.s3.prefix,
        "categories": {c: sl.categories[c].description for c in sorted({i["category"] for i in items})
                       if c in sl.categories},
        "objects": items, "left_out": left, "approval": None, "outcomes": {}, "applications": []}
    files = write_list(doc, out_dir)
    if existing is None:
        doc["files"] = {p.name: sha256_file(p) for p in files}
        register.put(KIND, list_id, doc)
        register.audit("retention.due", by, list_id=list_id, before=before.isoformat(), sha256=digest,
                       objects=len(items), records=sum(len(i["records"]) for i in items), left_out=len(left))
    return DueList(list_id, doc, files, existing is None)


def _category_title(doc: dict, code: str) -> str:
    desc = (doc.get("categories") or {}).get(code)
    return f"Categorie {code}" + (f": {desc}" if desc else "")


def list_document(doc: dict) -> Document:
    items = doc["objects"]
    records = sum(len(i["records"]) for i in items)
    d = Document("Vernietigingslijst", wide=True, facts=[
        ("Lijst", doc["list_id"]), ("Te vernietigen", f"archiefstukken met een vernietigingsdatum vóór {doc['before']}"),
        ("Opgesteld", f"{doc['made_at']} door {doc['made_by']}"), ("Archief", f"s3://{doc['bucket']}/{doc['prefix']}"),
        ("Omvang", f"{len(items)} objecten, {records} records"), ("SHA-256 van de lijst", doc["sha256"]),
        ("Status", _status_text(doc))])
    d.paragraph("Vernietiging gaat per object: één object bevat de records van één bewaargroep (selectielijst-"
                "categorie, klasse en vernietigingsmaand). Objecten met een legal hold, een open Woo-verzoek, een "
                "hotspot of een Object Lock na de datum staan niet op deze lijst maar onder 'Uitgezonderd'.")
    groups = core.by_category(items)
    d.heading("Samenvatting per categorie")
    d.table(["Categorie", "Omschrijving", "Objecten", "Records", "Bytes"],
            [[c, (doc.get("categories") or {}).get(c, ""), len(g), sum(len(i["records"]) for i in g),
              sum(i["size"] for i in g)] for c, g in groups.items()])
    for code, group in groups.items():
        d.heading(_category_title(doc, code))
        d.table(["Object", "Vernietigen na", "Records", "ETag"],
                [[i["key"], i["destroy_after"], len(i["records"]), i["etag"]] for i in group])
        d.table(["Event id", "Versie", "Type", "Platform", "Account", "Aangemaakt", "Eigen datum"],
                [[r["event_id"], r["record_version"], r["event_type"], r["platform"], r["account"], r["created"],
                  r["destroy_after"]] for i in group for r in i["records"]])
    d.heading("Uitgezonderd")
    if doc["left_out"]:
        d.table(["Object", "Categorie", "Reden"], [[x["key"], x["category"], x["reason"]] for x in doc["left_out"]])
    else:
        d.paragraph("Geen objecten uitgezonderd.")
    return d


def _status_text(doc: dict) -> str:
    a = doc.get("approval")
    return f"goedgekeurd door {a['by']} op {a['at']}" if a else "concept: nog niet goedgekeurd"


def write_list(doc: dict, out_dir: Path) -> list[Path]:
    stem = f"vernietigingslijst-{doc['list_id']}"
    rows = [[doc["list_id"], i["category"], i["key"], i["destroy_after"], *[r[c] for c in RECORD_COLUMNS]]
            for code, group in core.by_category(doc["objects"]).items() for i in group for r in i["records"]]
    csv_path = write_csv(out_dir / f"{stem}.csv", ["list_id", "category", "object", "object_destroy_after",
                                                  *RECORD_COLUMNS], rows)
    return [csv_path, *list_document(doc).write(out_dir, stem)]


# -- approve ----------------------------------------------------------------------------------
def _load(register: Register, list_id: str) -> dict:
    doc = register.get(KIND, list_id)
    if doc is None:
        raise DutyError(f"no vernietigingslijst {list_id!r} in the register (`archiefstroom retention due` makes one)")
    if core.list_hash(doc["before"], doc["objects"]) != doc["sha256"]:
        raise DutyError(f"vernietigingslijst {list_id}: its objects no longer match its SHA-256; not used")
    return doc


def approve(cfg, list_id: str, by: str) -> dict:
    if not by.strip():
        raise DutyError("--by: expected the name of the person who approves")
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    doc = _load(register, list_id)
    if doc.get("approval"):
        a = doc["approval"]
        raise DutyError(f"vernietigingslijst {list_id} was approved before, by {a['by']} at {a['at']}")
    doc["approval"] = {"by": by, "at": _now(), "sha256": doc["sha256"]}
    doc["status"] = "approved"
    register.put(KIND, list_id, doc)
    register.audit("retention.approve", by, list_id=list_id, sha256=doc["sha256"])
    return doc


# -- apply ------------------------------------------------------------------------------------
@dataclass
class Applied:
    list_id: str
    destroyed: list[str] = field(default_factory=list)           # this run
    already: list[str] = field(default_factory=list)             # by an earlier run
    kept: dict[str, str] = field(default_factory=dict)           # key -> why not destroyed
    files: list[Path] = field(default_factory=list)


def apply(cfg, list_id: str, *, by: str, out_dir: Path | None = None, today: dt.date | None = None) -> Applied:
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    doc = _load(register, list_id)
    approval = doc.get("approval")
    if not approval:
        raise DutyError(f"vernietigingslijst {list_id} is not approved (`archiefstroom retention approve`)")
    if approval.get("sha256") != doc["sha256"]:
        raise DutyError(f"vernietigingslijst {list_id}: the approved SHA-256 is not the list's; not applied")
    today = today or layout.today()
    before = dt.date.fromisoformat(doc["before"])
    holds = register.held_objects()
    outcomes = doc.setdefault("outcomes", {})
    out = Applied(list_id)
    register.audit("retention.apply.start", by, list_id=list_id, sha256=doc["sha256"])
    groups_seen: dict[str, bool] = {}   # a group's answer, asked once: its records are all done by then
    with Catalog.open(cfg) as catalog:
        # record objects first, then the media files whose groups they decide (_group_has_records)
        for item in sorted(doc["objects"], key=lambda i: (media.is_media_key(i["key"]), i["key"])):
            key = item["key"]
            prev = outcomes.get(key, {})
            if prev.get("status") == "destroyed":
                out.already.append(key)
                continue
            state = object_state(store, key)
            if prev.get("status") == "destroying" and (state is None or set(state.versions) <= set(item["versions"])):
                # an earlier run deleted (some of) it and stopped before saying so: finish, unless held
                reason = None if state is None else core.why_kept(state, before=min(before, today), holds=holds)
            else:
                reason = core.why_not_destroy(item, state, today=today, before=before, holds=holds)
            if reason is None and media.is_media_key(key) and _group_has_records(store, key, groups_seen):
                reason = core.GROUP_KEPT   # records of its group are still there (kept, or written since)
            if reason is None:
                outcomes[key] = {"status": "destroying", "at": _now()}
                register.put(KIND, list_id, doc)
                reason = _delete_all(store, key)
            if reason is None:
                at = _now()
                catalog.mark_destroyed(key, list_id, at, [(r["event_id"], r["record_version"]) for r in item["records"]],
                                       category=item["category"])
                outcomes[key] = {"status": "destroyed", "at": at, "by": by}
                out.destroyed.append(key)
            else:
                outcomes[key] = {"status": "kept", "at": _now(), "reason": reason}
                out.kept[key] = reason
            register.put(KIND, list_id, doc)
    done = sum(1 for i in doc["objects"] if outcomes.get(i["key"], {}).get("status") == "destroyed")
    doc["status"] = "applied" if done == len(doc["objects"]) else "partly applied"
    doc.setdefault("applications", []).append({"by": by, "at": _now(), "destroyed": len(out.destroyed),
                                               "kept": len(out.kept), "already": len(out.already)})
    statement = statement_of(doc)
    register.put(KIND, list_id, doc)
    register.put(STATEMENT, list_id, statement)
    out.files = write_statement(statement, out_dir or (cfg.data_dir / "duties" / list_id))
    register.audit("retention.apply", by, list_id=list_id, sha256=doc["sha256"], destroyed=sorted(out.destroyed),
                   kept={k: v for k, v in sorted(out.kept.items())}, already=len(out.already))
    return out


def _group_has_records(store: ArchiveStore, media_key: str, seen: dict[str, bool]) -> bool:
    """Whether a record object is still in the media file's retention group (record objects are
    applied before media files, so those on the same list are gone by now; one listing per group)."""
    group_dir = media_key.rsplit("/", 3)[0]
    if group_dir not in seen:
        seen[group_dir] = any(k.endswith(".avro") for k in store.keys(group_dir + "/"))
    return seen[group_dir]


def _delete_all(store: ArchiveStore, key: str) -> str | None:
    """Delete every version (and delete marker) of `key`: None when none is left, else what
    S3 refused. A delete without a version id would only add a marker and keep the data."""
    for v in store.versions(key):
        try:
            store.delete_version(key, v["version_id"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            return f"refused by S3 ({code}) for version {v['version_id']}"
    left = store.versions(key)
    return None if not left else f"{len(left)} version(s) still in the bucket"


def statement_of(doc: dict) -> dict:
    """The verklaring van vernietiging: what was destroyed under which approval, and what not."""
    outcomes = doc.get("outcomes", {})
    destroyed = [i for i in doc["objects"] if outcomes.get(i["key"], {}).get("status") == "destroyed"]
    kept = [{"key": i["key"], "category": i["category"], "reason": outcomes.get(i["key"], {}).get("reason", "not applied")}
            for i in doc["objects"] if outcomes.get(i["key"], {}).get("status") != "destroyed"]
    return {"list_id": doc["list_id"], "list_sha256": doc["sha256"], "before": doc["before"],
            "approval": doc["approval"], "applications": doc.get("applications", []), "bucket": doc["bucket"],
            "categories": doc.get("categories", {}),
            "destroyed": [{"key": i["key"], "category": i["category"], "destroy_after": i["destroy_after"],
                           "versions": i["versions"], "destroyed_at": outcomes[i["key"]]["at"],
                           "records": i["records"]} for i in destroyed],
            "kept": kept,
            "counts": {"objects": len(destroyed), "records": sum(len(i["records"]) for i in destroyed),
                       "kept": len(kept)}}


def write_statement(st: dict, out_dir: Path) -> list[Path]:
    last = st["applications"][-1] if st["applications"] else {}
    d = Document("Verklaring van vernietiging", wide=True, facts=[
        ("Vernietigingslijst", st["list_id"]), ("SHA-256 van de lijst", st["list_sha256"]),
        ("Goedgekeurd", f"{st['approval']['by']} op {st['approval']['at']}"),
        ("Uitgevoerd", f"{last.get('by', '')} op {last.get('at', '')}"),
        ("Vernietigd", f"{st['counts']['objects']} objecten, {st['counts']['records']} records"),
        ("Niet vernietigd", f"{st['counts']['kept']} objecten")])
    d.paragraph("Hierbij wordt verklaard dat de onderstaande archiefstukken, opgenomen op de genoemde en goedgekeurde "
                "vernietigingslijst, zijn vernietigd: elke versie van elk object is uit de archiefopslag verwijderd. "
                "Van elk record blijft in de catalogus alleen een verwijzing (id, object, lijst), geen inhoud.")
    groups = core.by_category(st["destroyed"])
    for code, group in groups.items():
        desc = st["categories"].get(code)
        d.heading(f"Categorie {code}" + (f": {desc}" if desc else ""))
        d.table(["Object", "Vernietigen na", "Records", "Vernietigd op"],
                [[i["key"], i["destroy_after"], len(i["records"]), i["destroyed_at"]] for i in group])
        d.table(["Event id", "Versie", "Type", "Platform", "Aangemaakt"],
                [[r["event_id"], r["record_version"], r["event_type"], r["platform"], r["created"]]
                 for i in group for r in i["records"]])
    d.heading("Niet vernietigd")
    if st["kept"]:
        d.table(["Object", "Categorie", "Reden"], [[k["key"], k["category"], k["reason"]] for k in st["kept"]])
    else:
        d.paragraph("Alle objecten van de lijst zijn vernietigd.")
    stem = f"verklaring-van-vernietiging-{st['list_id']}"
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(st, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*d.write(out_dir, stem), json_path]


# -- retag ------------------------------------------------------------------------------------
@dataclass
class Retagged:
    rows: list[core.Retag]
    report: Path
    dry_run: bool


def retag(cfg, *, dry_run: bool, out_dir: Path, by: str = "archiefstroom", today: dt.date | None = None) -> Retagged:
    store = ArchiveStore(cfg.s3)
    register = Register(store)
    reg = registries.load_for(cfg)
    sl = reg.selectielijst
    today = today or layout.today()
    rows: list[core.Retag] = []
    decided: dict[str, core.Retag] = {}     # retention group -> the first record object's retag
    with Catalog.open(cfg) as catalog:
        record_keys, media_keys = record_and_media_objects(store, cfg.s3.prefix)
        for key in [*record_keys, *media_keys]:
            tags = store.tags(key)
            if media.is_media_key(key):     # a media file takes its group's decision (after all records)
                d = _media_retag(key, tags, decided.get(group_of_key(key)))
                if d is None:
                    continue
                rows.append(d)
                if not dry_run:
                    _apply_retag(store, key, d)
                continue
            category = sl.categories.get(tags.get("selectielijst_category", ""))
            created = []
            if tags.get("hotspot") != "true" and category is not None and category.retention_class == "V":
                created = [r["event"]["created_at"].date() for r in store.records(key) or []]
            head = store.head(key) or {}
            until = head["lock_until"].date() if head.get("lock_until") else None
            d = core.retag(key, tags, category, created, lock_until=until, legal_hold=bool(head.get("legal_hold")),
                           bucket_locked=store.locked, today=today)
            decided.setdefault(group_of_key(key), d)
            if not (d.changes or d.extend_lock or d.legal_hold or d.note):
                continue
            rows.append(d)
            if dry_run or not (d.changes or d.extend_lock or d.legal_hold):
                continue
            _apply_retag(store, key, d)
            if d.changes:
                catalog.set_retention(key, retention_class=d.tags["retention_class"],
                                      category=d.tags.get("selectielijst_category", ""), hotspot=None, years=d.years)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = write_csv(out_dir / f"retag-{stamp}{'-dry-run' if dry_run else ''}.csv",
                       ["object", "category", "tag", "before", "after", "lock_extended_to", "legal_hold_on", "note"],
                       _report_rows(rows))
    if not dry_run:
        changed = [r for r in rows if r.changes or r.extend_lock or r.legal_hold]
        if changed:
            register.put(RETAG, stamp, {"at": _now(), "by": by, "selectielijst_version": reg.version,
                                        "objects": {r.key: {"tags": r.tags, "years": r.years,
                                                            "changes": {k: list(v) for k, v in r.changes.items()},
                                                            "extend_lock": r.extend_lock.isoformat() if r.extend_lock else None,
                                                            "legal_hold": r.legal_hold} for r in changed}})
    register.audit("retention.retag" + (".dry-run" if dry_run else ""), by, selectielijst_version=reg.version,
                   objects=len(rows), report=report.name)
    return Retagged(rows, report, dry_run)


def _apply_retag(store: ArchiveStore, key: str, d: core.Retag) -> None:
    for v in [v for v in store.versions(key) if not v["delete_marker"]]:
        if d.tags:
            store.put_tags(key, d.tags, v["version_id"])
        if d.extend_lock:
            store.extend_retention(key, v["version_id"], d.extend_lock)
        if d.legal_hold:
            store.set_legal_hold(key, True, v["version_id"])


def _media_retag(key: str, tags: dict, group: core.Retag | None) -> core.Retag | None:
    """A media file's retag: the same change as its group's records (they share tags and lock);
    None when its group changed nothing (or has no record object left)."""
    if group is None or not (group.changes or group.extend_lock or group.legal_hold):
        return None
    new_tags = {**group.tags, "schema_version": tags.get("schema_version", "media")} if group.tags else None
    changes = {k: (tags.get(k, ""), v) for k, v in (new_tags or {}).items() if tags.get(k) != v}
    return dataclasses.replace(group, key=key, tags=new_tags, changes=changes)


def _report_rows(rows: list[core.Retag]) -> list[list]:
    out = []
    for r in rows:
        category = r.category
        lock = r.extend_lock.isoformat() if r.extend_lock else ""
        hold = "yes" if r.legal_hold else ""
        if r.changes:
            for tag, (old, new) in sorted(r.changes.items()):
                out.append([r.key, category, tag, old, new, lock, hold, r.note])
        else:
            out.append([r.key, category, "", "", "", lock, hold, r.note])
    return out
