"""`archiefstroom archive ls|cat|summary|history`: what the archive holds, for archivists and operators."""
from __future__ import annotations

import json
import sys

from archiefstroom import schemas
from archiefstroom.archive import read
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("archive", help="list, read and summarise archived objects")
    a = p.add_subparsers(dest="archive_action", required=True, metavar="ACTION")
    ls = a.add_parser("ls", help="list objects (key, records' retention tags, size)")
    ls.add_argument("prefix", nargs="?", default="", help="key prefix below the archive prefix, e.g. V-1.3 or B-1.1-permanent/2026")
    ls.add_argument("--tags", action="store_true", help="also show each object's retention tags")
    cat = a.add_parser("cat", help="print the records of objects as JSON lines")
    cat.add_argument("keys", nargs="+", help="object keys as printed by `archive ls`")
    a.add_parser("summary", help="records per platform/account/retention class, and what was not archived")
    h = a.add_parser("history", help="the versions of one post or reaction: original, edits, tombstone (rule 10)")
    h.add_argument("object_id", help="'<platform>:<native id>', e.g. mastodon:109876543210")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    if args.archive_action == "ls":
        store = read.store(cfg)
        for obj in read.list_objects(cfg, args.prefix):
            line = f"{obj['Size']:>9}  {obj['Key']}"
            if args.tags:
                tags = store.tags(obj["Key"])
                line += "  " + " ".join(f"{k}={v}" for k, v in sorted(tags.items()))
            print(line)
        return 0
    if args.archive_action == "cat":
        status = 0
        for key in args.keys:
            try:
                for rec in read.read_object(cfg, key):
                    print(json.dumps(schemas.to_wire(rec, "archive_record"), ensure_ascii=False))
            except FileNotFoundError:
                print(f"archiefstroom: no such object: {key}", file=sys.stderr)
                status = 1
        return status
    if args.archive_action == "history":
        versions = read.history(cfg, args.object_id)
        if not versions:
            print(f"archiefstroom: no archived version of {args.object_id}", file=sys.stderr)
            return 1
        print(format_history(versions))
        return 0
    print(format_summary(read.summarise(cfg)))
    return 0


def format_history(records: list[dict]) -> str:
    lines = []
    for rec in records:
        ev, d = rec["event"], rec.get("decision") or {}
        when = ev.get("edited_at") or ev["created_at"]
        link = f"  follows {d['supersedes']}" if d.get("supersedes") else ""
        record_version = f" (record version {rec['record_version']})" if (rec.get("record_version") or 1) > 1 else ""
        lines.append(f"v{d.get('version') or 1:<3} {ev['event_type']:7} {when}  {ev['event_id']}{link}{record_version}")
        if ev.get("text"):
            lines.append(f"       {ev['text'][:200]}")
    return "\n".join(lines)


def format_summary(s: read.Summary) -> str:
    lines = [f"{s.outcomes.get('archived', 0)} records in {s.objects} objects; "
             + ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items()) if k != "archived")]
    lines.append(f"{'platform':10} {'account':36} {'retention':12} {'records':>7}")
    for (platform, account, ret), n in sorted(s.archived.items()):
        lines.append(f"{platform:10} {account:36} {ret:12} {n:>7}")
    if s.rules:
        lines.append("archived by rule:")
        for rule, n in sorted(s.rules.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>6}  {rule}")
    if s.reasons:
        lines.append("not archived:")
        for (kind, reason), n in sorted(s.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>6}  {kind:12} {reason}")
    return "\n".join(lines)
