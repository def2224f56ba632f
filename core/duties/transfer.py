"""Overbrengen: which class-B records are due, and what the e-depot is told about them.

Pure: catalog entries and archive records in, MDTO objects (core.duties.mdto), file bytes,
names and the pakbon's figures out. archiefstroom.duties.transfer reads the archive, writes
the package and the BagIt bag, and records the transfer.

Choices (docs/duties-transfer.md):
* Due: a class-B item (a post, reply or reaction, with every version: edits, tombstone,
  webcare versions) whose first version was created before the cut-off date, midnight
  Europe/Amsterdam. The archivist picks the date: the overbrengingstermijn (the Archiefwet's
  term after which permanent records are transferred) counted back from today.
* One informatieobject (aggregatieniveau Archiefstuk) per item; each archived version of it
  is a bestand: the archive record as JSON (schemas/archive_record.avsc, wire form). Items
  sit in a serie per account (platform + account id) with isOnderdeelVan.
* Only what the records hold goes in: they were pseudonymised before they were archived,
  and nothing of the vault or the key is added.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from archiefstroom import schemas
from archiefstroom.core import layout, media
from archiefstroom.core.catalog import Entry, order_key
from archiefstroom.core.duties import mdto
from archiefstroom.core.duties.mdto import Begrip, Beperking, Event, Ref, Relatie, Termijn

SOURCE_ITEM = "archiefstroom: platform en platform-id van het bericht (object id)"
SOURCE_FILE = "archiefstroom: event id en recordversie van het gearchiveerde record"
SOURCE_SERIE = "archiefstroom: platform en account id (accountregister)"
# our own lists, for what the Nationaal Archief's lists have no word for (docs/duties-transfer.md)
OWN_EVENTS = "Begrippenlijst events archiefstroom"
OWN_RESTRICTIONS = "Begrippenlijst beperkingen archiefstroom"
OWN_RELATIONS = "Begrippenlijst relaties archiefstroom"
JSON_FORMAT = Begrip("JSON Data Interchange Format", mdto.PRONOM, "fmt/817")

WAARDERING = {"B": Begrip("Blijvend te bewaren", mdto.WAARDERINGEN, "B"),
              "V": Begrip("Tijdelijk te bewaren", mdto.WAARDERINGEN, "V")}
ARCHIEFSTUK = Begrip("Archiefstuk", mdto.AGGREGATIENIVEAUS)
SERIE = Begrip("Serie", mdto.AGGREGATIENIVEAUS)
CREATIE = Begrip("Creatie", mdto.EVENTTYPES)
NO_RESTRICTION = Beperking(Begrip("Geen beperking", mdto.BEPERKINGEN))
KIND = {"post": "Bericht", "reply": "Reactie", "repost": "Gedeeld bericht", "quote": "Geciteerd bericht",
        "edit": "Bericht", "delete": "Bericht", "reaction": "Waardering", "direct_message": "Privébericht"}
_LANGUAGE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


class NothingDue(ValueError):
    """No class-B record is due for transfer before the date."""


# -- selection ---------------------------------------------------------------------------
def cutoff_ms(before: dt.date) -> int:
    """Midnight at the start of `before` in Europe/Amsterdam, in epoch ms (the archive's
    creation months are Amsterdam months too)."""
    return int(dt.datetime.combine(before, dt.time(), layout.AMSTERDAM).timestamp() * 1000)


def due(entries: Iterable[Entry], before: dt.date) -> dict[str, list[Entry]]:
    """Item id -> its class-B versions in chain order, for every item whose first version
    was created before `before`. An item travels whole: an edit or tombstone after the date
    goes with its post, so the e-depot never gets half a version chain."""
    items: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.retention_class == "B":
            items[e.item_id].append(e)
    limit = cutoff_ms(before)
    return {item: sorted(versions, key=order_key) for item, versions in sorted(items.items())
            if min(v.created_at for v in versions) < limit}


def unique_names(ids: Iterable[str]) -> dict[str, str]:
    """A file-system name per id (layout.safe), made unique with a hash where two ids fold to one."""
    out, used = {}, set()
    for i in sorted(set(ids)):
        name = layout.safe(i)
        if name in used:
            name = f"{name}-{hashlib.sha256(i.encode()).hexdigest()[:8]}"
        used.add(name)
        out[i] = name
    return out


# -- the files ----------------------------------------------------------------------------
def record_file(record: dict) -> bytes:
    """One archived record version as the package holds it: the wire JSON of the contract."""
    wire = schemas.to_wire(record, "archive_record")
    return (json.dumps(wire, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def bestand(name: str, data: bytes, record: dict, item: Ref, now: dt.datetime) -> mdto.Bestand:
    ev = record["event"]
    return mdto.Bestand(
        kenmerk=f"{ev['event_id']}#recordversie-{int(record.get('record_version') or 1)}", bron=SOURCE_FILE,
        naam=name, omvang=len(data), formaat=JSON_FORMAT, representatie_van=item,
        checksums=[mdto.Checksum(Begrip("SHA256", mdto.CHECKSUMALGORITMES), hashlib.sha256(data).hexdigest(), now),
                   mdto.Checksum(Begrip("SHA512", mdto.CHECKSUMALGORITMES), hashlib.sha512(data).hexdigest(), now)])


# media files kept beside a record (core/media.py) travel with it as bestanden of the same
# archiefstuk. Their format is given as the IANA media type the bytes showed at capture: a PRONOM
# identifier needs a format identification tool's verdict (DROID, Siegfried), which is the
# e-depot's intake step, not a guess made here.
MEDIA_TYPES = "IANA Media Types"


def media_name(base: str, version: int, n: int, content_type: str | None) -> str:
    return f"{base}.{version}.media-{n}.{media.extension(content_type)}"


def media_bestand(name: str, data: bytes, record: dict, file: dict, item: Ref, now: dt.datetime) -> mdto.Bestand:
    """A media file's bestand. Its SHA-256 is the one recorded at capture: the bytes are checked
    against it before they are packaged (duties/transfer.py)."""
    ev = record["event"]
    return mdto.Bestand(
        kenmerk=f"{ev['event_id']}#recordversie-{int(record.get('record_version') or 1)}#media-{file['sha256']}",
        bron=SOURCE_FILE, naam=name, omvang=len(data),
        formaat=Begrip(file.get("content_type") or "application/octet-stream", MEDIA_TYPES),
        representatie_van=item,
        checksums=[mdto.Checksum(Begrip("SHA256", mdto.CHECKSUMALGORITMES), file["sha256"], now),
                   mdto.Checksum(Begrip("SHA512", mdto.CHECKSUMALGORITMES), hashlib.sha512(data).hexdigest(), now)])


# -- Woo ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WooMark:
    request_id: str
    status: str                      # open | closed
    decision: str | None = None      # openbaar | deels openbaar | niet openbaar
    ground: str | None = None


def woo_marks(docs: Iterable[dict | None]) -> dict[str, list[WooMark]]:
    """Event id or object key -> the Woo requests that concern it, from the duties register's
    `woo` documents: `request_id`, `status`, `objects` (held object keys) and `records`
    (per record: `event_id`, `decision`, `ground`). Absent fields are simply not used."""
    out: dict[str, list[WooMark]] = defaultdict(list)
    for doc in docs:
        if not doc or not doc.get("request_id"):
            continue
        rid, status = str(doc["request_id"]), str(doc.get("status") or "open")
        for rec in doc.get("records") or []:
            if isinstance(rec, dict) and rec.get("event_id"):
                out[rec["event_id"]].append(WooMark(rid, status, rec.get("decision"), rec.get("ground")))
        if status == "open":
            for key in doc.get("objects") or []:
                out[key].append(WooMark(rid, status))
    return dict(out)


# -- the informatieobjecten -------------------------------------------------------------
@dataclass
class Context:
    """What the package knows besides the records: the time, the selectielijst, Woo."""
    now: dt.datetime
    categories: dict[str, tuple[str, int | None]]       # code -> (description, years or None)
    selectielijst: str                                  # its begrippenlijst name, with the registry version
    woo: dict[str, list[WooMark]] = field(default_factory=dict)


def _when(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)


def _item_ref(kenmerk: str, naam: str) -> Ref:
    return Ref(naam, kenmerk, SOURCE_ITEM)


def item_name(item_id: str, records: list[dict]) -> str:
    """A meaningful name without the text: kind, account, platform and time (Amsterdam)."""
    ev = records[0]["event"]
    first = next((r["event"] for r in records if r["event"]["event_type"] not in ("edit", "delete")), ev)
    when = _when(first["created_at"]).astimezone(layout.AMSTERDAM)
    handle = ev["account"].get("handle") or ev["account"]["id"]
    return f"{KIND.get(first['event_type'], 'Bericht')} van {handle} op {ev['platform']}, {when:%Y-%m-%d %H:%M} ({item_id})"


def events(records: list[dict]) -> list[Event]:
    """Creation on the platform, then per archived version what happened to the item:
    captured, edited, deleted on the platform, judged by webcare."""
    out = []
    first = records[0]["event"]
    author = first.get("author") or {}
    who = author.get("handle") or author.get("display_name") or author.get("id")
    out.append(Event(CREATIE, _when(first["created_at"]), Ref(who) if who else None,
                     f"geplaatst op {first['platform']}"))
    for rec in records:
        ev = rec["event"]
        if ev["event_type"] == "edit":
            out.append(Event(Begrip("Wijziging", OWN_EVENTS), _when(ev.get("edited_at") or ev["created_at"]),
                             resultaat="bewerkt op het platform; de vorige versie blijft bewaard"))
        elif ev["event_type"] == "delete":
            out.append(Event(Begrip("Verwijdering op platform", OWN_EVENTS), _when(ev["created_at"]),
                             resultaat="verwijderd op het platform; de eerdere versies blijven bewaard"))
        verdict = (rec.get("burgerbrief") or {}).get("verdict")
        if int(rec.get("record_version") or 1) > 1 and verdict:
            out.append(Event(Begrip("Beoordeling webcare", OWN_EVENTS), _when(verdict["at"]),
                             resultaat=f"oordeel: {verdict['decision']}"))
        src = rec["source"]
        conn = ev.get("connector") or {}
        out.append(Event(Begrip("Vastlegging", OWN_EVENTS), _when(ev["captured_at"]),
                         Ref(f"archiefstroom, connector {conn.get('name', '?')} {conn.get('version', '')}".strip()),
                         f"{ev['event_id']} recordversie {int(rec.get('record_version') or 1)} gearchiveerd "
                         f"{_when(rec['archived_at']).isoformat(timespec='seconds')} "
                         f"(pipeline {rec.get('pipeline_version')}, {src['topic']}/{src['partition']}/{src['offset']})"))
    return out


def restrictions(records: list[dict], woo: dict[str, list[WooMark]], object_keys: Iterable[str] = ()) -> list[Beperking]:
    """beperkingGebruik from the rules and the Woo register; `Geen beperking` when none applies
    (MDTO requires at least one)."""
    out: list[Beperking] = []
    found = {}
    for rec in records:
        for kind, n in ((rec.get("pseudonymisation") or {}).get("entity_counts") or {}).items():
            found[kind] = found.get(kind, 0) + int(n)
    if any(found.values()):
        ps = next(r["pseudonymisation"] for r in records if r.get("pseudonymisation"))
        counts = ", ".join(f"{k} {n}" for k, n in sorted(found.items()) if n)
        out.append(Beperking(Begrip("Persoonsgegevens gepseudonimiseerd", OWN_RESTRICTIONS),
                             f"Persoonsgegevens ({counts}) zijn vervangen door pseudoniemen (sleutel {ps['key_id']}, "
                             f"{ps['method']}). Herleiden kan alleen de privacyfunctionaris van de archiefvormer; "
                             f"sleutel en kluis worden niet overgebracht."))
    closed = [r for r in records if not (r.get("decision") or {}).get("publishable", True)]
    if closed:
        flags = sorted({f for r in closed for f in (r["decision"].get("flags") or [])})
        disclaimer = next((r["decision"].get("disclaimer") for r in closed if r["decision"].get("disclaimer")), None)
        text = "Volgens de archiveringsregels niet openbaar zonder beoordeling" + (f" ({', '.join(flags)})" if flags else "")
        out.append(Beperking(Begrip("Niet openbaar zonder beoordeling", OWN_RESTRICTIONS),
                             text + (f". {disclaimer}" if disclaimer else "") + "."))
    seen = set()
    for key in [*(r["event"]["event_id"] for r in records), *object_keys]:
        for m in woo.get(key, []):
            if (m.request_id, m.decision) in seen or m.decision == "openbaar":
                continue
            seen.add((m.request_id, m.decision))
            if m.decision:
                out.append(Beperking(Begrip(f"Woo-besluit: {m.decision}", OWN_RESTRICTIONS),
                                     f"Woo-verzoek {m.request_id}" + (f": {m.ground}" if m.ground else "")))
            else:
                out.append(Beperking(Begrip("Woo-verzoek in behandeling", OWN_RESTRICTIONS),
                                     f"Woo-verzoek {m.request_id} ({m.status})"))
    return out or [NO_RESTRICTION]


def effective_retention(entry: Entry) -> dict:
    """The retention the archive applies now, as the catalog holds it: a hotspot added later or
    a changed selectielijst re-tags objects (and their catalog entries), never the records
    inside them. Shaped like a record's `retention`."""
    return {"retention_class": entry.retention_class, "category": entry.category,
            "destroy_after": dt.date.fromisoformat(entry.destroy_after) if entry.destroy_after else None,
            "hotspot": entry.hotspot}


