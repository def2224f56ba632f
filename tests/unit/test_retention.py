"""Selectielijst retention: class, category, destroy-after date, hotspots, grouping."""
from __future__ import annotations

import datetime as dt

import pytest

from archiefstroom.core import retention
from archiefstroom.ground.config import Category, RetentionSettings

T = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.timezone.utc)


def settings(**kw):
    return RetentionSettings(**kw)


@pytest.mark.parametrize("day,years,expected", [
    (dt.date(2026, 10, 1), 10, dt.date(2036, 10, 1)),
    (dt.date(2024, 2, 29), 1, dt.date(2025, 2, 28)),     # leap day: the last day of February
    (dt.date(2024, 2, 29), 4, dt.date(2028, 2, 29)),
    (dt.date(2026, 12, 31), 0, dt.date(2026, 12, 31)),
])
def test_add_years(day, years, expected):
    assert retention.add_years(day, years) == expected


def test_v_category_gets_a_destroy_after_date_b_is_permanent():
    s = settings()
    v = retention.decide(s, created=T, account_type="corporate", event_type="post")
    assert (v.retention_class, v.category, v.destroy_after) == ("V", "1.2", dt.date(2036, 10, 1))
    b = retention.decide(s, created=T, account_type="corporate", event_type="post", category="1.1")
    assert (b.retention_class, b.destroy_after) == ("B", None)


def test_event_type_beats_account_type_beats_default():
    s = settings(by_account_type={"hybrid": "1.1"}, by_event_type={"reply": "1.3"})
    assert retention.choose_category(s, account_type="hybrid", event_type="reply") == "1.3"
    assert retention.choose_category(s, account_type="hybrid", event_type="post") == "1.1"
    assert retention.choose_category(s, account_type="corporate", event_type="post") == "1.2"


def test_hotspot_makes_it_permanent_under_the_hotspot_category():
    s = settings(categories={**settings().categories, "9": Category("B")})
    d = retention.decide(s, created=T, account_type="corporate", event_type="reply", category="1.3",
                         hotspot="storm", hotspot_category="9")
    assert (d.retention_class, d.category, d.destroy_after, d.hotspot) == ("B", "9", None, "storm")
    assert d.datum()["hotspot"] == "storm"


def test_group_separates_every_tag_combination():
    s = settings()
    a = retention.decide(s, created=T, account_type="corporate", event_type="post")
    b = retention.decide(s, created=T + dt.timedelta(days=1), account_type="corporate", event_type="post")
    c = retention.decide(s, created=T, account_type="hybrid", event_type="post")
    assert len({a.group, b.group, c.group}) == 3
    assert a.group == retention.decide(s, created=T, account_type="corporate", event_type="post").group


def test_unknown_category_is_an_error():
    with pytest.raises(KeyError):
        retention.decide(settings(), created=T, account_type="corporate", event_type="post", category="7.7")
