"""Alerts for webcare, their feedback, and what a verdict does to the archive record. Pure logic.

Wire formats: schemas/burgerbrief_alert.avsc and schemas/webcare_feedback.avsc, as schemaless
Avro binary (default) or their JSON wire form; `decode` recognises both, so a topic can switch
format without breaking readers.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
from typing import Iterable

import fastavro

from archiefstroom import schemas
from archiefstroom.core import retention as retention_core
from archiefstroom.core.envelope import thread_key

ALERT_SCHEMA = "burgerbrief_alert"
FEEDBACK_SCHEMA = "webcare_feedback"
REACTION_TYPES = ("reply", "quote")
DECISIONS = ("burgerbrief", "geen_burgerbrief")


def is_reaction(event: dict, government: set[str] | frozenset = frozenset()) -> bool:
    """A reply or quote written by someone other than the monitored account or another government author.
    `government` holds lower-cased author ids and handles (settings + accounts registry)."""
    if event.get("event_type") not in REACTION_TYPES or not event.get("text"):
        return False
    author, account = event.get("author") or {}, event.get("account") or {}
    ids = {str(x).lower().lstrip("@") for x in (author.get("id"), author.get("handle")) if x}
    own = {str(x).lower().lstrip("@") for x in (account.get("id"), account.get("handle")) if x}
    return not (ids & own) and not (ids & set(government))


def alert_datum(record: dict, bb: dict, detected_at: dt.datetime, organisation: str | None = None) -> dict:
    ev = record["event"]
    ref = ev.get("referenced") or {}
    quote = ev.get("event_type") == "quote"
    post_id = ref.get("object_id") if quote else (ev.get("thread_root") or ev.get("in_reply_to"))
    if organisation is None:
        organisation = (record.get("decision") or {}).get("organisation") or (ev["account"].get("display_name"))
    return {
        "event_id": ev["event_id"], "object_id": ev["object_id"], "platform": ev["platform"],
        "account_id": ev["account"]["id"], "account_handle": ev["account"]["handle"], "organisation": organisation,
        "author_handle": (ev.get("author") or {}).get("handle"), "url": ev.get("url"),
        "thread_key": thread_key(ev), "post_id": post_id, "post_url": ref.get("url") if quote else None,
        "post_text": ref.get("text") if quote else None, "in_reply_to": ev.get("in_reply_to"),
        "event_type": ev["event_type"], "text": ev.get("text") or "",
        "label": bool(bb["label"]), "score": float(bb["score"]), "category": bb.get("category"),
        "reasons": list(bb.get("reasons") or []), "urgent": bool(bb.get("urgent")),
        "model_version": bb["model_version"], "created_at": ev["created_at"], "detected_at": detected_at,
    }


def should_alert(bb: dict) -> bool:
    """Possible burgerbrieven, and urgent reactions even when they are not burgerbrieven (threats)."""
    return bool(bb.get("label") or bb.get("urgent"))


# -- wire ------------------------------------------------------------------------

def encode(datum: dict, schema_name: str, fmt: str = "avro") -> bytes:
    if fmt == "json":
        return schemas.dumps(datum, schema_name)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schemas.load(schema_name), datum)
    return buf.getvalue()


def decode(body: bytes, schema_name: str) -> dict:
    """Avro binary or JSON wire form: a body starting with '{' is tried as JSON first, anything
    else (or JSON that does not fit the schema) is read as Avro."""
    if body[:1] == b"{":
        try:
            return schemas.from_wire(json.loads(body), schema_name)
        except (ValueError, schemas.WireError):
            pass
    return fastavro.schemaless_reader(io.BytesIO(body), schemas.load(schema_name), None)


def feedback_datum(event_id: str, decision: str, by: str, at: dt.datetime, *, category: str | None = None,
                   note: str | None = None, alert_score: float | None = None,
                   model_version: str | None = None) -> dict:
    if decision not in DECISIONS:
        raise ValueError(f"decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    if not by.strip():
        raise ValueError("by: expected the name of the webcare employee")
    return {"event_id": event_id, "decision": decision, "by": by, "at": at, "category": category, "note": note,
            "alert_score": alert_score, "model_version": model_version}


# -- verdict on the archive record -------------------------------------------------

def latest_version(found: Iterable[dict]) -> dict | None:
    """Newest archived version among archive.lookup() results (highest record_version, then archived_at)."""
    records = [f["record"] for f in found if f.get("kind") == "archived"]
    if not records:
        return None
    return max(records, key=lambda r: (r.get("record_version") or 1, r.get("archived_at")))


def apply_verdict(versions: list[dict], feedback: dict, *, burgerbrief_category: str, selectielijst,
                  source: dict, archived_at: dt.datetime, pipeline_version: str, rechoose=None) -> dict:
    """A new version of the record carrying the webcare verdict.

    `versions`: every archived version of the event (records). Confirmed: retention moves to the
    burgerbrief category (a hotspot keeps it permanent). Not a burgerbrief: retention is chosen again
    without the burgerbrief outcome (`rechoose(record) -> retention datum`, e.g. the rules' retention_for)
    or, without it, returns to that of the newest unconfirmed version: a webcare mistake is undone.
    `selectielijst` is duck-typed: `.categories[code]` with retention_class/years (core.retention).
    """
    if not versions:
        raise LookupError("no archived version of this event")
    prev = max(versions, key=lambda r: (r.get("record_version") or 1, r.get("archived_at")))
    new = copy.deepcopy(prev)
    new["record_version"] = max((r.get("record_version") or 1) for r in versions) + 1
    new["source"] = dict(source)
    new["archived_at"] = archived_at
    new["pipeline_version"] = pipeline_version
    bb = dict(new.get("burgerbrief") or {"label": False, "score": 0.0, "category": None, "reasons": [],
                                          "urgent": False, "model_version": "none"})
    bb["verdict"] = {"decision": feedback["decision"], "by": feedback["by"], "at": feedback["at"],
                     "note": feedback.get("note")}
    if feedback.get("category"):
        bb["category"] = feedback["category"]
    new["burgerbrief"] = bb
    old = prev["retention"]
    if feedback["decision"] == "burgerbrief":
        if burgerbrief_category not in selectielijst.categories:
            raise KeyError(f"selectielijst category {burgerbrief_category!r} is not defined")
        decision = retention_core.decide(
            selectielijst, created=prev["event"]["created_at"], account_type=old["account_type"],
            event_type=prev["event"]["event_type"], category=burgerbrief_category, hotspot=old.get("hotspot"),
            hotspot_category=old["category"] if old.get("hotspot") else None)
        new["retention"] = decision.datum()
    elif rechoose is not None:
        new["retention"] = rechoose(prev)
    else:
        unconfirmed = [r for r in versions
                       if ((r.get("burgerbrief") or {}).get("verdict") or {}).get("decision") != "burgerbrief"]
        if unconfirmed:
            base = max(unconfirmed, key=lambda r: (r.get("record_version") or 1, r.get("archived_at")))
            new["retention"] = copy.deepcopy(base["retention"])
    return new


# -- feedback -> labelled data -------------------------------------------------------

def labelled_examples(alerts: Iterable[dict], feedback: Iterable[dict]) -> list[dict]:
    """Human verdicts joined with the alert text, in the data set's format (datasets/burgerbrief).
    The last verdict per event wins (a correction replaces a mistake)."""
    verdicts: dict[str, dict] = {}
    for fb in sorted(feedback, key=lambda f: f["at"]):
        verdicts[fb["event_id"]] = fb
    by_id = {a["event_id"]: a for a in alerts}
    out = []
    for event_id, fb in verdicts.items():
        alert = by_id.get(event_id)
        if alert is None:
            continue
        confirmed = fb["decision"] == "burgerbrief"
        out.append({"text": alert["text"], "label": confirmed,
                    "category": (fb.get("category") or alert.get("category")) if confirmed else None,
                    "urgent": bool(alert.get("urgent")), "org": alert.get("organisation"),
                    "platform": alert.get("platform"), "source": f"webcare:{event_id}",
                    "model_score": alert.get("score"), "model_version": alert.get("model_version")})
    return out