def bewaartermijn(record: dict, ret: dict, ctx: Context) -> Termijn:
    """From the creation date; a B record has no end (permanent), a V record ends on its destroy-after."""
    start = _when(record["event"]["created_at"]).astimezone(layout.AMSTERDAM).date()
    years = ctx.categories.get(ret["category"], ("", None))[1]
    end = ret.get("destroy_after")
    return Termijn(CREATIE, start, f"P{years}Y" if end and years is not None else None, end)


def category(ret: dict, ctx: Context) -> Begrip:
    code = ret["category"]
    return Begrip(ctx.categories.get(code, (code, None))[0] or code, ctx.selectielijst, code)


def reappraisal(records: list[dict], ret: dict) -> list[Event]:
    """A re-tag after archiving (hotspot, changed selectielijst) as an event: the records keep
    the retention they were archived with, the sidecar says what applies now."""
    own = sorted({(r["retention"]["retention_class"], r["retention"]["category"]) for r in records})
    if own == [(ret["retention_class"], ret["category"])]:
        return []
    was = ", ".join(f"{c}-{k}" for c, k in own)
    why = f" (hotspot {ret['hotspot']})" if ret.get("hotspot") else ""
    return [Event(Begrip("Herwaardering", OWN_EVENTS),
                  resultaat=f"gearchiveerd als {was}; nu {ret['retention_class']}-{ret['category']}{why}")]


