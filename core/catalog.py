"""The catalog's plain core: what an index entry of an archive record holds, how a search is
asked, Dutch text folding and stemming, the thread tree, and the raw-payload integrity check.

No I/O: archiefstroom.catalog stores entries in SQLite or PostgreSQL; this module decides
what goes in and what a question means, so both databases answer the same way.
Only pseudonymised text is ever indexed: entries are made from archive records, which
the pipeline pseudonymised before the sink wrote them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import fastavro
import snowballstemmer

from archiefstroom import schemas

EVENT_TYPES = ("post", "reply", "repost", "quote", "edit", "delete", "reaction", "direct_message")
FACETS = ("organisation", "account", "platform", "event_type", "retention_class", "period")


@dataclass
class Entry:
    """One archived record version in the index: enough to find, list and thread it; the whole
    record is read from its object (`object_key`, `offset`) when someone opens it."""
    event_id: str
    record_version: int
    object_id: str                # the content item the event is about
    item_id: str                  # what this record is a version of: object_id, except a reaction
                                  # (a like), which is an item of its own about object_id
    thread_root: str | None
    in_reply_to: str | None
    platform: str
    event_type: str
    account_id: str
    account_handle: str
    organisation: str | None
    author: str | None            # pseudonymised handle or display name of the author
    created_at: int               # epoch ms
    text: str                     # pseudonymised text (and a quoted or reposted text after it)
    url: str | None
    retention_class: str          # B or V
    category: str
    destroy_after: str | None     # ISO date after which a V record may be destroyed; None for B
    hotspot: str | None
    burgerbrief: bool | None      # the classifier's label (None: not a reaction, not scored)
    burgerbrief_score: float | None
    verdict: str | None           # webcare's decision, if any
    publishable: bool
    chain_version: int            # 1 original, 2.. edits (rule 10), a delete tombstone last
    deleted: bool
    object_key: str
    topic: str
    partition: int
    offset: int
    raw_sha256: str
    latest: bool = True           # the newest version of its object (chain, then record_version)

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.created_at / 1000, dt.timezone.utc)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


COLUMNS = tuple(f.name for f in dataclasses.fields(Entry))


def entry_of(record: dict, object_key: str) -> Entry:
    """The index entry of one archive record (schemas/archive_record.avsc)."""
    ev, ret = record["event"], record["retention"]
    d = record.get("decision") or {}
    bb = record.get("burgerbrief") or {}
    ref = ev.get("referenced") or {}
    text = " ".join(t for t in (ev.get("text"), ref.get("text")) if t)
    author = ev.get("author") or {}
    return Entry(
        event_id=ev["event_id"], record_version=int(record.get("record_version") or 1),
        object_id=ev["object_id"], item_id=ev["event_id"] if ev["event_type"] == "reaction" else ev["object_id"],
        thread_root=ev.get("thread_root"), in_reply_to=ev.get("in_reply_to"),
        platform=ev["platform"], event_type=ev["event_type"], account_id=ev["account"]["id"],
        account_handle=ev["account"].get("handle") or ev["account"]["id"], organisation=d.get("organisation"),
        author=author.get("handle") or author.get("display_name"), created_at=_ms(ev["created_at"]),
        text=text, url=ev.get("url"), retention_class=ret["retention_class"], category=ret["category"],
        destroy_after=_iso(ret.get("destroy_after")), hotspot=ret.get("hotspot"),
        burgerbrief=bb.get("label") if bb else None, burgerbrief_score=bb.get("score") if bb else None,
        verdict=((bb.get("verdict") or {}).get("decision")) if bb else None,
        publishable=bool(d.get("publishable", True)), chain_version=chain_version(record),
        deleted=ev["event_type"] == "delete", object_key=object_key, topic=record["source"]["topic"],
        partition=int(record["source"]["partition"]), offset=int(record["source"]["offset"]),
        raw_sha256=ev["raw"]["sha256"])


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _ms(value) -> int:
    """Epoch ms from a decoded timestamp-millis (an aware datetime) or a plain number."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return int(value)


def chain_version(record: dict) -> int:
    """Position in the object's version chain: the rules' version number (rule 10), a
    tombstone after every edit."""
    ev = record["event"]
    if ev["event_type"] == "delete":
        return 1_000_000
    return int((record.get("decision") or {}).get("version") or 1)


