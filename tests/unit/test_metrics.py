"""The process's one Prometheus registry (ground/metrics.py) and the connectors' Metrics on it,
scraped over HTTP on 127.0.0.1 and read back with prometheus_client's own parser."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from archiefstroom.connectors.runtime import Metrics
from archiefstroom.ground import metrics as ground_metrics


@pytest.fixture(scope="module")
def endpoint():
    server = ground_metrics.serve("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def scrape(endpoint: str, connector: str) -> dict:
    """{(sample name, labels other than connector): value} of one connector's series."""
    with urllib.request.urlopen(endpoint + "/metrics", timeout=5) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    return {(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "connector"))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.labels.get("connector") == connector}


def test_connector_metrics_keep_their_names_and_values(endpoint):
    m = Metrics("metrics-test-names")
    m.observe_events([{"created_at": "2026-10-01T12:00:00.000Z"}, {"created_at": "2026-10-01T11:00:00.000Z"}],
                     now=1790856000.0 + 30)
    m.inc("http_requests", 3)
    m.inc("webhook_rejected", reason="bad_signature")
    m.inc("webhook_rejected", reason="bad_signature")
    m.inc("webhook_rejected", reason="timeout")
    m.inc("threads_followed")      # a counter no table declares: still counted, under its own name
    assert scrape(endpoint, "metrics-test-names") == {
        ("archiefstroom_connector_events_captured_total", ()): 2.0,
        ("archiefstroom_connector_errors_total", ()): 0.0,
        ("archiefstroom_connector_dead_letters_total", ()): 0.0,
        ("archiefstroom_connector_http_requests_total", ()): 3.0,
        ("archiefstroom_connector_http_retries_total", ()): 0.0,
        ("archiefstroom_connector_rate_limited_total", ()): 0.0,
        ("archiefstroom_connector_webhook_rejected_total", (("reason", "bad_signature"),)): 2.0,
        ("archiefstroom_connector_webhook_rejected_total", (("reason", "timeout"),)): 1.0,
        ("archiefstroom_connector_threads_followed_total", ()): 1.0,
        ("archiefstroom_connector_lag_seconds", ()): 30.0,
        ("archiefstroom_connector_last_success_timestamp", ()): 1790856030.0,
    }
    assert m.counters["webhook_rejected"] == 3 and m.counters["events_captured"] == 2


def test_one_registry_sums_objects_of_one_connector_each_object_keeps_its_own_view(endpoint):
    first, second = Metrics("metrics-test-shared"), Metrics("metrics-test-shared")
    first.inc("errors")
    second.inc("errors", 2)
    assert scrape(endpoint, "metrics-test-shared")[("archiefstroom_connector_errors_total", ())] == 3.0
    assert (first.counters["errors"], second.counters["errors"]) == (1, 2)


def test_histogram_buckets_and_in_progress_gauge(endpoint):
    m = Metrics("metrics-test-histogram")
    m.observe("webhook_request_seconds", 0.02, outcome="stored")
    m.observe("webhook_request_seconds", 3.0, outcome="stored")
    with m.in_progress("webhook_requests_in_progress"):
        during = scrape(endpoint, "metrics-test-histogram")
    after = scrape(endpoint, "metrics-test-histogram")
    stored = (("outcome", "stored"),)
    assert during[("archiefstroom_connector_webhook_requests_in_progress", ())] == 1.0
    assert after[("archiefstroom_connector_webhook_requests_in_progress", ())] == 0.0
    buckets = {labels: v for (name, labels), v in after.items() if name.endswith("_bucket")}
    assert buckets[(("le", "0.01"), *stored)] == 0.0
    assert buckets[(("le", "0.025"), *stored)] == 1.0
    assert buckets[(("le", "2.5"), *stored)] == 1.0
    assert buckets[(("le", "5.0"), *stored)] == 2.0 and buckets[(("le", "+Inf"), *stored)] == 2.0
    assert after[("archiefstroom_connector_webhook_request_seconds_count", stored)] == 2.0
    assert after[("archiefstroom_connector_webhook_request_seconds_sum", stored)] == pytest.approx(3.02)


def test_process_metrics_are_on_the_same_endpoint(endpoint):
    with urllib.request.urlopen(endpoint + "/metrics", timeout=5) as r:
        names = {f.name for f in text_string_to_metric_families(r.read().decode())}
    assert {"process_open_fds", "process_resident_memory_bytes"} <= names


def test_a_name_is_declared_once():
    ground_metrics.counter("archiefstroom_test_declared_once", "a test counter", ("connector",))
    assert ground_metrics.counter("archiefstroom_test_declared_once", "a test counter", ("connector",)) is \
        ground_metrics.counter("archiefstroom_test_declared_once", "again", ("connector",))
    with pytest.raises(ValueError, match="already declared"):
        ground_metrics.gauge("archiefstroom_test_declared_once", "a test gauge", ("connector",))
    with pytest.raises(ValueError, match="already declared"):
        ground_metrics.counter("archiefstroom_test_declared_once", "a test counter", ("connector", "reason"))


def test_metrics_server_binds_where_told_only(endpoint):
    port = int(endpoint.rsplit(":", 1)[1])
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.2:{port}/metrics", timeout=2)
