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

from .spine_helpers import ledger_entries, topic_messages

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


def _wait_until(cfg, check, what: str, timeout_s: float = 90) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fates = _fates(cfg)
        if check(fates):
            return fates
        time.sleep(0.5)
    raise AssertionError(f"not seen within {timeout_s}s: {what}; ledgers say {fates}")


def mention(native: str, n: int, created: dt.datetime) -> dict:
    return event("post", account=ACCOUNT, native_id=native, author=citizen(n), mentions=[ACCOUNT], created=created,
                 text="@GemeenteAmsterdam wanneer wordt de brug gerepareerd?")


def answer(native: str, to: str, created: dt.datetime) -> dict:
    return event("reply", account=ACCOUNT, native_id=native, in_reply_to=f"x:{to}", thread_root=f"x:{to}",
                 created=created, text="Dank voor uw vraag, we kijken ernaar.")


def test_a_slow_backfill_of_old_events_decides_holds_by_event_time(make_cfg):
    """A connector backfills events from months ago in batches with pauses between them
    (rate limits), into an unbounded run, as in production. Pauses in processing time
    must not expire a hold: only the stream's event time passing the window does.
    The pipeline runs in the main thread (as `archiefstroom run` does); the connector's
    part and the checks while it runs are in a helper thread, which drains the run."""
    cfg = make_cfg(pipeline={"poll_max_records": 10})
    seen: dict = {}

    def connector():
        try:
            filler = [gov(f"f{i}", T0 + dt.timedelta(seconds=20 * i)) for i in range(300)]   # 100 minutes of posts
            replay.produce(cfg, [wire(e) for e in [mention("m1", 1, T0), mention("m2", 2, T0), *filler]])
            _wait_until(cfg, lambda f: "x:m1" in f and "x:f299" in f, "the first batch archived or held")
            time.sleep(3)                                       # the connector waits for its rate limit
            replay.produce(cfg, [wire(answer("a1", "m1", T0 + dt.timedelta(hours=2)))])
            seen["answered"] = _wait_until(cfg, lambda f: "x:a1" in f, "the answer")
            # three days later (event time) the stream passes m2's window: it expires while running
            replay.produce(cfg, [wire(gov("g1", T0 + dt.timedelta(hours=79))),
                                 wire(mention("m3", 3, T0 + dt.timedelta(hours=79))),
                                 wire(answer("a2", "m2", T0 + dt.timedelta(hours=80)))])
            seen["expired"] = _wait_until(cfg, lambda f: len(f.get("x:m2", [])) == 2 and "x:a2" in f, "m2's expiry")
        except BaseException as exc:  # reported by the main thread
            seen["error"] = exc
        finally:
            runner.request_drain(cfg)

    helper = threading.Thread(target=connector, daemon=True)
    helper.start()
    runner.run(cfg, progress=False)
    helper.join(timeout=30)
    if "error" in seen:
        raise seen["error"]
    fates = seen["answered"]
    assert sorted(fates["x:m1"]) == ["archived", "held"], fates["x:m1"]   # released, not expired
    assert fates["x:m2"] == ["held"]
    fates = seen["expired"]
    assert any("R5-citizen-mention" in x and "72h" in x for x in fates["x:m2"]), fates["x:m2"]
    assert fates["x:a2"] == ["archived"]
    # a drain is not the window passing: m3 stays held, on the held topic, for the next run
    fates = _fates(cfg)
    assert fates["x:m3"] == ["held"], fates["x:m3"]
    held = {m.key.decode() for m in topic_messages(cfg, cfg.rules.held_topic, timeout_s=3) if m.value}
    assert "x:m3" in held
    assert sum(1 for e in ledger_entries(cfg) if e["kind"] == "archived") == 300 + 1 + 3
