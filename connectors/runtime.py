"""The I/O edge shared by all connectors: HTTP with rate-limit handling, durable
checkpoints, the event sink (Kafka) and metrics.

Delivery order per batch is: fetch -> normalise -> sink.send (returns when Kafka
has acknowledged), and sink.dead_letter for what cannot be read (awaited too) ->
checkpoint.save. A crash between the last two re-sends a batch; event ids are
stable, so downstream recognises the repeats.

Checkpoints live on a compacted Kafka topic (KafkaCheckpoint, issue 16), so a connector
rescheduled on another machine, or restarted on an empty disk, resumes where it stopped;
the file form (Checkpoint) remains for --dry-run and single-host set-ups.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import httpx
import tenacity

from archiefstroom.core.envelope import raw_message
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import metrics as ground_metrics

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ metrics

class Metrics:
    """One connector's counters, gauges and histograms, counted into the process's one
    Prometheus registry (ground/metrics.py) as `archiefstroom_connector_<name>` with a
    `connector` label, plus the labels a metric declares (`reason`, `outcome`).

    `counters` and `gauges` hold what this object itself counted (summed over the extra
    labels), for tests and summaries; the registry sums every object of one connector name."""

    COUNTERS = {
        "events_captured": ("canonical events the sink acknowledged", ()),
        "errors": ("failed platform requests, polls and deliveries", ()),
        "dead_letters": ("platform payloads no normaliser could read, put on the dead-letter topic", ()),
        "http_requests": ("requests sent to the platform API", ()),
        "http_retries": ("platform API requests retried", ()),
        "rate_limited": ("throttling answers of the platform API", ()),
        "webhook_rejected": ("webhook requests refused: verification, signature, size or time", ("reason",)),
    }
    GAUGES = {
        "lag_seconds": ("capture time minus the creation time of the newest captured item", ()),
        "last_success_timestamp": ("when events were last acknowledged by the sink (epoch seconds)", ()),
        "webhook_requests_in_progress": ("webhook requests being read or stored now", ()),
    }
    HISTOGRAMS = {
        "webhook_request_seconds": ("webhook POST from its headers to the answer, by outcome", ("outcome",),
                                    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)),
    }

    def __init__(self, connector: str):
        self.connector = connector
        self._lock = threading.Lock()
        self.counters: dict[str, float] = {name: 0 for name in self.COUNTERS}
        self.gauges: dict[str, float] = {"lag_seconds": 0.0, "last_success_timestamp": 0.0}
        for name, (_, labels) in self.COUNTERS.items():
            if not labels:   # shown at 0 from the start, as a scraper expects
                self._counter(name, labels).labels(connector=connector)
        for name in self.gauges:
            self._gauge(name).labels(connector=connector)

    def inc(self, name: str, by: float = 1, **labels: str) -> None:
        self._counter(name, tuple(sorted(labels))).labels(connector=self.connector, **labels).inc(by)
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + by

    def set(self, name: str, value: float) -> None:
        self._gauge(name).labels(connector=self.connector).set(value)
        with self._lock:
            self.gauges[name] = value

    def observe(self, name: str, value: float, **labels: str) -> None:
        doc, names, buckets = self.HISTOGRAMS[name]
        ground_metrics.histogram(f"archiefstroom_connector_{name}", doc, ("connector", *names), buckets) \
            .labels(connector=self.connector, **labels).observe(value)

    def in_progress(self, name: str):
        """A context manager that counts itself in gauge `name` while it runs."""
        return self._gauge(name).labels(connector=self.connector).track_inprogress()

    def observe_events(self, events: list[dict], now: float | None = None) -> None:
        if not events:
            return
        self.inc("events_captured", len(events))
        now = now or time.time()
        newest = max(epoch(e.get("created_at")) for e in events)
        self.set("lag_seconds", max(0.0, now - newest))
        self.set("last_success_timestamp", now)

    def serve(self, host: str, port: int):
        """The process's metrics on http://host:port/metrics (ground.metrics.serve)."""
        return ground_metrics.serve(host, port)

    def _counter(self, name: str, labels: tuple[str, ...]):
        doc, declared = self.COUNTERS.get(name, (f"connector {name.replace('_', ' ')}", labels))
        return ground_metrics.counter(f"archiefstroom_connector_{name}", doc, ("connector", *declared))

    def _gauge(self, name: str):
        doc, _ = self.GAUGES.get(name, (f"connector {name.replace('_', ' ')}", ()))
        return ground_metrics.gauge(f"archiefstroom_connector_{name}", doc, ("connector",))


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

    def has(self, scope: str, ident: str) -> bool:
        return ident in self.cp.state[self.key].get(scope, ())

    def note(self, scope: str, ident: str) -> None:
        """Remember one id that is not an event's (a dead letter's), dropped with the scope."""
        ids = self.cp.state[self.key].setdefault(scope, [])
        if ident not in ids:
            ids.append(ident)


