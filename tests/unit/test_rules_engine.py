"""Table-driven tests: one or more rows per rule, each a realistic event in its thread."""
from __future__ import annotations

import datetime as dt

import pytest

from archiefstroom import schemas
from archiefstroom.core.rules import engine, registry
from archiefstroom.core.rules.scenarios import GOV, citizen, event, example_registry, record
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import registries

R1, R2 = "GemeenteVoorbeeld", "GemeenteTweeweg"   # route 1 / route 2 (key function) corporate accounts
HY = "wethouder_voorbeeld"                        # hybrid, filter #raad
SETTINGS = RulesSettings()
THIRD = {"object_id": "x:derde-1", "text": "Code oranje", "url": None,
         "author": {"id": "knmi", "handle": "knmi", "display_name": "KNMI", "profile_url": None, "avatar_url": None}}


def gov(account):
    return {**GOV, "id": account, "handle": account}


ROWS = [
    # id, event, action, deciding rule
    ("r1 post by corporate account", event("post", account=R1), "archive", "R1-corporate-post"),
    ("r1 webcare reply by the account (route 1)", event("reply", account=R1, in_reply_to="x:9", thread_root="x:9"),
     "archive", "R1-corporate-post"),
    ("r1 other corporate account answering in a thread",
     event("reply", account=R2, author=gov(R1), in_reply_to="x:9", thread_root="x:9"), "archive", "R1-corporate-post"),
    ("r2 like", event("reaction", account=R2, author=citizen(), in_reply_to="x:9", thread_root="x:9",
                      reaction_kind="like"), "drop", "R2-sentiment"),
    ("r2 heart on route 1", event("reaction", account=R1, author=citizen(), reaction_kind="love"), "drop", "R2-sentiment"),
    ("r3 citizen reply on route 1", event("reply", account=R1, author=citizen(), in_reply_to="x:9", thread_root="x:9"),
     "drop", "R3-route-1"),
    ("r3 reply to reply on route 1", event("reply", account=R1, author=citizen(2), in_reply_to="x:10",
                                           thread_root="x:9"), "drop", "R3-route-1"),
    ("r4 citizen reply on route 2", event("reply", account=R2, author=citizen(), in_reply_to="x:9", thread_root="x:9"),
     "archive", "R4-route-2"),
    ("r4 reply to reply on route 2", event("reply", account=R2, author=citizen(2), in_reply_to="x:10",
                                           thread_root="x:9"), "archive", "R4-route-2"),
    ("r5 citizen post mentioning the organisation", event("post", account=R2, author=citizen(),
                                                          mentions=["GemeenteVoorbeeld"]), "hold", "R5-citizen-mention"),
    ("r5 citizen post linking the organisation's site", event("post", account=R2, author=citizen(),
                                                              urls=["https://www.voorbeeld.nl/afval"]),
     "hold", "R5-citizen-mention"),
    ("r5 citizen post without mention: no rule", event("post", account=R2, author=citizen()), "drop", "R0-no-rule"),
    ("r6 government repost of third party", event("repost", account=R2, referenced=THIRD, text=None),
     "archive", "R1-corporate-post"),
    ("r7 citizen quotes a government post", event("quote", account=R2, author=citizen(),
                                                  referenced={**THIRD, "author": gov(R2)}), "hold", "R7-private-repost"),
    ("r7 known private person reposts", event("repost", account=R2, author={**citizen(), "id": "privepersoon"},
                                              referenced={**THIRD, "author": gov(R2)}), "hold", "R7-private-repost"),
    ("r8 hybrid post with filter hashtag", event("post", account=HY, hashtags=["Raad"]), "archive", "R8-hybrid"),
    ("r8 hybrid post without hashtag", event("post", account=HY, hashtags=["weekend"]), "drop", "R8-hybrid"),
    ("r8 reaction under hybrid post waits for its root", event("reply", account=HY, author=citizen(),
                                                               in_reply_to="x:5", thread_root="x:5"),
     "await_root", "R8-hybrid"),
    ("r9 direct message", event("direct_message", account=R2, author=citizen()), "drop", "R9-direct-message"),
    ("r10 edit of a corporate post", event("edit", account=R2), "archive", "R1-corporate-post"),
    ("r10 delete of a citizen reply on route 2", event("delete", account=R2, author=citizen(), text=None),
     "archive", "R4-route-2"),
    ("r10 delete of a citizen reply on route 1", event("delete", account=R1, author=citizen(), text=None),
     "drop", "R3-route-1"),
    ("r10 delete of a hybrid post follows its root", event("delete", account=HY, text=None), "await_root", "R8-hybrid"),
    ("r0 unregistered account", event("post", account="onbekend"), "drop", "R0-registry"),
    ("r0 private account", event("post", account="privepersoon"), "drop", "R0-registry"),
]


