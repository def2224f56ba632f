"""Alerts, feedback and the verdict on the archive record (pure core)."""
from __future__ import annotations

import datetime as dt

import pytest

from archiefstroom import schemas
from archiefstroom.core.burgerbrief import alerts
from archiefstroom.core.envelope import thread_key
from archiefstroom.core.rules import registry
from archiefstroom.ground.config import RetentionSettings

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)
SELECTIELIJST = registry.Selectielijst(
    categories={"1.3": registry.Category("V", 5), "1.5": registry.Category("V", 10), "1.6": registry.Category("B")},
    default_category="1.3", hotspot_category="1.6")


def event(**kw):
    ev = {"event_id": "x:200", "object_id": "x:200", "platform": "x", "native_id": "200", "event_type": "reply",
          "account": {"id": "GemeenteX", "handle": "GemeenteX", "display_name": "Gemeente X"},
          "author": {"id": "u1", "handle": "burger1", "display_name": "B", "profile_url": None, "avatar_url": None},
          "in_reply_to": "x:150", "thread_root": "x:100", "referenced": None, "created_at": T0, "captured_at": T0,
          "edited_at": None, "text": "Kunnen jullie mij bellen?", "language": "nl", "url": "https://x.example/200",
          "hashtags": [], "mentions": [], "urls": [], "media": [], "reaction_kind": None,
          "raw": {"payload": "{}", "sha256": "0" * 64, "content_type": "application/json"},
          "connector": {"name": "t", "version": "1"}}
    ev.update(kw)
    return ev


def record(version=1, retention=None, bb=None, offset=7):
    return {"event": event(), "source": {"topic": "raw", "partition": 0, "offset": offset},
            "retention": retention or {"retention_class": "V", "category": "1.3", "destroy_after": dt.date(2031, 10, 1),
                                       "account_type": "corporate", "hotspot": None},
            "archived_at": T0, "pipeline_version": "0.1.0", "record_version": version,
            "decision": None, "pseudonymisation": None, "burgerbrief": bb}


BB = {"label": True, "score": 0.93, "category": "verzoek", "reasons": ["vraagt om contact (bellen, mailen, DM)"],
      "urgent": False, "model_version": "bb-linear-test", "verdict": None}


def test_reactions_are_replies_and_quotes_by_others():
    assert alerts.is_reaction(event())
    assert alerts.is_reaction(event(event_type="quote"))
    assert not alerts.is_reaction(event(event_type="post"))
    assert not alerts.is_reaction(event(event_type="reaction", text=None))
    assert not alerts.is_reaction(event(text=None))
    own = event(author={"id": "GemeenteX", "handle": "GemeenteX"})
    assert not alerts.is_reaction(own)
    other_gov = event(author={"id": "u9", "handle": "@Politie"})
    assert alerts.is_reaction(other_gov)
    assert not alerts.is_reaction(other_gov, frozenset({"politie"}))


def test_thread_key_keeps_a_thread_together():
    assert thread_key(event()) == "x:100"
    assert thread_key(event(thread_root=None)) == "x:150"
    assert thread_key(event(thread_root=None, in_reply_to=None)) == "x:200"


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_alert_round_trip(fmt):
    a = alerts.alert_datum(record(bb=BB), BB, T0 + dt.timedelta(seconds=1))
    schemas.validate(a, alerts.ALERT_SCHEMA)
    assert a["text"] == "Kunnen jullie mij bellen?" and a["post_id"] == "x:100" and a["organisation"] == "Gemeente X"
    back = alerts.decode(alerts.encode(a, alerts.ALERT_SCHEMA, fmt), alerts.ALERT_SCHEMA)
    assert back == a


def test_alert_for_a_quote_carries_the_post():
    ref = {"object_id": "x:100", "author": None, "text": "Vanaf 1 januari ...", "url": "https://x.example/100"}
    rec = {**record(bb=BB), "event": event(event_type="quote", referenced=ref, in_reply_to=None, thread_root=None)}
    a = alerts.alert_datum(rec, BB, T0)
    assert (a["post_id"], a["post_text"], a["post_url"]) == ("x:100", "Vanaf 1 januari ...", "https://x.example/100")


def test_urgent_non_burgerbrief_still_alerts():
    assert alerts.should_alert({"label": False, "urgent": True})
    assert alerts.should_alert({"label": True, "urgent": False})
    assert not alerts.should_alert({"label": False, "urgent": False})


def test_feedback_datum_checks():
    fb = alerts.feedback_datum("x:200", "burgerbrief", "anna", T0)
    schemas.validate(fb, alerts.FEEDBACK_SCHEMA)
    with pytest.raises(ValueError, match="decision"):
        alerts.feedback_datum("x:200", "misschien", "anna", T0)
    with pytest.raises(ValueError, match="by"):
        alerts.feedback_datum("x:200", "burgerbrief", " ", T0)


