"""`archive hotspot add|apply|list`: registered under `archive` by archiefstroom/commands/archive.py.

`add` puts a hotspot in the hotspots registry (new records: after the pipeline's restart) and
keeps the archived records it matches (their objects re-tagged to B / permanent, legal hold);
`apply` does the archive's part again, for records archived since; `list` shows them all.
"""
from __future__ import annotations

from archiefstroom.commands._duty import actor, date_arg, guarded
from archiefstroom.duties import hotspots
from archiefstroom.ground import config


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def register(archive_actions):
    """Adds its actions to the `archive` subparsers; each sets its own `func`."""
    h = archive_actions.add_parser("hotspot", help="hotspots: keep what an exceptional event produced (B, permanent)")
    a = h.add_subparsers(dest="hotspot_action", required=True, metavar="ACTION")
    add = a.add_parser("add", help="add a hotspot to the registry and keep the archived records it matches")
    add.add_argument("--name", required=True, help="letters, digits, . _ -")
    add.add_argument("--from", dest="start", required=True, type=date_arg, help="first day (YYYY-MM-DD, UTC)")
    add.add_argument("--to", dest="end", required=True, type=date_arg, help="last day (YYYY-MM-DD, UTC)")
    add.add_argument("--terms", type=_words, default=[], help="comma-separated words or phrases in the text")
    add.add_argument("--hashtags", type=_words, default=[], help="comma-separated hashtags (without #)")
    add.add_argument("--accounts", type=_words, default=[], help="comma-separated platform:account id")
    add.add_argument("--description", default="")
    add.add_argument("--by", default=None, help="who adds it (default: login name)")
    add.set_defaults(func=run)
    ap = a.add_parser("apply", help="keep the archived records of a registered hotspot again (after a restart)")
    ap.add_argument("name")
    ap.add_argument("--by", default=None)
    ap.set_defaults(func=run)
    ls = a.add_parser("list", help="the hotspots of the registry and what they keep")
    ls.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    return guarded(lambda: _act(cfg, args))


def _act(cfg, args) -> int:
    if args.hotspot_action == "list":
        for h in hotspots.listing(cfg):
            what = ", ".join(f"{k} {', '.join(h[k])}" for k in ("hashtags", "terms", "accounts") if h.get(k))
            where = "" if h["in_registry"] else "  (not in the registry file any more)"
            print(f"{h['name']:24} {h['start']} .. {h['end']}  {what}; keeps {h['objects']} objects"
                  + (f"; added by {h['added_by']}" if h.get("added_by") else "") + where)
        return 0
    if args.hotspot_action == "add":
        res = hotspots.add(cfg, {"name": args.name, "start": args.start, "end": args.end, "terms": args.terms,
                                 "hashtags": args.hashtags, "accounts": args.accounts,
                                 "description": args.description}, by=actor(getattr(args, "by", None)))
        print(f"hotspot {res.name} added to {hotspots.registry_file(cfg)}; new records get it when the "
              f"pipeline (re)starts")
    else:
        res = hotspots.apply(cfg, args.name, by=actor(getattr(args, "by", None)))
    print(f"hotspot {res.name}: {len(res.retagged)} objects re-tagged to B / permanent "
          f"({res.matched_records} matching records)"
          + (f"; {len(res.already)} kept for it before" if res.already else "")
          + (f"; {len(res.other)} kept for another hotspot" if res.other else ""))
    return 0
