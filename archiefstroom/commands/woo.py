"""`archiefstroom woo export|close|list`: Woo requests (Wet open overheid).

`export` writes a package (lakt records, inventarislijst as CSV, a document as HTML and PDF, a
manifest with a SHA-256 per file) and puts the request's records on hold; `close` lifts the hold;
`list` shows the requests in the duties register (docs/duties-woo.md).
"""
from __future__ import annotations

import sys
from pathlib import Path

from archiefstroom.commands._duty import actor
from archiefstroom.core.duties import woo as woo_core
from archiefstroom.core.duties.report import parse_period
from archiefstroom.duties import woo
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("woo", help="Woo requests: export a package (lakt, inventarislijst, PDF), hold, close")
    a = p.add_subparsers(dest="woo_action", required=True, metavar="ACTION")
    ex = a.add_parser("export", help="find the request's records, lak them, write the package, hold them")
    ex.add_argument("--request-id", required=True, help="the request's id, e.g. WOO-2026-014 (letters, digits, . _ -)")
    ex.add_argument("--terms", nargs="*", default=[],
                    help="search terms; a record matching any term is in (quote several words that must all "
                         "occur: \"huurtoeslag bezwaar\"); none: every record in the period")
    ex.add_argument("--from", dest="date_from", required=True, help="created on or after YYYY-MM-DD (UTC)")
    ex.add_argument("--to", dest="date_to", required=True, help="created on or before YYYY-MM-DD (UTC)")
    ex.add_argument("--accounts", nargs="*", default=[], help="account handles or ids (default: all accounts)")
    ex.add_argument("--out", required=True, help="a new or empty directory for the package")
    ex.add_argument("--by", default=None, help="who makes the export, for the audit trail (default: the OS user)")
    cl = a.add_parser("close", help="close a request: its records are no longer held by it")
    cl.add_argument("request_id")
    cl.add_argument("--by", default=None, help="who closes it, for the audit trail (default: the OS user)")
    a.add_parser("list", help="the Woo requests in the duties register")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    try:
        if args.woo_action == "export":
            start, end = parse_period(args.date_from, args.date_to)
            done = woo.export(cfg, args.request_id, args.terms, start, end, Path(args.out), actor(args.by),
                              args.accounts)
            counts = woo_core.summary(done.assessed)
            print(f"Woo request {done.request_id}: {len(done.assessed)} records "
                  f"({counts['openbaar']} openbaar, {counts['deels openbaar']} deels openbaar, "
                  f"{counts['niet openbaar']} niet openbaar) in {done.out_dir}; "
                  f"{len(done.objects)} objects on hold until `archiefstroom woo close {done.request_id}`")
            for f in [*done.files, done.manifest]:
                print(f"  {f.relative_to(done.out_dir)}")
            return 0
        if args.woo_action == "close":
            doc = woo.close(cfg, args.request_id, actor(args.by))
            print(f"Woo request {doc['request_id']} closed: {len(doc.get('objects', []))} objects no longer held by it")
            return 0
        docs = woo.requests(cfg)
        if not docs:
            print("no Woo requests in the register")
            return 0
        print(f"{'request':24} {'status':7} {'opened':26} {'by':12} {'records':>7} {'objects':>7}  closed")
        for d in docs:
            print(f"{d['request_id']:24} {d.get('status', '?'):7} {d.get('opened_at') or '':26} "
                  f"{(d.get('opened_by') or '')[:12]:12} {len(d.get('records', [])):7} {len(d.get('objects', [])):7}  "
                  f"{d.get('closed_at') or ''}")
        return 0
    except (ValueError, FileNotFoundError, LookupError, OSError) as exc:
        print(f"archiefstroom: woo: {exc}", file=sys.stderr)
        return 1
