"""`archive transfer`: registered under `archive` by archiefstroom/commands/archive.py.

Overbrengen: packages the class-B records due for transfer to the Nationaal Archief as a BagIt
bag with MDTO sidecars and a pakbon (docs/duties-transfer.md)."""
from __future__ import annotations

import sys
from pathlib import Path

from archiefstroom.commands._duty import actor, date_arg
from archiefstroom.duties import transfer
from archiefstroom.ground import config


def register(archive_actions):
    """Adds its actions to the `archive` subparsers; each sets its own `func`."""
    t = archive_actions.add_parser(
        "transfer", help="overbrengen: package class-B records due for the Nationaal Archief (MDTO sidecars, BagIt, pakbon)")
    t.add_argument("--before", required=True, type=date_arg, metavar="DATE",
                   help="cut-off YYYY-MM-DD: items first created before this day (Europe/Amsterdam) are due; "
                        "pick today minus the overbrengingstermijn")
    t.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new (or empty) directory for the bag")
    t.add_argument("--by", metavar="NAME", help="who makes the transfer (recorded in the register and the pakbon; default: the login name)")
    t.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    by = actor(args.by).strip()
    if not by or any(c < " " for c in by):
        print("archiefstroom: --by: expected a name on one line", file=sys.stderr)
        return 2
    try:
        done = transfer.build(cfg, args.before, args.out, by)
    except transfer.NothingDue as exc:
        print(f"archiefstroom: nothing to transfer: {exc}", file=sys.stderr)
        return 1
    except transfer.TransferError as exc:
        print(f"archiefstroom: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:   # the package directory: permissions, a full disk
        print(f"archiefstroom: cannot write the package: {exc}", file=sys.stderr)
        return 2
    p = done.pakbon
    print(f"transfer {done.transfer_id}: {p['informatieobjecten']['archiefstukken']} archiefstukken in "
          f"{p['informatieobjecten']['series']} series, {p['bestanden']} bestanden, {p['sidecars']} MDTO sidecars, "
          f"{p['payload']['bytes']} bytes")
    print(f"  bag: {done.path}  (pakbon: {done.path / transfer.PAKBON})")
    print(f"  package hash (sha256 of manifest-sha256.txt): {p['package_hash']['value']}")
    for earlier, n in sorted(done.earlier.items()):
        print(f"  note: {n} of these archiefstukken were also in transfer {earlier}")
    return 0