def related(item_id: str, records: list[dict]) -> list[Relatie]:
    """What the item answers, belongs to or points at (by object id; the other item may or
    may not be in this package)."""
    out, seen = [], set()
    for rec in records:
        ev = rec["event"]
        pairs = [(ev.get("in_reply_to"), "Reactie op"),
                 (ev["object_id"] if ev["event_id"] == item_id and ev["object_id"] != item_id else None, "Reactie op"),
                 (ev.get("thread_root"), "Onderdeel van gesprek"),
                 ((ev.get("referenced") or {}).get("object_id"), "Verwijst naar")]
        for target, kind in pairs:
            if target and target != item_id and target not in seen:
                seen.add(target)
                out.append(Relatie(Ref(target, target, SOURCE_ITEM), Begrip(kind, OWN_RELATIONS)))
    return out


def item_object(item_id: str, records: list[dict], files: list[Ref], serie: Ref, ctx: Context,
                object_keys: Iterable[str] = (), retention: dict | None = None) -> mdto.Informatieobject:
    """The informatieobject of one item; `records` in chain order, `files` its bestanden,
    `retention` what applies now (effective_retention; default: the newest record's own)."""
    first = records[0]
    ret = retention or records[-1]["retention"]
    ev = first["event"]
    text = next((r["event"]["text"] for r in records if r["event"].get("text")), None)
    language = ev.get("language")
    organisation = next(((r.get("decision") or {}).get("organisation") for r in records
                         if (r.get("decision") or {}).get("organisation")), None)
    hotspots = sorted({h for h in [ret.get("hotspot"), *(r["retention"].get("hotspot") for r in records)] if h})
    return mdto.Informatieobject(
        kenmerk=item_id, bron=SOURCE_ITEM, naam=item_name(item_id, records), aggregatieniveau=ARCHIEFSTUK,
        trefwoorden=[f"hotspot {h}" for h in hotspots],
        omschrijving=text[:500] if text else None,
        taal=language if language and _LANGUAGE.fullmatch(language) else None,
        events=events(records) + reappraisal(records, ret), waardering=WAARDERING[ret["retention_class"]],
        bewaartermijn=bewaartermijn(first, ret, ctx), informatiecategorie=category(ret, ctx),
        onderdeel_van=[serie], representaties=files, gerelateerd=related(item_id, records),
        archiefvormer=[Ref(organisation or ev["account"].get("handle") or ev["account"]["id"])],
        beperkingen=restrictions(records, ctx.woo, object_keys))


