"""The web interface's users: names, roles and argon2id password hashes in the table `web_users`
of the catalog's database (web/store.py), managed with `archiefstroom web user add|list|remove`.

argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile) is a memory-hard KDF: a
stolen database does not give passwords away cheaply. Hashing and checking happen outside the
database's transaction (about 0.1 s each, by design), so they never hold the lock.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from archiefstroom.ground.catalog_db import Database
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
    """The users of a web.store.Store; every call sees what any process committed."""

    def __init__(self, store):
        self.store = store

    def add(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        if not NAME.match(name):
            raise UserError(f"user name {name!r}: expected 1-64 of a-z 0-9 . _ - (starting with a letter or digit)")
        if role not in ROLES:
            raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password: expected at least {MIN_PASSWORD} characters")
        created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        hashed = _hasher.hash(password)
        upsert = " ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash, " \
                 "created = excluded.created" if replace else ""
        try:
            with self.store.transaction() as db:
                db.execute(f"INSERT INTO web_users (name, role, hash, created) VALUES (?, ?, ?, ?){upsert}",
                           (name, role, hashed, created))
        except Database.IntegrityError:
            raise UserError(f"user {name!r} exists (use --replace to set a new role or password)") from None
        return User(name, role, created)

    def remove(self, name: str) -> None:
        with self.store.transaction() as db:
            if not db.execute("DELETE FROM web_users WHERE name = ? RETURNING name", (name,)):
                raise UserError(f"no user {name!r}")

    def list(self) -> list[User]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT name, role, created FROM web_users ORDER BY name")
        return [User(*r) for r in rows]

    def role_of(self, name: str) -> str | None:
        """The user's role now (None if removed): a session ends when its role changes."""
        with self.store.transaction() as db:
            rows = db.execute("SELECT role FROM web_users WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def verify(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs and their role is known; else None."""
        with self.store.transaction() as db:
            rows = db.execute("SELECT role, hash, created FROM web_users WHERE name = ?", (name,))
        role, hashed, created = rows[0] if rows else (None, _DUMMY, "")
        try:
            _hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if role not in ROLES:
            return None
        return User(name, role, created)


def import_file(db, path: Path) -> dict:
    """Copy the users file of an earlier version (`{"users": {name: {role, hash, created}}}`)
    into `web_users`, hashes as they are (inside the caller's transaction)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("users"), dict) or not all(
            isinstance(u, dict) and isinstance(u.get("role"), str) and isinstance(u.get("hash"), str)
            for u in doc["users"].values()):
        raise UserError(f"{path}: expected {{\"users\": {{name: {{role, hash, created}}}}}}")
    rows = [(name, u["role"], u["hash"], u.get("created", "")) for name, u in sorted(doc["users"].items())]
    db.executemany("INSERT INTO web_users (name, role, hash, created) VALUES (?, ?, ?, ?)", rows)
    return {"imported": len(rows)}
