"""`archiefstroom` command line. Each subcommand lives in archiefstroom/commands/<name>.py
and exposes `register(subparsers)`; add a module name to COMMANDS to plug one in."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from archiefstroom.settings import ConfigError

COMMANDS = [
    "stack", "replay", "run", "demo", "archive",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiefstroom", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="configuration file (default: $ARCHIEFSTROOM_CONFIG, ./archiefstroom.yaml, deploy/archiefstroom.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"archiefstroom.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"archiefstroom: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
