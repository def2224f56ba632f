"""The pseudonymiser of a running process: key ring, detector, record pseudonymiser, vault.

Built once per process by `archiefstroom.ground.pseudonymisation` (which reads key
files, the key ring file and opens the vault); `pseudonymise(record)` is what every
record goes through. Secrets are never logged; only key ids are.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.keys import KeyRing
from archiefstroom.core.pseudonymise.record import RecordPseudonymiser
from archiefstroom.core.pseudonymise.settings import PseudonymisationSettings
from archiefstroom.core.pseudonymise.vault import Vault


@dataclass
class Runtime:
    settings: PseudonymisationSettings
    ring: KeyRing
    detector: Detector
    records: RecordPseudonymiser
    vault: Vault | None

    def pseudonymise(self, record: dict) -> dict:
        """One record, fully: tokens, vault entries, and the `pseudonymisation` sub-record."""
        res = self.records.apply(record)
        raw_location = None
        if self.vault is not None:
            self.vault.put_many(self.ring.active, res.mappings)
            if res.raw_original is not None and (self.settings.vault.store_raw or self.settings.raw_payload == "encrypt"):
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
        return out
