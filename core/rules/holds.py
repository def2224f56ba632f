"""Per-thread state for the rules that wait: rule 5 and 7 holds, rule 8 reactions that follow
their root post. Pure: a keyed Beam DoFn (transforms/rules.py) keeps one ThreadState per
thread and feeds it `ThreadItem`s in arrival order and expiry times from its timer.

Time is event time: a hold expires at the held post's created_at + window, and a
government reaction releases it only if the reaction itself was created inside the
window. So a replay decides exactly as the first run did, however fast it runs.

Durability: a held item leaves the flow as a `held` Disposition whose payload is
`encode_hold(...)` (the finished record as wire JSON plus the hold's terms). The sink
commits its Kafka offset, and keeps the payload on a compacted topic keyed by event id;
`decode_hold` turns it back into a ThreadItem("restore") when the pipeline starts again.
When a hold ends (released or expired), `ended_hold(item)` names the key to tombstone.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from archiefstroom import schemas
from archiefstroom.core.envelope import Disposition, Position
from archiefstroom.core.rules import engine

ItemKind = Literal["hold", "restore", "await_root", "root", "government"]
RELEASED = "released_from_hold"
CONTEXT = "context_of_government_reaction"


@dataclass
class ThreadItem:
    kind: ItemKind
    record: dict | None              # finished record (decision + retention), or None for a dropped root
    rule: str = ""
    organisations: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
    position: Position | None = None  # for a dropped root: its Disposition travels instead
    disposition: Disposition | None = None
    matched: bool | None = None      # root: did the hybrid filter match
    detail: dict = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        return self.record["event"]["event_id"] if self.record else (self.disposition.event_id or "")


@dataclass
class Pending:
    record: dict
    rule: str
    organisations: tuple[str, ...]
    expires_at: dt.datetime
    waits_for: Literal["government", "root"]
    detail: dict = field(default_factory=dict)


@dataclass
class ThreadState:
    pending: dict[str, Pending] = field(default_factory=dict)
    root: bool | None = None          # hybrid threads: did the root post carry the filter hashtag

    def next_expiry(self) -> dt.datetime | None:
        return min((p.expires_at for p in self.pending.values()), default=None)


@dataclass
class Out:
    """One result of a step: an archived record, or a Disposition. `metric` names the counter."""
    record: dict | None = None
    disposition: Disposition | None = None
    metric: str = ""


def _trace(record: dict, rule: str, outcome: str, inputs: dict, *, flags=(), context=(), fired=True) -> dict:
    """`fired=False`: a note on a record another rule decided (the deciding rule closes the trace)."""
    d = dict(record["decision"])
    d["rules"] = [*d.get("rules", []), {"rule": rule, "fired": fired, "outcome": outcome,
                                        "inputs": {k: str(v) for k, v in inputs.items()}}]
    d["flags"] = [*d.get("flags", []), *(f for f in flags if f not in d.get("flags", []))]
    d["context"] = [*d.get("context", []), *(c for c in context if c not in d.get("context", []))]
    return {**record, "decision": d}


def _held_disposition(item: ThreadItem, p: Pending, window_h: float) -> Disposition:
    ev = p.record["event"]
    if p.waits_for == "government":
        why = f"held until the organisation reacts or {window_h:g}h pass"
    else:
        why = "held until the thread's root post shows whether the hybrid filter applies"
    return Disposition(_pos(p.record), "held", f"{p.rule}: {why}", event_id=ev["event_id"],
                       payload=encode_hold(p), detail={"rule": p.rule, "hold_key": ev["event_id"],
                                                       "expires_at": p.expires_at.isoformat(),
                                                       "organisations": list(p.organisations),
                                                       "waits_for": p.waits_for})


def _pos(record: dict) -> Position:
    return Position.of(record)


def _drop(p: Pending, why: str, metric: str, **detail) -> Out:
    ev = p.record["event"]
    return Out(disposition=Disposition(_pos(p.record), "dropped", f"{p.rule}: {why}", event_id=ev["event_id"],
                                       detail={"rule": p.rule, "hold_ended": True, "hold_key": ev["event_id"],
                                               "event_type": ev["event_type"], **detail}),
               metric=metric)


def step(state: ThreadState, item: ThreadItem, window: dt.timedelta) -> list[Out]:
    """Feed one item of this thread; returns what leaves the thread now."""
    window_h = window.total_seconds() / 3600
    if item.kind in ("hold", "restore", "await_root"):
        eid = item.event_id
        waits = "root" if item.kind == "await_root" or item.detail.get("waits_for") == "root" else "government"
        if waits == "root" and state.root is not None:
            p = Pending(item.record, item.rule, item.organisations, item.expires_at, "root", item.detail)
            return [_resolve_root(p, state.root)]
        p = state.pending.get(eid)
        if p is None:
            p = Pending(item.record, item.rule, item.organisations, item.expires_at, waits, item.detail)
            state.pending[eid] = p
        if item.kind == "restore":
            return []
        # a replayed offset needs its outcome again, even if the hold is already known
        return [Out(disposition=_held_disposition(item, p, window_h), metric=f"{p.rule}.held")]
    if item.kind == "root":
        state.root = bool(item.matched)
        outs = [Out(record=item.record) if item.record is not None else Out(disposition=item.disposition)]
        for eid, p in list(state.pending.items()):
            if p.waits_for == "root":
                del state.pending[eid]
                outs.append(_resolve_root(p, state.root))
        return outs
    if item.kind == "government":
        return _government_reaction(state, item, window_h)
    raise ValueError(f"unknown thread item kind {item.kind!r}")


def _resolve_root(p: Pending, matched: bool) -> Out:
    if matched:
        rec = _trace(p.record, p.rule, "root post carries the filter hashtag", {"root": "matched"},
                     flags=(RELEASED,))
        return Out(record=rec, metric=f"{p.rule}.released")
    return _drop(p, "root post lacks the filter hashtag", f"{p.rule}.dropped")


def _government_reaction(state: ThreadState, item: ThreadItem, window_h: float) -> list[Out]:
    ev = item.record["event"]
    answered = {ev.get("in_reply_to"), ev.get("thread_root")} - {None}
    org = item.record.get("decision", {}).get("organisation")
    author_org = item.detail.get("author_org") or org
    outs: list[Out] = []
    gov = item.record
    for eid, p in list(state.pending.items()):
        if p.waits_for != "government" or p.record["event"]["object_id"] not in answered:
            continue
        if p.organisations and author_org not in p.organisations:
            continue
        del state.pending[eid]
        if ev["created_at"] > p.expires_at:
            outs.append(_drop(p, f"expired: the reaction came after the {window_h:g}h window", f"{p.rule}.expired",
                              window_hours=f"{window_h:g}", late_reaction="true"))
            continue
        delay = (ev["created_at"] - p.record["event"]["created_at"]).total_seconds() / 3600
        rec = _trace(p.record, p.rule, "released: the organisation reacted", {
            "reaction": ev["event_id"], "organisation": str(author_org), "delay_hours": f"{delay:.1f}"},
            flags=(RELEASED, CONTEXT), context=(ev["event_id"],))
        outs.append(Out(record=rec, metric=f"{p.rule}.released"))
        gov = _trace(gov, p.rule, "government reaction releases a held item", {"released": eid},
                     context=(eid,), fired=False)
    return [Out(record=gov), *outs]


def expire(state: ThreadState, now: dt.datetime, window: dt.timedelta) -> list[Out]:
    """Everything whose window closed at or before `now` (event time) is dropped, counted."""
    window_h = window.total_seconds() / 3600
    outs = []
    for eid, p in sorted(state.pending.items(), key=lambda kv: kv[1].expires_at):
        if p.expires_at <= now:
            del state.pending[eid]
            why = (f"expired: no reaction from the organisation within {window_h:g}h"
                   if p.waits_for == "government" else "expired: root post never seen")
            outs.append(_drop(p, why, f"{p.rule}.expired", window_hours=f"{window_h:g}",
                              organisations=list(p.organisations)))
    return outs


def ended_hold(item) -> str | None:
    """The held-topic key to tombstone once `item` is durable in the archive, if it ends a hold."""
    if isinstance(item, Disposition):
        return item.detail.get("hold_key") if item.detail.get("hold_ended") else None
    if isinstance(item, dict) and RELEASED in ((item.get("decision") or {}).get("flags") or []):
        return item["event"]["event_id"]
    return None


# -- payload on the held topic ---------------------------------------------------

def encode_hold(p: Pending) -> bytes:
    doc = {"v": 1, "record": schemas.to_wire(p.record, "archive_record"), "rule": p.rule,
           "organisations": list(p.organisations), "expires_at": p.expires_at.isoformat(),
           "waits_for": p.waits_for, "detail": p.detail}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def decode_hold(value: bytes, window: dt.timedelta | None = None) -> ThreadItem:
    """A restore item; with `window` the expiry follows the current configuration."""
    doc = json.loads(value)
    record = schemas.from_wire(doc["record"], "archive_record")
    expires = dt.datetime.fromisoformat(doc["expires_at"])
    if window is not None:
        expires = record["event"]["created_at"] + window
    return ThreadItem("restore", record, doc["rule"], tuple(doc["organisations"]), expires,
                      detail={**doc.get("detail", {}), "waits_for": doc["waits_for"]})


# -- from a verdict to the thread step -------------------------------------------

def route(record: dict, verdict, window: dt.timedelta) -> Out | tuple[str, ThreadItem]:
    """What leaves at once (an Out), or the (thread key, item) the thread step must see."""
    ev = record["event"]
    if verdict.action == "drop":
        disp = Disposition(Position.of(record), "dropped", verdict.reason, event_id=ev["event_id"],
                           detail=verdict.detail)
        if not verdict.via_thread:
            return Out(disposition=disp)
        return verdict.facts.thread, ThreadItem("root", None, verdict.rule, matched=False, disposition=disp)
    done = engine.apply(record, verdict)
    if not verdict.via_thread:
        return Out(record=done)
    expires = ev["created_at"] + window
    if verdict.action == "hold":
        item = ThreadItem("hold", done, verdict.rule, verdict.organisations, expires)
    elif verdict.action == "await_root":
        item = ThreadItem("await_root", done, verdict.rule, (), expires, detail={"waits_for": "root"})
    elif verdict.rule == "R8-hybrid":
        item = ThreadItem("root", done, verdict.rule, matched=True)
    else:
        item = ThreadItem("government", done, verdict.rule, detail={"author_org": verdict.facts.author_org or ""})
    return verdict.facts.thread, item


def simulate(records, reg, settings, *, until: dt.datetime | None = None) -> list[Out]:
    """The whole rules stage without Beam, in arrival order; holds still open at `until`
    (default: the end of time, as when a bounded run drains) expire. For expected counts."""
    window = dt.timedelta(hours=settings.hold_window_hours)
    states: dict[str, ThreadState] = {}
    outs: list[Out] = []
    for rec in records:
        routed = route(rec, engine.evaluate(rec["event"], reg, settings), window)
        if isinstance(routed, Out):
            outs.append(routed)
            continue
        key, item = routed
        outs += step(states.setdefault(key, ThreadState()), item, window)
    end = until or dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    for st in states.values():
        outs += expire(st, end, window)
    return outs


def outcome_counts(outs: list[Out]) -> dict[tuple[str, str], int]:
    """(kind, rule) -> count; archived records count under the last rule that fired on them."""
    c: Counter = Counter()
    for o in outs:
        if o.record is not None:
            fired = [t["rule"] for t in o.record["decision"]["rules"] if t["fired"]]
            c[("archived", fired[-1])] += 1
        else:
            c[(o.disposition.kind, o.disposition.reason.split(":")[0])] += 1
    return dict(c)
