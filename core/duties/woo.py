"""Woo requests (Wet open overheid), the pure part: lakken a record, its decision and ground, the
inventory rows.

The archive holds pseudonymised text: every personal value is already a keyed token
(`[PERSOON-7f3a2c]`, core/pseudonymise). For a Woo request each token becomes a visible mark
with its weigeringsgrond (`[gelakt: 5.1.2e]`): the requester sees that and why something is
withheld, and cannot link two marks (two equal tokens would say "the same person"). Content of a
third party that the government shared (rule 6) is withheld until someone has reviewed it.
No I/O: duties/woo.py finds the records through the catalog and writes the package.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from archiefstroom.core import media
from archiefstroom.core.pseudonymise.entities import LABELS

OPENBAAR, DEELS_OPENBAAR, NIET_OPENBAAR = "openbaar", "deels openbaar", "niet openbaar"

PRIVACY = "5.1.2e"        # every personal value, except:
ID_NUMBER = "5.1.1e"      # a BSN: an identificatienummer (art. 46 UAVG), an absolute ground
THIRD_PARTY = "derde"     # not a Woo ground: withheld until reviewed

GROUNDS = {
    PRIVACY: "art. 5.1 lid 2 sub e Woo: eerbiediging van de persoonlijke levenssfeer",
    ID_NUMBER: "art. 5.1 lid 1 sub e Woo: identificatienummers als bedoeld in art. 46 UAVG (BSN)",
    THIRD_PARTY: "niet openbaar zonder beoordeling: inhoud van een derde die de overheid deelde (regel 6)",
}
LABEL_GROUND = {"BSN": ID_NUMBER}          # token label -> ground; any other label: PRIVACY
THIRD_PARTY_MARK = "[niet openbaar zonder beoordeling: inhoud van een derde]"
RULE_6 = "R6-government-repost"

# a pseudonym token as core/pseudonymise/keys.py writes it: [LABEL-hex], 6..32 hex digits
TOKEN = re.compile(r"\[(%s)-[0-9a-f]{6,32}\]" % "|".join(sorted(set(LABELS.values()), key=len, reverse=True)))
_LABEL_OF_PREFIX = {prefix: label for label, prefix in LABELS.items()}
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def mark(ground: str) -> str:
    return f"[gelakt: {ground}]"


def ground_of(prefix: str) -> str:
    """The weigeringsgrond of a token by its prefix (PERSOON, BSN, ...)."""
    return LABEL_GROUND.get(_LABEL_OF_PREFIX.get(prefix, prefix), PRIVACY)


def check_request_id(value: str) -> str:
    """A request id names the register document and the package's files: letters, digits, . _ -."""
    if not isinstance(value, str) or not REQUEST_ID.fullmatch(value):
        raise ValueError(f"request id: expected 1-64 letters, digits, '.', '_' or '-' (starting with a letter "
                         f"or digit), got {value!r}")
    return value


@dataclass
class Lakt:
    """A text with its tokens replaced by marks; `grounds` counts the marks per ground."""
    text: str | None
    grounds: Counter = field(default_factory=Counter)


def lak(text: str | None) -> Lakt:
    """Every pseudonym token in `text` becomes `[gelakt: <ground>]`."""
    if not text:
        return Lakt(text)
    grounds: Counter = Counter()

    def sub(m: re.Match) -> str:
        g = ground_of(m.group(1))
        grounds[g] += 1
        return mark(g)
    return Lakt(TOKEN.sub(sub, text), grounds)


def is_third_party(record: dict) -> bool:
    """Rule 6 flagged it (a government repost or quote of a third party), or the rules said it is
    not publishable without review: either way it is withheld until reviewed."""
    d = record.get("decision") or {}
    fired = {t.get("rule") for t in d.get("rules") or [] if t.get("fired")}
    return "third_party_content" in (d.get("flags") or []) or RULE_6 in fired or not d.get("publishable", True)


@dataclass
class Assessment:
    """One archived record version as the Woo package shows it: lakt, with its decision."""
    event_id: str
    record_version: int
    object_id: str
    object_key: str
    platform: str
    account: str
    organisation: str | None
    event_type: str
    created: str                        # ISO UTC
    version: int | None                 # place in the post's version chain (rule 10)
    fields: dict                        # label -> lakt value (author, text, shared text, ...)
    decision: str
    grounds: tuple[str, ...]            # GROUNDS keys, in GROUNDS order
    marks: int                          # how many marks were placed

    @property
    def ground_codes(self) -> str:
        return "; ".join(self.grounds)

    @property
    def ground_text(self) -> str:
        return "; ".join(f"{g} ({GROUNDS[g]})" if g != THIRD_PARTY else GROUNDS[g] for g in self.grounds)


