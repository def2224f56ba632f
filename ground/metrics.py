"""The one way to count outside Beam: one prometheus_client registry per process, its
metrics declared once by name, and its HTTP endpoint with health and readiness.

A metric is declared where it is first used (`counter`, `gauge`, `histogram`); asking again
for the same name returns the same metric, so two objects of one process count into one
series. Asking for a name with another kind or other labels is a programming error and
raises. The Beam pipeline counts with Beam's own counters (transforms/metrics.py); `run`
copies what its runner reports into this registry (archiefstroom/runner.py).

The endpoint (`serve`, the same for `run`, `connect`, `catalog run` and `web`):
  /metrics  the registry in Prometheus text (or OpenMetrics, by the scraper's Accept header)
  /healthz  200 while the process serves at all (liveness)
  /readyz   200 when every readiness check of the process passes, else 503; the body is JSON
            {"ready": bool, "checks": {name: "ok" | what failed}}. A check is a cheap callable
            (`add_check`): it answers from state the process keeps (e.g. when the broker last
            answered), it does no I/O of its own, so a probe never waits on a dead dependency.
Nothing else is served (404), and requests are not logged.
"""
from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from typing import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, make_wsgi_app
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString
from prometheus_client.metrics import MetricWrapperBase, disable_created_metrics

log = logging.getLogger(__name__)

# the `_created` series double every counter's lines and tell a scraper nothing it needs
disable_created_metrics()

REGISTRY = CollectorRegistry()
# open file descriptors, memory and CPU: what a flood of clients shows first
ProcessCollector(registry=REGISTRY)

_lock = threading.Lock()
_declared: dict[str, tuple[type, tuple[str, ...], MetricWrapperBase]] = {}


def counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    """A counter; exposed as `<name>_total`."""
    return _declare(Counter, name, documentation, labels)


def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
    return _declare(Gauge, name, documentation, labels)


def histogram(name: str, documentation: str, labels: tuple[str, ...] = (),
              buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS) -> Histogram:
    return _declare(Histogram, name, documentation, labels, buckets=buckets)


def counted_histogram(name: str, documentation: str, buckets: tuple[float, ...]) -> "CountedHistogram":
    """A histogram whose bucket counts are counted elsewhere and added here (`add`): the
    pipeline's, which its runner reports as Beam counters. Exposed like `histogram`."""
    return _declare(CountedHistogram, name, documentation, (), buckets=buckets)


class CountedHistogram:
    """Cumulative Prometheus histogram series from per-bucket counts (not cumulative) and a sum."""

    def __init__(self, name, documentation, labels=(), registry=None, buckets=()):
        self.name, self.documentation = name, documentation
        self.bounds = [float(b) for b in buckets]
        self._counts = [0] * (len(self.bounds) + 1)   # the last is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def add(self, per_bucket: list[int], total: float) -> None:
        if len(per_bucket) != len(self._counts):
            raise ValueError(f"{self.name}: {len(self._counts)} bucket counts expected, got {len(per_bucket)}")
        with self._lock:
            self._counts = [a + max(0, int(b)) for a, b in zip(self._counts, per_bucket)]
            self._sum += max(0.0, total)

    def collect(self):
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, n in zip([*self.bounds, float("inf")], counts):
            running += n
            cumulative.append(("+Inf" if bound == float("inf") else floatToGoString(bound), running))
        family = HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=total)
        return [family]


def _declare(kind, name, documentation, labels, **options):
    with _lock:
        known = _declared.get(name)
        if known is None:
            metric = kind(name, documentation, labels, registry=REGISTRY, **options)
            _declared[name] = (kind, tuple(labels), metric)
            return metric
        if known[:2] != (kind, tuple(labels)):
            raise ValueError(f"metric {name} is already declared as a {known[0].__name__} "
                             f"with labels {known[1]}")
        return known[2]


