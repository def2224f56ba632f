"""`archiefstroom retention due|approve|apply|retag`: destruction by the selectielijst (issue 13).

`due` writes a vernietigingslijst (CSV, HTML, PDF) of the objects past their destroy-after date
that nothing holds; `approve` records who approved it; `apply` destroys what was approved and
is still as listed (Object Lock has the last word) and writes the verklaring van vernietiging;
`retag` brings the archive's tags in line with a changed selectielijst (`docs/duties-retention.md`).
"""
from __future__ import annotations

from pathlib import Path

from archiefstroom.commands._duty import actor, date_arg, guarded
from archiefstroom.duties import destruction
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("retention", help="destruction by the selectielijst: lists, approval, destruction, re-tagging")
    a = p.add_subparsers(dest="retention_action", required=True, metavar="ACTION")
    d = a.add_parser("due", help="write a vernietigingslijst of what may be destroyed before DATE")
    d.add_argument("--before", required=True, type=date_arg, help="destroy-after dates before this day (YYYY-MM-DD)")
    d.add_argument("--out", required=True, type=Path, help="directory for the list's CSV, HTML and PDF")
    d.add_argument("--by", default=None, help="who draws up the list (default: login name)")
    ap = a.add_parser("approve", help="record the approval of a vernietigingslijst")
    ap.add_argument("--list", dest="list_id", required=True, help="the list's id, as `retention due` printed it")
    ap.add_argument("--by", required=True, help="name of the person who approves")
    x = a.add_parser("apply", help="destroy the approved objects; write the verklaring van vernietiging")
    x.add_argument("--list", dest="list_id", required=True)
    x.add_argument("--by", default=None, help="who carries it out (default: login name)")
    x.add_argument("--out", type=Path, default=None, help="directory for the verklaring (default: data_dir/duties/LIST)")
    r = a.add_parser("retag", help="bring tags and locks in line with the current selectielijst; a CSV report")
    r.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    r.add_argument("--out", type=Path, default=None, help="directory for the report (default: data_dir/duties)")
    r.add_argument("--by", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    by = actor(getattr(args, "by", None))
    return guarded(lambda: _act(cfg, args, by))


def _act(cfg, args, by) -> int:
    if args.retention_action == "due":
        res = destruction.make_list(cfg, before=args.before, out_dir=args.out, by=by)
        doc = res.doc
        print(f"vernietigingslijst {res.list_id}" + ("" if res.created else " (registered before; unchanged)"))
        print(f"  {len(doc['objects'])} objects, {sum(len(i['records']) for i in doc['objects'])} records "
              f"with destroy-after before {doc['before']}; left out: {len(doc['left_out'])} objects")
        for item in doc["left_out"]:
            print(f"    {item['reason']:24} {item['key']}")
        print(f"  SHA-256 {doc['sha256']}; status: {doc['status']}")
        for f in res.files:
            print(f"  {f}")
        return 0
    if args.retention_action == "approve":
        doc = destruction.approve(cfg, args.list_id, args.by)
        print(f"vernietigingslijst {args.list_id} approved by {doc['approval']['by']} at {doc['approval']['at']} "
              f"(SHA-256 {doc['sha256']})")
        return 0
    if args.retention_action == "apply":
        res = destruction.apply(cfg, args.list_id, by=by, out_dir=args.out)
        print(f"vernietigingslijst {args.list_id}: destroyed {len(res.destroyed)} objects now"
              + (f", {len(res.already)} before" if res.already else "") + f"; kept {len(res.kept)}")
        for key, why in sorted(res.kept.items()):
            print(f"  kept: {key}: {why}")
        for f in res.files:
            print(f"  {f}")
        return 0
    res = destruction.retag(cfg, dry_run=args.dry_run, out_dir=args.out or (cfg.data_dir / "duties"), by=by)
    changed = [r for r in res.rows if r.changes or r.extend_lock or r.legal_hold]
    print(f"{'would re-tag' if res.dry_run else 're-tagged'} {len(changed)} objects; report {res.report}")
    return 0
