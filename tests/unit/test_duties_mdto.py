"""MDTO sidecars from hand-written records: the element values written out by hand, every
sidecar valid by the official MDTO 1.0.1 XSD, and an incomplete one refused by it."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from lxml import etree

from archiefstroom.core.catalog import Entry, entry_of
from archiefstroom.core.duties import mdto
from archiefstroom.core.duties import transfer as core
from archiefstroom.duties.transfer import validate

UTC = dt.timezone.utc
NS = {"m": "https://www.nationaalarchief.nl/mdto"}
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "mdto"   # the Nationaal Archief's own (PROVENANCE.md)
NOW = dt.datetime(2036, 11, 2, 9, 30, tzinfo=UTC)
B11 = {"retention_class": "B", "category": "1.1", "destroy_after": None, "account_type": "corporate", "hotspot": None}
PAYLOAD = '{"id": "1800", "text": "Het kabinet presenteert vandaag de Miljoenennota."}'


def _event(**over) -> dict:
    ev = {"event_id": "x:1800", "object_id": "x:1800", "platform": "x", "native_id": "1800", "event_type": "post",
          "account": {"id": "Rijksoverheid", "handle": "Rijksoverheid", "display_name": None},
          "author": {"id": "Rijksoverheid", "handle": "Rijksoverheid", "display_name": "Rijksoverheid",
                     "profile_url": None, "avatar_url": None},
          "in_reply_to": None, "thread_root": None, "referenced": None,
          "created_at": dt.datetime(2026, 9, 15, 13, 0, tzinfo=UTC),
          "captured_at": dt.datetime(2026, 9, 15, 13, 0, 30, tzinfo=UTC), "edited_at": None,
          "text": "Het kabinet presenteert vandaag de Miljoenennota.", "language": "nl",
          "url": "https://x.com/Rijksoverheid/status/1800", "hashtags": ["prinsjesdag"], "mentions": [], "urls": [],
          "media": [], "reaction_kind": None,
          "raw": {"payload": PAYLOAD, "sha256": hashlib.sha256(PAYLOAD.encode()).hexdigest(),
                  "content_type": "application/json"},
          "connector": {"name": "x-stream", "version": "2.1"}}
    ev.update(over)
    return ev


def _record(ev: dict, offset: int, *, version: int, flags=(), publishable=True, counts=None) -> dict:
    return {"event": ev, "source": {"topic": "archiefstroom.raw", "partition": 2, "offset": offset},
            "retention": dict(B11), "archived_at": ev["captured_at"] + dt.timedelta(seconds=5),
            "pipeline_version": "0.1.0", "record_version": 1,
            "decision": {"rules": [], "route": 1, "organisation": "Rijksoverheid", "flags": list(flags),
                         "disclaimer": None, "publishable": publishable, "supersedes": None if version == 1 else "x:1800",
                         "original": None if version == 1 else "x:1800", "version": version, "context": [],
                         "registry_version": "abc123"},
            "pseudonymisation": {"key_id": "k-2026", "method": "hmac-sha256/full", "entity_counts": counts or {},
                                 "raw_payload": "pseudonymised", "raw_location": None, "raw_sha256": None},
            "burgerbrief": None}


POST = _record(_event(), 41, version=1)
EDIT = _record(_event(event_id="x:1800:edit:2026-09-15T13:20:00+00:00", event_type="edit",
                      edited_at=dt.datetime(2026, 9, 15, 13, 20, tzinfo=UTC),
                      captured_at=dt.datetime(2026, 9, 15, 13, 21, tzinfo=UTC),
                      text="Het kabinet presenteert vandaag de Miljoenennota. Met dank aan PERSOON_7f3a."),
               57, version=2, counts={"PERSOON": 1})
CTX = core.Context(now=NOW, categories={"1.1": ("Berichten van sleutelfunctie-accounts van de organisatie", None)},
                   selectielijst="Selectielijst sociale media archiefstroom (registers abc123)")
SERIE = mdto.Ref("Berichten van het account Rijksoverheid op x (Rijksoverheid)", "x:Rijksoverheid", core.SOURCE_SERIE)
ITEM_NAME = "Bericht van Rijksoverheid op x, 2026-09-15 15:00 (x:1800)"   # 13:00 UTC is 15:00 in Amsterdam


def _files():
    item = mdto.Ref(ITEM_NAME, "x:1800", core.SOURCE_ITEM)
    out = []
    for n, rec in enumerate((POST, EDIT), start=1):
        data = core.record_file(rec)
        out.append((data, core.bestand(f"x_1800.{n}.json", data, rec, item, NOW)))
    return out


def _item_xml() -> bytes:
    io = core.item_object("x:1800", [POST, EDIT], [b.ref for _, b in _files()], SERIE, CTX)
    return mdto.to_bytes(mdto.informatieobject(io))


def _texts(xml: bytes, path: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_the_official_examples_validate():
    """The shipped XSD loads from the package and accepts the Nationaal Archief's own examples."""
    examples = sorted(EXAMPLES.glob("MDTO-XML 1.0.1 Voorbeeld *.xml"))
    assert len(examples) == 4
    for path in examples:
        assert validate(path.read_bytes()) == [], path.name


