"""Everything the pseudonymiser needs at run time, built once per process from settings.

`Runtime.from_config(cfg)` resolves the key ring (env / file / key ring file /
marked development key), the vault, the public accounts (government accounts of
the rules' account registry + configured ones) and the detector with its cached
deduce structures. Secrets are never logged; only key ids are.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.keys import DEV_KEY, DEV_KEY_ID, KeyRing, decode_key
from archiefstroom.core.pseudonymise.record import RecordPseudonymiser
from archiefstroom.core.pseudonymise.settings import PseudonymisationSettings
from archiefstroom.core.pseudonymise.vault import Vault
from archiefstroom.settings import ConfigError, load_yaml

log = logging.getLogger(__name__)


@dataclass
class KeyRingFile:
    """YAML key ring: `active: ID` and `keys: {ID: "base64:..."}` (the file itself is a secret, mode 0600)."""
    active: str
    keys: dict[str, str]
    token_hex: int = 6

    def validate(self):
        if self.active not in self.keys:
            raise ValueError(f"active: expected one of the key ids under keys ({', '.join(self.keys)})")


def _resolve(base: Path, p: Path | None) -> Path | None:
    if p is None:
        return None
    return p if p.is_absolute() else base / p


_DEV_KEY_WARNED = False


def load_keyring(s: PseudonymisationSettings, base: Path, source: str = "pseudonymisation") -> KeyRing:
    """Key ring from (in order) keyring_file, key (env ARCHIEFSTROOM_PSEUDONYM_KEY), key_file, dev key."""
    if s.keyring_file:
        path = _resolve(base, s.keyring_file)
        kr = load_yaml(path, KeyRingFile)
        return KeyRing({k: decode_key(v) for k, v in kr.keys.items()}, kr.active, kr.token_hex)
    if s.key:
        return KeyRing({s.key_id: decode_key(s.key)}, s.key_id, s.token_hex)
    if s.key_file:
        path = _resolve(base, s.key_file)
        try:
            material = path.read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(source, None, "pseudonymisation.key_file", "a readable key file") from None
        return KeyRing({s.key_id: decode_key(material)}, s.key_id, s.token_hex)
    if not s.allow_dev_key:
        raise ConfigError(source, None, "pseudonymisation.key",
                          "a key (ARCHIEFSTROOM_PSEUDONYM_KEY, key_file or keyring_file); allow_dev_key is false")
    global _DEV_KEY_WARNED
    if not _DEV_KEY_WARNED:  # once per process, not per stage that loads the key ring
        _DEV_KEY_WARNED = True
        log.warning("pseudonymisation uses the PUBLIC DEVELOPMENT KEY (key id %s): not for real data", DEV_KEY_ID)
    return KeyRing({DEV_KEY_ID: DEV_KEY}, DEV_KEY_ID, s.token_hex)


def open_vault(s: PseudonymisationSettings, data_dir: Path, source: str = "pseudonymisation") -> Vault | None:
    if not s.vault.enabled:
        return None
    material = s.vault.key
    if not material and s.vault.key_file:
        try:
            material = _resolve(data_dir, s.vault.key_file).read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(source, None, "pseudonymisation.vault.key_file", "a readable key file") from None
    if not material:
        raise ConfigError(source, None, "pseudonymisation.vault.key", "ARCHIEFSTROOM_VAULT_KEY or key_file")
    key = decode_key(material)
    if len(key) != 32:
        raise ConfigError(source, None, "pseudonymisation.vault.key", "32 bytes of key material (base64:...)")
    return Vault(_resolve(data_dir, s.vault.path), key)


def public_accounts_from_registry(accounts_file: Path | None) -> set[str]:
    """Ids and handles of government (corporate, hybrid) accounts in the rules' account registry."""
    if accounts_file is None or not Path(accounts_file).exists():
        return set()
    from archiefstroom.core.rules.registry import AccountsFile  # noqa: PLC0415  (pure; owned by the rules)
    reg = load_yaml(accounts_file, AccountsFile)
    out = set()
    for a in reg.accounts:
        if a.government:
            out |= {x.lstrip("@").lower() for x in (a.id, a.handle) if x}
    return out


def deduce_cache_dir(s: PseudonymisationSettings, data_dir: Path | None) -> Path:
    if s.deduce_cache:
        return s.deduce_cache if s.deduce_cache.is_absolute() or data_dir is None else data_dir / s.deduce_cache
    if os.environ.get("ARCHIEFSTROOM_DEDUCE_CACHE"):
        return Path(os.environ["ARCHIEFSTROOM_DEDUCE_CACHE"])
    from archiefstroom.core.pseudonymise.names import DEFAULT_CACHE  # noqa: PLC0415
    return DEFAULT_CACHE


@dataclass
class Runtime:
    settings: PseudonymisationSettings
    ring: KeyRing
    detector: Detector
    records: RecordPseudonymiser
    vault: Vault | None

    @classmethod
    def build(cls, s: PseudonymisationSettings, *, data_dir: Path, config_dir: Path | None = None,
              public_accounts: set[str] | None = None, accounts_file: Path | None = None,
              source: str = "pseudonymisation") -> "Runtime":
        base = config_dir or data_dir
        ring = load_keyring(s, base, source)
        public = set(public_accounts or ()) | public_accounts_from_registry(accounts_file) | \
            {a.lstrip("@").lower() for a in s.public_accounts}
        detector = Detector(s.recognizers, keep_handle=lambda h: h.lower() in public,
                            officials=s.public_officials, deduce_cache=deduce_cache_dir(s, data_dir))
        import importlib.metadata as md  # noqa: PLC0415
        method = f"hmac-sha256/{s.recognizers}/deduce-{md.version('deduce')}"
        records = RecordPseudonymiser(detector, ring, public_accounts=public, raw_policy=s.raw_payload, method=method)
        return cls(s, ring, detector, records, open_vault(s, data_dir, source))

    @classmethod
    def from_config(cls, cfg, *, public_accounts: set[str] | None = None) -> "Runtime":
        """From a loaded archiefstroom Config; the account registry is the rules' (cfg.rules.accounts)."""
        config_dir = Path(cfg.source_file).parent if getattr(cfg, "source_file", None) else Path(cfg.data_dir)
        accounts = None
        rules = getattr(cfg, "rules", None)
        if rules is not None and hasattr(rules, "path"):
            accounts = rules.path("accounts", config_dir)
        return cls.build(cfg.pseudonymisation, data_dir=Path(cfg.data_dir), config_dir=config_dir,
                         public_accounts=public_accounts, accounts_file=accounts,
                         source=str(getattr(cfg, "source_file", "pseudonymisation")))

    def pseudonymise(self, record: dict) -> dict:
        """One record, fully: tokens, vault entries, and the `pseudonymisation` sub-record."""
        res = self.records.apply(record)
        raw_location = None
        if self.vault is not None:
            self.vault.put_many(self.ring.active, res.mappings)
            if res.raw_original is not None and (self.settings.vault.store_raw or self.settings.raw_payload == "encrypt"):
                raw_location = "vault:" + self.vault.put_raw(self.ring.active, record["event"].get("event_id", ""),
                                                             res.raw_original)
        import hashlib  # noqa: PLC0415
        out = res.record
        out["pseudonymisation"] = {
            "key_id": self.ring.active,
            "method": self.records.method,
            "entity_counts": dict(res.counts),
            "raw_payload": "encrypted" if self.settings.raw_payload == "encrypt" else "pseudonymised",
            "raw_location": raw_location,
            "raw_sha256": hashlib.sha256(res.raw_original.encode("utf-8")).hexdigest() if res.raw_original else None,
        }
        return out
