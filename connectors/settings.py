"""The connector configuration file (`archiefstroom connect PLATFORM --config FILE`),
read through archiefstroom.ground.settings.load_yaml. Secrets are never in this file: it
names the environment variable or the file that holds them."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from archiefstroom.core.fields import check

PLATFORMS = ("mastodon", "x", "facebook", "instagram", "youtube", "bluesky", "linkedin", "exports")
DEFAULT_BASE_URLS = {
    "x": "https://api.x.com",
    "facebook": "https://graph.facebook.com/v21.0",
    "instagram": "https://graph.facebook.com/v21.0",
    "youtube": "https://www.googleapis.com",
    "bluesky": "https://public.api.bsky.app",
    "linkedin": "https://api.linkedin.com",
}
DEFAULT_STREAM_URLS = {
    "x": "https://api.x.com/2/tweets/search/stream",
    "bluesky": "wss://jetstream2.us-east.bsky.network/subscribe",
}
_name = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
_env = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_url = lambda v: v == "" or v.startswith(("http://", "https://", "ws://", "wss://"))  # noqa: E731


@dataclass
class AccountRef:
    """A monitored government account: platform id (for Bluesky a DID, LinkedIn an organisation URN)."""
    id: Annotated[str, check(lambda v: bool(v.strip()), "a non-empty account id")]
    handle: str = ""
    display_name: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "handle": self.handle or self.id, "display_name": self.display_name}


@dataclass
class HttpSettings:
    """`timeout_seconds` bounds every wait for bytes (so a stalled response or stream is retried),
    `connect_timeout_seconds` the TCP and TLS set-up."""
    timeout_seconds: Annotated[float, check(lambda v: 1 <= v <= 600, "seconds between 1 and 600")] = 30.0
    connect_timeout_seconds: Annotated[float, check(lambda v: 1 <= v <= 120, "seconds between 1 and 120")] = 10.0
    max_retries: Annotated[int, check(lambda v: 0 <= v <= 50, "an integer 0..50")] = 8
    backoff_base_seconds: Annotated[float, check(lambda v: 0.001 <= v <= 60, "seconds between 0.001 and 60")] = 1.0
    backoff_max_seconds: Annotated[float, check(lambda v: 0.01 <= v <= 3600, "seconds between 0.01 and 3600")] = 300.0
    max_rate_limit_wait_seconds: Annotated[float, check(lambda v: 0 <= v <= 86400,
                                                        "seconds between 0 and 86400")] = 900.0


@dataclass
class Secret:
    """Where a secret lives: an environment variable, or a file (first line)."""
    env: Annotated[str | None, check(lambda v: v is None or bool(_env.match(v)), "an environment variable name")] = None
    file: Path | None = None

    def value(self) -> str | None:
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.file:
            try:
                return self.file.read_text(encoding="utf-8").splitlines()[0].strip() or None
            except (OSError, IndexError):
                return None
        return None


@dataclass
class WebhookSettings:
    host: str = "127.0.0.1"
    port: Annotated[int, check(lambda v: 0 <= v < 65536, "a TCP port 0..65535 (0 = any free port)")] = 8088
    path: Annotated[str, check(lambda v: v.startswith("/"), "a URL path starting with '/'")] = "/webhook"
    verify_token: Secret = field(default_factory=lambda: Secret(env="META_VERIFY_TOKEN"))
    app_secret: Secret = field(default_factory=lambda: Secret(env="META_APP_SECRET"))
    max_body_bytes: Annotated[int, check(lambda v: 1024 <= v <= 50_000_000, "bytes 1 KiB..50 MB")] = 5_000_000
    # slow clients: a request's headers, and then its body, must arrive within these
    header_timeout_seconds: Annotated[float, check(lambda v: 0.1 <= v <= 300, "seconds between 0.1 and 300")] = 10.0
    body_timeout_seconds: Annotated[float, check(lambda v: 0.1 <= v <= 300, "seconds between 0.1 and 300")] = 10.0
    # open connections at most; a request beyond them is answered 503 (Meta retries)
    max_connections: Annotated[int, check(lambda v: 2 <= v <= 100_000, "an integer 2..100000")] = 1024


@dataclass
class ConnectorSettings:
    platform: Literal["mastodon", "x", "facebook", "instagram", "youtube", "bluesky", "linkedin", "exports"]
    name: Annotated[str, check(lambda v: v == "" or bool(_name.match(v)),
                               "a name of letters, digits, '.', '_', '-'")] = ""
    mode: Literal["poll", "stream", "webhook", "import"] = "poll"
    base_url: Annotated[str, check(_url, "an http(s) URL")] = ""
    stream_url: Annotated[str, check(_url, "an http(s) or ws(s) URL")] = ""
    token: Secret = field(default_factory=Secret)
    accounts: list[AccountRef] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)       # YouTube video ids to follow
    posts: list[str] = field(default_factory=list)        # Graph API post/media ids to backfill comments of
    files: list[Path] = field(default_factory=list)       # exports to import
    export_format: Literal["x-archive", "facebook-dyi", "auto"] = "auto"
    poll_interval_seconds: Annotated[float, check(lambda v: 0 <= v <= 86400, "seconds between 0 and 86400")] = 60.0
    thread_window_days: Annotated[float, check(lambda v: 0 <= v <= 3650, "days between 0 and 3650")] = 14.0
    backfill: bool = True
    page_size: Annotated[int, check(lambda v: 1 <= v <= 1000, "an integer 1..1000")] = 40
    stream_rewind_seconds: Annotated[float, check(lambda v: 0 <= v <= 3600, "seconds between 0 and 3600")] = 5.0
    # WebSocket (Jetstream): a larger message is refused before it is read, and the stream reconnects
    stream_max_message_bytes: Annotated[int, check(lambda v: 1024 <= v <= 64 * 2**20, "bytes 1 KiB..64 MiB")] = 2**20
    stream_ping_seconds: Annotated[float, check(lambda v: 1 <= v <= 600, "seconds between 1 and 600")] = 20.0
    data_dir: Path | None = None
    metrics_port: Annotated[int | None, check(lambda v: v is None or 0 <= v < 65536, "a TCP port or null")] = None
    # /metrics, /healthz, /readyz; 0.0.0.0 in a pod, so that the kubelet and Prometheus reach them
    metrics_host: Annotated[str, check(bool, "a host to bind")] = "127.0.0.1"
    http: HttpSettings = field(default_factory=HttpSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)

    def validate(self):
        if self.platform == "exports":
            if not self.files:
                raise ValueError("files: expected at least one export file for platform exports")
            return
        if self.mode == "webhook" and self.platform not in ("facebook", "instagram"):
            raise ValueError("mode: expected poll or stream (webhooks exist for facebook and instagram)")
        if self.mode == "stream" and self.platform not in ("mastodon", "x", "bluesky"):
            raise ValueError("mode: expected poll (streaming exists for mastodon, x and bluesky)")
        if self.mode == "import":
            raise ValueError("mode: expected import only with platform exports")
        if self.platform == "mastodon" and not self.base_url:
            raise ValueError("base_url: expected the Mastodon instance URL, e.g. https://social.overheid.nl")
        if self.mode == "poll" and not self.accounts and not self.videos and not self.posts:
            raise ValueError("accounts: expected at least one account (or videos / posts) to capture")

    @property
    def connector_name(self) -> str:
        return self.name or f"{self.platform}-{self.mode}"

    @property
    def api(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS.get(self.platform, "")).rstrip("/")

    @property
    def stream(self) -> str:
        return self.stream_url or DEFAULT_STREAM_URLS.get(self.platform, "")