def test_informatieobject_of_a_post_with_an_edit():
    xml = _item_xml()
    assert validate(xml) == []
    io = "/m:MDTO/m:informatieobject"
    assert _texts(xml, f"{io}/m:identificatie/m:identificatieKenmerk") == ["x:1800"]
    assert _texts(xml, f"{io}/m:naam") == [ITEM_NAME]
    assert _texts(xml, f"{io}/m:aggregatieniveau/m:begripLabel") == ["Archiefstuk"]
    assert _texts(xml, f"{io}/m:omschrijving") == ["Het kabinet presenteert vandaag de Miljoenennota."]
    assert _texts(xml, f"{io}/m:taal") == ["nl"]
    assert _texts(xml, f"{io}/m:waardering/m:begripLabel") == ["Blijvend te bewaren"]
    assert _texts(xml, f"{io}/m:waardering/m:begripCode") == ["B"]
    assert _texts(xml, f"{io}/m:waardering/m:begripBegrippenlijst/m:verwijzingNaam") == ["Begrippenlijst Waarderingen MDTO"]
    # permanent: the term starts at creation (Amsterdam date) and has no end
    assert _texts(xml, f"{io}/m:bewaartermijn/m:termijnStartdatumLooptijd") == ["2026-09-15"]
    assert _texts(xml, f"{io}/m:bewaartermijn/m:termijnEinddatum") == []
    assert _texts(xml, f"{io}/m:bewaartermijn/m:termijnLooptijd") == []
    assert _texts(xml, f"{io}/m:informatiecategorie/m:begripCode") == ["1.1"]
    assert _texts(xml, f"{io}/m:informatiecategorie/m:begripLabel") == ["Berichten van sleutelfunctie-accounts van de organisatie"]
    assert _texts(xml, f"{io}/m:informatiecategorie/m:begripBegrippenlijst/m:verwijzingNaam") == [
        "Selectielijst sociale media archiefstroom (registers abc123)"]
    assert _texts(xml, f"{io}/m:archiefvormer/m:verwijzingNaam") == ["Rijksoverheid"]
    assert _texts(xml, f"{io}/m:isOnderdeelVan/m:verwijzingIdentificatie/m:identificatieKenmerk") == ["x:Rijksoverheid"]
    assert _texts(xml, f"{io}/m:heeftRepresentatie/m:verwijzingNaam") == ["x_1800.1.json", "x_1800.2.json"]
    # creation, capture of the post, the edit and its capture
    assert _texts(xml, f"{io}/m:event/m:eventType/m:begripLabel") == ["Creatie", "Vastlegging", "Wijziging", "Vastlegging"]
    assert _texts(xml, f"{io}/m:event/m:eventTijd") == [
        "2026-09-15T13:00:00Z", "2026-09-15T13:00:30Z", "2026-09-15T13:20:00Z", "2026-09-15T13:21:00Z"]
    assert _texts(xml, f"{io}/m:event[1]/m:eventVerantwoordelijkeActor/m:verwijzingNaam") == ["Rijksoverheid"]
    assert _texts(xml, f"{io}/m:event[2]/m:eventResultaat") == [
        "x:1800 recordversie 1 gearchiveerd 2026-09-15T13:00:35+00:00 (pipeline 0.1.0, archiefstroom.raw/2/41)"]
    # the edit's pseudonymised name is the one restriction
    assert _texts(xml, f"{io}/m:beperkingGebruik/m:beperkingGebruikType/m:begripLabel") == ["Persoonsgegevens gepseudonimiseerd"]
    assert _texts(xml, f"{io}/m:beperkingGebruik/m:beperkingGebruikNadereBeschrijving") == [
        "Persoonsgegevens (PERSOON 1) zijn vervangen door pseudoniemen (sleutel k-2026, hmac-sha256/full). "
        "Herleiden kan alleen de privacyfunctionaris van de archiefvormer; sleutel en kluis worden niet overgebracht."]


