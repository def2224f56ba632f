"""The I/O edge shared by all connectors: HTTP with rate-limit handling, durable
checkpoints, the event sink (Kafka) and metrics.

Delivery order per batch is: fetch -> normalise -> sink.send (returns when Kafka
has acknowledged) -> checkpoint.save. A crash between the last two re-sends a
batch; event ids are stable, so downstream recognises the repeats.

Checkpoints live on a compacted Kafka topic (KafkaCheckpoint, issue 16), so a connector
rescheduled on another machine, or restarted on an empty disk, resumes where it stopped;
the file form (Checkpoint) remains for --dry-run and single-host set-ups.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import random
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable

from archiefstroom.core.envelope import raw_message
from archiefstroom.ground import kafka as kafka_clients

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ metrics

class Metrics:
    """Counters and gauges of one connector, rendered in Prometheus text format."""

    def __init__(self, connector: str):
        self.connector = connector
        self._lock = threading.Lock()
        self.counters: dict[str, float] = {k: 0 for k in (
            "events_captured", "errors", "http_requests", "http_retries", "rate_limited", "webhook_rejected")}
        self.gauges: dict[str, float] = {"lag_seconds": 0.0, "last_success_timestamp": 0.0}

    def inc(self, name: str, by: float = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + by

    def set(self, name: str, value: float) -> None:
        with self._lock:
            self.gauges[name] = value

    def observe_events(self, events: list[dict], now: float | None = None) -> None:
        if not events:
            return
        self.inc("events_captured", len(events))
        now = now or time.time()
        newest = max(epoch(e.get("created_at")) for e in events)
        self.set("lag_seconds", max(0.0, now - newest))
        self.set("last_success_timestamp", now)

    def render(self) -> str:
        lines = []
        with self._lock:
            for name, value in sorted(self.counters.items()):
                lines += [f"# TYPE archiefstroom_connector_{name}_total counter",
                          f'archiefstroom_connector_{name}_total{{connector="{self.connector}"}} {value}']
            for name, value in sorted(self.gauges.items()):
                lines += [f"# TYPE archiefstroom_connector_{name} gauge",
                          f'archiefstroom_connector_{name}{{connector="{self.connector}"}} {value}']
        return "\n".join(lines) + "\n"

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = metrics.render().encode()
                self.send_response(200 if self.path.startswith("/metrics") else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
        return server


def epoch(value) -> float:
    """Seconds since the epoch of an ISO-8601 time; now when it cannot be read."""
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


# ------------------------------------------------------------------ checkpoints

class Checkpoint:
    """A JSON document of cursors, replaced atomically (temp file, fsync, rename, fsync dir)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.state: dict = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.state = {}
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"{self.path}: checkpoint file is damaged; move it away to start over") from None

    def get(self, key: str, default=None):
        return self.state.get(key, default)

    def set(self, key: str, value) -> None:
        self.state[key] = value

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.state, f, ensure_ascii=False, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def close(self) -> None:
        pass


class KafkaCheckpoint(Checkpoint):
    """The same JSON document as the value of the connector's name on a compacted topic.

    `save` returns once the broker has acknowledged the write (acks=all), like the sink; the
    last value per key is the checkpoint, so compaction keeps exactly what a restart needs.
    A file checkpoint left by an earlier version (`migrate_from`) is taken over once, when the
    topic has nothing for this connector yet."""

    def __init__(self, kafka, topic: str, name: str, *, producer=None, migrate_from: Path | None = None):
        self.kafka, self.topic, self.name, self.path = kafka, topic, name, None
        kafka_clients.ensure_topics(kafka, [topic], 1, compacted=[topic])
        stored = kafka_clients.read_compacted(kafka, topic).get(name.encode("utf-8"))
        self._own_producer = producer is None
        self.producer = producer or kafka_clients.producer(kafka)
        if stored:
            try:
                self.state = json.loads(stored)
            except (ValueError, UnicodeDecodeError):
                raise ValueError(f"{topic}/{name}: checkpoint is damaged; write a new one to start over") from None
        elif migrate_from is not None and Path(migrate_from).exists():
            self.state = Checkpoint(migrate_from).state
            self.save()
            log.info("checkpoint of %s taken over from %s into topic %s", name, migrate_from, topic)
        else:
            self.state = {}

    def save(self) -> None:
        value = json.dumps(self.state, ensure_ascii=False, sort_keys=True).encode("utf-8")
        future = self.producer.send(self.topic, key=self.name.encode("utf-8"), value=value)
        self.producer.flush()
        future.get(timeout=60)

    def close(self) -> None:
        if self._own_producer:
            self.producer.close()


