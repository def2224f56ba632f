"""`archiefstroom rules check|diagram`: validate the rule registries; draw the flow chart from the rules."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from archiefstroom.core.rules import diagram as flow_chart
from archiefstroom.core.rules import scenarios
from archiefstroom.ground import config, registries

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "rules"


def register(sub):
    p = sub.add_parser("rules", help="archiving rules: check the registries, or generate the flow chart")
    rs = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    c = rs.add_parser("check", help="load and validate accounts, platforms, selectielijst and hotspots")
    c.set_defaults(func=check)
    d = rs.add_parser("diagram", help="write the flow chart (Mermaid + SVG) generated from the rule definitions")
    d.add_argument("--out", type=Path, default=DOCS, help=f"directory (default {DOCS})")
    d.add_argument("--check", action="store_true", help="only verify that the files in --out are up to date")
    d.set_defaults(func=diagram)


def check(args) -> int:
    cfg = config.load(args.config)
    reg = registries.load_for(cfg)
    accounts = reg.accounts.accounts
    kinds = Counter((a.type, reg.route(a)) for a in accounts)
    print(f"registries OK (version {reg.version}): {len(accounts)} accounts, "
          f"{len(reg.accounts.organisations)} organisations, {len(reg.platforms.platforms)} platforms, "
          f"{len(reg.selectielijst.categories)} selectielijst categories, {len(reg.hotspots.hotspots)} hotspots")
    for (kind, route), n in sorted(kinds.items(), key=str):
        print(f"  {n:>3} {kind:9} " + (f"route {route}" if route else ""))
    for w in reg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"hold window {cfg.rules.hold_window_hours:g} h; held topic {cfg.rules.held_topic}")
    return 0


def render(cfg) -> dict[str, str]:
    """File name -> content: the scenarios use the configured selectielijst and hold window."""
    loaded = registries.load_for(cfg)
    reg = scenarios.example_registry(loaded.selectielijst)
    return {"archiving-rules.mmd": flow_chart.mermaid(reg, cfg.rules, harvest=loaded),
            "archiving-rules.svg": flow_chart.svg(reg, cfg.rules, harvest=loaded)}


def diagram(args) -> int:
    cfg = config.load(args.config)
    files = render(cfg)
    if args.check:
        stale = [n for n, text in files.items()
                 if not (args.out / n).exists() or (args.out / n).read_text(encoding="utf-8") != text]
        if stale:
            print(f"out of date: {', '.join(stale)} (run `archiefstroom rules diagram`)", file=sys.stderr)
            return 1
        print("diagram up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0