def order_key(e: Entry) -> tuple:
    """Which version of an object is newer: chain position, then webcare's record versions."""
    return e.chain_version, e.record_version, e.created_at, e.event_id


def mark_latest(entries: list[Entry]) -> list[Entry]:
    """Set `latest` on the newest entry of each item among `entries` (all of its versions)."""
    newest: dict[str, Entry] = {}
    for e in entries:
        if e.item_id not in newest or order_key(e) > order_key(newest[e.item_id]):
            newest[e.item_id] = e
    for e in entries:
        e.latest = newest[e.item_id] is e
    return entries


# -- text --------------------------------------------------------------------------------
_WORD = re.compile(r"[0-9a-z]+")
# Snowball's original Dutch (Porter-style) stemmer, the one PostgreSQL's `dutch` configuration
# uses (snowballstemmer 3 calls it dutch_porter; its new `dutch` stems "gemeenten" to "meen")
_stemmer = snowballstemmer.stemmer("dutch_porter")
# Snowball's Dutch stop words, as PostgreSQL's `dutch` configuration drops them (dutch.stop):
# SQLite's index drops the same ones, so a query means the same on both databases
STOPWORDS = frozenset("""
    de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om
    hem dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar
    naar heb hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al
    waren veel meer doen toen moet ben zonder kan hun dus alles onder ja eens hier wie werd
    altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest
    andere
""".split())


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Één Café' -> 'een cafe' (NFKD, marks dropped)."""
    if text.isascii():   # most text: nothing to decompose (indexing spends its time here otherwise)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Dutch Snowball stem of a folded word (the stemmer PostgreSQL's `dutch` configuration uses)."""
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stemmed(text: str) -> str:
    """The text as the SQLite index holds it: folded, split into words, stop words dropped,
    each word stemmed."""
    return " ".join(stem(w) for w in words(text) if w not in STOPWORDS)


@dataclass
class Term:
    word: str          # folded
    prefix: bool       # `belast*`: any word starting with it
    negated: bool      # `-spam`: not this word


def parse_terms(text: str) -> list[Term]:
    """Search words: plain words must all occur (stemmed), `word*` is a prefix, `-word`
    excludes. Anything that is not a letter or digit separates words; quotes are ignored;
    stop words (de, het, meer, ...) are not searched for, as neither index holds them."""
    terms = []
    for raw in (text or "").split():
        negated = raw.startswith("-") and len(raw) > 1
        prefix = raw.rstrip('"\'').endswith("*")
        found = words(raw.lstrip("-"))
        for i, w in enumerate(found):
            if w not in STOPWORDS or (prefix and i == len(found) - 1):
                terms.append(Term(w, prefix and i == len(found) - 1, negated))
    return terms


@dataclass
class Query:
    """An archivist's question. `version`: `latest` shows each post or reaction once (its
    newest version: edit, tombstone, webcare verdict); `all` lists every version."""
    terms: str = ""
    organisation: str | None = None
    account: str | None = None          # handle or id
    platform: str | None = None
    date_from: dt.date | None = None    # created on or after
    date_to: dt.date | None = None      # created on or before
    event_type: str | None = None
    burgerbrief: bool | None = None     # the classifier's label, or webcare's verdict where given
    retention: str | None = None        # B, V, or a selectielijst category ("1.3")
    version: Literal["latest", "all"] = "latest"
    limit: int = 50
    offset: int = 0

    def __post_init__(self):
        if self.version not in ("latest", "all"):
            raise ValueError(f"version: expected 'latest' or 'all', got {self.version!r}")
        if not 1 <= self.limit <= 1000:
            raise ValueError(f"limit: expected 1..1000, got {self.limit!r}")
        if self.event_type is not None and self.event_type not in EVENT_TYPES:
            raise ValueError(f"type: expected one of {', '.join(EVENT_TYPES)}, got {self.event_type!r}")

    def ms_range(self) -> tuple[int | None, int | None]:
        """created_at bounds in epoch ms, `date_to` inclusive (Europe/Amsterdam is not assumed:
        dates are UTC days, as the archive's partitions are)."""
        lo = hi = None
        if self.date_from:
            lo = int(dt.datetime.combine(self.date_from, dt.time(), dt.timezone.utc).timestamp() * 1000)
        if self.date_to:
            hi = int(dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(),
                                         dt.timezone.utc).timestamp() * 1000) - 1
        return lo, hi


