"""Keyed pseudonyms: HMAC-SHA256 over (label, normalised value) with a secret from a key ring.

The same value under the same key always gives the same token, so a thread stays
readable ("[PERSOON-7f3a2c] replied to [PERSOON-7f3a2c]"); without the key the token
cannot be linked back to the value. Every record carries the id of the key that
made its tokens; rotating means adding a new key and making it active: old records
keep their key id, new records get the new one (tokens then differ across the
rotation by design: that limits linking over long periods).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from archiefstroom.core.pseudonymise.entities import LABELS

# The embedded development stack's key. NOT A SECRET: never use it for real data
# (settings.allow_dev_key must be false in production; see docs/pseudonymisation.md).
DEV_KEY_ID = "dev-insecure"
DEV_KEY = b"archiefstroom-DEVELOPMENT-ONLY-pseudonym-key-not-secret"

_SPACE = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


@functools.lru_cache(maxsize=65_536)
def normalise(label: str, value: str) -> str:
    """One spelling per real value, so different notations of a number or a name share a token.
    Cached: a record's identities are normalised for its tokens and again for the vault."""
    v = unicodedata.normalize("NFKC", value.translate(_INVISIBLE)).strip()
    if label in ("TEL",):
        digits = re.sub(r"\D", "", v)
        if digits.startswith("0031"):
            digits = "0" + digits[4:].removeprefix("0")
        elif digits.startswith("31") and v.lstrip("( ").startswith(("+", "00")):
            digits = "0" + digits[2:].removeprefix("0")
        return digits
    if label in ("BSN", "IBAN", "POSTCODE", "KENTEKEN", "DOSSIER"):
        return re.sub(r"[^0-9A-Za-z]", "", v).upper()
    if label == "EMAIL":
        v = re.sub(r"(?i)\s*[\(\[\{<]?\s*\b(?:at|apenstaartje)\b\s*[\)\]\}>]?\s*|\s*[\(\[\{<]\s*@\s*[\)\]\}>]\s*", "@", v)
        v = re.sub(r"(?i)\s*[\(\[\{<]?\s*\b(?:punt|dot)\b\s*[\)\]\}>]?\s*", ".", v)
        return _SPACE.sub("", v).lower()
    if label == "ACCOUNT":
        return v.lstrip("@").lower()
    return _SPACE.sub(" ", v).casefold()


# 64 bits: among 10^9 values of one label about 0.03 pairs share a token (n^2 / 2^65); at 6 hex
# digits (24 bits) a few thousand values already make a pair. The vault refuses a pair anyway.
DEFAULT_TOKEN_HEX = 16
_TOKEN_CACHE_MAX = 100_000


class KeyedHash:
    """HMAC-SHA256 under one key with its padded key blocks hashed once (RFC 2104): the same
    digest as hmac.digest at a third of its cost, which matters at several tokens a record."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes):
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True)
class KeyRing:
    """Pseudonymisation keys by id; `active` makes new tokens, the others are kept for the record.
    A key's tokens keep the length they were made with: `lengths` holds the keys whose length
    differs from `token_hex` (older keys of 6 hex digits, after a rotation to longer tokens)."""
    keys: dict[str, bytes]
    active: str
    token_hex: int = DEFAULT_TOKEN_HEX
    lengths: dict[str, int] = field(default_factory=dict)
    _hashes: dict[str, KeyedHash] = field(default_factory=dict, init=False, repr=False, compare=False)
    _tokens: dict[tuple[str, str, str], str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.active not in self.keys:
            raise ValueError(f"active: expected one of the key ids {sorted(self.keys)}")
        for n in (self.token_hex, *self.lengths.values()):
            if not 6 <= n <= 32:
                raise ValueError("token_hex: expected 6..32 hex characters")
        for kid, key in self.keys.items():
            if len(key) < 16:
                raise ValueError(f"keys.{kid}: expected at least 16 bytes of key material")

    def length(self, key_id: str | None = None) -> int:
        return self.lengths.get(key_id or self.active, self.token_hex)

    def token(self, label: str, value: str, key_id: str | None = None) -> str:
        kid = key_id or self.active
        memo = (kid, label, value)
        token = self._tokens.get(memo)
        if token is None:
            keyed = self._hashes.get(kid)
            if keyed is None:
                keyed = self._hashes[kid] = KeyedHash(self.keys[kid])
            digest = keyed.digest(f"{label}\x1f{normalise(label, value)}".encode("utf-8")).hex()[: self.length(kid)]
            token = f"[{LABELS.get(label, label)}-{digest}]"
            if len(self._tokens) >= _TOKEN_CACHE_MAX:
                self._tokens.clear()
            self._tokens[memo] = token
        return token

    def forget(self) -> None:
        """Drop the cached tokens (and normalised values): a benchmark's repeat starts cold."""
        self._tokens.clear()
        normalise.cache_clear()

    def rotated(self, new_id: str, new_key: bytes | None = None, token_hex: int | None = None) -> "KeyRing":
        """A ring with a fresh key made active; old keys stay (for reading, not for new tokens)
        with the token length they were made with. New tokens get `token_hex`, at least the default."""
        if new_id in self.keys:
            raise ValueError(f"key id {new_id!r} already exists: key ids are never reused")
        n = token_hex or max(self.token_hex, DEFAULT_TOKEN_HEX)
        lengths = {kid: self.length(kid) for kid in self.keys if self.length(kid) != n}
        return KeyRing({**self.keys, new_id: new_key or secrets.token_bytes(32)}, new_id, n, lengths)


def decode_key(text: str) -> bytes:
    """Key material as written in config or a key file: 'base64:...', 'hex:...' or a long passphrase."""
    text = text.strip()
    if text.startswith("base64:"):
        return base64.b64decode(text[7:])
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    return text.encode("utf-8")


def encode_key(key: bytes) -> str:
    return "base64:" + base64.b64encode(key).decode("ascii")