def serie_name(platform: str, handle: str, organisation: str | None) -> str:
    return f"Berichten van het account {handle} op {platform}" + (f" ({organisation})" if organisation else "")


def serie_object(platform: str, account_id: str, handle: str, organisation: str | None,
                 items: list[mdto.Informatieobject], first: dt.datetime, last: dt.datetime) -> mdto.Informatieobject:
    return mdto.Informatieobject(
        kenmerk=f"{platform}:{account_id}", bron=SOURCE_SERIE, naam=serie_name(platform, handle, organisation),
        aggregatieniveau=SERIE,
        omschrijving=(f"{len(items)} archiefstukken van het account, geplaatst van "
                      f"{first.astimezone(layout.AMSTERDAM):%Y-%m-%d} tot en met {last.astimezone(layout.AMSTERDAM):%Y-%m-%d}"),
        waardering=WAARDERING["B"], bevat=[i.ref for i in items],
        archiefvormer=[Ref(organisation or handle)],
        beperkingen=[Beperking(Begrip("Beperkingen per archiefstuk", OWN_RESTRICTIONS),
                               "De beperkingen op het gebruik staan bij elk archiefstuk van deze serie.")])


# -- the pakbon ---------------------------------------------------------------------------
def pakbon(*, transfer_id: str, created: dt.datetime, before: dt.date, by: str, manifest_sha256: str,
           series: int, items: int, files: int, sidecars: int, payload_files: int, payload_bytes: int,
           organisations: list[str]) -> dict:
    """The delivery note. The package hash is the SHA-256 of the bag's sha256 payload manifest,
    which names every payload file with its own checksum."""
    return {
        "pakbon": "archiefstroom overbrenging", "transfer_id": transfer_id,
        "created": created.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "before": before.isoformat(), "by": by, "archiefvormers": sorted(organisations),
        "package_hash": {"algorithm": "sha256", "of": "manifest-sha256.txt", "value": manifest_sha256},
        "informatieobjecten": {"total": series + items, "series": series, "archiefstukken": items},
        "bestanden": files, "sidecars": sidecars,
        "payload": {"files": payload_files, "bytes": payload_bytes},
        "mdto_version": "1.0.1",
    }
