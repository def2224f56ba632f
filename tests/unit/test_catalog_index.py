"""The catalog on SQLite (a real database file): indexing, the search table of
tests/catalog_cases.py, facets, versions and threads. PostgreSQL answers the same table in
tests/integration/test_catalog_postgres.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from archiefstroom.core.catalog import Query
from tests.catalog_cases import EDIT_ID, LIKE_ID, each_search, entries, filled_catalog, open_catalog, search_ids


@pytest.fixture
def catalog(tmp_path: Path):
    with filled_catalog(tmp_path, "sqlite:///catalog.sqlite") as c:
        yield c


@each_search
def test_search(catalog, query, expected):
    assert search_ids(catalog, query) == expected


def test_indexing_again_changes_nothing(catalog):
    before = catalog.dump()
    assert catalog.index(entries()) == 0
    assert catalog.dump() == before


def test_facets_count_the_latest_versions(catalog):
    facets = catalog.search(Query(), facets=True).facets
    assert facets["platform"] == [("x", 4), ("mastodon", 1)]
    assert facets["event_type"] == [("reply", 2), ("delete", 1), ("edit", 1), ("reaction", 1)]
    assert facets["retention_class"] == [("V", 4), ("B", 1)]
    assert facets["period"] == [("2026-03", 4), ("2026-04", 1)]
    assert facets["organisation"] == [("Gemeente Voorbeeld", 4), ("Rijkswaterstaat", 1)]


def test_limit_and_offset_page_through_the_total(catalog):
    page = catalog.search(Query(version="all", limit=2, offset=2))
    assert page.total == 8 and [e.event_id for e in page.entries] == [EDIT_ID, LIKE_ID]


def test_versions_and_thread(catalog):
    assert [(e.event_id, e.record_version) for e in catalog.versions("x:1")] == [("x:1", 1), (EDIT_ID, 1)]
    assert [(e.event_id, e.record_version) for e in catalog.versions("x:2")] == [("x:2", 1), ("x:2", 2)]
    (root,) = catalog.thread("x:3")
    assert root.entry.event_id == EDIT_ID
    assert [c.entry.event_id for c in root.children] == ["x:2", LIKE_ID]
    assert [(e.event_id, e.record_version) for e in catalog.versions(LIKE_ID)] == [(LIKE_ID, 1)]
    assert [c.entry.event_id for c in root.children[0].children] == ["x:3"]
    assert catalog.thread("x:999") == []


def test_outcomes_are_kept_per_ledger_once(catalog):
    rows = [{"offset": 7, "topic": "raw", "partition": 0, "event_id": "tok-1", "kind": "dropped", "reason": "R3: x",
             "detail": {"rule": "R3"}}]
    catalog.record_outcomes("_ledger/raw/00000/7.json", rows, records=0)
    catalog.record_outcomes("_ledger/raw/00000/7.json", rows, records=0)
    assert catalog.outcomes(["tok-1"]) == [{"ledger": "_ledger/raw/00000/7.json", "kind": "dropped", "reason": "R3: x",
                                            "detail": {"rule": "R3"}, "event_id": "tok-1",
                                            "source": {"topic": "raw", "partition": 0, "offset": 7}}]
    assert catalog.indexed("_ledger/raw/00000/7.json")


def test_outcomes_are_found_by_the_seal_they_name(catalog):
    late = "R-late-reaction: arrived after the thread was sealed"
    rows = [{"offset": 8, "topic": "raw", "partition": 1, "event_id": "x:9", "kind": "dropped", "reason": late,
             "detail": {"rule": "R-late-reaction", "seal": "seal:x:1"}},
            {"offset": 9, "topic": "raw", "partition": 1, "event_id": "x:10", "kind": "dropped", "reason": "R3: x"},
            {"offset": 10, "topic": "raw", "partition": 1, "event_id": "x:11", "kind": "dropped", "reason": late,
             "detail": {"rule": "R-late-reaction", "seal": "seal:x:12"}},
            {"offset": 11, "topic": "raw", "partition": 1, "event_id": "x:13", "kind": "dropped", "reason": "R3: x",
             "detail": {"seal": 5}}]
    catalog.record_outcomes("_ledger/raw/00001/11.json", rows, records=0)
    assert catalog.outcomes_of_seal("seal:x:1") == [
        {"ledger": "_ledger/raw/00001/11.json", "kind": "dropped", "reason": late,
         "detail": {"rule": "R-late-reaction", "seal": "seal:x:1"}, "event_id": "x:9",
         "source": {"topic": "raw", "partition": 1, "offset": 8}}]
    assert [o["event_id"] for o in catalog.outcomes_of_seal("seal:x:12")] == ["x:11"]
    assert catalog.outcomes_of_seal("seal:x") == [] and catalog.outcomes_of_seal("5") == []


def test_a_catalog_made_before_the_seal_column_gets_it_filled_from_the_details(tmp_path):
    import json
    import sqlite3
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)   # the outcomes table as catalogs before this column made it
    db.execute("""CREATE TABLE outcomes (ledger TEXT NOT NULL, "offset" BIGINT NOT NULL, topic TEXT NOT NULL,
                  "partition" INTEGER NOT NULL, event_id TEXT, kind TEXT NOT NULL, reason TEXT, detail TEXT,
                  PRIMARY KEY (ledger, "offset", kind))""")
    db.executemany("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [("L", 1, "raw", 0, "x:2", "dropped", "late", json.dumps({"seal": "seal:x:1"})),
                    ("L", 2, "raw", 0, "x:3", "dropped", "R3: x", json.dumps({"rule": "R3"}))])
    db.commit()
    db.close()
    with open_catalog(tmp_path, f"sqlite:///{path.name}") as c:
        assert [o["event_id"] for o in c.outcomes_of_seal("seal:x:1")] == ["x:2"]
    with open_catalog(tmp_path, f"sqlite:///{path.name}") as c:   # opened again: nothing to add
        assert [o["event_id"] for o in c.outcomes_of_seal("seal:x:1")] == ["x:2"]


def test_a_tombstone_indexed_after_its_post_is_found_by_the_text_before_it(tmp_path):
    with open_catalog(tmp_path, "sqlite:///later.sqlite") as c:
        everything = entries()
        c.index(everything[:5])                      # up to the bridge post
        assert [e.event_id for e in c.search(Query("cafe")).entries] == ["mastodon:4"]
        c.index(everything[5:])                      # its tombstone, in a later batch
        assert [e.event_id for e in c.search(Query("cafe")).entries] == ["mastodon:4:delete"]
        assert c.get("mastodon:4:delete").text == ""  # shown as deleted, not with the old text


def test_a_tombstone_indexed_before_its_post_gets_the_posts_text_when_the_post_arrives(tmp_path):
    """A delete may be keyed to another partition than its post: live indexing and a rebuild
    then see them in other orders, and must end the same."""
    with open_catalog(tmp_path, "sqlite:///early.sqlite") as c:
        everything = entries()
        c.index([everything[5]])                     # the bridge's tombstone first
        assert c.search(Query("cafe")).entries == []
        c.index(everything[:5] + everything[6:])
        assert [e.event_id for e in c.search(Query("cafe")).entries] == ["mastodon:4:delete"]
        assert [e.event_id for e in c.search(Query("cafe", version="all")).entries] == ["mastodon:4:delete",
                                                                                      "mastodon:4"]