def open_checkpoint(cfg, name: str, data_dir: Path, *, on_kafka: bool = True, producer=None) -> Checkpoint:
    """The checkpoint of connector `name`: on `topics.connector_checkpoints` when set and
    `on_kafka` (not a dry run), else the file `<data_dir>/connectors/<name>.json`.
    `producer`: the sink's, so events and checkpoint go out through one client."""
    path = Path(data_dir) / "connectors" / f"{name}.json"
    topic = cfg.topics.connector_checkpoints
    if not on_kafka or not topic:
        return Checkpoint(path)
    return KafkaCheckpoint(cfg.kafka, topic, name, producer=producer, migrate_from=path)


class Seen:
    """Event ids already sent, per scope (a thread, a video), kept in the checkpoint.

    Snapshot-style APIs (a thread's context, a video's comments) return the same
    items on every poll; this keeps re-sends out. Edits have their own event ids.
    """

    def __init__(self, checkpoint: Checkpoint, key: str = "seen"):
        self.cp, self.key = checkpoint, key
        self.cp.state.setdefault(key, {})

    def new(self, scope: str, events: Iterable[dict]) -> list[dict]:
        seen = set(self.cp.state[self.key].get(scope, []))
        out, batch = [], set()
        for ev in events:
            if ev["event_id"] not in seen and ev["event_id"] not in batch:
                out.append(ev)
                batch.add(ev["event_id"])
        return out

    def mark(self, scope: str, events: Iterable[dict]) -> None:
        ids = self.cp.state[self.key].setdefault(scope, [])
        known = set(ids)
        ids.extend(e["event_id"] for e in events if e["event_id"] not in known)

    def drop(self, scope: str) -> None:
        self.cp.state[self.key].pop(scope, None)


# ------------------------------------------------------------------ sinks

class ListSink:
    """Collects events in memory (tests, `--dry-run`)."""

    def __init__(self):
        self.events: list[dict] = []

    def send(self, events: list[dict]) -> None:
        self.events.extend(events)

    def close(self) -> None:
        pass


class KafkaSink:
    """Produces events to the raw topic; `send` returns once Kafka has acknowledged them all.

    Key and headers by core.envelope.raw_message: a thread stays in one partition, in order,
    and the event's time travels as a header for the pipeline's event-time watermark.
    """

    def __init__(self, cfg, producer=None):
        self.topic = cfg.topics.raw
        self.producer = producer or kafka_clients.producer(cfg.kafka)

    def send(self, events: list[dict]) -> None:
        futures = []
        for ev in events:
            key, headers = raw_message(ev)
            value = json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            futures.append(self.producer.send(self.topic, key=key, value=value, headers=headers))
        self.producer.flush()
        for f in futures:
            f.get(timeout=60)

    def close(self) -> None:
        self.producer.close()


class StdoutSink:
    def __init__(self, stream):
        self.stream = stream

    def send(self, events: list[dict]) -> None:
        for ev in events:
            self.stream.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ HTTP

class HttpError(RuntimeError):
    """A request failed for good (no personal data: only status and URL path)."""

    def __init__(self, status: int | None, url: str, message: str):
        path = urllib.parse.urlsplit(url).path
        super().__init__(f"HTTP {status or '-'} for {path}: {message}")
        self.status = status


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    url: str

    def json(self):
        return json.loads(self.text)


RATE_LIMIT_ERROR_CODES = {4, 17, 32, 613}             # Meta Graph API throttling codes
YOUTUBE_RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded")


