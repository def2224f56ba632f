"""`archiefstroom reidentify TOKEN --role ROLE --reason REASON`: look a pseudonym up in the vault.

Only where a vault is configured; only for a role listed in pseudonymisation.vault.roles;
always with a reason (e.g. a Woo request number). The audit entry is written to the vault's
database (hash-chained, durably committed) before anything is shown, and refusals are
audited too; without a reachable audit log nothing is revealed.

  reidentify verify-audit              check the audit log's chain (exit 1 when broken)
  reidentify import-segments DIR       import a vault in the segment-file format (before issue 16)
  reidentify status                    entries, refused collisions, audit entries (no values)
"""
from __future__ import annotations

import getpass
import hashlib
import re
import sys
from pathlib import Path

from archiefstroom.core.pseudonymise.vault import VaultError
from archiefstroom.ground import config, pseudonymisation, vault_db

_TOKEN = re.compile(r"^\[[A-Z]+-[0-9a-f]{6,32}\]$|^vault:raw:[0-9a-f]{32}$|^raw:[0-9a-f]{32}$")
ACTIONS = ("verify-audit", "import-segments", "status")


def register(sub):
    p = sub.add_parser("reidentify", help="reveal what a pseudonym stands for (vault, authorised role, reason); "
                                          "verify-audit, import-segments DIR, status")
    p.add_argument("token", help="a pseudonym such as [PERSOON-7f3a2c9d1e0b4a56], a raw_location vault:raw:..., "
                                 "or verify-audit | import-segments | status")
    p.add_argument("directory", nargs="?", type=Path, help="import-segments: the old vault directory (segment-*.jsonl)")
    p.add_argument("--role", help="your role; must be listed in pseudonymisation.vault.roles")
    p.add_argument("--reason", help="why, e.g. a Woo request number (WOO-2026-0142)")
    p.add_argument("--actor", default=None, help="who asks (default: the login name)")
    p.add_argument("--key-id", default=None, help="only entries made under this key id")
    p.add_argument("--audit-log", type=Path, default=None,
                   help="import-segments: the old JSON-lines audit log (default: pseudonymisation.vault.audit_log)")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    s = cfg.pseudonymisation
    if not s.vault.enabled:
        print("reidentify: refused: no vault is configured (pseudonymisation.vault.enabled is false); "
              "pseudonyms are irreversible here", file=sys.stderr)
        return 3
    try:
        store = pseudonymisation.open_store(s, Path(cfg.data_dir))
    except Exception as exc:       # no audit log, no reveal
        print(f"reidentify: refused: the vault's database cannot be opened ({type(exc).__name__})", file=sys.stderr)
        return 3
    try:
        action = args.token.strip()
        if action == "verify-audit":
            return _verify(store)
        if action == "import-segments":
            return _import(args, cfg, store)
        if action == "status":
            return _status(store)
        return _reveal(args, cfg, store)
    finally:
        store.close()


def _reveal(args, cfg, store) -> int:
    s = cfg.pseudonymisation
    actor = args.actor or getpass.getuser()
    token, reason, role = args.token.strip(), (args.reason or "").strip(), args.role or ""
    problem = None
    if role not in s.vault.roles:
        problem = f"role {role!r} is not authorised (allowed: {', '.join(s.vault.roles)})"
    elif len(reason) < 5:
        problem = "a reason is required (e.g. the Woo request number)"
    elif not _TOKEN.match(token):
        problem = "not a pseudonym ([LABEL-hex]) or vault:raw:<ref>"
    if problem:
        store.audit(actor=actor, role=role, reason=reason, ref=token[:80], outcome="refused")
        print(f"reidentify: refused: {problem}", file=sys.stderr)
        return 3
    try:
        vault = pseudonymisation.open_vault(s, Path(cfg.data_dir), str(cfg.source_file), store=store)
    except Exception as exc:
        store.audit(actor=actor, role=role, reason=reason, ref=token, outcome="refused: vault unavailable")
        print(f"reidentify: refused: the vault cannot be opened ({type(exc).__name__})", file=sys.stderr)
        return 3
    ref = token.removeprefix("vault:")
    try:
        found = vault.lookup(ref, args.key_id)
    except VaultError as exc:
        store.audit(actor=actor, role=role, reason=reason, ref=token, outcome="error: undecryptable")
        print(f"reidentify: {exc}", file=sys.stderr)
        return 1
    # audit first: if this write fails, nothing is shown
    store.audit(actor=actor, role=role, reason=reason, ref=token,
                outcome=f"revealed {len(found)}" if found else "not found")
    if not found:
        print(f"reidentify: {token} is not in the vault", file=sys.stderr)
        return 1
    if len({(r.key_id) for r in found}) < len(found):
        print(f"reidentify: note: {token} stood for more than one value in the vault before issue 16 "
              f"(a collision of short tokens); every value is listed", file=sys.stderr)
    for r in found:
        print(f"{r.token}\t{r.label}\tkey {r.key_id}\t{r.value}")
    return 0