@dataclass
class SearchResult:
    entries: list[Entry]
    total: int                                                   # matches, before limit/offset
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)   # FACETS -> (value, count), most first


@dataclass
class ThreadNode:
    entry: Entry
    children: list["ThreadNode"] = field(default_factory=list)


def thread_tree(entries: list[Entry]) -> list[ThreadNode]:
    """The latest version of each post or reaction of one thread, as trees: a reaction hangs
    under what it replied to (in_reply_to, an object id or event id, taken from any version:
    a delete tombstone may not repeat it); one whose parent is not in the archive (not
    captured, or dropped by the rules) hangs under the thread's root, else stands alone.
    Children in creation order."""
    links: dict[str, tuple[str | None, str | None]] = {}
    for e in sorted(entries, key=order_key):
        reply, root = links.get(e.item_id, (None, None))
        on = e.object_id if e.item_id != e.object_id else e.in_reply_to     # a reaction is on its object
        links[e.item_id] = (reply or on, root or e.thread_root)
    latest = [e for e in entries if e.latest]
    by_item = {e.item_id: ThreadNode(e) for e in latest}
    by_event = {e.event_id: by_item[e.item_id] for e in latest}
    roots = []
    for node in sorted(by_item.values(), key=lambda n: (n.entry.created_at, n.entry.event_id)):
        reply, root = links[node.entry.item_id]
        parent = by_item.get(reply or "") or by_event.get(reply or "")
        if parent is None and root and root != node.entry.item_id:
            parent = by_item.get(root) or by_event.get(root)
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


# -- announcements ------------------------------------------------------------------------
ANNOUNCEMENT_SCHEMA = "catalog_announcement"
ANNOUNCE_RECORDS = 5000      # records listed per message: a 10,000-record batch is two messages


def announcements(ledger_key: str, topic: str, partition: int, start: int, end: int, late: bool,
                  groups: dict[str, list[dict]], outcomes: int) -> list[dict]:
    """What the sink tells the catalog of one committed batch (schemas/catalog_announcement.avsc):
    its ledger, and per object the retention and the record ids and versions it holds. Big
    batches are split into parts so that no message outgrows a broker's limit; every part
    names the ledger, which is the authority the catalog reads."""
    listed = []
    for key in sorted(groups):
        records = sorted(groups[key], key=lambda r: r["source"]["offset"])
        ret = records[0]["retention"]
        for i in range(0, len(records), ANNOUNCE_RECORDS):
            listed.append({"key": key, "retention_class": ret["retention_class"], "category": ret["category"],
                           "destroy_after": ret.get("destroy_after"),   # a date (Avro date)
                           "records": [{"event_id": r["event"]["event_id"],
                                        "record_version": int(r.get("record_version") or 1),
                                        "offset": int(r["source"]["offset"])} for r in records[i:i + ANNOUNCE_RECORDS]]})
    parts, current, size = [], [], 0
    for obj in listed:
        if current and size + len(obj["records"]) > ANNOUNCE_RECORDS:
            parts.append(current)
            current, size = [], 0
        current.append(obj)
        size += len(obj["records"])
    parts.append(current)
    return [{"ledger": ledger_key, "topic": topic, "partition": partition, "start": start, "end": end, "late": late,
             "part": i + 1, "parts": len(parts), "objects": objs, "outcomes": outcomes}
            for i, objs in enumerate(parts)]


def encode_announcement(datum: dict) -> bytes:
    """Schemaless Avro binary, as the alert topic's messages are."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schemas.load(ANNOUNCEMENT_SCHEMA), datum)
    return out.getvalue()


def decode_announcement(value: bytes) -> dict:
    return fastavro.schemaless_reader(io.BytesIO(value), schemas.load(ANNOUNCEMENT_SCHEMA))


# -- integrity ---------------------------------------------------------------------------
@dataclass
class Integrity:
    ok: bool
    stored: str        # raw.sha256 as archived
    computed: str      # SHA-256 of raw.payload as read back


def integrity(record: dict) -> Integrity:
    """Does the stored raw payload still match its SHA-256 (written when the record was archived)?"""
    raw = record["event"]["raw"]
    computed = hashlib.sha256(raw["payload"].encode("utf-8")).hexdigest()
    return Integrity(computed == raw["sha256"].lower(), raw["sha256"], computed)
