"""`archiefstroom dlq inspect|redrive`: dead letters and quarantined events, and putting them back
on the raw topic after a fix, each once (archiefstroom/redrive.py; deploy/RUNBOOK.md).

`inspect` shows where each letter lies, its reason and size, and whether it went back before,
never its payload (it may hold personal data; a privacy officer reads quarantined events with
Kafka's tools). `redrive` needs a selection: `--code CODE`, `--reason PREFIX`, `--at TOPIC/PARTITION/OFFSET`, or
`--all`; `--dry-run` says what it would do.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from archiefstroom import redrive
from archiefstroom.commands._duty import actor
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("dlq", help="dead letters and quarantined events: inspect them, redrive them after a fix")
    a = p.add_subparsers(dest="dlq_action", required=True, metavar="ACTION")
    for name, text in (("inspect", "list the letters (never their payload) and count them by reason"),
                       ("redrive", "put the selected letters back on the raw topic, each once")):
        s = a.add_parser(name, help=text)
        s.add_argument("--topic", choices=redrive.KINDS, default="dead_letter", help="which topic (default: dead_letter)")
        s.add_argument("--code", default=None, help="only letters with this code (oversized, not_json, connector, ...)")
        s.add_argument("--reason", default=None, help="only letters whose reason starts with this")
        s.add_argument("--at", action="append", default=None, metavar="TOPIC/PARTITION/OFFSET",
                       help="only this letter (repeatable)")
    ins = a.choices["inspect"]
    ins.add_argument("--json", action="store_true", help="one JSON object per letter")
    ins.add_argument("--limit", type=int, default=50, help="letters to list (the counts cover all)")
    red = a.choices["redrive"]
    red.add_argument("--all", action="store_true", help="every letter not redriven before")
    red.add_argument("--again", action="store_true", help="also letters redriven before")
    red.add_argument("--dry-run", action="store_true")
    red.add_argument("--by", default=None, help="who redrives (recorded in the mark; default: login name)")
    red.add_argument("--offsets-out", type=Path, help="write raw partition -> end offset JSON (for run --stop-at)")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    found = redrive.letters(cfg, args.topic)
    where = set(args.at) if args.at else None
    if args.dlq_action == "inspect":
        chosen = redrive.select(found, code=args.code, reason=args.reason, where=where, again=True)
        for letter in chosen[:args.limit]:
            row = {"at": letter.where, "reason": letter.reason, "code": letter.code,
                   "source": letter.headers.get("source", ""), "bytes": len(letter.payload),
                   "redriven": letter.redriven}
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                done = f"  redriven {letter.redriven['at']} by {letter.redriven['by']}" if letter.redriven else ""
                print(f"{row['at']:40} {row['bytes']:>8} B  {row['reason'][:90]}{done}")
        if not args.json:
            counts = Counter(x.code for x in chosen)
            waiting = sum(1 for x in chosen if x.redriven is None)
            print(f"{len(chosen)} letters on {redrive.topic_of(cfg, args.topic)} ({waiting} not redriven)"
                  + "".join(f"\n  {n:6} {r}" for r, n in counts.most_common()))
        return 0
    if not (args.all or args.code or args.reason or where):
        print("archiefstroom: dlq redrive: choose what: --code, --reason PREFIX, --at TOPIC/PARTITION/OFFSET or --all",
              file=sys.stderr)
        return 2
    chosen = redrive.select(found, code=args.code, reason=args.reason, where=where, again=args.again)
    if args.dry_run:
        print(f"would redrive {len(chosen)} letters to {cfg.topics.raw}")
        for letter in chosen:
            print(f"  {letter.where}  {letter.reason[:90]}")
        return 0
    out = redrive.redrive(cfg, chosen, by=actor(args.by))
    print(f"redriven {len(out.redriven)} letters as {out.messages} raw messages to {cfg.topics.raw}"
          + (f"; {len(out.refused)} still unreadable, left where they are:" if out.refused else ""))
    for w, why in sorted(out.refused.items()):
        print(f"  {w}: {why}")
    if args.offsets_out:
        args.offsets_out.write_text(json.dumps({str(k): v for k, v in sorted(out.ends.items())}))
    return 1 if out.refused else 0
