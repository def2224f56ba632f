"""The compliance report, the pure part (core/duties/report.py): periods, coverage gaps,
attributing outcomes to accounts, and the report's tables, against hand counts."""
from __future__ import annotations

import datetime as dt

import pytest

from archiefstroom import cli
from archiefstroom.core.duties import report as r

D = dt.date


def ms(y, m, d, h=12):
    return int(dt.datetime(y, m, d, h, tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_period():
    assert r.parse_period("2026-10-01", "2026-10-31") == (D(2026, 10, 1), D(2026, 10, 31))
    assert r.parse_period("2026-10-01", "2026-10-01") == (D(2026, 10, 1), D(2026, 10, 1))
    with pytest.raises(ValueError, match=r"--to \(2026-09-30\) is before --from \(2026-10-01\)"):
        r.parse_period("2026-10-01", "2026-09-30")
    with pytest.raises(ValueError, match="--from: expected a date YYYY-MM-DD, got 'oktober'"):
        r.parse_period("oktober", "2026-10-31")


def test_gaps_are_runs_of_days_without_capture():
    start, end = D(2026, 10, 1), D(2026, 10, 10)
    captured = {D(2026, 10, 3), D(2026, 10, 4), D(2026, 10, 8)}
    assert r.gaps(captured, start, end) == [(D(2026, 10, 1), D(2026, 10, 2)), (D(2026, 10, 5), D(2026, 10, 7)),
                                            (D(2026, 10, 9), D(2026, 10, 10))]
    assert r.gaps(set(), start, start) == [(start, start)]
    assert r.gaps({start}, start, start) == []
    assert r.gaps({D(2026, 10, d) for d in range(1, 11)}, start, end) == []
    assert r.gaps({D(2026, 9, 30)}, start, D(2026, 10, 2)) == [(start, D(2026, 10, 2))]   # outside: no capture


def test_day_of_is_the_utc_day():
    assert r.day_of(ms(2026, 10, 1, 23)) == D(2026, 10, 1)


@pytest.mark.parametrize("event_id, detail, expected", [
    ("mastodon:1000013:reaction:[PERSOON-4dbd88]", {}, "mastodon:1000013"),
    ("x:1000121:edit:2026-10-01T21:01:39+00:00", {}, "x:1000121"),
    ("x:1000121:delete", {}, "x:1000121"),
    ("youtube:1000070", {}, "youtube:1000070"),
    (None, {"hold_key": "x:1000098"}, "x:1000098"),
    (None, {"code": "not_json"}, None),
])
def test_outcome_object_id(event_id, detail, expected):
    assert r.outcome_object_id(event_id, detail) == expected


ACCOUNTS = {("youtube", "Rijksoverheid"): ("Rijksoverheid", "Rijksoverheid"),
            ("mastodon", "@rijksoverheid@social.overheid.nl"): ("Rijksoverheid", "rijksoverheid@social.overheid.nl")}
OBJECTS = {"mastodon:1000013": ("Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon")}
DAY = D(2026, 10, 2)


def test_attribute_by_the_account_the_rule_named():
    o = r.attribute("dropped", "R3-route-1: reaction on a route-1 account", "youtube:1000070",
                    {"account": "youtube:Rijksoverheid", "rule": "R3-route-1"}, DAY, ACCOUNTS, OBJECTS)
    assert o == r.Outcome("dropped", "R3-route-1: reaction on a route-1 account", "R3-route-1", "Rijksoverheid",
                          "Rijksoverheid", "youtube", DAY)


def test_attribute_a_like_by_the_post_it_was_on():
    o = r.attribute("dropped", "R2-sentiment: sentiment button is not a reaction",
                    "mastodon:1000013:reaction:[PERSOON-4dbd88]", {"rule": "R2-sentiment"}, DAY, ACCOUNTS, OBJECTS)
    assert (o.organisation, o.account, o.platform, o.rule) == (
        "Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R2-sentiment")


def test_attribute_a_hold_to_its_one_organisation():
    o = r.attribute("held", "R5-citizen-mention: held until the organisation reacts or 72h pass", "x:1000098",
                    {"hold_key": "x:1000098", "organisations": ["Gemeente Amsterdam"]}, DAY, ACCOUNTS, OBJECTS)
    assert (o.organisation, o.account, o.platform, o.rule) == ("Gemeente Amsterdam", None, "x", "R5-citizen-mention")


def test_a_dead_letter_is_not_attributed():
    o = r.attribute("dead_letter", "not JSON (Expecting value at line 1 column 1)", None, {"code": "not_json"},
                    DAY, ACCOUNTS, OBJECTS)
    assert (o.organisation, o.account, o.platform, o.rule) == (None, None, None, None)


def _cap(account, platform, event_type, day, version=1, key="archive/V-1.3/a.avro", org="Rijksoverheid",
         rules=(("R4-route-2", "reaction on a route-2 account"),)):
    return r.Capture(org, account, platform, event_type, ms(2026, 10, day), version, key, rules)


def test_the_reports_tables():
    start, end, made = D(2026, 10, 1), D(2026, 10, 31), D(2026, 10, 5)   # made on the 5th: later days are no gaps
    captures = [
        _cap("rijksoverheid@social.overheid.nl", "mastodon", "post", 1, rules=(("R1-corporate-post", "by a corporate account"),)),
        _cap("rijksoverheid@social.overheid.nl", "mastodon", "reply", 1),
        _cap("rijksoverheid@social.overheid.nl", "mastodon", "reply", 1, version=2),      # a webcare version
        _cap("rijksoverheid@social.overheid.nl", "mastodon", "edit", 3,
             rules=(("R10-versions", "new version"), ("R1-corporate-post", "by a corporate account"))),
        _cap("rijksoverheid@social.overheid.nl", "mastodon", "delete", 3, key="archive/B-1.1/b.avro",
             rules=(("R10-versions", "tombstone"), ("R4-route-2", "reaction on a route-2 account"))),
        _cap("GemeenteAmsterdam", "x", "post", 2, org="Gemeente Amsterdam", key="archive/B-1.1/b.avro",
             rules=(("R1-corporate-post", "by a corporate account"),)),
    ]
    outcomes = [
        r.Outcome("dead_letter", "not JSON", None, None, None, None, D(2026, 10, 2)),
        r.Outcome("dead_letter", "not JSON", None, None, None, None, D(2026, 11, 1)),     # after the period
        r.Outcome("quarantine", "a private identity (PERSOON) survived pseudonymisation", None, "Rijksoverheid",
                  "rijksoverheid@social.overheid.nl", "mastodon", D(2026, 10, 3)),
        r.Outcome("dropped", "R2-sentiment: sentiment button is not a reaction", "R2-sentiment", "Rijksoverheid",
                  "rijksoverheid@social.overheid.nl", "mastodon", D(2026, 10, 1)),
        r.Outcome("dropped", "R2-sentiment: sentiment button is not a reaction", "R2-sentiment", "Rijksoverheid",
                  "rijksoverheid@social.overheid.nl", "mastodon", D(2026, 10, 2)),
        r.Outcome("held", "R5-citizen-mention: held until the organisation reacts or 72h pass", "R5-citizen-mention",
                  "Gemeente Amsterdam", None, "x", D(2026, 10, 2)),
    ]
    registered = [r.RegisteredAccount("Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "corporate"),
                  r.RegisteredAccount("Gemeente Amsterdam", "GemeenteAmsterdam", "x", "corporate"),
                  r.RegisteredAccount("Gemeente Amsterdam", "burgemeester_halsema", "x", "hybrid")]
    holds = [r.Hold("Woo-verzoek", "WOO-1", "2026-10-04T10:00:00+00:00", {"archive/V-1.3/a.avro"}),
             r.Hold("legal hold (S3)", "S3 Object Lock legal hold", None, {"archive/B-1.1/b.avro", "archive/B-1.1/c.avro"})]
    rep = r.build(start, end, made, captures, outcomes, registered, holds)

    assert rep.captured == [
        ["Gemeente Amsterdam", "GemeenteAmsterdam", "x", 1, 1, 0, 0, 0, 0, 0, 0],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", 5, 1, 2, 0, 0, 1, 1, 1]]
    assert rep.not_archived == [
        ["(niet toe te wijzen)", "(niet toe te wijzen)", "(niet toe te wijzen)", 1, 0, 0, 0, 0],
        ["Gemeente Amsterdam", "(account onbekend)", "x", 0, 0, 0, 1, 0],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", 0, 1, 2, 0, 0]]
    assert rep.reasons == [["dead_letter", "not JSON", 1],
                           ["quarantine", "a private identity (PERSOON) survived pseudonymisation", 1]]
    assert rep.rules == [
        ["Gemeente Amsterdam", "(account onbekend)", "x", "R5-citizen-mention",
         "held until the organisation reacts or 72h pass", "held", 1],
        ["Gemeente Amsterdam", "GemeenteAmsterdam", "x", "R1-corporate-post", "by a corporate account", "archived", 1],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R1-corporate-post", "by a corporate account",
         "archived", 2],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R10-versions", "new version", "archived", 1],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R10-versions", "tombstone", "archived", 1],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R2-sentiment",
         "sentiment button is not a reaction", "dropped", 2],
        ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", "R4-route-2", "reaction on a route-2 account",
         "archived", 3]]
    # mastodon: captured on the 1st and 3rd; x: GemeenteAmsterdam on the 2nd, the hybrid account never
    assert rep.gaps == [
        ["mastodon", "(alle accounts)", "", "2026-10-02", "2026-10-02", 1, "geen enkel account van dit platform vastgelegd"],
        ["mastodon", "(alle accounts)", "", "2026-10-04", "2026-10-05", 2, "geen enkel account van dit platform vastgelegd"],
        ["mastodon", "rijksoverheid@social.overheid.nl", "Rijksoverheid", "2026-10-02", "2026-10-02", 1, ""],
        ["mastodon", "rijksoverheid@social.overheid.nl", "Rijksoverheid", "2026-10-04", "2026-10-05", 2, ""],
        ["x", "(alle accounts)", "", "2026-10-01", "2026-10-01", 1, "geen enkel account van dit platform vastgelegd"],
        ["x", "(alle accounts)", "", "2026-10-03", "2026-10-05", 3, "geen enkel account van dit platform vastgelegd"],
        ["x", "GemeenteAmsterdam", "Gemeente Amsterdam", "2026-10-01", "2026-10-01", 1, ""],
        ["x", "GemeenteAmsterdam", "Gemeente Amsterdam", "2026-10-03", "2026-10-05", 3, ""],
        ["x", "burgemeester_halsema", "Gemeente Amsterdam", "2026-10-01", "2026-10-05", 5,
         "gefilterd account (hashtagfilter): gaten verwacht"]]
    assert rep.holds == [["Woo-verzoek", "WOO-1", "2026-10-04T10:00:00+00:00", 1, 4],
                         ["legal hold (S3)", "S3 Object Lock legal hold", "", 2, 2]]
    assert rep.held_records == [["Gemeente Amsterdam", "GemeenteAmsterdam", "x", 1, 1, 0],
                                ["Rijksoverheid", "rijksoverheid@social.overheid.nl", "mastodon", 5, 1, 4]]
    assert rep.totals == {"records": 6, "post": 2, "reply": 2, "repost": 0, "quote": 0, "edit": 1, "delete": 1,
                          "dead_letter": 1, "quarantine": 1, "dropped": 2, "held": 1, "duplicate": 0, "gap_rows": 9,
                          "open_woo_requests": 1, "records_on_legal_hold": 2, "records_on_woo_hold": 4}


def test_a_period_in_the_future_has_no_gaps():
    rep = r.build(D(2027, 1, 1), D(2027, 1, 31), D(2026, 12, 6), [], [],
                  [r.RegisteredAccount("Politie", "politie", "instagram", "corporate")], [])
    assert rep.gaps == [] and rep.captured == [] and rep.holds == []


@pytest.mark.parametrize("argv, message", [
    (["report", "--from", "2026-10-01", "--to", "2026-09-01"], "--to (2026-09-01) is before --from (2026-10-01)"),
    (["report", "--from", "1-10-2026", "--to", "2026-10-31"], "--from: expected a date YYYY-MM-DD, got '1-10-2026'"),
])
def test_bad_cli_input_is_a_message_not_a_traceback(argv, message, capsys, tmp_path):
    assert cli.main([*argv, "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_one_handle_on_two_platforms_stays_two_accounts():
    # Rijksoverheid is the handle on X and on YouTube: every table keeps them apart
    caps = [_cap("Rijksoverheid", "x", "post", 1, rules=(("R1-corporate-post", "by a corporate account"),)),
            _cap("Rijksoverheid", "youtube", "post", 1, rules=(("R1-corporate-post", "by a corporate account"),)),
            _cap("Rijksoverheid", "youtube", "reply", 1, rules=())]
    rep = r.build(D(2026, 10, 1), D(2026, 10, 1), D(2026, 10, 1), caps, [], [], [])
    assert rep.captured == [["Rijksoverheid", "Rijksoverheid", "x", 1, 1, 0, 0, 0, 0, 0, 0],
                            ["Rijksoverheid", "Rijksoverheid", "youtube", 2, 1, 1, 0, 0, 0, 0, 0]]
    assert rep.rules == [["Rijksoverheid", "Rijksoverheid", "x", "R1-corporate-post", "by a corporate account", "archived", 1],
                         ["Rijksoverheid", "Rijksoverheid", "youtube", "R1-corporate-post", "by a corporate account",
                          "archived", 1]]
    assert rep.gaps == []
