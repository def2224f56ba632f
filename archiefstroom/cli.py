"""`archiefstroom` command line. Each subcommand lives in archiefstroom/commands/<name>.py
and exposes `register(subparsers)`; dropping a module there plugs it in."""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from archiefstroom import commands
from archiefstroom.ground import logs
from archiefstroom.ground.settings import ConfigError


class _DropImportNoise(logging.Filter):
    """Beam warns at import about optional GCP client libraries we do not use."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_DropImportNoise())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiefstroom", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="configuration file (default: $ARCHIEFSTROOM_CONFIG, ./archiefstroom.yaml, deploy/archiefstroom.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=logs.FORMATS,
                        help=f"text (default) or json: one JSON object per line, no personal data (${logs.ENV})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"archiefstroom.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_beam_options", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.beam_options = extra
    try:
        logs.configure(args.log_format, level=logging.DEBUG if args.verbose else logging.WARNING)
    except ValueError as exc:   # a wrong $ARCHIEFSTROOM_LOG_FORMAT
        parser.error(str(exc))
    if not args.verbose:
        # kafka-python logs every refused connection while a broker starts: noise for an
        # operator, kept for --verbose
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"archiefstroom: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