def _actor(actor: dict | None) -> str | None:
    if not actor:
        return None
    return actor.get("display_name") or actor.get("handle") or actor.get("id")


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(
            dt.timezone.utc).isoformat(timespec="seconds")
    return dt.datetime.fromtimestamp(int(value) / 1000, dt.timezone.utc).isoformat(timespec="seconds")


def assess(record: dict, object_key: str) -> Assessment:
    """Lak one archive record (schemas/archive_record.avsc) and decide: openbaar when nothing is
    withheld, deels openbaar when marks or withheld third-party content leave the rest readable,
    niet openbaar when the record is only third-party content (a repost without own text)."""
    ev, d = record["event"], record.get("decision") or {}
    ref = ev.get("referenced") or {}
    third = is_third_party(record)
    grounds: Counter = Counter()

    def put(label: str, value, *, withheld: bool = False):
        if value in (None, "", []):
            return
        if withheld:
            out[label] = THIRD_PARTY_MARK
            grounds[THIRD_PARTY] += 1
            return
        if isinstance(value, list):
            parts = [lak(v) for v in value]
            for p in parts:
                grounds.update(p.grounds)
            out[label] = ", ".join(p.text for p in parts if p.text)
            return
        lakt = lak(str(value))
        grounds.update(lakt.grounds)
        out[label] = lakt.text

    out: dict[str, str] = {}
    put("auteur", _actor(ev.get("author")))
    put("tekst", ev.get("text"))
    put("gedeeld bericht van", _actor(ref.get("author")), withheld=third)
    put("gedeelde tekst", ref.get("text"), withheld=third)
    put("link gedeeld bericht", ref.get("url"), withheld=third)
    put("vermeldingen", list(ev.get("mentions") or []))
    put("hashtags", ["#" + h.lstrip("#") for h in ev.get("hashtags") or []])
    put("links", list(ev.get("urls") or []))
    put("media (beschrijving)", [m.get("alt_text") for m in ev.get("media") or [] if m.get("alt_text")])
    put("link", ev.get("url"))
    if ev["event_type"] == "delete":
        out["status"] = "verwijderd door de auteur (tombstone: de tekst staat in de eerdere versie)"
    if third:
        grounds[THIRD_PARTY] = max(1, grounds[THIRD_PARTY])
    if third and not ev.get("text"):
        decision = NIET_OPENBAAR
    elif grounds:
        decision = DEELS_OPENBAAR
    else:
        decision = OPENBAAR
    marks = sum(n for g, n in grounds.items() if g != THIRD_PARTY)
    return Assessment(
        event_id=lak(ev["event_id"]).text, record_version=int(record.get("record_version") or 1),
        object_id=ev["object_id"], object_key=object_key, platform=ev["platform"],
        account=ev["account"].get("handle") or ev["account"]["id"], organisation=d.get("organisation"),
        event_type=ev["event_type"], created=_iso(ev["created_at"]), version=d.get("version"), fields=out,
        decision=decision, grounds=tuple(g for g in GROUNDS if grounds.get(g)), marks=marks)


INVENTORY_HEADER = ["nr", "kenmerk", "recordversie", "datum", "platform", "account", "organisatie", "soort",
                    "beslissing", "weigeringsgronden", "gelakt"]


def inventory_rows(assessed: list[Assessment]) -> list[list]:
    """The inventarislijst: one row per record version, numbered in the package's order."""
    return [[i, a.event_id, a.record_version, a.created, a.platform, a.account, a.organisation or "",
             a.event_type, a.decision, a.ground_codes, a.marks] for i, a in enumerate(assessed, 1)]


def summary(assessed: list[Assessment]) -> dict[str, int]:
    """How many records got each decision (all three named, also when 0)."""
    counts = Counter(a.decision for a in assessed)
    return {k: counts.get(k, 0) for k in (OPENBAAR, DEELS_OPENBAAR, NIET_OPENBAAR)}


# media files of a record (core/media.py) in the package: the bytes as archived, for the Woo
# coordinator to assess (an image can show people: lakken an image is their judgement, not a rule)
MEDIA_DIR = "bestanden"


def media_in_package(nr: int, record: dict, decision: str) -> list[tuple[str, dict]]:
    """(package path, media file) of a record's stored files; none for a record that is not made public."""
    if decision == NIET_OPENBAAR:
        return []
    return [(f"{MEDIA_DIR}/{nr:05d}-{k}.{media.extension(f.get('content_type'))}", f)
            for k, f in enumerate(media.stored(record), start=1)]
