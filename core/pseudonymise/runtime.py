"""The pseudonymiser of a running process: key ring, detector, record pseudonymiser, vault.

Built once per process by `archiefstroom.ground.pseudonymisation` (which reads key
files, the key ring file and opens the vault); `pseudonymise(record)` is what every
record goes through. Secrets are never logged; only key ids are.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.keys import KeyRing
from archiefstroom.core.pseudonymise.record import RecordPseudonymiser
from archiefstroom.core.pseudonymise.settings import PseudonymisationSettings


class VaultWriter(Protocol):
    """What the pseudonymiser needs of a vault (ground/vault_db.SharedVault)."""

    def put_many(self, key_id: str, mappings: dict[str, tuple[str, str]]) -> int: ...
    def put_batch(self, key_id: str, items: list[dict[str, tuple[str, str]]]) -> list[set[str]]: ...
    def put_raw(self, key_id: str, event_id: str, payload: str) -> str: ...
    def sync(self) -> None: ...


@dataclass
class Runtime:
    settings: PseudonymisationSettings
    ring: KeyRing
    detector: Detector
    records: RecordPseudonymiser
    vault: VaultWriter | None

    def pseudonymise(self, record: dict) -> dict:
        """One record, fully: tokens, vault entries written now, the `pseudonymisation` sub-record."""
        done = self.prepare(record)
        if self.vault is not None and done.mappings:
            self.vault.put_many(done.key_id, done.mappings)
        return done.record

    def prepare(self, record: dict) -> "Prepared":
        """One record pseudonymised; its token mappings left for `store` (one vault write per
        bundle instead of one per record). Its raw payload is queued in the vault already."""
        res = self.records.apply(record)
        raw_location = None
        if self.vault is not None and res.raw_original is not None and (
                self.settings.vault.store_raw or self.settings.raw_payload == "encrypt"):
            raw_location = "vault:" + self.vault.put_raw(self.ring.active, record["event"].get("event_id", ""),
                                                         res.raw_original)
        out = res.record
        out["pseudonymisation"] = {
            "key_id": self.ring.active,
            "method": self.records.method,
            "entity_counts": dict(res.counts),
            "raw_payload": "encrypted" if self.settings.raw_payload == "encrypt" else "pseudonymised",
            "raw_location": raw_location,
            "raw_sha256": hashlib.sha256(res.raw_original.encode("utf-8")).hexdigest() if res.raw_original else None,
        }
        return Prepared(out, res.mappings if self.vault is not None else {}, self.ring.active)

    def store(self, prepared: list["Prepared"]) -> list[bool]:
        """Write the vault entries of prepared records in one go; per record, whether it may go on
        (False: one of its tokens already stands for another value, the record must not be archived)."""
        if self.vault is None:
            return [True] * len(prepared)
        ok = [True] * len(prepared)
        for key_id in {p.key_id for p in prepared}:
            picked = [i for i, p in enumerate(prepared) if p.key_id == key_id]
            refused = self.vault.put_batch(key_id, [prepared[i].mappings for i in picked])
            for i, tokens in zip(picked, refused):
                ok[i] = not tokens
        return ok


@dataclass
class Prepared:
    record: dict
    mappings: dict[str, tuple[str, str]]      # token -> (label, original): for the vault only, never logged
    key_id: str