def exposed_names() -> set[str]:
    """Every series name this process's declared metrics can expose (`<counter>_total`,
    `<histogram>_bucket|_sum|_count`, gauges as named), plus the process collector's."""
    names: set[str] = set()
    with _lock:
        declared = list(_declared.items())
    for name, (kind, _labels, _metric) in declared:
        if kind is Counter:
            names.add(f"{name}_total")
        elif kind in (Histogram, CountedHistogram):
            names.update(f"{name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    names.update(s.name for family in ProcessCollector(registry=None).collect() for s in family.samples)
    return names


# ------------------------------------------------------------------ health and readiness

_checks: dict[str, Callable[[], object]] = {}


def add_check(name: str, check: Callable[[], object]) -> None:
    """A readiness check of this process: True (truthy) when the dependency `name` is usable;
    a string saying why not, False, or raising when not. It must be cheap and must not block (see the module docstring)."""
    with _lock:
        _checks[name] = check


def remove_check(name: str) -> None:
    with _lock:
        _checks.pop(name, None)


def readiness() -> tuple[bool, dict[str, str]]:
    """(all checks pass, {name: "ok" or why not}); no checks means ready."""
    with _lock:
        checks = dict(_checks)
    out = {}
    for name, check in sorted(checks.items()):
        try:
            answer = check()
        except Exception as exc:   # a failing check is an answer, never a failing probe
            answer = f"error: {type(exc).__name__}"
        if isinstance(answer, str):   # a string says why not
            out[name] = answer or "not ready"
        else:
            out[name] = "ok" if answer else "not ready"
    return all(v == "ok" for v in out.values()), out


def recent(seconds: float) -> "Recent":
    """A readiness check that passes while `mark()` was called in the last `seconds`."""
    return Recent(seconds)


class Recent:
    """When a dependency last answered; as a check, whether that was recent enough."""

    def __init__(self, seconds: float):
        self.seconds, self.last = seconds, None

    def mark(self) -> None:
        self.last = time.monotonic()

    def __call__(self) -> bool | str:
        if self.last is None:
            return "not reached yet"
        age = time.monotonic() - self.last
        return True if age <= self.seconds else f"no answer for {age:.0f} s"


def polled(fn: Callable[[], object], every_s: float = 10.0, name: str = "check",
           stop: threading.Event | None = None) -> Callable[[], object]:
    """A readiness check for a dependency that can only be asked with I/O: a daemon thread
    asks `fn` every `every_s` seconds; the check answers from its last answer (a probe never
    waits), and fails when that answer is older than three periods (the thread is stuck).
    Setting `stop` ends the thread."""
    last = {"answer": "not asked yet", "at": time.monotonic()}
    stop = stop or threading.Event()

    def loop():
        while not stop.is_set():
            try:
                answer = fn()
            except Exception as exc:
                answer = f"error: {type(exc).__name__}"
            last.update(answer=answer, at=time.monotonic())
            stop.wait(every_s)

    threading.Thread(target=loop, daemon=True, name=f"ready-{name}").start()

    def check():
        if time.monotonic() - last["at"] > 3 * every_s + 30:
            return f"no answer for {time.monotonic() - last['at']:.0f} s"
        return last["answer"]
    return check


_STARTED = time.time()


def app(environ, start_response):
    """The endpoint as a WSGI application (what `serve` runs)."""
    path = environ.get("PATH_INFO") or "/"
    if path == "/metrics":
        return _metrics_app(environ, start_response)
    if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
        return _answer(start_response, 405, {"error": "GET only"})
    if path == "/healthz":
        return _answer(start_response, 200, {"alive": True, "uptime_seconds": round(time.time() - _STARTED, 1)})
    if path == "/readyz":
        ok, checks = readiness()
        return _answer(start_response, 200 if ok else 503, {"ready": ok, "checks": checks})
    return _answer(start_response, 404, {"error": "not found", "paths": ["/metrics", "/healthz", "/readyz"]})


_metrics_app = make_wsgi_app(REGISTRY)


def _answer(start_response, status: int, body: dict):
    data = json.dumps(body, sort_keys=True).encode()
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                          ("Cache-Control", "no-store")])
    return [data]


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):   # no request lines on stderr: they are not JSON logs
        pass


class CountedRequests:
    """ASGI middleware: HTTP requests by method and status, and their duration, as
    `<prefix>_requests_total` and `<prefix>_request_seconds` (no paths: they hold search terms)."""

    def __init__(self, app, prefix: str):
        self.app = app
        self.requests = counter(f"{prefix}_requests", "HTTP requests answered, by method and status", ("method", "status"))
        self.seconds = histogram(f"{prefix}_request_seconds", "HTTP request duration, by method", ("method",))

    def __getattr__(self, name):   # app.state and the like stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.monotonic(), {"code": 500}
        method = scope.get("method", "GET") if scope.get("method") in ("GET", "POST", "HEAD") else "other"

        async def counted(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, counted)
        finally:
            self.requests.labels(method, str(status["code"])).inc()
            self.seconds.labels(method).observe(time.monotonic() - started)


def serve(host: str, port: int, ready: dict[str, Callable[[], object]] | None = None):
    """Serve /metrics, /healthz and /readyz on http://host:port from a daemon thread; `ready`
    adds readiness checks (add_check). Returns the server: its `server_address` has the bound
    port (0 picks one), `shutdown()` and `server_close()` stop it."""
    for name, check in (ready or {}).items():
        add_check(name, check)
    server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"metrics-{port}").start()
    return server


def start(host: str, port: int | None, ready: dict[str, Callable[[], object]] | None = None, what: str = ""):
    """`serve` as a process's settings ask: port None or 0 means no endpoint (returns None).
    A port that cannot be bound is logged, not raised: the process's work (archiving,
    indexing, serving) goes on, and its probes, failing, say that the endpoint is missing."""
    if not port:
        return None
    try:
        server = serve(host, port, ready)
    except OSError as exc:
        log.error("%s metrics endpoint not started on %s:%s: %s", what or "the", host, port, exc.strerror or exc)
        return None
    log.info("%s metrics on http://%s:%s/metrics (/healthz, /readyz)", what or "the", host, server.server_address[1])
    return server


def stop(server) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
