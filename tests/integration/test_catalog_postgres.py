"""The catalog on PostgreSQL (a real server on 127.0.0.1): the same search table, facets,
versions and threads as SQLite (tests/unit/test_catalog_index.py), and PostgreSQL's own
Dutch stemmer as the reference for the one SQLite's index uses."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from archiefstroom.core import catalog as core
from archiefstroom.core.catalog import Query
from tests.catalog_cases import EDIT_ID, each_search, entries, filled_catalog, open_catalog, search_ids

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(postgres, tmp_path_factory):
    with filled_catalog(tmp_path_factory.mktemp("pg"), postgres.create_database("cat" + uuid.uuid4().hex[:8])) as c:
        yield c


@each_search
def test_search(catalog, query, expected):
    assert search_ids(catalog, query) == expected


def test_facets_versions_and_thread_as_on_sqlite(catalog):
    facets = catalog.search(Query(), facets=True).facets
    assert facets["platform"] == [("x", 4), ("mastodon", 1)]
    assert facets["period"] == [("2026-03", 4), ("2026-04", 1)]
    assert [(e.event_id, e.record_version) for e in catalog.versions("x:2")] == [("x:2", 1), ("x:2", 2)]
    (root,) = catalog.thread("x:3")
    assert root.entry.event_id == EDIT_ID and root.children[0].children[0].entry.event_id == "x:3"
    assert catalog.index(entries()) == 0


WORDS = ["belastingen", "gemeenten", "afvalstoffenheffing", "uitkering", "uitkeringen", "vergunningaanvraag",
         "lichamelijk", "opgaven", "brieven", "antwoorden", "verhoogt", "gecorrigeerd", "zuidelijke", "wegwerkzaamheden",
         "kinderopvangtoeslag", "bezwaarschrift", "geïnformeerd", "ministeries", "burgers", "ontvangen"]


def test_the_sqlite_stems_are_postgresqls_dutch_stems(postgres):
    """PostgreSQL's `dutch` configuration (its C Snowball stemmer) is the reference."""
    with psycopg.connect(postgres.url) as conn:
        for w in WORDS:
            (lexemes,) = conn.execute("SELECT tsvector_to_array(to_tsvector('dutch', %s))", (core.fold(w),)).fetchone()
            assert [core.stem(core.fold(w))] == lexemes, w


def test_a_catalog_made_before_the_seal_column_gets_it_filled_on_postgresql(postgres, tmp_path):
    import json
    url = postgres.create_database("old" + uuid.uuid4().hex[:8])
    with psycopg.connect(url) as conn:   # the outcomes table as catalogs before this column made it
        conn.execute("""CREATE TABLE outcomes (ledger TEXT NOT NULL, "offset" BIGINT NOT NULL, topic TEXT NOT NULL,
                        "partition" INTEGER NOT NULL, event_id TEXT, kind TEXT NOT NULL, reason TEXT, detail TEXT,
                        PRIMARY KEY (ledger, "offset", kind))""")
        conn.execute("INSERT INTO outcomes VALUES ('L', 1, 'raw', 0, 'x:2', 'dropped', 'late', %s), "
                     "('L', 2, 'raw', 0, 'x:3', 'dropped', 'R3: x', %s)",
                     (json.dumps({"seal": "seal:x:1"}), json.dumps({"rule": "R3"})))
    for _ in range(2):   # the second open finds the column there
        with open_catalog(tmp_path, url) as c:
            assert [o["event_id"] for o in c.outcomes_of_seal("seal:x:1")] == ["x:2"]
