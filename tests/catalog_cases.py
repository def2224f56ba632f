"""A small hand-made archive for the catalog's tests, and what searching it must answer.

The records are written out here (not produced by the pipeline); the expected answers are
hand-written from reading them. SQLite (tests/unit) and PostgreSQL (tests/integration) must
give the same answers.
"""
from __future__ import annotations

import datetime as dt

import pytest

from archiefstroom.catalog.index import Catalog
from archiefstroom.core.catalog import Query, entry_of
from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import from_dict
from archiefstroom.core.rules import scenarios as sc

UTC = dt.timezone.utc
V12 = {"retention_class": "V", "category": "1.2", "destroy_after": dt.date(2036, 3, 2), "account_type": "corporate",
       "hotspot": None}
V13 = {**V12, "category": "1.3", "destroy_after": dt.date(2031, 3, 2)}
B11 = {"retention_class": "B", "category": "1.1", "destroy_after": None, "account_type": "corporate", "hotspot": None}
GOV = "GemeenteVoorbeeld"
RWS = {"id": "RWS", "handle": "RijkswaterstaatNL", "display_name": "Rijkswaterstaat", "profile_url": None,
       "avatar_url": None}


def _record(ev, offset, retention, *, version=None, record_version=1, burgerbrief=None, org="Gemeente Voorbeeld"):
    rec = sc.record(ev, offset=offset)
    rec.update(retention=retention, record_version=record_version, burgerbrief=burgerbrief, pseudonymisation=None,
               decision={"rules": [], "route": 2, "organisation": org, "flags": [], "disclaimer": None,
                         "publishable": True, "supersedes": None, "original": None, "version": version,
                         "context": [], "registry_version": None})
    return rec


def records() -> list[dict]:
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    post = sc.event(native_id="1", created=t0, text="De gemeente verhoogt de afvalstoffenheffing in 2027")
    reply = sc.event("reply", native_id="2", created=t0, minutes=5, author=sc.citizen(), in_reply_to="x:1",
                     thread_root="x:1", text="Waarom betaal ik méér belastingen? Ik wil een formeel antwoord")
    answer = sc.event("reply", native_id="3", created=t0, minutes=9, in_reply_to="x:2", thread_root="x:1",
                      text="Wij leggen het u uit in een brief")
    edit = sc.event("edit", native_id="1", created=t0, minutes=60,
                    text="De gemeente verhoogt de afvalstoffenheffing in 2028 (gecorrigeerd)")
    bridge = sc.event(platform="mastodon", native_id="4", account="RijkswaterstaatNL", author=RWS,
                      created=dt.datetime(2026, 4, 10, 7, 30, tzinfo=UTC), text="Café-brug Zuidelijke Ringweg afgesloten")
    gone = sc.event("delete", platform="mastodon", native_id="4", account="RijkswaterstaatNL", author=RWS,
                    created=dt.datetime(2026, 4, 11, 8, 0, tzinfo=UTC), text=None)
    like = sc.event("reaction", native_id="1", created=t0, minutes=30, author=sc.citizen(5), text=None,
                    reaction_kind="like")
    bb = {"label": True, "score": 0.91, "category": None, "reasons": ["vraag"], "urgent": False, "model_version": "t",
          "verdict": None}
    denied = {**bb, "verdict": {"decision": "geen_burgerbrief", "by": "anna", "at": t0 + dt.timedelta(hours=2),
                                "note": None}}
    return [_record(post, 0, V12), _record(reply, 1, V13, burgerbrief=bb), _record(answer, 2, V12),
            _record(edit, 3, V12, version=2),
            _record(bridge, 4, B11, org="Rijkswaterstaat"), _record(gone, 5, B11, version=2, org="Rijkswaterstaat"),
            _record(reply, 6, V13, record_version=2, burgerbrief=denied), _record(like, 7, V13)]


def entries():
    return [entry_of(r, f"archive/test/{r['source']['offset']:05d}.avro") for r in records()]


EDIT_ID = "x:1:edit:2026-03-02T10:00:00+00:00"
LIKE_ID = "x:1:reaction:u5"                                 # a like is an item of its own, not a version of x:1

# (query, event ids found, in order: newest first), hand-written from the records above
SEARCHES = [
    (Query("belasting"), ["x:2"]),
    (Query("BELASTINGEN"), ["x:2"]),                        # case and plural: stemmed
    (Query("meer"), []),                                    # 'méér' folds to a stop word
    (Query("antwoord formeel"), ["x:2"]),                   # every word, any order
    (Query("formeel -brief"), ["x:2"]),
    (Query("brief"), ["x:3"]),
    (Query("bri*"), ["x:3"]),
    (Query("de"), []),                                      # only a stop word
    (Query("cafe"), ["mastodon:4:delete"]),                 # a tombstone is found by its last text
    (Query("cafe", version="all"), ["mastodon:4:delete", "mastodon:4"]),
    (Query("2027"), []),                                    # the edit says 2028 now
    (Query("2027", version="all"), ["x:1"]),
    (Query("afvalstoffenheffing", version="all"), [EDIT_ID, "x:1"]),
    (Query("belastingen", burgerbrief=True), []),           # webcare said: no burgerbrief
    (Query("belastingen", burgerbrief=False), ["x:2"]),
    (Query(platform="mastodon", version="all"), ["mastodon:4:delete", "mastodon:4"]),
    (Query(retention="B"), ["mastodon:4:delete"]),
    (Query(retention="1.3"), [LIKE_ID, "x:2"]),
    (Query(date_from=dt.date(2026, 4, 1)), ["mastodon:4:delete"]),
    (Query(date_to=dt.date(2026, 3, 2)), [EDIT_ID, LIKE_ID, "x:3", "x:2"]),
    (Query(account="burger4711"), []),                      # a citizen is an author, not an account
    (Query(organisation="Rijkswaterstaat"), ["mastodon:4:delete"]),
    (Query(event_type="reply"), ["x:3", "x:2"]),
    (Query(event_type="reaction"), [LIKE_ID]),
]


def open_catalog(data_dir, url: str) -> Catalog:
    """The catalog at `url`: a SQLite file in `data_dir`, or PostgreSQL."""
    return Catalog.open(from_dict({"data_dir": str(data_dir), "catalog": {"url": url}}, Config).resolve_paths(data_dir))


def filled_catalog(data_dir, url: str) -> Catalog:
    """The catalog at `url` holding `entries()`."""
    c = open_catalog(data_dir, url)
    c.index(entries())
    return c


# the search table as a test parameter, for the SQLite and the PostgreSQL test
each_search = pytest.mark.parametrize("query, expected", SEARCHES, ids=[repr(q.terms or q) for q, _ in SEARCHES])


def search_ids(catalog: Catalog, query: Query) -> list[str]:
    """The event ids a search lists, after checking that its total counts them all."""
    res = catalog.search(query)
    assert res.total == len(res.entries), (res.total, len(res.entries))
    return [e.event_id for e in res.entries]
