"""The dashboard and the alert rules use only metrics the code declares; the one endpoint
(ground/metrics.py) serves /metrics, /healthz and /readyz; the pipeline's Beam counters
become the documented Prometheus series; JSON logs carry no exception text and scrub what
looks like personal data."""
from __future__ import annotations

import io
import json
import logging
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from archiefstroom.catalog import feed
from archiefstroom.connectors.runtime import Metrics
from archiefstroom.ground import logs
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.transforms import metrics as pipeline_metrics

ROOT = Path(__file__).resolve().parents[2]
OBS = ROOT / "deploy" / "observability"

# PromQL words that are not metric names
FUNCTIONS = {"rate", "irate", "increase", "sum", "max", "min", "avg", "count", "histogram_quantile", "clamp_min",
             "clamp_max", "time", "abs", "absent", "topk", "bottomk", "delta", "deriv", "label_replace", "vector"}
KEYWORDS = {"by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "inf", "nan"}
BUILTIN = {"up"}   # Prometheus's own series per scrape target


def declared_names() -> set[str]:
    """What the four processes expose: the pipeline's, the catalog's and the web's metrics
    as declared in the registry, the connectors' from their declaration tables."""
    pipeline_metrics.declare()
    feed._metrics()
    ground_metrics.CountedRequests(None, "archiefstroom_web")
    names = ground_metrics.exposed_names()
    for name, (_doc, _labels) in Metrics.COUNTERS.items():
        names.add(f"archiefstroom_connector_{name}_total")
    names.update(f"archiefstroom_connector_{name}" for name in Metrics.GAUGES)
    for name in Metrics.HISTOGRAMS:
        names.update(f"archiefstroom_connector_{name}{s}" for s in ("_bucket", "_sum", "_count"))
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers outside label matchers,
    ranges, strings and grouping clauses that are neither functions nor keywords."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b\d+(?:\.\d+)?(?:e\d+|ms|s|m|h|d|w|y)?\b", "0", e)   # numbers and durations
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, after = m.group(0), e[m.end():].lstrip()[:1]
        if re.fullmatch(r"\d*e\d*", word) or word.lower() in KEYWORDS:
            continue
        if after == "(" and word in FUNCTIONS:
            continue
        names.add(word)
    return names


def dashboard_exprs() -> list[str]:
    doc = json.loads((OBS / "dashboard.json").read_text())
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


