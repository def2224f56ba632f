"""`archiefstroom explain EVENT_ID`: what happened to an event, and which rules decided why."""
from __future__ import annotations

from archiefstroom.catalog import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("explain", help="show what happened to an event (archived, dropped, held) and why")
    p.add_argument("event_id", help="e.g. x:1000123")
    p.set_defaults(func=run)


def _retention(ret: dict) -> str:
    until = ret.get("destroy_after") or "permanent"
    text = f"{ret['retention_class']} (category {ret['category']}), destroy after: {until}, account type {ret['account_type']}"
    return text + (f", hotspot {ret['hotspot']}" if ret.get("hotspot") else "")


def format_entry(entry: dict) -> list[str]:
    """Lines for one lookup entry (archiefstroom.catalog.read.lookup)."""
    src = entry.get("source") or {}
    where = f"{src.get('topic')}/{src.get('partition')}/{src.get('offset')}"
    if entry["kind"] != "archived":
        lines = [f"{entry['kind'].upper()} (Kafka {where}): {entry.get('reason') or ''}"]
        detail = entry.get("detail") or {}
        lines += [f"    {k}: {v}" for k, v in sorted(detail.items())]
        return lines
    rec = entry["record"]
    ev, d = rec["event"], rec.get("decision") or {}
    lines = [f"ARCHIVED (Kafka {where}) in {entry.get('object')}",
             f"  {ev['event_type']} on {ev['platform']} account {ev['account']['id']}, created {ev['created_at']}",
             f"  retention: {_retention(rec['retention'])}"]
    if not d:
        return lines + ["  no decision trace (archived before the rules stage existed)"]
    lines.append(f"  route {d.get('route')}, organisation {d.get('organisation')}, "
                 f"publishable: {'yes' if d.get('publishable', True) else 'no, review first'}"
                 + (f", registry {d['registry_version']}" if d.get("registry_version") else ""))
    if d.get("version"):
        lines.append(f"  version {d['version']} of {d.get('original')}")
    for key, label in (("flags", "flags"), ("context", "context"), ("supersedes", "supersedes"),
                       ("disclaimer", "disclaimer")):
        if d.get(key):
            value = ", ".join(d[key]) if isinstance(d[key], list) else d[key]
            lines.append(f"  {label}: {value}")
    lines.append("  rules evaluated:")
    for t in d.get("rules", []):
        mark = "FIRED" if t["fired"] else "  -  "
        inputs = ", ".join(f"{k}={v}" for k, v in sorted((t.get("inputs") or {}).items()))
        lines.append(f"    {mark} {t['rule']:22} {t.get('outcome') or ''}" + (f"  [{inputs}]" if inputs else ""))
    return lines


def explain(event_id: str, entries: list[dict]) -> str:
    if not entries:
        return f"{event_id}: not in the archive's catalog (not read yet, not committed, or not indexed yet)"
    order = {"held": 0, "dropped": 1, "archived": 2}
    entries = sorted(entries, key=lambda e: (order.get(e["kind"], 3), (e.get("source") or {}).get("offset", 0)))
    lines = [f"{event_id}: {len(entries)} outcome(s)"]
    for e in entries:
        lines += ["", *format_entry(e)]
    return "\n".join(lines)


def run(args) -> int:
    cfg = config.load(args.config)
    with Catalog.open(cfg) as catalog:
        entries = read.lookup(cfg, args.event_id, catalog)
    print(explain(args.event_id, entries))
    return 0 if entries else 1
