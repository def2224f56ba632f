"""MDTO 1.0.1 sidecars (Metagegevens Duurzaam Toegankelijke Overheidsinformatie) from plain data.

Pure: dataclasses in, an lxml element tree or bytes out, no I/O. The element order follows the
official XSD (duties/xsd/MDTO-XML1.0.1.xsd), which is strict about sequence: an
`informatieobject` is identificatie, naam, aggregatieniveau, ..., archiefvormer, betrokkene,
activiteit, beperkingGebruik; a `bestand` is identificatie, naam, omvang, bestandsformaat,
checksum, URLBestand, isRepresentatieVan. Optional parts are left out when empty, so the
caller never has to know the order. The XSD itself is loaded (and checked against) in
archiefstroom.duties.transfer.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from lxml import etree

NS = "https://www.nationaalarchief.nl/mdto"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} https://www.nationaalarchief.nl/mdto/MDTO-XML1.0.1.xsd"

# the Nationaal Archief's own lists, as the official examples name them
WAARDERINGEN = "Begrippenlijst Waarderingen MDTO"
AGGREGATIENIVEAUS = "Begrippenlijst Aggregatieniveaus MDTO"
EVENTTYPES = "Begrippenlijst EventTypeLijst MDTO"
CHECKSUMALGORITMES = "Begrippenlijst ChecksumAlgoritme MDTO"
BEPERKINGEN = "Begrippenlijst Beperkingen MDTO"
PRONOM = "PRONOM-register"
# characters XML 1.0 cannot hold (control characters a platform text may carry): left out
_NOT_XML = re.compile("[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


@dataclass(frozen=True)
class Ref:
    """verwijzingGegevens: a name, and an identification when there is one."""
    naam: str
    kenmerk: str | None = None
    bron: str | None = None


@dataclass(frozen=True)
class Begrip:
    """begripGegevens: a label from a named list (begrippenlijst), with its code if it has one."""
    label: str
    lijst: str
    code: str | None = None


@dataclass(frozen=True)
class Event:
    type: Begrip
    tijd: dt.datetime | dt.date | None = None
    actor: Ref | None = None
    resultaat: str | None = None


@dataclass(frozen=True)
class Termijn:
    """termijnGegevens. A permanent term (class B) has a start but no looptijd or einddatum."""
    trigger: Begrip | None = None
    start: dt.date | None = None
    looptijd: str | None = None          # xsd:duration, e.g. P10Y
    eind: dt.date | None = None


@dataclass(frozen=True)
class Beperking:
    type: Begrip
    beschrijving: str | None = None


@dataclass(frozen=True)
class Relatie:
    """gerelateerdInformatieobject: another object and how this one relates to it."""
    ref: Ref
    type: Begrip


@dataclass(frozen=True)
class Checksum:
    algoritme: Begrip
    waarde: str
    datum: dt.datetime


@dataclass
class Informatieobject:
    kenmerk: str
    bron: str
    naam: str
    waardering: Begrip
    archiefvormer: list[Ref]
    beperkingen: list[Beperking]
    aggregatieniveau: Begrip | None = None
    omschrijving: str | None = None
    taal: str | None = None
    trefwoorden: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    bewaartermijn: Termijn | None = None
    informatiecategorie: Begrip | None = None
    onderdeel_van: list[Ref] = field(default_factory=list)
    bevat: list[Ref] = field(default_factory=list)
    representaties: list[Ref] = field(default_factory=list)
    gerelateerd: list[Relatie] = field(default_factory=list)

    @property
    def ref(self) -> Ref:
        return Ref(self.naam, self.kenmerk, self.bron)


@dataclass
class Bestand:
    kenmerk: str
    bron: str
    naam: str
    omvang: int
    formaat: Begrip
    checksums: list[Checksum]
    representatie_van: Ref

    @property
    def ref(self) -> Ref:
        return Ref(self.naam, self.kenmerk, self.bron)


# -- building ---------------------------------------------------------------------------
def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(parent, tag: str, value) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    el.text = _NOT_XML.sub("", value) if isinstance(value, str) else _lexical(value)
    return el


def _lexical(value) -> str:
    """xsd:dateTime in UTC with a Z (the e-depot compares times), xsd:date, xsd:integer."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return value.isoformat(timespec="seconds") + "Z"
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _identificatie(parent, tag: str, kenmerk: str, bron: str) -> None:
    el = etree.SubElement(parent, _q(tag))
    _text(el, "identificatieKenmerk", kenmerk)
    _text(el, "identificatieBron", bron)