class HttpClient:
    """GET/POST with retries: 429 (Retry-After, x-rate-limit-reset, X-RateLimit-Reset, RateLimit-Reset),
    platform throttling answers, 5xx and network errors, with exponential backoff and full jitter.
    When a response says the remaining quota is zero, the next request waits for the reset."""

    def __init__(self, *, timeout: float = 30, max_retries: int = 8, backoff_base: float = 1.0,
                 backoff_max: float = 300.0, max_wait: float = 900.0, headers: dict | None = None,
                 metrics: Metrics | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None,
                 stop: threading.Event | None = None):
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff_base, self.backoff_max, self.max_wait = backoff_base, backoff_max, max_wait
        self.headers = {"User-Agent": "archiefstroom-connector/1.0", "Accept": "application/json", **(headers or {})}
        self.metrics = metrics or Metrics("http")
        self._sleep, self.clock = sleep, clock
        self.rng = rng or random.Random()
        self.stop = stop
        self._not_before = 0.0
        self.waits: list[float] = []   # every wait taken, for tests and debugging

    def wait(self, seconds: float) -> None:
        seconds = max(0.0, min(seconds, self.max_wait))
        self.waits.append(seconds)
        if self.stop is not None:
            if self.stop.wait(seconds):
                raise InterruptedError("connector stopping")
        else:
            self._sleep(seconds)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> Response:
        if params:
            query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        return self.request("GET", url, headers=headers)

    def open_stream(self, url: str, headers: dict | None = None):
        """An open streaming response (SSE, JSON lines); retries the connect like `request`."""
        return self._send("GET", url, None, headers, stream=True)

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        return self._send(method, url, body, headers, stream=False)

    def _send(self, method, url, body, headers, stream):
        attempt = 0
        while True:
            pause = self._not_before - self.clock()
            if pause > 0:
                self.wait(pause)
            self.metrics.inc("http_requests")
            req = urllib.request.Request(url, data=body, method=method, headers={**self.headers, **(headers or {})})
            try:
                resp = urllib.request.urlopen(req, timeout=self.timeout)
                hdrs = {k.lower(): v for k, v in resp.headers.items()}
                self._note_quota(hdrs)
                if stream:
                    return resp
                text = resp.read().decode("utf-8")
                resp.close()
                return Response(resp.status, hdrs, text, url)
            except urllib.error.HTTPError as exc:
                hdrs = {k.lower(): v for k, v in (exc.headers or {}).items()}
                text = exc.read().decode("utf-8", "replace") if exc.fp else ""
                delay = self._retry_delay(exc.code, hdrs, text, attempt)
                if delay is None:
                    self.metrics.inc("errors")
                    raise HttpError(exc.code, url, "not retryable") from None
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as exc:
                delay, reason = self.backoff(attempt), type(getattr(exc, "reason", exc)).__name__
            if attempt >= self.max_retries:
                self.metrics.inc("errors")
                raise HttpError(None, url, f"gave up after {attempt + 1} attempts ({reason})")
            attempt += 1
            self.metrics.inc("http_retries")
            log.info("retrying %s in %.1fs (%s)", urllib.parse.urlsplit(url).path, delay, reason)
            self.wait(delay)

    def _retry_delay(self, status: int, hdrs: dict, text: str, attempt: int) -> float | None:
        throttled = status in (420, 429)
        if status in (400, 403) and text:
            throttled = any(r in text for r in YOUTUBE_RATE_REASONS) or _meta_throttled(text)
        if throttled:
            self.metrics.inc("rate_limited")
            told = self._reset_delay(hdrs)
            return told if told is not None else self.backoff(attempt)
        if status >= 500 or status == 408:
            return self.backoff(attempt)
        return None

    def _reset_delay(self, hdrs: dict) -> float | None:
        """Seconds to wait as the server says, from whichever header it uses."""
        now = self.clock()
        ra = hdrs.get("retry-after")
        if ra:
            if ra.strip().isdigit():
                return float(ra)
            try:
                return max(0.0, email.utils.parsedate_to_datetime(ra).timestamp() - now)
            except (TypeError, ValueError):
                pass
        reset = hdrs.get("x-rate-limit-reset") or hdrs.get("x-ratelimit-reset")
        if reset:
            reset = reset.strip()
            if reset.replace(".", "", 1).isdigit():
                value = float(reset)
                return max(0.0, value - now) if value > now - 365 * 86400 else value   # epoch (X) or delta
            try:  # Mastodon: ISO-8601 time
                return max(0.0, dt.datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)
            except ValueError:
                pass
        if hdrs.get("ratelimit-reset", "").strip().isdigit():
            return float(hdrs["ratelimit-reset"])
        usage = hdrs.get("x-business-use-case-usage")
        if usage:
            try:
                minutes = max(int(v.get("estimated_time_to_regain_access") or 0)
                              for entries in json.loads(usage).values() for v in entries)
                if minutes:
                    return minutes * 60.0
            except (ValueError, AttributeError, TypeError):
                pass
        return None

    def _note_quota(self, hdrs: dict) -> None:
        remaining = hdrs.get("x-rate-limit-remaining") or hdrs.get("x-ratelimit-remaining") \
            or hdrs.get("ratelimit-remaining")
        if remaining is not None and remaining.strip() == "0":
            delay = self._reset_delay({k: v for k, v in hdrs.items() if k != "retry-after"})
            if delay:
                self._not_before = self.clock() + min(delay, self.max_wait)


def _meta_throttled(text: str) -> bool:
    try:
        err = json.loads(text).get("error") or {}
    except (ValueError, AttributeError):
        return False
    return err.get("code") in RATE_LIMIT_ERROR_CODES or 80001 <= int(err.get("code") or 0) <= 80014