def test_bestand_sidecar_names_its_checksums():
    data, b = _files()[0]
    xml = mdto.to_bytes(mdto.bestand(b))
    assert validate(xml) == []
    f = "/m:MDTO/m:bestand"
    assert _texts(xml, f"{f}/m:identificatie/m:identificatieKenmerk") == ["x:1800#recordversie-1"]
    assert _texts(xml, f"{f}/m:naam") == ["x_1800.1.json"]
    assert _texts(xml, f"{f}/m:omvang") == [str(len(data))]
    assert _texts(xml, f"{f}/m:bestandsformaat/m:begripCode") == ["fmt/817"]
    assert _texts(xml, f"{f}/m:checksum/m:checksumAlgoritme/m:begripLabel") == ["SHA256", "SHA512"]
    assert _texts(xml, f"{f}/m:checksum/m:checksumWaarde") == [hashlib.sha256(data).hexdigest(),
                                                              hashlib.sha512(data).hexdigest()]
    assert _texts(xml, f"{f}/m:checksum/m:checksumDatum") == ["2036-11-02T09:30:00Z"] * 2
    assert _texts(xml, f"{f}/m:isRepresentatieVan/m:verwijzingNaam") == [ITEM_NAME]
    # the file is the record's wire JSON
    wire = json.loads(data)
    assert wire["event"]["event_id"] == "x:1800" and wire["retention"]["retention_class"] == "B"
    assert wire["event"]["created_at"].startswith("2026-09-15T13:00:00")


def test_a_sidecar_without_naam_is_refused():
    root = etree.fromstring(_item_xml())
    naam = root.find("m:informatieobject/m:naam", NS)
    naam.getparent().remove(naam)
    problems = validate(etree.tostring(root))
    assert problems and "naam" in problems[0]


def test_a_bestand_without_checksum_is_refused():
    root = mdto.bestand(_files()[0][1])
    for c in root.findall("m:bestand/m:checksum", NS):
        c.getparent().remove(c)
    assert validate(etree.tostring(root)) != []


def test_not_publishable_and_woo_restrictions():
    quote = _record(_event(event_id="x:1900", object_id="x:1900", native_id="1900", event_type="quote",
                           referenced={"object_id": "x:77", "author": None, "text": "tekst van derden", "url": None}),
                    60, version=1, flags=("third_party_content", "not_publishable_without_review"), publishable=False)
    woo = core.woo_marks([
        {"request_id": "WOO-2036-4", "status": "closed",
         "records": [{"event_id": "x:1900", "decision": "deels openbaar", "ground": "art. 5.1 lid 2 sub e Woo"},
                     {"event_id": "x:1800", "decision": "openbaar", "ground": None}]},
        {"request_id": "WOO-2036-9", "status": "open", "objects": ["archive/B-1.1-permanent/2026/09/o.avro"]},
        None])
    got = core.restrictions([quote], woo, ["archive/B-1.1-permanent/2026/09/o.avro"])
    assert [(b.type.label, b.beschrijving) for b in got] == [
        ("Niet openbaar zonder beoordeling", "Volgens de archiveringsregels niet openbaar zonder beoordeling "
                                             "(not_publishable_without_review, third_party_content)."),
        ("Woo-besluit: deels openbaar", "Woo-verzoek WOO-2036-4: art. 5.1 lid 2 sub e Woo"),
        ("Woo-verzoek in behandeling", "Woo-verzoek WOO-2036-9 (open)")]
    # a Woo decision 'openbaar' and no personal data: no restriction, which MDTO still wants said
    assert [b.type.label for b in core.restrictions([POST], woo)] == ["Geen beperking"]
    ctx = core.Context(NOW, CTX.categories, CTX.selectielijst, woo)
    xml = mdto.to_bytes(mdto.informatieobject(core.item_object("x:1900", [quote], [], SERIE, ctx)))
    assert validate(xml) == []
    assert _texts(xml, "/m:MDTO/m:informatieobject/m:beperkingGebruik/m:beperkingGebruikType/m:begripLabel") == [
        "Niet openbaar zonder beoordeling", "Woo-besluit: deels openbaar"]
    rel = "/m:MDTO/m:informatieobject/m:gerelateerdInformatieobject"
    assert _texts(xml, f"{rel}/m:gerelateerdInformatieobjectVerwijzing/m:verwijzingNaam") == ["x:77"]
    assert _texts(xml, f"{rel}/m:gerelateerdInformatieobjectTypeRelatie/m:begripLabel") == ["Verwijst naar"]