def _ref(parent, tag: str, ref: Ref) -> None:
    el = etree.SubElement(parent, _q(tag))
    _text(el, "verwijzingNaam", ref.naam)
    if ref.kenmerk is not None:
        _identificatie(el, "verwijzingIdentificatie", ref.kenmerk, ref.bron or "")


def _begrip(parent, tag: str, b: Begrip) -> None:
    el = etree.SubElement(parent, _q(tag))
    _text(el, "begripLabel", b.label)
    if b.code is not None:
        _text(el, "begripCode", b.code)
    _ref(el, "begripBegrippenlijst", Ref(b.lijst))


def _termijn(parent, tag: str, t: Termijn) -> None:
    el = etree.SubElement(parent, _q(tag))
    if t.trigger:
        _begrip(el, "termijnTriggerStartLooptijd", t.trigger)
    if t.start:
        _text(el, "termijnStartdatumLooptijd", t.start)
    if t.looptijd:
        _text(el, "termijnLooptijd", t.looptijd)
    if t.eind:
        _text(el, "termijnEinddatum", t.eind)


def _root() -> etree._Element:
    root = etree.Element(_q("MDTO"), nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    return root


def informatieobject(io: Informatieobject) -> etree._Element:
    """The MDTO root element holding one informatieobject."""
    root = _root()
    el = etree.SubElement(root, _q("informatieobject"))
    _identificatie(el, "identificatie", io.kenmerk, io.bron)
    _text(el, "naam", io.naam)
    if io.aggregatieniveau:
        _begrip(el, "aggregatieniveau", io.aggregatieniveau)
    for word in io.trefwoorden:
        _text(el, "trefwoord", word)
    if io.omschrijving:
        _text(el, "omschrijving", io.omschrijving)
    if io.taal:
        _text(el, "taal", io.taal)
    for ev in io.events:
        e = etree.SubElement(el, _q("event"))
        _begrip(e, "eventType", ev.type)
        if ev.tijd is not None:
            _text(e, "eventTijd", ev.tijd)
        if ev.actor:
            _ref(e, "eventVerantwoordelijkeActor", ev.actor)
        if ev.resultaat:
            _text(e, "eventResultaat", ev.resultaat)
    _begrip(el, "waardering", io.waardering)
    if io.bewaartermijn:
        _termijn(el, "bewaartermijn", io.bewaartermijn)
    if io.informatiecategorie:
        _begrip(el, "informatiecategorie", io.informatiecategorie)
    for tag, refs in (("isOnderdeelVan", io.onderdeel_van), ("bevatOnderdeel", io.bevat),
                      ("heeftRepresentatie", io.representaties)):
        for r in refs:
            _ref(el, tag, r)
    for rel in io.gerelateerd:
        g = etree.SubElement(el, _q("gerelateerdInformatieobject"))
        _ref(g, "gerelateerdInformatieobjectVerwijzing", rel.ref)
        _begrip(g, "gerelateerdInformatieobjectTypeRelatie", rel.type)
    for r in io.archiefvormer:
        _ref(el, "archiefvormer", r)
    for b in io.beperkingen:
        p = etree.SubElement(el, _q("beperkingGebruik"))
        _begrip(p, "beperkingGebruikType", b.type)
        if b.beschrijving:
            _text(p, "beperkingGebruikNadereBeschrijving", b.beschrijving)
    return root


def bestand(b: Bestand) -> etree._Element:
    """The MDTO root element holding one bestand (a file of the package)."""
    root = _root()
    el = etree.SubElement(root, _q("bestand"))
    _identificatie(el, "identificatie", b.kenmerk, b.bron)
    _text(el, "naam", b.naam)
    _text(el, "omvang", int(b.omvang))
    _begrip(el, "bestandsformaat", b.formaat)
    for c in b.checksums:
        e = etree.SubElement(el, _q("checksum"))
        _begrip(e, "checksumAlgoritme", c.algoritme)
        _text(e, "checksumWaarde", c.waarde)
        _text(e, "checksumDatum", c.datum)
    _ref(el, "isRepresentatieVan", b.representatie_van)
    return root


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, indented: the sidecar as it is written."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
