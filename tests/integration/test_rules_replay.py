"""An unbounded run, as in production: events produced while it runs are archived while
it runs (not at the drain), and rule 5 holds decide by event time in a replay of old
events, however many polls lie between a held citizen post and the government's answer."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest

from archiefstroom import replay, runner, schemas
from archiefstroom.core.rules.scenarios import citizen, event
from archiefstroom.transforms import kafka_source

from .spine_helpers import ledger_entries

pytestmark = pytest.mark.integration
ACCOUNT = "GemeenteAmsterdam"              # a route-2 corporate account of deploy/registry
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def wire(ev: dict) -> bytes:
    return json.dumps(schemas.to_wire(ev, "social_event")).encode()


def gov(native: str, created: dt.datetime, **kw) -> dict:
    return event("post", account=ACCOUNT, native_id=native, created=created, **kw)


def _fates(cfg) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in ledger_entries(cfg):
        out.setdefault(e["event_id"], []).append(e["kind"] if e["kind"] != "dropped" else e["reason"])
    return out


def _wait_for(cfg, event_id: str, timeout_s: float = 90) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fates = _fates(cfg)
        if event_id in fates:
            return fates
        time.sleep(0.5)
    raise AssertionError(f"{event_id} not in the archive ledgers after {timeout_s}s")


def test_a_replay_of_old_events_releases_a_hold_answered_many_polls_later(make_cfg):
    """Unbounded run (as in production) over a backlog from months ago, read 10 records a poll."""
    cfg = make_cfg(pipeline={"poll_max_records": 10})
    answered = event("post", account=ACCOUNT, native_id="m1", author=citizen(1), mentions=[ACCOUNT], created=T0,
                     text="@GemeenteAmsterdam wanneer wordt de brug gerepareerd?")
    unanswered = event("post", account=ACCOUNT, native_id="m2", author=citizen(2), mentions=[ACCOUNT], created=T0,
                       text="@GemeenteAmsterdam de lantaarnpaal is kapot")
    filler = [gov(f"f{i}", T0 + dt.timedelta(seconds=20 * i)) for i in range(300)]   # 100 minutes of posts
    answer = event("reply", account=ACCOUNT, native_id="a1", in_reply_to="x:m1", thread_root="x:m1",
                   created=T0 + dt.timedelta(hours=2), text="Dank voor uw vraag, we kijken ernaar.")
    late = event("reply", account=ACCOUNT, native_id="a2", in_reply_to="x:m2", thread_root="x:m2",
                 created=T0 + dt.timedelta(hours=80), text="Excuus voor de late reactie.")
    replay.produce(cfg, [wire(e) for e in [answered, unanswered, *filler, answer]])
    run = threading.Thread(target=runner.run, args=(cfg,), kwargs={"progress": False})
    run.start()
    try:
        fates = _wait_for(cfg, "x:a1")
        assert "archived" in fates["x:m1"], fates["x:m1"]     # released by the answer, 300 records later
        replay.produce(cfg, [wire(late)])
        fates = _wait_for(cfg, "x:a2")
        # answered after the 72 h window: not archived, with the rule and the reason
        assert "archived" not in fates.get("x:m2", []) and fates["x:a2"] == ["archived"]
    finally:
        kafka_source.STOP.set()
        run.join(timeout=120)
    fates = _fates(cfg)
    assert any("R5-citizen-mention" in f and "72h" in f for f in fates["x:m2"]), fates["x:m2"]
    assert sum(1 for e in ledger_entries(cfg) if e["kind"] == "archived") == 300 + 3
