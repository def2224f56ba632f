"""The archiving rules tested against the seed, not against themselves (issue 15): a table of
scenarios from the project team's rules, each with its outcome written out by hand, run
through the whole pipeline on the embedded stack (shipped registries), and read back from the
bucket's ledgers. Nothing here asks the rules engine what it thinks.

Accounts (deploy/registry/accounts.yaml): X `Rijksoverheid` corporate route 1, X
`GemeenteAmsterdam` corporate route 2, X `burgemeester_halsema` hybrid with filter
#gemeenteraad, X `jan_burger` a known private person, `onbekend` not registered. Holds wait 72
hours of event time (rules.hold_window_hours); the last event, ten days on, moves event time
past every hold."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from archiefstroom import replay, runner, schemas
from archiefstroom.core.rules.scenarios import citizen, event

from .spine_helpers import ledger_entries

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.timezone.utc)
R1, R2, HY = "Rijksoverheid", "GemeenteAmsterdam", "burgemeester_halsema"


def gov(account: str) -> dict:
    return {"id": account, "handle": account, "display_name": account, "profile_url": None, "avatar_url": None}


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def ev(kind, native, account, author=None, hours=0.0, **kw):
    return event(kind, platform="x", account=account, author=author or gov(account), native_id=native,
                 created=at(hours), **kw)


THIRD = {"object_id": "x:knmi-1", "text": "Code oranje", "url": None, "author": gov("knmi")}

# (what it shows, event, expected final outcome, deciding rule) in the order the connectors send
SCENARIOS = [
    # route 1: reactions are switched off; the organisation's own webcare answer is still archived
    ("route 1 post", ev("post", "100", R1), "archived", "R1-corporate-post"),
    ("route 1 citizen reply", ev("reply", "101", R1, citizen(1), 1, in_reply_to="x:100", thread_root="x:100"),
     "dropped", "R3-route-1"),
    ("route 1 webcare answer", ev("reply", "102", R1, hours=2, in_reply_to="x:101", thread_root="x:100"),
     "archived", "R1-corporate-post"),
    ("route 1 like", ev("reaction", "100", R1, citizen(2), 3, in_reply_to="x:100", thread_root="x:100",
                        reaction_kind="like", text=None), "dropped", "R2-sentiment"),
    # route 2: citizens' reactions are government information
    ("route 2 post", ev("post", "200", R2), "archived", "R1-corporate-post"),
    ("route 2 citizen reply", ev("reply", "201", R2, citizen(3), 1, in_reply_to="x:200", thread_root="x:200"),
     "archived", "R4-route-2"),
    ("route 2 reply to a reply", ev("reply", "202", R2, citizen(4), 2, in_reply_to="x:201", thread_root="x:200"),
     "archived", "R4-route-2"),
    ("route 2 like", ev("reaction", "200", R2, citizen(5), 3, in_reply_to="x:200", thread_root="x:200",
                        reaction_kind="like", text=None), "dropped", "R2-sentiment"),
    ("route 2 citizen edits the reply", ev("edit", "201", R2, citizen(3), 4, in_reply_to="x:200",
                                           thread_root="x:200", text="Aangepaste vraag"),
     "archived", "R4-route-2"),
    ("route 2 citizen deletes the reply to a reply", ev("delete", "202", R2, citizen(4), 5, in_reply_to="x:201",
                                                        thread_root="x:200", text=None),
     "archived", "R4-route-2"),
    ("route 2 repost of a third party's post", ev("repost", "203", R2, hours=6, referenced=THIRD, text=None),
     "archived", "R1-corporate-post"),
    # hybrid: only posts with the filter hashtag, and what follows them
    ("hybrid post with the hashtag", ev("post", "300", HY, hashtags=["gemeenteraad"]), "archived", "R8-hybrid"),
    ("reply under it", ev("reply", "301", HY, citizen(6), 1, in_reply_to="x:300", thread_root="x:300"),
     "archived", "R8-hybrid"),
    ("hybrid post without it", ev("post", "310", HY, hashtags=["weekend"]), "dropped", "R8-hybrid"),
    ("reply under that one", ev("reply", "311", HY, citizen(7), 1, in_reply_to="x:310", thread_root="x:310"),
     "dropped", "R8-hybrid"),
    # a citizen's post mentioning the organisation: kept only if the organisation reacts in time
    ("mention answered within 72 h", ev("post", "400", R2, citizen(8), 0, mentions=[R2]),
     "archived", "R5-citizen-mention"),
    ("the organisation's answer", ev("reply", "401", R2, hours=20, in_reply_to="x:400", thread_root="x:400"),
     "archived", "R1-corporate-post"),
    ("mention never answered", ev("post", "410", R2, citizen(9), 1, mentions=[R2]), "dropped", "R5-citizen-mention"),
    ("mention answered too late", ev("post", "420", R2, citizen(10), 2, mentions=[R2]),
     "dropped", "R5-citizen-mention"),
    ("the late answer", ev("reply", "421", R2, hours=2 + 100, in_reply_to="x:420", thread_root="x:420"),
     "archived", "R1-corporate-post"),
    # a private person quoting a government post, with nobody from government reacting
    ("citizen quotes a government post", ev("quote", "500", R2, citizen(11), 3,
                                            referenced={**THIRD, "object_id": "x:200", "author": gov(R2)}),
     "dropped", "R7-private-repost"),
    ("direct message", ev("direct_message", "600", R2, citizen(12), 4), "dropped", "R9-direct-message"),
    ("unregistered account", ev("post", "700", "onbekend"), "dropped", "R0-registry"),
    ("a known private person's own account", ev("post", "710", "jan_burger", citizen(13)), "dropped", "R0-registry"),
    # event time moves on: every hold's window has passed
    ("ten days on", ev("post", "900", R1, hours=240), "archived", "R1-corporate-post"),
]


def _ledger_id(event_id: str) -> str:
    """A reaction's id names its actor, which the ledger keeps as a pseudonym: compare the rest."""
    return event_id.partition(":reaction:")[0] + ":reaction" if ":reaction:" in event_id else event_id


@pytest.fixture(scope="module")
def outcomes(stack_cfg, stack_dir):
    from tests.conftest import build_cfg
    name = "scen" + uuid.uuid4().hex[:8]
    cfg = build_cfg(stack_dir, name, "tansu", burgerbrief={"enabled": False})
    values = [json.dumps(schemas.to_wire(e, "social_event"), ensure_ascii=False).encode() for _, e, _, _ in SCENARIOS]
    result = runner.run(cfg, stop_at=replay.produce(cfg, values), progress=False)
    final: dict[str, list[tuple[str, str]]] = {}
    for entry in ledger_entries(cfg):
        if entry.get("event_id") is None or entry["kind"] == "held":     # a hold is superseded by its end
            continue
        rule = entry.get("rule") if entry["kind"] == "archived" else entry["reason"].partition(":")[0]
        final.setdefault(_ledger_id(entry["event_id"]), []).append((entry["kind"], rule))
    return final, result


@pytest.mark.parametrize("what,event_,kind,rule", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_scenario_ends_as_the_rules_say(outcomes, what, event_, kind, rule):
    final, _ = outcomes
    assert final.get(_ledger_id(event_["event_id"])) == [(kind, rule)]


def test_every_event_has_exactly_one_outcome_and_nothing_else_was_decided(outcomes):
    final, result = outcomes
    assert sorted(final) == sorted(_ledger_id(e["event_id"]) for _, e, _, _ in SCENARIOS)
    assert result.counters.get("dead_lettered", 0) == 0 and result.counters.get("quarantined", 0) == 0
