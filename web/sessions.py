"""Sessions and CSRF tokens.

Sessions live on the server (a random 256-bit id in an HttpOnly, SameSite=Strict cookie,
nothing else on the client), so logging out or expiry really ends them; a restart of
`archiefstroom web` logs everyone out, which for a handful of archivists is acceptable.
Each session has its own CSRF token, sent back in a hidden field of every form. The login
form has no session yet: its token is signed (itsdangerous, cfg.web.session_secret) over a
random nonce kept in a short-lived cookie, so a forged login post from another site fails.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

LOGIN_TOKEN_SECONDS = 30 * 60


@dataclass
class Session:
    user: str
    role: str
    csrf: str
    expires: float
    created: float = field(default_factory=time.time)


class Sessions:
    def __init__(self, minutes: int, clock=time.time):
        self.seconds = minutes * 60
        self.clock = clock
        self._by_key: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(sid: str) -> str:
        # the table holds digests: a dump of memory does not hand out live cookies
        return hashlib.sha256(sid.encode()).hexdigest()

    def create(self, user: str, role: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        s = Session(user, role, secrets.token_urlsafe(32), self.clock() + self.seconds)
        with self._lock:
            self._purge()
            self._by_key[self._key(sid)] = s
        return sid, s

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._by_key.get(self._key(sid))
            if s is not None and s.expires <= self.clock():
                del self._by_key[self._key(sid)]
                return None
            return s

    def end(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._by_key.pop(self._key(sid), None)

    def end_user(self, user: str) -> None:
        with self._lock:
            for k in [k for k, s in self._by_key.items() if s.user == user]:
                del self._by_key[k]

    def _purge(self) -> None:
        now = self.clock()
        for k in [k for k, s in self._by_key.items() if s.expires <= now]:
            del self._by_key[k]


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginTokens:
    """CSRF for the login form: token = signature over a nonce that sits in a cookie."""

    def __init__(self, secret: str):
        self._s = URLSafeTimedSerializer(secret, salt="archiefstroom-web-login")

    @staticmethod
    def nonce() -> str:
        return secrets.token_urlsafe(24)

    def token(self, nonce: str) -> str:
        return self._s.dumps(nonce)

    def check(self, token: str | None, nonce: str | None) -> bool:
        if not token or not nonce:
            return False
        try:
            signed = self._s.loads(token, max_age=LOGIN_TOKEN_SECONDS)
        except BadSignature:
            return False
        return same(signed, nonce)


class Throttle:
    """At most `attempts` failed logins per name in `window` seconds: slows password guessing
    (argon2id already makes each guess cost about 50 ms)."""

    def __init__(self, attempts: int = 5, window: float = 300, clock=time.time):
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failed: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, name: str) -> bool:
        with self._lock:
            recent = [t for t in self._failed.get(name, []) if t > self.clock() - self.window]
            self._failed[name] = recent
            return len(recent) >= self.attempts

    def failed(self, name: str) -> None:
        with self._lock:
            self._failed.setdefault(name, []).append(self.clock())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failed.pop(name, None)