def alert_rules() -> list[dict]:
    doc = yaml.safe_load((OBS / "alerts.yaml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_the_checker_finds_names_and_refuses_unknown_ones():
    expr = ('histogram_quantile(0.95, sum by (le) (rate(foo_seconds_bucket{job=~"a-.*"}[5m]))) > 1e3 '
            'and on (x) time() - max(bar_timestamp offset 5m) > 0')
    assert metric_names(expr) == {"foo_seconds_bucket", "bar_timestamp"}
    assert "archiefstroom_pipeline_nonsense_total" not in declared_names()


def test_dashboard_is_grafana_json_with_declared_metrics_only():
    doc = json.loads((OBS / "dashboard.json").read_text())
    assert doc["uid"] and doc["panels"] and all(p.get("targets") for p in doc["panels"])
    exprs = dashboard_exprs()
    used = set().union(*(metric_names(e) for e in exprs))
    assert used - declared_names() - BUILTIN == set()
    # what the issue asks to watch is on it
    for wanted in ("archiefstroom_pipeline_events_total", "archiefstroom_pipeline_dead_letters_total",
                   "archiefstroom_pipeline_quarantined_total", "archiefstroom_pipeline_consumer_lag",
                   "archiefstroom_pipeline_objects_written_total", "archiefstroom_pipeline_bytes_written_total",
                   "archiefstroom_pipeline_alert_latency_seconds_bucket", "archiefstroom_pipeline_rule_outcomes_total",
                   "archiefstroom_connector_rate_limited_total", "archiefstroom_connector_errors_total",
                   "archiefstroom_catalog_lag", "archiefstroom_web_requests_total"):
        assert wanted in used, wanted


def test_alert_rules_use_declared_metrics_and_link_their_runbook_entry():
    rules = alert_rules()
    assert len(rules) >= 10
    names = declared_names()
    seen = set()
    for r in rules:
        assert re.fullmatch(r"Archiefstroom[A-Za-z]+", r["alert"]) and r["alert"] not in seen
        seen.add(r["alert"])
        assert metric_names(r["expr"]) - names - BUILTIN == set(), r["alert"]
        assert r["annotations"]["summary"].strip()
        assert r["annotations"]["runbook_url"] == f"deploy/RUNBOOK.md#alert-{r['alert'].lower()}"
        assert r["labels"]["severity"] in ("warning", "critical")


# ------------------------------------------------------------------ the endpoint

def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def test_endpoint_serves_metrics_health_and_readiness():
    state = {"db": True}
    server = ground_metrics.serve("127.0.0.1", 0, {
        "unit-db": lambda: state["db"], "unit-broker": lambda: True})
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, ctype, text = get(base + "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert "process_resident_memory_bytes" in {f.name for f in text_string_to_metric_families(text)}
        assert get(base + "/healthz")[0] == 200 and json.loads(get(base + "/healthz")[2])["alive"] is True
        status, _, body = get(base + "/readyz")
        assert status == 200 and json.loads(body)["checks"]["unit-db"] == "ok"
        state["db"] = "database closed"
        status, _, body = get(base + "/readyz")
        assert status == 503 and json.loads(body) == {
            "ready": False, "checks": {**json.loads(body)["checks"], "unit-db": "database closed", "unit-broker": "ok"}}
        state["db"] = None
        assert json.loads(get(base + "/readyz")[2])["checks"]["unit-db"] == "not ready"
        def broken():
            raise ConnectionError("10.0.0.1 refused")
        ground_metrics.add_check("unit-db", broken)
        assert json.loads(get(base + "/readyz")[2])["checks"]["unit-db"] == "error: ConnectionError"
        assert get(base + "/anything")[0] == 404
    finally:
        ground_metrics.stop(server)
        ground_metrics.remove_check("unit-db")
        ground_metrics.remove_check("unit-broker")


def test_recent_and_polled_checks():
    r = ground_metrics.recent(60)
    assert r() == "not reached yet"
    r.mark()
    assert r() is True
    r.last -= 61
    assert r().startswith("no answer for")
    stop, calls = threading.Event(), []
    check = ground_metrics.polled(lambda: calls.append(1) or True, every_s=0.05, name="unit", stop=stop)
    for _ in range(100):
        if calls:
            break
        stop.wait(0.02)
    assert check() is True
    stop.set()


def test_a_port_in_use_is_logged_not_raised(caplog):
    first = ground_metrics.serve("127.0.0.1", 0)
    try:
        with caplog.at_level(logging.ERROR):
            assert ground_metrics.start("127.0.0.1", first.server_address[1], what="unit") is None
        assert "unit metrics endpoint not started" in caplog.text
        assert ground_metrics.start("127.0.0.1", 0) is None and ground_metrics.start("127.0.0.1", None) is None
    finally:
        ground_metrics.stop(first)


# ------------------------------------------------------------------ pipeline export

def sample_values(name: str) -> dict[tuple, float]:
    text = generate_latest(ground_metrics.REGISTRY).decode()
    return {tuple(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}


def test_beam_counters_become_labelled_series():
    got = pipeline_metrics.series({
        "events_read": 10, "archived": 7, "dead_lettered": 2, "dead_lettered.bad_json": 2, "quarantined.ValueError": 1,
        "rules.R4-account-post.archive": 5, "rules.R-late-reaction.addendum": 1,
        "rules.sentiment.negative": 3, "rules.route1_misconfigured": 1, "rules.route1_misconfigured.gemeente-x": 1,
        "rules.seals": 2, "rules.seals.forgotten": 3, "rules.seals.read_back": 1, "entities.PERSON": 4, "bytes_written": 999, "unknown_counter": 5})
    assert got == {
        ("events", ("read", "read")): 10, ("events", ("sink", "archived")): 7,
        ("events", ("validate", "dead_lettered")): 2, ("dead_letters", ("bad_json",)): 2,
        ("quarantined", ("ValueError",)): 1, ("rule_outcomes", ("R4-account-post", "archive")): 5,
        ("rule_outcomes", ("R-late-reaction", "addendum")): 1, ("rule_sentiment", ("negative",)): 3,
        ("rule_misconfigured", ("gemeente-x",)): 1, ("threads_sealed", ()): 2,
        ("seals_forgotten", ()): 3, ("seals_read_back", ()): 1,
        ("entities_replaced", ("PERSON",)): 4, ("bytes_written", ()): 999}


def test_exporter_adds_what_grew_and_a_later_run_goes_on_counting():
    key = (("outcome", "archived"), ("stage", "sink"))
    start = sample_values("archiefstroom_pipeline_events_total").get(key, 0)
    hist0 = sample_values("archiefstroom_pipeline_alert_latency_seconds_count").get((), 0)
    first = pipeline_metrics.Exporter()
    first.update({"archived": 3})
    first.update({"archived": 5})
    first.update({})             # a poll the job service did not answer changes nothing
    second = pipeline_metrics.Exporter()   # the next run in this process counts from its own zero
    second.update({"archived": 2, "alert_latency_seconds.le_ms.500": 1, "alert_latency_seconds.le_ms.inf": 1,
                   "alert_latency_seconds.sum_ms": 3_600_400, "alert_latency_seconds.count": 2})
    second.lag("raw-topic-unit", {0: 4, 1: 0})
    assert sample_values("archiefstroom_pipeline_events_total")[key] - start == 7
    assert sample_values("archiefstroom_pipeline_alert_latency_seconds_count")[()] - hist0 == 2
    buckets = sample_values("archiefstroom_pipeline_alert_latency_seconds_bucket")
    assert buckets[(("le", "0.5"),)] >= 1 and buckets[(("le", "+Inf"),)] >= 2
    lag = sample_values("archiefstroom_pipeline_consumer_lag")
    assert lag[(("partition", "0"), ("topic", "raw-topic-unit"))] == 4.0


def test_observe_keeps_a_histogram_in_counters(monkeypatch):
    seen = {}
    monkeypatch.setattr(pipeline_metrics, "inc", lambda name, n=1: seen.__setitem__(name, seen.get(name, 0) + n))
    pipeline_metrics.observe("lat", 0.3)
    pipeline_metrics.observe("lat", 7200)
    assert seen == {"lat.le_ms.500": 1, "lat.le_ms.inf": 1, "lat.sum_ms": 7_200_300, "lat.count": 2}
    per, total, n = pipeline_metrics.histogram_of(seen, "lat")
    assert per[1] == 1 and per[-1] == 1 and sum(per) == n == 2 and total == 7_200_300


# ------------------------------------------------------------------ logs

def test_json_logs_scrub_personal_patterns_and_drop_exception_text():
    buf = io.StringIO()
    handler = logs.configure("json", level=logging.INFO, stream=buf)
    try:
        log = logging.getLogger("archiefstroom.unit")
        log.warning("reply by %s (%s), IBAN %s, BSN %s, offset %d", "jan.devries@example.nl", "06-12345678",
                    "NL91ABNA0417164300", "111222333", 123456789)
        try:
            raise ValueError("could not parse 'Jan de Vries, Dorpsstraat 1'")
        except ValueError:
            log.exception("parse failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert lines[0]["message"] == "reply by [e-mail] ([phone]), IBAN [iban], BSN [bsn], offset 123456789"
    assert lines[0]["level"] == "warning" and lines[0]["logger"] == "archiefstroom.unit"
    assert lines[1]["exception"]["type"] == "ValueError" and "Jan de Vries" not in buf.getvalue()
    assert lines[1]["exception"]["frames"][0].endswith("test_json_logs_scrub_personal_patterns_and_drop_exception_text")


def test_log_format_is_checked():
    assert logs.format_from("json") == "json"
    with pytest.raises(ValueError):
        logs.format_from("xml")


def test_every_alert_has_its_entry_in_the_runbook():
    root = Path(__file__).resolve().parents[2]
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', (root / "deploy/RUNBOOK.md").read_text()))
    rules = [r for g in yaml.safe_load((root / "deploy/observability/alerts.yaml").read_text())["groups"]
             for r in g["rules"]]
    assert rules and {f"alert-{r['alert'].lower()}" for r in rules} <= anchors