def _apply(versions, decision, **kw):
    fb = alerts.feedback_datum("x:200", decision, "anna", T0 + dt.timedelta(hours=1), **kw)
    return alerts.apply_verdict(versions, fb, burgerbrief_category="1.5", selectielijst=SELECTIELIJST,
                                source={"topic": "feedback", "partition": 1, "offset": 3},
                                archived_at=T0 + dt.timedelta(hours=1), pipeline_version="0.1.0")


def test_confirmed_verdict_makes_a_new_version_in_the_burgerbrief_category():
    v1 = record(bb=BB)
    v2 = _apply([v1], "burgerbrief", category="klacht")
    assert v2["record_version"] == 2 and v1["record_version"] == 1            # v1 untouched
    assert v2["burgerbrief"]["verdict"] == {"decision": "burgerbrief", "by": "anna", "at": T0 + dt.timedelta(hours=1),
                                            "note": None}
    assert v2["burgerbrief"]["category"] == "klacht"
    assert v2["retention"]["category"] == "1.5" and v2["retention"]["destroy_after"] == dt.date(2036, 10, 1)
    assert v2["source"] == {"topic": "feedback", "partition": 1, "offset": 3}
    assert v2["event"] == v1["event"]
    schemas.validate(v2, "archive_record")


def test_a_mistake_is_corrected_by_a_later_verdict():
    v1 = record(bb=BB)
    v2 = _apply([v1], "burgerbrief")
    v3 = _apply([v1, v2], "geen_burgerbrief")
    assert v3["record_version"] == 3
    assert v3["burgerbrief"]["verdict"]["decision"] == "geen_burgerbrief"
    assert v3["retention"] == v1["retention"]                                 # back to the reaction category


def test_rejection_uses_rechoose_when_given():
    fb = alerts.feedback_datum("x:200", "geen_burgerbrief", "anna", T0)
    out = alerts.apply_verdict([record(bb=BB)], fb, burgerbrief_category="1.5", selectielijst=SELECTIELIJST,
                               source={"topic": "f", "partition": 0, "offset": 0}, archived_at=T0,
                               pipeline_version="x", rechoose=lambda r: {**r["retention"], "category": "9.9"})
    assert out["retention"]["category"] == "9.9"


def test_hotspot_stays_permanent_when_confirmed():
    hot = {"retention_class": "B", "category": "1.6", "destroy_after": None, "account_type": "corporate",
           "hotspot": "storm"}
    v2 = _apply([record(retention=hot, bb=BB)], "burgerbrief")
    assert v2["retention"]["retention_class"] == "B" and v2["retention"]["hotspot"] == "storm"


def test_unknown_category_and_missing_versions_fail():
    fb = alerts.feedback_datum("x:200", "burgerbrief", "anna", T0)
    with pytest.raises(KeyError):
        alerts.apply_verdict([record(bb=BB)], fb, burgerbrief_category="7.7", selectielijst=SELECTIELIJST,
                             source={}, archived_at=T0, pipeline_version="x")
    with pytest.raises(LookupError):
        alerts.apply_verdict([], fb, burgerbrief_category="1.5", selectielijst=SELECTIELIJST,
                             source={}, archived_at=T0, pipeline_version="x")


def test_works_with_the_config_retention_settings_too():
    rs = RetentionSettings()
    fb = alerts.feedback_datum("x:200", "burgerbrief", "anna", T0)
    out = alerts.apply_verdict([record(bb=BB)], fb, burgerbrief_category="1.2", selectielijst=rs,
                               source={"topic": "f", "partition": 0, "offset": 0}, archived_at=T0, pipeline_version="x")
    assert out["retention"]["category"] == "1.2"


def test_labelled_examples_last_verdict_wins_and_needs_the_alert():
    a = alerts.alert_datum(record(bb=BB), BB, T0)
    fbs = [alerts.feedback_datum("x:200", "burgerbrief", "anna", T0, category="klacht"),
           alerts.feedback_datum("x:200", "geen_burgerbrief", "piet", T0 + dt.timedelta(minutes=5)),
           alerts.feedback_datum("x:999", "burgerbrief", "anna", T0)]
    rows = alerts.labelled_examples([a], fbs)
    assert rows == [{"text": "Kunnen jullie mij bellen?", "label": False, "category": None, "urgent": False,
                     "org": "Gemeente X", "platform": "x", "source": "webcare:x:200", "model_score": 0.93,
                     "model_version": "bb-linear-test"}]
    rows = alerts.labelled_examples([a], fbs[:1])
    assert rows[0]["label"] is True and rows[0]["category"] == "klacht"


def test_latest_version_from_lookup_results():
    found = [{"kind": "archived", "record": record(1)}, {"kind": "duplicate"},
             {"kind": "archived", "record": record(3)}, {"kind": "archived", "record": record(2)}]
    assert alerts.latest_version(found)["record_version"] == 3
    assert alerts.latest_version([{"kind": "dropped"}]) is None
