"""The web interface's users: a JSON file (cfg.web.users_file) of names, roles and argon2id
password hashes, managed with `archiefstroom web user add|list|remove`.

argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile) is a memory-hard KDF: a
stolen users file does not give passwords away cheaply. The file is written whole to a
temporary file and renamed (never half-written), readable by its owner only.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from archiefstroom.web.roles import ROLES

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# checked against when a name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY = _hasher.hash("archiefstroom-no-such-user")


@dataclass
class User:
    name: str
    role: str
    created: str


class UserError(ValueError):
    pass


class Users:
    def __init__(self, path: Path):
        self.path = Path(path)

    def _load(self) -> dict:
        if not self.path.exists():
            return {"users": {}}
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("users"), dict):
            raise UserError(f"{self.path}: expected {{\"users\": {{name: {{role, hash, created}}}}}}")
        return doc

    def _save(self, doc: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        if not NAME.match(name):
            raise UserError(f"user name {name!r}: expected 1-64 of a-z 0-9 . _ - (starting with a letter or digit)")
        if role not in ROLES:
            raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password: expected at least {MIN_PASSWORD} characters")
        doc = self._load()
        if name in doc["users"] and not replace:
            raise UserError(f"user {name!r} exists (use --replace to set a new role or password)")
        created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        doc["users"][name] = {"role": role, "hash": _hasher.hash(password), "created": created}
        self._save(doc)
        return User(name, role, created)

    def remove(self, name: str) -> None:
        doc = self._load()
        if name not in doc["users"]:
            raise UserError(f"no user {name!r}")
        del doc["users"][name]
        self._save(doc)

    def list(self) -> list[User]:
        return [User(n, u["role"], u.get("created", "")) for n, u in sorted(self._load()["users"].items())]

    def role_of(self, name: str) -> str | None:
        """The user's role now (None if removed): a session ends when its role changes."""
        try:
            entry = self._load()["users"].get(name)
        except (OSError, ValueError):
            return None
        return entry.get("role") if isinstance(entry, dict) else None

    def verify(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs and their role is known; else None."""
        entry = self._load()["users"].get(name)
        try:
            _hasher.verify(entry["hash"] if entry else _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if entry is None or entry.get("role") not in ROLES:
            return None
        return User(name, entry["role"], entry.get("created", ""))
