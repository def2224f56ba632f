"""`archiefstroom archive ls|cat|summary|history|search|thread|show`: what the archive holds, for
archivists and operators. search, thread, show and history read the catalog (issue 12), then
only the objects that hold the records; ls, cat and summary read the bucket."""
from __future__ import annotations

import datetime as dt
import json
import sys

from archiefstroom import schemas
from archiefstroom.archive import read
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import read as catalog_read
from archiefstroom.catalog.index import Catalog
from archiefstroom.commands.explain import format_entry
from archiefstroom.commands import _hotspot, _transfer
from archiefstroom.core import catalog as core
from archiefstroom.core.rules import seal as seal_core
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
    se = a.add_parser("search", help="find records: Dutch full text (stemmed, accents and case ignored) and filters")
    se.add_argument("terms", nargs="*", help="words that must all occur; word* is a prefix, -word excludes")
    se.add_argument("--org", help="organisation (as the accounts registry names it)")
    se.add_argument("--account", help="account handle or id")
    se.add_argument("--platform", choices=["x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky"])
    se.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, help="created on or after YYYY-MM-DD (UTC)")
    se.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, help="created on or before YYYY-MM-DD (UTC)")
    se.add_argument("--type", dest="event_type", choices=core.EVENT_TYPES)
    se.add_argument("--burgerbrief", choices=["yes", "no"], help="possible burgerbrief (webcare's verdict where given)")
    se.add_argument("--retention", help="B, V or a selectielijst category such as 1.3")
    se.add_argument("--version", choices=["latest", "all"], default="latest",
                    help="latest: each post once, as it is now (default); all: every version")
    se.add_argument("--limit", type=int, default=50)
    se.add_argument("--offset", type=int, default=0)
    se.add_argument("--json", action="store_true", help="JSON lines (one entry each, then a summary line)")
    th = a.add_parser("thread", help="a post with its reactions and reactions on reactions, as a tree")
    th.add_argument("id", help="event or object id of any item of the thread")
    sh = a.add_parser("show", help="one record: decision trace, retention, versions, burgerbrief, integrity")
    sh.add_argument("event_id")
    sh.add_argument("--record-version", type=int, help="a webcare version (default: the newest)")
    _hotspot.register(a)      # archive hotspot add|list (issue 13)
    _transfer.register(a)     # archive transfer (issue 13)
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
    if args.archive_action in ("search", "thread", "show"):
        with Catalog.open(cfg) as catalog:
            return {"search": _search, "thread": _thread, "show": _show}[args.archive_action](cfg, catalog, args)
    if args.archive_action == "history":
        with Catalog.open(cfg) as catalog:
            versions = catalog_read.history(cfg, args.object_id, catalog)
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


def _search(cfg, catalog: Catalog, args) -> int:
    try:
        q = core.Query(" ".join(args.terms), organisation=args.org, account=args.account, platform=args.platform,
                       date_from=args.date_from, date_to=args.date_to, event_type=args.event_type,
                       burgerbrief=None if args.burgerbrief is None else args.burgerbrief == "yes",
                       retention=args.retention, version=args.version, limit=args.limit, offset=args.offset)
    except ValueError as exc:
        print(f"archiefstroom: {exc}", file=sys.stderr)
        return 2
    res = catalog.search(q)
    if args.json:
        for e in res.entries:
            print(json.dumps(e.as_dict(), ensure_ascii=False))
        print(json.dumps({"total": res.total, "shown": len(res.entries), "offset": q.offset}))
    else:
        print(format_search(res, q))
    return 0 if res.total else 1


def _when(e: core.Entry) -> str:
    return e.created.strftime("%Y-%m-%d %H:%M")


