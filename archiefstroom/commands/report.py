"""`archiefstroom report --from --to --out DIR`: the compliance report a records manager shows an
auditor (CSV per table, HTML and PDF, a manifest; docs/duties-woo.md)."""
from __future__ import annotations

import sys
from pathlib import Path

from archiefstroom.commands._duty import actor
from archiefstroom.core.duties.report import parse_period
from archiefstroom.duties import report
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("report", help="compliance report per organisation and account (CSV, HTML, PDF)")
    p.add_argument("--from", dest="date_from", required=True, help="first day YYYY-MM-DD (UTC)")
    p.add_argument("--to", dest="date_to", required=True, help="last day YYYY-MM-DD (UTC), inclusive")
    p.add_argument("--out", required=True, help="a new or empty directory for the report")
    p.add_argument("--by", default=None, help="who makes the report, for the audit trail (default: the OS user)")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    try:
        start, end = parse_period(args.date_from, args.date_to)
        made = report.make(cfg, start, end, Path(args.out), actor(args.by))
    except (ValueError, FileNotFoundError, LookupError, OSError) as exc:
        print(f"archiefstroom: report: {exc}", file=sys.stderr)
        return 1
    t = made.report.totals
    print(f"report {start} to {end} in {made.out_dir}: {t['records']} records, {t['dead_letter']} dead letters, "
          f"{t['quarantine']} quarantined, {t['dropped']} dropped, {t['held']} held, {t['gap_rows']} coverage gap rows, "
          f"{t['open_woo_requests']} open Woo requests")
    for f in [*made.files, made.manifest]:
        print(f"  {f.relative_to(made.out_dir)}")
    return 0