# ------------------------------------------------------------------ sinks

class ListSink:
    """Collects events in memory (tests, `--dry-run`)."""

    def __init__(self):
        self.events: list[dict] = []
        self.dead: list[tuple[bytes, str, str]] = []

    def send(self, events: list[dict]) -> None:
        self.events.extend(events)

    def dead_letter(self, payload: bytes, reason: str, source: str, platform: str) -> None:
        self.dead.append((payload, reason, source))

    def close(self) -> None:
        pass


class KafkaSink:
    """Produces events to the raw topic; `send` returns once Kafka has acknowledged them all.

    Key and headers by core.envelope.raw_message: a thread stays in one partition, in order,
    and the event's time travels as a header for the pipeline's event-time watermark.
    """

    def __init__(self, cfg, producer=None):
        self.topic, self.dead_topic = cfg.topics.raw, cfg.topics.dead_letter
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

    def dead_letter(self, payload: bytes, reason: str, source: str, platform: str) -> None:
        """A platform payload no connector can read, on the pipeline's dead-letter topic with
        the same headers (reason, source, code) as the pipeline's own, and its platform (for
        `dlq redrive`, which normalises it again); returns once acknowledged."""
        headers = [("reason", reason.encode()), ("source", source.encode()), ("code", b"connector"),
                   ("platform", platform.encode())]
        self.producer.send(self.dead_topic, value=payload, key=source.encode(), headers=headers).get(timeout=60)

    def close(self) -> None:
        self.producer.close()


class StdoutSink:
    def __init__(self, stream):
        self.stream = stream

    def send(self, events: list[dict]) -> None:
        for ev in events:
            self.stream.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def dead_letter(self, payload: bytes, reason: str, source: str, platform: str) -> None:
        log.warning("%s: a payload of %d bytes would be dead-lettered (%s)", source, len(payload), reason)

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ HTTP

class HttpError(RuntimeError):
    """A request failed for good (no personal data: only status and URL path)."""

    def __init__(self, status: int | None, url: str, message: str):
        path = httpx.URL(url).path
        super().__init__(f"HTTP {status or '-'} for {path}: {message}")
        self.status = status


@dataclass
class Response:
    """A successful answer. `text` is None when the body is not UTF-8 (so not JSON either);
    `content` holds the bytes as they came, for a dead letter."""
    status: int
    headers: dict[str, str]
    text: str | None
    url: str
    content: bytes = b""

    def json(self):
        if self.text is None:
            raise ValueError("the body is not UTF-8")
        return json.loads(self.text)


RATE_LIMIT_ERROR_CODES = {4, 17, 32, 613}             # Meta Graph API throttling codes
YOUTUBE_RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded")


