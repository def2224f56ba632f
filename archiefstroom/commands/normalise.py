"""`archiefstroom normalise --platform P FILE...`: native payload files -> canonical events (JSON lines)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from archiefstroom import schemas
from archiefstroom.connectors.base import Context, NormaliseError, parse_time
from archiefstroom.connectors.registry import PLATFORMS, normalise_text


def register(sub):
    p = sub.add_parser("normalise", help="print the canonical events in native platform payload files (JSON lines)")
    p.add_argument("--platform", required=True, choices=PLATFORMS)
    p.add_argument("--account", help="id of the monitored account (default: derived from each payload)")
    p.add_argument("--handle", help="handle of the monitored account (with --account)")
    p.add_argument("--captured-at", help="ISO-8601 capture time to stamp (default: now), for reproducible output")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=run)


def run(args) -> int:

    account = {"id": args.account, "handle": args.handle or args.account, "display_name": None} if args.account else None
    try:
        captured = parse_time(args.captured_at) if args.captured_at else dt.datetime.now(dt.timezone.utc)
    except NormaliseError:
        print("archiefstroom normalise: --captured-at: expected an ISO-8601 time", file=sys.stderr)
        return 2
    ctx = Context(platform=args.platform, account=account, captured_at=captured)
    out = sys.stdout
    failed = 0
    for path in args.files:
        try:
            text = path.read_bytes().decode("utf-8")
            events = normalise_text(args.platform, text, ctx)
        except OSError as exc:
            print(f"archiefstroom normalise: {path}: cannot read ({exc.strerror or exc})", file=sys.stderr)
            failed += 1
            continue
        except UnicodeDecodeError as exc:
            print(f"archiefstroom normalise: {path}: not UTF-8 text (byte {exc.start})", file=sys.stderr)
            failed += 1
            continue
        except (NormaliseError, schemas.WireError) as exc:
            print(f"archiefstroom normalise: {path}: not a readable {args.platform} payload: {exc}", file=sys.stderr)
            failed += 1
            continue
        except (KeyError, TypeError, AttributeError, IndexError, ValueError, ArithmeticError) as exc:
            print(f"archiefstroom normalise: {path}: not a readable {args.platform} payload "
                  f"(unexpected structure: {type(exc).__name__})", file=sys.stderr)
            failed += 1
            continue
        for ev in events:
            out.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
    out.flush()
    return 1 if failed else 0