def test_serie_sidecar():
    io = core.item_object("x:1800", [POST, EDIT], [], SERIE, CTX)
    serie = core.serie_object("x", "Rijksoverheid", "Rijksoverheid", "Rijksoverheid", [io],
                              POST["event"]["created_at"], EDIT["event"]["created_at"])
    xml = mdto.to_bytes(mdto.informatieobject(serie))
    assert validate(xml) == []
    s = "/m:MDTO/m:informatieobject"
    assert _texts(xml, f"{s}/m:naam") == ["Berichten van het account Rijksoverheid op x (Rijksoverheid)"]
    assert _texts(xml, f"{s}/m:aggregatieniveau/m:begripLabel") == ["Serie"]
    assert _texts(xml, f"{s}/m:bevatOnderdeel/m:verwijzingIdentificatie/m:identificatieKenmerk") == ["x:1800"]
    assert _texts(xml, f"{s}/m:waardering/m:begripCode") == ["B"]


def test_due_takes_class_b_items_whole_by_their_first_version():
    early = _record(_event(event_id="x:1", object_id="x:1", native_id="1",
                           created_at=dt.datetime(2026, 9, 30, 21, 59, tzinfo=UTC)), 1, version=1)   # 23:59 Amsterdam
    late_edit = _record(_event(event_id="x:1:edit:later", object_id="x:1", native_id="1", event_type="edit",
                               created_at=dt.datetime(2026, 10, 3, 8, 0, tzinfo=UTC)), 2, version=2)
    on_the_day = _record(_event(event_id="x:2", object_id="x:2", native_id="2",
                                created_at=dt.datetime(2026, 9, 30, 22, 0, tzinfo=UTC)), 3, version=1)  # 00:00 on 1 Oct
    v_record = {**_record(_event(event_id="x:3", object_id="x:3", native_id="3",
                                 created_at=dt.datetime(2026, 9, 1, tzinfo=UTC)), 4, version=1),
                "retention": {**B11, "retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 9, 1)}}
    entries = [entry_of(r, "archive/k.avro") for r in (late_edit, early, on_the_day, v_record)]
    got = core.due(entries, dt.date(2026, 10, 1))
    assert {item: [e.event_id for e in versions] for item, versions in got.items()} == {"x:1": ["x:1", "x:1:edit:later"]}
    assert core.cutoff_ms(dt.date(2026, 10, 1)) == int(dt.datetime(2026, 9, 30, 22, 0, tzinfo=UTC).timestamp() * 1000)


def test_names_and_pakbon():
    assert core.unique_names(["x:1", "x_1", "mastodon:9:reaction:ACCOUNT_ab"]) == {
        "mastodon:9:reaction:ACCOUNT_ab": "mastodon_9_reaction_ACCOUNT_ab", "x:1": "x_1",
        "x_1": "x_1-" + hashlib.sha256(b"x_1").hexdigest()[:8]}
    note = core.pakbon(transfer_id="OB-1", created=NOW, before=dt.date(2026, 12, 1), by="archivaris",
                       manifest_sha256="ab" * 32, series=2, items=5, files=7, sidecars=14, payload_files=21,
                       payload_bytes=4096, organisations=["Rijksoverheid", "Gemeente Utrecht"])
    assert note["informatieobjecten"] == {"total": 7, "series": 2, "archiefstukken": 5}
    assert note["created"] == "2036-11-02T09:30:00+00:00"
    assert note["package_hash"] == {"algorithm": "sha256", "of": "manifest-sha256.txt", "value": "ab" * 32}
    assert note["payload"] == {"files": 21, "bytes": 4096}
    assert note["archiefvormers"] == ["Gemeente Utrecht", "Rijksoverheid"]


@pytest.mark.parametrize("text", ["bel\x00len", "tab\tok"])
def test_text_that_xml_cannot_hold_is_left_out(text):
    io = core.item_object("x:1800", [_record(_event(text=text), 1, version=1)], [], SERIE, CTX)
    xml = mdto.to_bytes(mdto.informatieobject(io))
    assert validate(xml) == []
    assert _texts(xml, "/m:MDTO/m:informatieobject/m:omschrijving") == [text.replace("\x00", "")]


def test_events_of_a_tombstone_and_a_webcare_version():
    gone = _record(_event(event_id="x:1800:delete", event_type="delete", text=None,
                          created_at=dt.datetime(2026, 9, 16, 8, 0, tzinfo=UTC),
                          captured_at=dt.datetime(2026, 9, 16, 8, 1, tzinfo=UTC)), 80, version=1_000_000)
    judged = {**_record(_event(), 90, version=1), "record_version": 2,
              "burgerbrief": {"label": False, "score": 0.1, "category": None, "reasons": [], "urgent": False,
                              "model_version": "t", "verdict": {"decision": "geen_burgerbrief", "by": "anna",
                                                                "at": dt.datetime(2026, 9, 15, 14, 0, tzinfo=UTC),
                                                                "note": None}}}
    got = [(e.type.label, e.type.lijst, e.tijd, e.resultaat) for e in core.events([POST, judged, gone])]
    assert got[0] == ("Creatie", "Begrippenlijst EventTypeLijst MDTO", dt.datetime(2026, 9, 15, 13, 0, tzinfo=UTC),
                      "geplaatst op x")
    assert [g[0] for g in got] == ["Creatie", "Vastlegging", "Beoordeling webcare", "Vastlegging",
                                   "Verwijdering op platform", "Vastlegging"]
    assert got[2][2:] == (dt.datetime(2026, 9, 15, 14, 0, tzinfo=UTC), "oordeel: geen_burgerbrief")
    assert got[4][2:] == (dt.datetime(2026, 9, 16, 8, 0, tzinfo=UTC),
                          "verwijderd op het platform; de eerdere versies blijven bewaard")
    # the webcare member's name is not carried into the package
    assert not any("anna" in str(g) for g in got)
    io = core.item_object("x:1800", [POST, judged, gone], [], SERIE, CTX)
    assert validate(mdto.to_bytes(mdto.informatieobject(io))) == []


def test_a_hotspot_added_later_is_what_the_sidecar_says():
    """The record was archived as V 1.2; the catalog's entry says a later hotspot keeps it (B 1.6)."""
    v12 = {**B11, "retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 9, 15)}
    rec = {**_record(_event(), 41, version=1), "retention": v12}
    entry = {**entry_of(rec, "archive/V-1.2-2036-09-30/2026/09/o.avro").as_dict(),
             "retention_class": "B", "category": "1.6", "destroy_after": None, "hotspot": "storm-2026-09"}
    now = core.effective_retention(Entry(**entry))
    assert now == {"retention_class": "B", "category": "1.6", "destroy_after": None, "hotspot": "storm-2026-09"}
    ctx = core.Context(NOW, {"1.2": ("Berichten van corporate accounts", 10), "1.6": ("Hotspot", None)}, "Selectielijst")
    xml = mdto.to_bytes(mdto.informatieobject(core.item_object("x:1800", [rec], [], SERIE, ctx, retention=now)))
    assert validate(xml) == []
    io = "/m:MDTO/m:informatieobject"
    assert _texts(xml, f"{io}/m:waardering/m:begripLabel") == ["Blijvend te bewaren"]
    assert _texts(xml, f"{io}/m:informatiecategorie/m:begripCode") == ["1.6"]
    assert _texts(xml, f"{io}/m:trefwoord") == ["hotspot storm-2026-09"]
    assert _texts(xml, f"{io}/m:bewaartermijn/m:termijnEinddatum") == []
    assert _texts(xml, f"{io}/m:event[last()]/m:eventType/m:begripLabel") == ["Herwaardering"]
    assert _texts(xml, f"{io}/m:event[last()]/m:eventResultaat") == [
        "gearchiveerd als V-1.2; nu B-1.6 (hotspot storm-2026-09)"]
    # without a re-tag the record's own retention applies, and there is no such event
    plain = mdto.to_bytes(mdto.informatieobject(core.item_object("x:1800", [POST], [], SERIE, CTX)))
    assert "Herwaardering" not in _texts(plain, f"{io}/m:event/m:eventType/m:begripLabel")