def _clip(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _version_note(e: core.Entry) -> str:
    """' (v2)', ' (vdel, record v2)': which version a listed entry is, when it is not the first."""
    if e.chain_version == 1 and e.record_version == 1:
        return ""
    chain = "del" if e.deleted else e.chain_version
    return f" (v{chain}" + (f", record v{e.record_version})" if e.record_version > 1 else ")")


def format_search(res: core.SearchResult, q: core.Query) -> str:
    if not res.total:
        return "no records match"
    lines = [f"{'created (UTC)':16}  {'platform':9} {'account':22} {'type':8} {'ret':7} {'bb':3} event id / text"]
    for e in res.entries:
        bb = "ja" if (e.verdict == "burgerbrief" or (e.verdict is None and e.burgerbrief)) else ""
        ret = f"{e.retention_class}-{e.category}"
        lines.append(f"{_when(e):16}  {e.platform:9} {_clip(e.account_handle, 22):22} {e.event_type:8} {ret:7} {bb:3} "
                     f"{e.event_id}{_version_note(e)}")
        lines.append(f"{'':70}{_clip(e.text, 100)}")
    shown = f"{q.offset + 1}-{q.offset + len(res.entries)}" if res.entries else "none"
    lines.append(f"{res.total} match(es), showing {shown}" + ("" if q.version == "all" else "; latest versions only (--version all for every version)"))
    return "\n".join(lines)


def format_thread(nodes: list[core.ThreadNode]) -> str:
    lines = []

    def walk(node, depth):
        e = node.entry
        mark = " [verwijderd]" if e.deleted else ""
        lines.append(f"{'    ' * depth}{'└─ ' if depth else ''}{e.event_type} {e.event_id} by {e.author or e.account_handle}"
                     f", {_when(e)}{mark}")
        if e.text:
            lines.append(f"{'    ' * depth}{'   ' if depth else ''}  {_clip(e.text, 120)}")
        for child in node.children:
            walk(child, depth + 1)

    for n in nodes:
        walk(n, 0)
    return "\n".join(lines)


def _thread(cfg, catalog: Catalog, args) -> int:
    nodes = catalog.thread(args.id)
    if not nodes:
        print(f"archiefstroom: {args.id} is not in the catalog", file=sys.stderr)
        return 1
    print(format_thread(nodes))
    lines = _seal_lines(cfg, catalog, nodes)
    print("\n".join(lines))
    return 1 if any("verification FAILED" in line for line in lines) else 0


def _seal_lines(cfg, catalog: Catalog, nodes: list[core.ThreadNode]) -> list[str]:
    """Is the thread sealed (issue 17), and do the archived records still match the seal?"""
    root = nodes[0].entry
    thread = root.thread_root or root.in_reply_to or root.object_id
    store = ArchiveStore(cfg.s3)
    datum = store.seal(thread)
    if datum is None:
        return ["seal: none (the harvest window is open, or the pipeline does not seal threads)"]
    rows = ([datum["root"]] if datum.get("root") else []) + list(datum["reactions"])
    entries = [e for e in (catalog.get(r["event_id"], int(r["record_version"])) for r in rows) if e is not None]
    problems = seal_core.verify(datum, catalog_read.records(store, entries))
    w = datum["window"]
    counts = ", ".join(f"{rule} {n}" for rule, n in datum["not_archived"].items()) or "none"
    lines = [f"seal: {datum['seal_id']} sealed at {w['closes'].isoformat()} ({w['days']} days after "
             f"{w['opens'].isoformat()}); {len(datum['reactions'])} reactions, not archived: {counts}",
             f"  sha256 {datum['sha256']}"]
    if problems:
        lines += [f"  verification FAILED: {p}" for p in problems]
    else:
        lines.append(f"  verified: the seal's hash and all {len(rows)} records match the archive")
    sealed = {(r["event_id"], int(r["record_version"])) for r in rows}
    others = [n.entry for n in _members(nodes) if (n.entry.event_id, n.entry.record_version) not in sealed]
    late = seal_core.late_reactions(datum["seal_id"], catalog.outcomes_of_seal(datum["seal_id"]),
                                    catalog_read.records(store, others))
    lines.append(f"  after the seal ({seal_core.RULE}): {len(late['counted'])} counted, not archived; "
                 f"{len(late['addendum'])} archived as addenda linked to the seal")
    lines += [f"    {kind}: {eid}" for kind in ("counted", "addendum") for eid in late[kind]]
    return lines


def _members(nodes: list[core.ThreadNode]):
    """Every node of the thread's trees (latest versions), depth first."""
    for n in nodes:
        yield n
        yield from _members(n.children)


def _show(cfg, catalog: Catalog, args) -> int:
    entry = catalog.get(args.event_id, args.record_version)
    if entry is None and (stones := catalog.destroyed(args.event_id)):
        for t in stones:   # destroyed on schedule: the record is gone, its tombstone says by which list
            print(f"{t['event_id']} version {t['record_version']}: destroyed by vernietigingslijst {t['list_id']} "
                  f"at {t['destroyed_at']} (object {t['object_key']}, category {t['category']})")
        return 0
    if entry is None:
        print(f"archiefstroom: {args.event_id} is not in the catalog (not archived, or not indexed yet: "
              f"`archiefstroom explain` tells which)", file=sys.stderr)
        return 1
    rec = catalog_read.record(cfg, entry)
    check = core.integrity(rec)
    lines = format_entry({"kind": "archived", "object": entry.object_key, "record": rec,
                          "source": {"topic": entry.topic, "partition": entry.partition, "offset": entry.offset}})
    bb = rec.get("burgerbrief")
    if bb:
        verdict = bb.get("verdict")
        lines.append(f"  burgerbrief: {'possible' if bb['label'] else 'no'} (score {bb['score']:.2f}, model {bb['model_version']})"
                     + (f"; webcare: {verdict['decision']} by {verdict['by']}" if verdict else "; no webcare verdict yet"))
    lines.append(f"  text: {_clip(rec['event'].get('text') or '', 400)}")
    lines.append("  versions:")
    for v in catalog.versions(entry.object_id):
        here = "  <- this record" if (v.event_id, v.record_version) == (entry.event_id, entry.record_version) else ""
        chain = "tombstone" if v.deleted else f"v{v.chain_version}"
        lines.append(f"    {chain:9} record v{v.record_version}  {v.event_type:7} {_when(v)}  {v.event_id}{here}")
    lines.append(f"  integrity: {'OK' if check.ok else 'MISMATCH'}: raw payload SHA-256 {check.computed}"
                 + ("" if check.ok else f", archived as {check.stored}"))
    print("\n".join(lines))
    return 0 if check.ok else 3