class _Retry(Exception):
    """An attempt worth repeating: `delay` seconds as the server said, or None for backoff."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason, self.delay = reason, delay


class HttpClient:
    """GET/POST on one pooled httpx client (HTTP/2 where the server offers it) with retries:
    429 (Retry-After, x-rate-limit-reset, X-RateLimit-Reset, RateLimit-Reset), platform throttling
    answers, 5xx and network errors (a read timeout included: a stalled body), with exponential
    backoff and jitter. The policy is one tenacity `Retrying`. When a response says the remaining
    quota is zero, the next request waits for the reset."""

    def __init__(self, *, timeout: float = 30, connect_timeout: float = 10, max_retries: int = 8,
                 backoff_base: float = 1.0, backoff_max: float = 300.0, max_wait: float = 900.0,
                 headers: dict | None = None, metrics: Metrics | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None, stop: threading.Event | None = None):
        self.backoff_base, self.backoff_max, self.max_wait = backoff_base, backoff_max, max_wait
        self.headers = {"User-Agent": "archiefstroom-connector/1.0", "Accept": "application/json", **(headers or {})}
        # the read timeout bounds every wait for bytes, so it is also what notices a stalled stream
        self.client = httpx.Client(http2=True, follow_redirects=True, default_encoding="utf-8",
                                   timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)))
        self.metrics = metrics or Metrics("http")
        self._sleep, self.clock = sleep, clock
        self.rng = rng or random.Random()
        self.stop = stop
        self._not_before = 0.0
        self.waits: list[float] = []   # every wait taken, for tests and debugging
        self.retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry), stop=tenacity.stop_after_attempt(max_retries + 1),
            wait=self._delay, sleep=self.wait, before_sleep=self._count_retry, retry_error_callback=self._give_up)

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
        return self.request("GET", url, params=params, headers=headers)

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                params: dict | None = None) -> Response:
        resp = self.retrying(self._attempt, method, url, body, headers, params, False)
        try:
            text = resp.content.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return Response(resp.status_code, dict(resp.headers), text, str(resp.url), resp.content)

    @contextlib.contextmanager
    def stream(self, url: str, headers: dict | None = None) -> Iterator[httpx.Response]:
        """An open streaming response (SSE, JSON lines; read with `iter_lines`); the connect is
        retried like `request`, a stall past the read timeout raises httpx.ReadTimeout."""
        resp = self.retrying(self._attempt, "GET", url, None, headers, None, True)
        try:
            yield resp
        finally:
            resp.close()

    def _attempt(self, method, url, body, headers, params, stream) -> httpx.Response:
        pause = self._not_before - self.clock()
        if pause > 0:
            self.wait(pause)
        self.metrics.inc("http_requests")
        query = {k: v for k, v in (params or {}).items() if v is not None}
        target = httpx.URL(url).copy_merge_params(query) if query else url
        req = self.client.build_request(method, target, content=body, headers={**self.headers, **(headers or {})})
        try:
            resp = self.client.send(req, stream=stream)
            if stream and not resp.is_success:
                try:
                    resp.read()
                finally:
                    resp.close()
        except httpx.TransportError as exc:
            raise _Retry(type(exc).__name__) from None
        hdrs = dict(resp.headers)
        if resp.is_success:
            self._note_quota(hdrs)
            return resp
        raise self._failure(resp.status_code, hdrs, resp.content.decode("utf-8", "replace"), url)

    def _failure(self, status: int, hdrs: dict, text: str, url: str) -> Exception:
        """What an unsuccessful answer means: a _Retry (after the wait the server asked for, if it
        did) or, when repeating cannot help, an HttpError."""
        throttled = status in (420, 429)
        if status in (400, 403) and text:
            throttled = any(r in text for r in YOUTUBE_RATE_REASONS) or _meta_throttled(text)
        if throttled:
            self.metrics.inc("rate_limited")
            return _Retry(f"HTTP {status}", self._reset_delay(hdrs))
        if status >= 500 or status == 408:
            return _Retry(f"HTTP {status}")
        self.metrics.inc("errors")
        return HttpError(status, url, "not retryable")

    def _delay(self, state: tenacity.RetryCallState) -> float:
        told = state.outcome.exception().delay
        return told if told is not None else self.backoff(state.attempt_number - 1)

    def _count_retry(self, state: tenacity.RetryCallState) -> None:
        self.metrics.inc("http_retries")
        log.info("retrying %s in %.1fs (%s)", httpx.URL(state.args[1]).path, state.upcoming_sleep,
                 state.outcome.exception().reason)

    def _give_up(self, state: tenacity.RetryCallState):
        self.metrics.inc("errors")
        raise HttpError(None, state.args[1], f"gave up after {state.attempt_number} attempts "
                                             f"({state.outcome.exception().reason})")

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
