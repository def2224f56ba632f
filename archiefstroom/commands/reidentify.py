"""`archiefstroom reidentify TOKEN --role ROLE --reason REASON`: look a pseudonym up in the vault.

Only where a vault is configured; only for a role listed in pseudonymisation.vault.roles;
always with a reason (e.g. a Woo request number). The audit entry is written
before anything is shown, and refusals are audited too.
"""
from __future__ import annotations

import getpass
import re
import sys
from pathlib import Path

from archiefstroom.core.pseudonymise.vault import AuditLog, VaultError
from archiefstroom.ground import config, pseudonymisation

_TOKEN = re.compile(r"^\[[A-Z]+-[0-9a-f]{6,32}\]$|^vault:raw:[0-9a-f]{32}$|^raw:[0-9a-f]{32}$")


def register(sub):
    p = sub.add_parser("reidentify", help="reveal what a pseudonym stands for (vault, authorised role, reason)")
    p.add_argument("token", help="a pseudonym such as [PERSOON-7f3a2c], or a raw_location vault:raw:...")
    p.add_argument("--role", required=True, help="your role; must be listed in pseudonymisation.vault.roles")
    p.add_argument("--reason", required=True, help="why, e.g. a Woo request number (WOO-2026-0142)")
    p.add_argument("--actor", default=None, help="who asks (default: the login name)")
    p.add_argument("--key-id", default=None, help="only entries made under this key id")
    p.set_defaults(func=run)


def run(args) -> int:

    cfg = config.load(args.config)
    s = cfg.pseudonymisation
    actor = args.actor or getpass.getuser()
    if not s.vault.enabled:
        print("reidentify: refused: no vault is configured (pseudonymisation.vault.enabled is false); "
              "pseudonyms are irreversible here", file=sys.stderr)
        return 3
    audit_path = s.vault.audit_log if s.vault.audit_log.is_absolute() else Path(cfg.data_dir) / s.vault.audit_log
    audit = AuditLog(audit_path)
    token = args.token.strip()
    reason = args.reason.strip()
    problem = None
    if args.role not in s.vault.roles:
        problem = f"role {args.role!r} is not authorised (allowed: {', '.join(s.vault.roles)})"
    elif len(reason) < 5:
        problem = "a reason is required (e.g. the Woo request number)"
    elif not _TOKEN.match(token):
        problem = "not a pseudonym ([LABEL-hex]) or vault:raw:<ref>"
    if problem:
        audit.write(actor=actor, role=args.role, reason=reason, ref=token[:80], outcome="refused")
        print(f"reidentify: refused: {problem}", file=sys.stderr)
        return 3
    try:
        vault = pseudonymisation.open_vault(s, Path(cfg.data_dir), str(cfg.source_file))
    except Exception as exc:
        audit.write(actor=actor, role=args.role, reason=reason, ref=token, outcome="refused: vault unavailable")
        print(f"reidentify: refused: the vault cannot be opened ({type(exc).__name__})", file=sys.stderr)
        return 3
    ref = token.removeprefix("vault:")
    try:
        found = vault.lookup(ref, args.key_id)
    except VaultError as exc:
        audit.write(actor=actor, role=args.role, reason=reason, ref=token, outcome="error: undecryptable")
        print(f"reidentify: {exc}", file=sys.stderr)
        return 1
    # audit first: if this write fails, nothing is shown
    audit.write(actor=actor, role=args.role, reason=reason, ref=token,
                outcome=f"revealed {len(found)}" if found else "not found")
    if not found:
        print(f"reidentify: {token} is not in the vault", file=sys.stderr)
        return 1
    for r in found:
        print(f"{r.token}\t{r.label}\tkey {r.key_id}\t{r.value}")
    return 0
