"""The re-identification vault and its audit log.

Pseudonym -> original mappings (and, optionally, original raw payloads) are
encrypted with AES-256-GCM under a vault key that is separate from the pseudonym
key, and stored outside the archive bucket as append-only JSON-lines segments.
The token and key id are the associated data, so an entry cannot be moved to
another token. Without the vault (or its key) pseudonymisation is irreversible.

Every re-identification is written to the audit log first (who, role, reason,
which token, when) - if the audit entry cannot be written, nothing is revealed.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class VaultError(RuntimeError):
    pass


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


@dataclass
class Revealed:
    token: str
    key_id: str
    label: str
    value: str


class Vault:
    """Append-only encrypted store in a directory (one segment file per process)."""

    def __init__(self, path: Path, key: bytes):
        if len(key) != 32:
            raise VaultError("vault key: expected 32 bytes (AES-256)")
        self.path = Path(path)
        self.aead = AESGCM(key)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.path, 0o700)
        except OSError:
            pass
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._segment = self.path / f"segment-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        self._fh = None
        self._dirty = False

    @staticmethod
    def new_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def _seal(self, kind: str, ref: str, key_id: str, label: str, value: str) -> dict:
        nonce = secrets.token_bytes(12)
        aad = f"{kind}\x1f{ref}\x1f{key_id}".encode()
        ct = self.aead.encrypt(nonce, json.dumps({"label": label, "value": value}).encode("utf-8"), aad)
        return {"kind": kind, "ref": ref, "key_id": key_id, "nonce": _b64(nonce), "ct": _b64(ct)}

    def put_many(self, key_id: str, mappings: dict[str, tuple[str, str]]) -> int:
        """Store token -> (label, original); each pair once per process. Returns entries written."""
        rows = []
        with self._lock:
            for token, (label, value) in mappings.items():
                digest = hashlib.sha256(f"{token}\x1f{value}".encode()).hexdigest()
                if (key_id, digest) in self._seen:
                    continue
                self._seen.add((key_id, digest))
                rows.append(self._seal("token", token, key_id, label, value))
            if rows:
                self._append(rows)
        return len(rows)

    def _append(self, rows: list[dict]) -> None:
        """Write and flush (survives a process crash); `sync()` makes it survive a power loss."""
        if self._fh is None:
            self._fh = open(self._segment, "a", encoding="utf-8")
        self._fh.write("".join(json.dumps(r) + "\n" for r in rows))
        self._fh.flush()
        self._dirty = True

    def close(self) -> None:
        self.sync()
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def sync(self) -> None:
        """fsync the segment; the transform calls it at the end of every bundle, before offsets commit."""
        with self._lock:
            if self._fh is not None and self._dirty:
                os.fsync(self._fh.fileno())
                self._dirty = False

    def put_raw(self, key_id: str, event_id: str, payload: str) -> str:
        """Encrypt an original raw payload; returns its reference (what the record's raw_location says)."""
        ref = "raw:" + hashlib.sha256(event_id.encode()).hexdigest()[:32]
        row = self._seal("raw", ref, key_id, "RAW", payload)
        with self._lock:
            self._append([row])
        return ref

    def lookup(self, ref: str, key_id: str | None = None) -> list[Revealed]:
        """All originals stored under a token (a short token may, rarely, map to more than one)."""
        found, seen = [], set()
        for seg in sorted(self.path.glob("segment-*.jsonl")):
            for line in seg.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row["ref"] != ref or (key_id and row["key_id"] != key_id):
                    continue
                aad = f"{row['kind']}\x1f{row['ref']}\x1f{row['key_id']}".encode()
                try:
                    plain = json.loads(self.aead.decrypt(base64.b64decode(row["nonce"]), base64.b64decode(row["ct"]), aad))
                except Exception as exc:   # wrong key or tampered entry: refuse, do not guess
                    raise VaultError("vault entry cannot be decrypted with this vault key") from exc
                if (row["key_id"], plain["value"]) not in seen:
                    seen.add((row["key_id"], plain["value"]))
                    found.append(Revealed(ref, row["key_id"], plain["label"], plain["value"]))
        return found


class AuditLog:
    """Append-only JSON-lines log of re-identifications; each entry chains the hash of the previous one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _last_hash(self) -> str:
        if not self.path.exists():
            return "0" * 64
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return json.loads(lines[-1])["hash"] if lines else "0" * 64

    def write(self, *, actor: str, role: str, reason: str, ref: str, outcome: str,
              at: dt.datetime | None = None) -> dict:
        entry = {"at": (at or dt.datetime.now(dt.timezone.utc)).isoformat(), "actor": actor, "role": role,
                 "reason": reason, "ref": ref, "outcome": outcome, "prev": self._last_hash()}
        entry["hash"] = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(ln) for ln in self.path.read_text(encoding="utf-8").splitlines() if ln.strip()]

    def verify(self) -> bool:
        """True when no entry was changed or removed from the middle of the chain."""
        prev = "0" * 64
        for e in self.entries():
            body = {k: v for k, v in e.items() if k != "hash"}
            if e["prev"] != prev or hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() != e["hash"]:
                return False
            prev = e["hash"]
        return True
