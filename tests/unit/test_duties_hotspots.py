"""Hotspots on archived records, on hand-written records: period, hashtags, accounts, terms; which
objects can hold a hotspot's records; an object's tags once kept; the registry entry's text."""
from __future__ import annotations

import datetime as dt

import yaml

from archiefstroom.core.duties import hotspots as h
from archiefstroom.core.rules.registry import Hotspot

UTC = dt.timezone.utc
STORM = Hotspot(name="storm-2012-10", start=dt.date(2012, 10, 1), end=dt.date(2012, 10, 31),
                hashtags=["code_oranje"], terms=["code oranje"], accounts=["x:GemeenteAmsterdam"])


def rec(text="", hashtags=(), account="Rijksoverheid", author="u123", when=dt.datetime(2012, 10, 10, 12, tzinfo=UTC),
        platform="x"):
    return {"event": {"created_at": when, "text": text, "hashtags": list(hashtags), "platform": platform,
                      "account": {"id": account}, "author": {"id": author}}}


def test_a_record_matches_by_period_and_then_a_hashtag_account_or_term():
    table = [
        (rec(hashtags=["Code_Oranje"]), True),                         # hashtags: case and # ignored
        (rec(hashtags=["#code_oranje"]), True),
        (rec(text="Vandaag geldt CODE ORANJE in Zeeland"), True),      # a term, whole words, any case
        (rec(text="code oranjeboven"), False),                         # not a whole word
        (rec(account="GemeenteAmsterdam"), True),                      # the account
        (rec(author="GemeenteAmsterdam"), True),                       # or the author
        (rec(account="GemeenteAmsterdam", platform="mastodon"), False),  # on another platform
        (rec(text="gewoon nieuws"), False),
        (rec(hashtags=["code_oranje"], when=dt.datetime(2012, 9, 30, 23, 59, tzinfo=UTC)), False),
        (rec(hashtags=["code_oranje"], when=dt.datetime(2012, 10, 31, 23, 59, tzinfo=UTC)), True),
        (rec(hashtags=["code_oranje"], when=dt.datetime(2012, 11, 1, 0, 0, tzinfo=UTC)), False),
    ]
    for r, want in table:
        assert h.record_matches(STORM, r) is want, r["event"]
    assert h.matching(STORM, [t[0] for t in table]) == [t[0] for t in table if t[1]]


def test_a_record_without_author_is_judged_by_the_rest():
    r = rec(hashtags=["code_oranje"])
    r["event"]["author"] = None
    assert h.record_matches(STORM, r)


def test_objects_read_are_those_of_the_period_and_a_month_either_side():
    table = {"2012-08": False, "2012-09": True, "2012-10": True, "2012-11": True, "2012-12": False, "2026-10": False}
    for month, want in table.items():
        assert h.may_hold(STORM, month) is want, month
    one_day = Hotspot(name="x", start=dt.date(2012, 12, 31), end=dt.date(2012, 12, 31), terms=["a"])
    assert [m for m in ("2012-11", "2012-12", "2013-01", "2013-02") if h.may_hold(one_day, m)] == \
        ["2012-11", "2012-12", "2013-01"]


def test_kept_tags_make_the_object_b_permanent_and_say_what_it_was():
    tags = {"retention_class": "V", "selectielijst_category": "1.3", "destroy_after": "2017-10-31", "hotspot": "false",
            "schema_version": "3"}
    assert h.kept_tags(tags, "storm-2012-10", "1.6") == {
        "retention_class": "B", "selectielijst_category": "1.6", "destroy_after": "permanent", "hotspot": "true",
        "hotspot_name": "storm-2012-10", "category_before": "1.3", "schema_version": "3"}
    already = {**tags, "hotspot": "true", "retention_class": "B"}
    assert h.kept_tags(already, "other", "1.6") == already                 # never re-kept under another name


def test_registry_entry_text_reads_back_as_the_hotspot():
    spot = Hotspot(name="brand-2012", start=dt.date(2012, 5, 1), end=dt.date(2012, 5, 3),
                   description='Grote brand "Moerdijk": code rood', terms=["brand", "rook"], hashtags=["moerdijk"])
    text = "# comment kept\nhotspots:\n  - {name: a, start: 2026-01-01, end: 2026-01-02, terms: [x]}\n" + h.entry_yaml(spot)
    entries = yaml.safe_load(text)["hotspots"]
    assert entries[1] == {"name": "brand-2012", "description": 'Grote brand "Moerdijk": code rood',
                          "start": dt.date(2012, 5, 1), "end": dt.date(2012, 5, 3), "hashtags": ["moerdijk"],
                          "terms": ["brand", "rook"]}
