"""Settings of the pseudonymiser (issue 6). Section `pseudonymisation:` of the main configuration.

Secrets (the pseudonym key, the vault key) come from environment variables or
files, never from the YAML in production; the embedded stack may use the marked
development key (allow_dev_key), which makes every record say key_id "dev-insecure".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from archiefstroom.core.fields import check, secret

_key_id = r"^[A-Za-z0-9._\-]{1,64}$"


def _is_key_id(v: str) -> bool:
    return bool(re.match(_key_id, v))


@dataclass
class VaultSettings:
    """Encrypted pseudonym -> original store for lawful re-identification. Off = irreversible.

    One shared database for every worker (issue 16): PostgreSQL in production (`url`), else the
    embedded default, a SQLite file `vault.sqlite` in `path`. The audit log lives in it too."""
    enabled: bool = False
    # postgresql://user@host:5432/vault (password from ARCHIEFSTROOM_VAULT_DB_PASSWORD), or
    # sqlite:///PATH (relative to data_dir); null = sqlite file vault.sqlite in `path`
    url: Annotated[str | None, check(lambda v: v is None or v.startswith(("sqlite:///", "postgresql://")),
                                     "sqlite:///PATH, postgresql://... or null")] = None
    password: Annotated[str | None, secret("ARCHIEFSTROOM_VAULT_DB_PASSWORD")] = None
    # the embedded default's directory, OUTSIDE the archive bucket, own access rights; relative to data_dir
    path: Path = Path("vault")
    key: Annotated[str | None, secret("ARCHIEFSTROOM_VAULT_KEY")] = None  # base64:<32 bytes> (AES-256-GCM)
    key_file: Path | None = None
    # the JSON-lines audit log of vaults before issue 16 (relative to data_dir): only
    # `reidentify import-segments` reads it; the audit log is now in the vault's database
    audit_log: Path = Path("vault/audit.jsonl")
    roles: Annotated[list[str], check(lambda v: bool(v), "a non-empty list of roles allowed to re-identify")] = field(
        default_factory=lambda: ["privacy-officer", "woo-coordinator"])
    # keep the original raw platform payload, encrypted, in the vault (authenticity evidence)
    store_raw: bool = True

    def validate(self):
        if self.enabled and not (self.key or self.key_file):
            raise ValueError("key: expected ARCHIEFSTROOM_VAULT_KEY or key_file when the vault is enabled")


@dataclass
class PseudonymisationSettings:
    enabled: bool = True
    # active pseudonym key: id + secret (env ARCHIEFSTROOM_PSEUDONYM_KEY, or key_file, or keyring_file)
    key_id: Annotated[str, check(_is_key_id, "a key id of letters, digits, '.', '_' or '-'")] = "dev-insecure"
    key: Annotated[str | None, secret("ARCHIEFSTROOM_PSEUDONYM_KEY")] = None
    key_file: Path | None = None
    # a YAML key ring {active: ID, keys: {ID: "base64:..."}} for rotation; wins over key/key_file
    keyring_file: Path | None = None
    # the embedded development stack only: fall back to the public, clearly marked development key
    allow_dev_key: bool = True
    # hex digits per token: 16 (64 bits) keeps collisions improbable across 10^9 values per label;
    # values below 16 are for key rings of old records (see keyring_file, token_hex_by_key)
    token_hex: Annotated[int, check(lambda v: 6 <= v <= 32, "an integer 6..32")] = 16
    recognizers: Literal["combined", "deduce", "own"] = "combined"
    # deduce lookup-structure cache (built once per machine, ~75 MB); relative paths are under data_dir.
    # Default: $ARCHIEFSTROOM_DEDUCE_CACHE or ~/.cache/archiefstroom/deduce (shared by all data dirs)
    deduce_cache: Path | None = None
    # raw platform payload: pseudonymise its JSON string values, or replace it by a pointer to the vault copy
    raw_payload: Literal["pseudonymise", "encrypt"] = "pseudonymise"
    # accounts that stay readable besides the government accounts of the rules' account registry
    public_accounts: list[str] = field(default_factory=list)
    # names of officials that stay readable even without an office title in the text
    public_officials: list[str] = field(default_factory=list)
    # the versioned list of public office holders and organisations that stay readable (issue 15);
    # null = the shipped deploy/registry/office_holders.yaml; relative paths: beside the config file
    office_holders: Path | None = None
    vault: VaultSettings = field(default_factory=VaultSettings)

    def validate(self):
        if self.raw_payload == "encrypt" and not self.vault.enabled:
            raise ValueError("raw_payload: expected 'pseudonymise' when the vault is not enabled "
                             "('encrypt' keeps the original only in the vault)")
@dataclass
class KeyRingFile:
    """YAML key ring: `active: ID` and `keys: {ID: "base64:..."}` (the file itself is a secret, mode 0600)."""
    active: str
    keys: dict[str, str]
    token_hex: Annotated[int, check(lambda v: 6 <= v <= 32, "an integer 6..32")] = 16
    # keys whose tokens have another length (older keys made with 6 hex digits keep them)
    token_hex_by_key: dict[str, int] = field(default_factory=dict)

    def validate(self):
        if self.active not in self.keys:
            raise ValueError(f"active: expected one of the key ids under keys ({', '.join(self.keys)})")
        for kid, n in self.token_hex_by_key.items():
            if kid not in self.keys or not 6 <= n <= 32:
                raise ValueError(f"token_hex_by_key.{kid}: expected a key id under keys and 6..32 hex digits")


