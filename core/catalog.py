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
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import snowballstemmer

EVENT_TYPES = ("post", "reply", "repost", "quote", "edit", "delete", "reaction", "direct_message")
FACETS = ("organisation", "account", "platform", "event_type", "retention_class", "period")


@dataclass
class Entry:
    """One archived record version in the index: enough to find, list and thread it; the whole
    record is read from its object (`object_key`, `offset`) when someone opens it."""
    event_id: str
    record_version: int
    object_id: str
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
    destroy_after: int | None     # year, None for B
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
        object_id=ev["object_id"], thread_root=ev.get("thread_root"), in_reply_to=ev.get("in_reply_to"),
        platform=ev["platform"], event_type=ev["event_type"], account_id=ev["account"]["id"],
        account_handle=ev["account"].get("handle") or ev["account"]["id"], organisation=d.get("organisation"),
        author=author.get("handle") or author.get("display_name"), created_at=int(ev["created_at"]),
        text=text, url=ev.get("url"), retention_class=ret["retention_class"], category=ret["category"],
        destroy_after=ret.get("destroy_after"), hotspot=ret.get("hotspot"),
        burgerbrief=bb.get("label") if bb else None, burgerbrief_score=bb.get("score") if bb else None,
        verdict=((bb.get("verdict") or {}).get("decision")) if bb else None,
        publishable=bool(d.get("publishable", True)), chain_version=chain_version(record),
        deleted=ev["event_type"] == "delete", object_key=object_key, topic=record["source"]["topic"],
        partition=int(record["source"]["partition"]), offset=int(record["source"]["offset"]),
        raw_sha256=ev["raw"]["sha256"])


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
    """Set `latest` on the newest entry of each object among `entries` (all of its versions)."""
    newest: dict[str, Entry] = {}
    for e in entries:
        if e.object_id not in newest or order_key(e) > order_key(newest[e.object_id]):
            newest[e.object_id] = e
    for e in entries:
        e.latest = newest[e.object_id] is e
    return entries


# -- text --------------------------------------------------------------------------------
_WORD = re.compile(r"[0-9a-z]+(?:[-'][0-9a-z]+)*")
_stemmer = snowballstemmer.stemmer("dutch")


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Één Café' -> 'een cafe' (NFKD, marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Dutch Snowball stem of a folded word (the stemmer PostgreSQL's `dutch` configuration uses)."""
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stemmed(text: str) -> str:
    """The text as the SQLite index holds it: folded, split into words, each word stemmed."""
    return " ".join(stem(w) for w in words(text))


@dataclass
class Term:
    word: str          # folded
    prefix: bool       # `belast*`: any word starting with it
    negated: bool      # `-spam`: not this word


def parse_terms(text: str) -> list[Term]:
    """Search words: plain words must all occur (stemmed), `word*` is a prefix, `-word`
    excludes. Anything that is not a letter or digit separates words; quotes are ignored."""
    terms = []
    for raw in (text or "").split():
        negated = raw.startswith("-") and len(raw) > 1
        prefix = raw.rstrip('"\'').endswith("*")
        for i, w in enumerate(words(raw.lstrip("-"))):
            terms.append(Term(w, prefix and i == len(words(raw.lstrip("-"))) - 1, negated))
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
    under what it replied to (in_reply_to, an object id or event id); one whose parent is
    not in the archive (not captured, or dropped by the rules) hangs under the root, else
    stands alone. Children in creation order."""
    latest = [e for e in entries if e.latest]
    by_object = {e.object_id: ThreadNode(e) for e in latest}
    by_event = {e.event_id: by_object[e.object_id] for e in latest}
    roots = []
    for node in sorted(by_object.values(), key=lambda n: (n.entry.created_at, n.entry.event_id)):
        e = node.entry
        parent = by_object.get(e.in_reply_to or "") or by_event.get(e.in_reply_to or "")
        if parent is None and e.thread_root and e.thread_root != e.object_id:
            parent = by_object.get(e.thread_root) or by_event.get(e.thread_root)
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


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
