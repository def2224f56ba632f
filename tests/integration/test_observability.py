"""A bounded run of records full of personal data (the sample generator's, plus hand-written
reactions with e-mail, phone, BSN and IBAN) through every stage on the embedded stack: every
log line of the run is JSON and none holds a personal value of the input; meanwhile the
run's metrics endpoint serves the documented pipeline metrics, /healthz and /readyz."""
from __future__ import annotations

import io
import json
import logging
import os
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from archiefstroom import replay, runner, stack
from archiefstroom.ground import logs
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.samples.generator import generate_with_personal

pytestmark = pytest.mark.integration
METRICS_PORT = int(os.environ.get("ARCHIEFSTROOM_TEST_METRICS_PORT", 21490))

# the series docs/observability.md documents for `run` (families, as the parser names them)
DOCUMENTED = {"archiefstroom_pipeline_events", "archiefstroom_pipeline_dead_letters",
              "archiefstroom_pipeline_rule_outcomes", "archiefstroom_pipeline_entities_replaced",
              "archiefstroom_pipeline_objects_written", "archiefstroom_pipeline_bytes_written",
              "archiefstroom_pipeline_batches_committed", "archiefstroom_pipeline_alert_latency_seconds",
              "archiefstroom_pipeline_consumer_lag", "archiefstroom_pipeline_up",
              "archiefstroom_pipeline_metrics_poll_timestamp", "archiefstroom_catalog_records_indexed"}

HAND_WRITTEN = {"Geertruida van Oosterwijk-Bakhuis", "geertruida.oosterwijk@voorbeeldmail.nl", "06-41827365",
                "+31 6 4182 7365", "NL20INGB0001234567", "NL20 INGB 0001 2345 67", "123456782", "Kerkstraat 117"}


def hand_written(base: dict) -> list[bytes]:
    """Reactions that carry the classic identifiers, on a thread of the sample."""
    out = []
    texts = [f"Beste gemeente, mijn naam is Geertruida van Oosterwijk-Bakhuis, BSN 123456782. Mijn uitkering "
             f"is niet betaald op NL20INGB0001234567 (NL20 INGB 0001 2345 67). Bel mij op 06-41827365 of "
             f"+31 6 4182 7365, of mail geertruida.oosterwijk@voorbeeldmail.nl. Adres Kerkstraat 117.",
             "{\"not\": \"an event\", \"mail\": \"geertruida.oosterwijk@voorbeeldmail.nl\"}"]
    ev = {**base, "event_id": f"{base['platform']}:obs-1", "object_id": f"{base['platform']}:obs-1",
          "native_id": "obs-1", "text": texts[0], "url": None}
    out.append(json.dumps(ev, ensure_ascii=False).encode())
    out.append(texts[1].encode())   # a dead letter that quotes personal data
    return out


def scrape(url: str):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_logs_hold_no_personal_data_and_the_endpoint_serves_the_metrics(stack_cfg, stack_dir, capfd):
    from tests.conftest import build_cfg
    name = "obs" + uuid.uuid4().hex[:8]
    cfg = build_cfg(stack_dir, name, "tansu", pipeline={"metrics_port": METRICS_PORT})
    stack.ensure(cfg)
    events, personal = generate_with_personal(23, threads_per_account=2)
    reaction = next(json.loads(e) for e in events if json.loads(e).get("event_type") == "reply")
    events = events + hand_written(reaction)
    personal = {p for p in personal | HAND_WRITTEN if len(p) >= 5}
    ends = replay.produce(cfg, events)

    buf = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    handler = logs.configure("json", level=logging.INFO, stream=buf)
    base = f"http://127.0.0.1:{METRICS_PORT}"
    seen = {"metrics": [], "healthz": set(), "readyz": set()}
    done = threading.Event()

    def scraper():
        while not done.wait(0.5):
            try:
                status, text = scrape(base + "/metrics")
            except OSError:
                continue
            if status == 200:
                seen["metrics"].append(text)
            seen["healthz"].add(scrape(base + "/healthz")[0])
            seen["readyz"].add(scrape(base + "/readyz")[0])

    thread = threading.Thread(target=scraper, daemon=True)
    before = _values("archiefstroom_pipeline_events_total")
    thread.start()
    try:
        summary = runner.run(cfg, stop_at=ends, progress=True)
    finally:
        done.set()
        thread.join(10)
        root.removeHandler(handler)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    captured = capfd.readouterr()

    # every stage ran: archived, dead-lettered, pseudonymised, alerts
    c = summary.counters
    assert c["archived"] > 0 and c["dead_lettered"] >= 1 and c["pseudonymised"] > 0 and c["events_read"] == len(events)

    # the log lines: JSON, and no personal value of the input in any of them, nor anywhere in the output
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    assert lines, "the run logged nothing at INFO: the scan would prove nothing"
    for line in lines:
        json.loads(line)
    everything = buf.getvalue() + captured.out + captured.err
    leaked = sorted(p for p in personal if p in everything)
    assert leaked == [], f"personal values in the run's output: {leaked[:5]}"

    # the endpoint during the run
    assert seen["metrics"], "the metrics endpoint never answered during the run"
    assert seen["healthz"] == {200} and 200 in seen["readyz"]
    families = {}
    for text in seen["metrics"]:
        for f in text_string_to_metric_families(text):
            families[f.name] = f
    assert DOCUMENTED - set(families) == set()
    read_during = max((s.value for text in seen["metrics"] for f in text_string_to_metric_families(text)
                       if f.name == "archiefstroom_pipeline_events" for s in f.samples
                       if s.labels.get("stage") == "read"), default=0)
    assert read_during > 0, "the runner's counters never reached the endpoint while the job ran"
    lag = families["archiefstroom_pipeline_consumer_lag"].samples
    assert {s.labels["topic"] for s in lag} >= {cfg.topics.raw}

    # at the end the registry holds exactly what the runner reported for this run
    after = _values("archiefstroom_pipeline_events_total")
    for beam_name, (stage, outcome) in (("events_read", ("read", "read")), ("archived", ("sink", "archived")),
                                        ("dead_lettered", ("validate", "dead_lettered"))):
        key = (("outcome", outcome), ("stage", stage))
        assert after.get(key, 0) - before.get(key, 0) == c.get(beam_name, 0), beam_name
    assert ground_metrics.readiness()[1].get("runner") is None   # the run's checks are gone with it


def _values(name: str) -> dict[tuple, float]:
    text = generate_latest(ground_metrics.REGISTRY).decode()
    return {tuple(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}
