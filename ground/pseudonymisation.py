"""The pseudonymiser of this process, built from the configuration: key material
(key ring file, key, key file, or the marked development key), the vault (a shared
database: ground/vault_db.py) and the detector with its cached deduce structures.

The accounts that stay readable come from the caller (the government accounts of
the rules' registry, loaded once by archiefstroom.ground.registries) plus the
settings' own `public_accounts`.
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
from pathlib import Path

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.keys import DEV_KEY, DEV_KEY_ID, KeyRing, decode_key
from archiefstroom.core.pseudonymise.names import DEFAULT_CACHE
from archiefstroom.core.pseudonymise.record import RecordPseudonymiser
from archiefstroom.core.pseudonymise.runtime import Runtime
from archiefstroom.core.pseudonymise.settings import KeyRingFile, PseudonymisationSettings
from archiefstroom.ground import registries
from archiefstroom.ground.settings import ConfigError, load_yaml
from archiefstroom.ground.vault_db import SharedVault, Store

log = logging.getLogger(__name__)


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
        return KeyRing({k: decode_key(v) for k, v in kr.keys.items()}, kr.active, kr.token_hex,
                       dict(kr.token_hex_by_key))
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


def vault_url(s: PseudonymisationSettings, data_dir: Path) -> str:
    """The vault's database: `vault.url`, else the embedded default `vault.sqlite` in `vault.path`."""
    if s.vault.url:
        return s.vault.url
    return "sqlite:///" + str((_resolve(Path(data_dir), s.vault.path) / "vault.sqlite").resolve())


def open_store(s: PseudonymisationSettings, data_dir: Path) -> Store:
    """The vault's database without its key: enough to write and verify the audit log."""
    url = vault_url(s, data_dir)
    if not s.vault.url:     # the embedded default: a directory of its own, owner only
        directory = _resolve(Path(data_dir), s.vault.path)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(directory, 0o700)
        except OSError:
            pass
    return Store.open(url, Path(data_dir), s.vault.password)


def vault_key(s: PseudonymisationSettings, data_dir: Path, source: str = "pseudonymisation") -> bytes:
    """The vault key (32 bytes) from ARCHIEFSTROOM_VAULT_KEY / `vault.key`, else `vault.key_file`."""
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
    return key


def open_vault(s: PseudonymisationSettings, data_dir: Path, source: str = "pseudonymisation",
               store: Store | None = None) -> SharedVault | None:
    """The shared vault (None when disabled); `store`: an already open database to use."""
    if not s.vault.enabled:
        return None
    key = vault_key(s, data_dir, source)
    store = store or open_store(s, data_dir)
    path = None if s.vault.url else _resolve(Path(data_dir), s.vault.path)
    return SharedVault(store, key, path)


def deduce_cache_dir(s: PseudonymisationSettings, data_dir: Path | None) -> Path:
    if s.deduce_cache:
        return s.deduce_cache if s.deduce_cache.is_absolute() or data_dir is None else data_dir / s.deduce_cache
    if os.environ.get("ARCHIEFSTROOM_DEDUCE_CACHE"):
        return Path(os.environ["ARCHIEFSTROOM_DEDUCE_CACHE"])
    return DEFAULT_CACHE


def build(s: PseudonymisationSettings, *, data_dir: Path, config_dir: Path | None = None,
          public_accounts: set[str] | frozenset[str] = frozenset(), source: str = "pseudonymisation") -> Runtime:
    """A Runtime from settings; `public_accounts`: ids/handles that stay readable."""
    ring = load_keyring(s, config_dir or data_dir, source)
    public = {a.lstrip("@").lower() for a in (*public_accounts, *s.public_accounts)}
    figures = registries.load_public_figures(_resolve(config_dir or data_dir, s.office_holders))
    detector = Detector(s.recognizers, keep_handle=lambda h: h.lower() in public, officials=s.public_officials,
                        deduce_cache=deduce_cache_dir(s, data_dir), figures=figures)
    method = f"hmac-sha256/{s.recognizers}/deduce-{importlib.metadata.version('deduce')}"
    records = RecordPseudonymiser(detector, ring, public_accounts=public, raw_policy=s.raw_payload, method=method)
    return Runtime(s, ring, detector, records, open_vault(s, data_dir, source))


def config_dir(cfg) -> Path:
    """Where relative key paths of a Config are resolved: beside its file, else the data dir."""
    return Path(cfg.source_file).parent if getattr(cfg, "source_file", None) else Path(cfg.data_dir)


def for_config(cfg, public_accounts: set[str] | frozenset[str] = frozenset()) -> Runtime:
    """From a loaded Config and the government accounts of its registry."""
    return build(cfg.pseudonymisation, data_dir=Path(cfg.data_dir), config_dir=config_dir(cfg),
                 public_accounts=public_accounts, source=str(getattr(cfg, "source_file", None) or "pseudonymisation"))


def keyring_for(cfg) -> KeyRing:
    """The key ring of a loaded Config (the ledger's keyed tokens for personal parts of ids)."""
    return load_keyring(cfg.pseudonymisation, config_dir(cfg), str(getattr(cfg, "source_file", None) or "pseudonymisation"))