@pytest.mark.parametrize("ev,action,rule", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_rule_table(ev, action, rule):
    v = engine.evaluate(ev, example_registry(), SETTINGS)
    assert (v.action, v.rule) == (action, rule)
    fired = [t["rule"] for t in v.trace if t["fired"]]
    assert fired[-1] == rule                      # the deciding rule closes the trace
    assert all(t["rule"] in (*engine.RULE_IDS, engine.NO_RULE) for t in v.trace)
    if action == "drop":
        assert v.retention is None
        assert v.reason.startswith(rule + ": ")
    else:
        assert v.retention is not None
        schemas.validate(engine.apply(record(ev), v), "archive_record")   # fits the archive contract


def test_trace_and_detail_never_name_private_authors():
    ev = event("reply", account=R1, author=citizen(1234), in_reply_to="x:9", thread_root="x:9")
    v = engine.evaluate(ev, example_registry(), SETTINGS)
    text = repr(v.trace) + repr(v.detail) + v.reason
    assert "u1234" not in text and "burger1234" not in text
    assert v.detail["author"] == "citizen"
    assert v.misconfigured


def test_rule6_flags_disclaimer_and_not_publishable():
    v = engine.evaluate(event("repost", account=R2, referenced=THIRD, text=None), example_registry(), SETTINGS)
    d = v.decision
    assert {"third_party_content", "may_contain_personal_data", "not_publishable_without_review"} <= set(d["flags"])
    assert d["publishable"] is False and d["disclaimer"] == SETTINGS.disclaimer
    # a government repost of another government account is not third-party content
    v2 = engine.evaluate(event("repost", account=R2, referenced={**THIRD, "author": gov(R1)}, text=None),
                         example_registry(), SETTINGS)
    assert v2.decision["publishable"] is True and not v2.decision["flags"]


def test_rule10_links_versions_and_tombstones():
    edit = engine.evaluate(event("edit", account=R2, native_id="77"), example_registry(), SETTINGS)
    assert edit.decision["supersedes"] == "x:77" and "version" in edit.decision["flags"]
    tomb = engine.evaluate(event("delete", account=R2, native_id="78", author=citizen(), text=None),
                           example_registry(), SETTINGS)
    assert tomb.decision["supersedes"] == "x:78" and "tombstone" in tomb.decision["flags"]
    # without the object's chain (LinkVersions, test_rules_versions.py) both point at the original
    assert edit.decision["original"] == "x:77" and tomb.decision["original"] == "x:78"


def test_rule5_names_who_must_react():
    v = engine.evaluate(event("post", account=R2, author=citizen(), mentions=["@gemeentevoorbeeld"]),
                        example_registry(), SETTINGS)
    assert v.organisations == ("Gemeente Voorbeeld",)


def test_rule8_without_filter_is_not_harvested():
    reg = example_registry()
    accounts = [registry.Account(**{**a.__dict__, "hashtags": []}) if a.type == "hybrid" else a
                for a in reg.accounts.accounts]
    reg = registry.replace_accounts(reg, accounts)
    v = engine.evaluate(event("post", account=HY, hashtags=["raad"]), reg, SETTINGS)
    assert (v.action, v.rule, v.outcome) == ("drop", "R8-hybrid", "hybrid account without filter not harvested")


def test_route1_where_reactions_cannot_be_switched_off_becomes_route2():
    platforms = {"platforms": {"x": {"reactions_can_be_switched_off": False}}}
    reg = example_registry(platforms=platforms)
    assert any("route 2 applies" in w for w in reg.warnings)
    v = engine.evaluate(event("reply", account=R1, author=citizen(), in_reply_to="x:9", thread_root="x:9"),
                        reg, SETTINGS)
    assert (v.action, v.rule, v.decision["route"]) == ("archive", "R4-route-2", 2)


def test_retention_by_account_type_author_and_hotspot():
    reg = example_registry()
    post = engine.evaluate(event("post", account=R2), reg, SETTINGS).retention
    assert (post.retention_class, post.category, post.destroy_after) == ("B", "P", None)
    reply = engine.evaluate(event("reply", account=R2, author=citizen(), in_reply_to="x:9", thread_root="x:9"),
                            reg, SETTINGS).retention
    assert (reply.retention_class, reply.category) == ("V", "V5")
    assert reply.destroy_after == dt.date(2031, 3, 2)
    hot = registries.build({"organisations": {"Gemeente Voorbeeld": {}}, "accounts": [
        {"platform": "x", "id": R2, "organisation": "Gemeente Voorbeeld", "type": "corporate", "route": 2}]},
        {"platforms": {"x": {"reactions_can_be_switched_off": True}}},
        {"categories": {"P": {"retention_class": "B"}, "V5": {"retention_class": "V", "years": 5}},
         "default_category": "V5", "hotspot_category": "P"},
        {"hotspots": [{"name": "storm", "start": "2026-03-01", "end": "2026-03-03", "hashtags": ["code_oranje"]}]})
    inside = engine.evaluate(event("reply", account=R2, author=citizen(), hashtags=["CODE_ORANJE"],
                                   in_reply_to="x:9", thread_root="x:9"), hot, SETTINGS).retention
    assert (inside.retention_class, inside.hotspot, inside.category) == ("B", "storm", "P")
    after = engine.evaluate(event("reply", account=R2, author=citizen(), hashtags=["code_oranje"],
                                  created=dt.datetime(2026, 3, 9, tzinfo=dt.timezone.utc),
                                  in_reply_to="x:9", thread_root="x:9"), hot, SETTINGS).retention
    assert (after.retention_class, after.hotspot) == ("V", None)


def test_shipped_registries_load_and_cover_sample_accounts():
    from archiefstroom.ground import config
    from archiefstroom.samples import generator
    cfg = config.load(config.DEFAULT_CONFIG)
    reg = registries.load_for(cfg)
    assert reg.warnings == []
    for a in [*generator.ACCOUNTS, generator.HYBRID, generator.PRIVATE]:
        assert reg.account(a.platform, a.id) is not None, a
    assert reg.account("x", "burgemeester_halsema").type == "hybrid"
    assert reg.account("x", "jan_burger").type == "private"


def test_burgerbrief_outcome_can_choose_its_own_category():
    from archiefstroom.ground import config
    cfg = config.load(config.DEFAULT_CONFIG)
    reg = registries.load_for(cfg)
    ev = event("reply", platform="x", account="GemeenteAmsterdam", author=citizen(), in_reply_to="x:9",
               thread_root="x:9", created=dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc))
    rec = {"event": ev}
    assert engine.retention_for(reg, rec)["category"] == "1.3"
    tagged = engine.retention_for(reg, rec, burgerbrief="burgerbrief")
    assert (tagged["category"], tagged["destroy_after"]) == ("1.5", dt.date(2036, 11, 5))