def _verify(store) -> int:
    ok, n, head, problem = store.verify_audit()
    if ok:
        print(f"audit log intact: {n} entries, head {head} ({store.where})")
        return 0
    print(f"reidentify verify-audit: BROKEN: {problem} ({n} entries read, {store.where})", file=sys.stderr)
    return 1


def _status(store) -> int:
    db = store.db
    entries = db.execute("SELECT kind, count(*) FROM vault_entries GROUP BY kind ORDER BY kind")
    ambiguous = db.execute("SELECT count(*) FROM vault_entries WHERE variant > 0")[0][0]
    collisions = db.execute("SELECT count(*) FROM vault_collisions")[0][0]
    audit = db.execute("SELECT count(*) FROM vault_audit")[0][0]
    db.commit()
    print(f"vault {store.where}: " + ", ".join(f"{n} {k} entries" for k, n in entries) +
          f"; {ambiguous} legacy ambiguous; {collisions} refused collisions; {audit} audit entries")
    return 0


def _import(args, cfg, store) -> int:
    """Segments and the old audit log into the shared store. Idempotent: entries already there
    are recognised, and an audit log already imported (same head hash) is not imported again."""
    s = cfg.pseudonymisation
    if not args.directory or not args.directory.is_dir():
        print("reidentify import-segments: DIR (the old vault directory with segment-*.jsonl) is required",
              file=sys.stderr)
        return 2
    vault = pseudonymisation.open_vault(s, Path(cfg.data_dir), str(cfg.source_file), store=store)
    actor = args.actor or getpass.getuser()
    try:
        counts = vault.import_rows(vault_db.read_segments(args.directory, _vault_key(s, cfg)))
    except VaultError as exc:
        print(f"reidentify import-segments: {exc}", file=sys.stderr)
        return 1
    audit_path = args.audit_log or (s.vault.audit_log if s.vault.audit_log.is_absolute()
                                    else Path(cfg.data_dir) / s.vault.audit_log)
    legacy, intact = vault_db.read_legacy_audit(audit_path)
    imported = 0
    if legacy:
        head = legacy[-1]["hash"]
        ref = f"legacy-audit:{head}"
        done = store.db.execute("SELECT count(*) FROM vault_audit WHERE ref = ?", (ref,))[0][0]
        store.db.commit()
        if not done:
            # the old entries are copied field by field and chained anew after this marker, which
            # names the old chain's head and whether it was intact
            store.audit(actor=actor, role="migration", reason="import-segments", ref=ref,
                        outcome=f"legacy audit log: {len(legacy)} entries, chain "
                                f"{'intact' if intact else 'BROKEN'}, sha256 "
                                f"{hashlib.sha256(audit_path.read_bytes()).hexdigest()}")
            for e in legacy:
                store.audit(actor=str(e.get("actor", "")), role=str(e.get("role", "")), reason=str(e.get("reason", "")),
                            ref=str(e.get("ref", "")), outcome=str(e.get("outcome", "")), at=str(e.get("at", "")))
            imported = len(legacy)
    store.audit(actor=actor, role="migration", reason="import-segments", ref=f"segments:{args.directory.name}",
                outcome=f"imported: {counts['read']} read, {counts['stored']} stored, {counts['known']} known, "
                        f"{counts['ambiguous']} legacy ambiguous")
    print(f"imported {args.directory}: {counts['read']} entries read, {counts['stored']} stored, "
          f"{counts['known']} already there, {counts['ambiguous']} tokens with more than one value kept as variants; "
          f"{imported} audit entries" + ("" if intact else " (the old audit chain was BROKEN: noted in the log)"))
    return 0


def _vault_key(s, cfg) -> bytes:
    return pseudonymisation.vault_key(s, Path(cfg.data_dir), str(cfg.source_file))
