"""The pipeline's counters: one namespace, names documented here, read from the runner.

Every stage counts through `counter(name)` (Beam metrics in namespace "archiefstroom");
`archiefstroom run` reads them back through `PipelineResult.metrics()` while the job
runs and at its end, the same on every runner (Beam's Flink job server reports them only
when the job ends, so on Flink the progress lines show zeros until then).

Names (a trailing `.x` is a family, one counter per value of x):
  events_read              records read from Kafka (raw and feedback topics)
  dead_lettered            invalid input sent to the dead-letter topic (validation)
  archived                 records written to S3 and committed
  dropped                  not archived by an archiving rule (reason in the ledger)
  duplicates               event ids (with their record version) already archived
  objects_written          Avro objects put
  batches_committed        ledger + objects + side topics, then the offset commit
  burgerbrief_scored       reactions the classifier scored
  burgerbrief_alerts       of which flagged as a possible burgerbrief
  burgerbrief_failed       reactions passed on unscored because the classifier failed
  burgerbrief_alerts_published   alerts the broker acknowledged
  webcare_verdicts_applied feedback verdicts turned into new record versions
  pseudonymised            records pseudonymised
  quarantined              records a stage failed on, sent to the quarantine topic
  entities.LABEL           personal values replaced, per entity label
  rules.RULE.ACTION        archiving-rule verdicts (e.g. rules.R4-account-post.archive)
  rules.sentiment.KIND, rules.route1_misconfigured[.ACCOUNT], rules.R10-versions.*
  rules.seals, seals_written                  threads sealed when their harvest window closed, seal objects put
  rules.seals.forgotten|read_back             sealed threads dropped from the seal stage's state
                                              (rules.sealed_memory_hours), and read back from their seal object
  rules.R-late-reaction.count|addendum        reactions after the seal (docs/harvest-window.md)
  dead_lettered.CODE       dead letters per validation code (core/validation.py InvalidEvent.code)
  quarantined.ERROR        quarantined records per error class of the failing stage
  bytes_written            bytes of the Avro objects put
  media.STATUS             files of archived records (media, linked pages) stored, failed or skipped
  media_bytes              bytes of the media files stored
  alert_latency_seconds.le_ms.B|.le_ms.inf|.sum_ms|.count   a histogram kept in counters
                           (`observe`): seconds from the raw topic's append (the record's
                           archived_at, Kafka's timestamp) to the alert's detection

Prometheus: `export` turns these into the series of PROMETHEUS below (names
archiefstroom_pipeline_*), in the process's one registry (ground/metrics.py); `archiefstroom
run` calls it with every poll of the runner's metrics, so every runner exports the same
series (on Flink, at the end of the job, as above). docs/observability.md lists them.
"""
from __future__ import annotations

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.portability.api import beam_job_api_pb2
from apache_beam.runners.portability.portable_runner import PortableMetrics

from archiefstroom.ground import metrics as ground_metrics

NAMESPACE = "archiefstroom"
PREFIX = "archiefstroom_pipeline_"

# Beam counter -> (Prometheus counter, labels): events per stage and outcome
EVENTS = {
    "events_read": {"stage": "read", "outcome": "read"},
    "dead_lettered": {"stage": "validate", "outcome": "dead_lettered"},
    "burgerbrief_scored": {"stage": "burgerbrief", "outcome": "scored"},
    "burgerbrief_alerts": {"stage": "burgerbrief", "outcome": "flagged"},
    "burgerbrief_failed": {"stage": "burgerbrief", "outcome": "failed"},
    "burgerbrief_alerts_published": {"stage": "alerts", "outcome": "published"},
    "pseudonymised": {"stage": "pseudonymise", "outcome": "pseudonymised"},
    "quarantined": {"stage": "pseudonymise", "outcome": "quarantined"},
    "archived": {"stage": "sink", "outcome": "archived"},
    "dropped": {"stage": "sink", "outcome": "dropped"},
    "duplicates": {"stage": "sink", "outcome": "duplicate"},
    "webcare_verdicts_applied": {"stage": "feedback", "outcome": "applied"},
}
PLAIN = {   # Beam counter -> Prometheus counter without labels
    "objects_written": "objects_written",
    "bytes_written": "bytes_written",
    "batches_committed": "batches_committed",
    "seals_written": "seals_written",
    "media_bytes": "media_bytes_written",
}
# alert latency buckets in milliseconds (the Beam counters hold integers)
ALERT_LATENCY = "alert_latency_seconds"
ALERT_LATENCY_BUCKETS_MS = (250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 1_800_000)

# Prometheus name (without PREFIX) -> (kind, documentation, labels)
PROMETHEUS = {
    "events": ("counter", "events through a stage of the pipeline, by stage and outcome", ("stage", "outcome")),
    "dead_letters": ("counter", "invalid input sent to the dead-letter topic, by validation code", ("reason",)),
    "quarantined": ("counter", "records a stage failed on, sent to the quarantine topic, by error", ("reason",)),
    "rule_outcomes": ("counter", "archiving-rule verdicts, by rule and action", ("rule", "action")),
    "rule_sentiment": ("counter", "reactions the sentiment rule saw, by kind", ("kind",)),
    "rule_misconfigured": ("counter", "records of accounts whose route 1 is misconfigured", ("account",)),
    "threads_sealed": ("counter", "threads sealed when their harvest window closed", ()),
    "seals_forgotten": ("counter", "sealed threads the seal stage dropped from its state (their seal object keeps them)", ()),
    "seals_read_back": ("counter", "sealed threads the seal stage read back from their seal object", ()),
    "entities_replaced": ("counter", "personal values the pseudonymiser replaced, by entity label", ("label",)),
    "objects_written": ("counter", "Avro objects the sink put in the archive", ()),
    "bytes_written": ("counter", "bytes of the Avro objects the sink put in the archive", ()),
    "batches_committed": ("counter", "batches written (ledger, objects, side topics) and committed", ()),
    "seals_written": ("counter", "seal objects put in the archive", ()),
    "media_files": ("counter", "files of archived records (media, linked pages), by status: stored, failed, skipped",
                    ("status",)),
    "media_bytes_written": ("counter", "bytes of the media files put in the archive", ()),
    ALERT_LATENCY: ("histogram", "seconds from the raw topic's append to a burgerbrief alert's detection", ()),
    "consumer_lag": ("gauge", "records in a partition not yet committed by the pipeline's consumer group",
                     ("topic", "partition")),
    "metrics_poll_timestamp": ("gauge", "when the runner's metrics were last read (epoch seconds)", ()),
    "up": ("gauge", "1 while the pipeline job runs in this process", ()),
}


def counter(name: str):
    """A Beam counter in the pipeline's namespace."""
    return Metrics.counter(NAMESPACE, name)


def inc(name: str, n: int = 1) -> None:
    """Count `n` under a name that is only known per element (families such as rules.*)."""
    if n:
        Metrics.counter(NAMESPACE, name).inc(n)


def _results(result):
    """The runner's metrics now. Beam's portable PipelineResult caches the first answer of
    its job service for good, so for a running portable job ask the job service again
    (the same GetJobMetrics call its metrics() makes); other runners answer live."""
    service, job_id = getattr(result, "_job_service", None), getattr(result, "_job_id", None)
    if service is not None and job_id is not None:
        return PortableMetrics(service.GetJobMetrics(beam_job_api_pb2.GetJobMetricsRequest(job_id=job_id)))
    return result.metrics()


def read(result) -> dict[str, int]:
    """Counter values of a running or finished pipeline, as its runner reports them
    (committed where the runner has them, else attempted). Empty if not available yet."""
    try:
        res = _results(result).query(MetricsFilter().with_namespace(NAMESPACE))
    except Exception:  # the job service is not answering (yet): no numbers, not an error
        return {}
    out: dict[str, int] = {}
    for c in res.get("counters", []):
        value = c.committed if c.committed is not None else c.attempted
        out[c.key.metric.name] = out.get(c.key.metric.name, 0) + int(value or 0)
    return out


def observe(name: str, seconds: float, buckets_ms: tuple[int, ...] = ALERT_LATENCY_BUCKETS_MS) -> None:
    """A histogram in Beam counters (every runner has counters; not every runner reports
    distributions, and those have no buckets): one counter per bucket (not cumulative),
    `.sum_ms` and `.count`; `export` makes it a Prometheus histogram."""
    ms = max(0, int(round(seconds * 1000)))
    bucket = next((str(b) for b in buckets_ms if ms <= b), "inf")
    inc(f"{name}.le_ms.{bucket}")
    inc(f"{name}.sum_ms", ms)
    inc(f"{name}.count")


def declare() -> dict:
    """The pipeline's Prometheus metrics in the process registry (ground/metrics.py), by name."""
    out = {}
    for name, (kind, doc, labels) in PROMETHEUS.items():
        if kind == "histogram":
            out[name] = ground_metrics.counted_histogram(PREFIX + name, doc,
                                                         tuple(b / 1000 for b in ALERT_LATENCY_BUCKETS_MS))
        else:
            out[name] = getattr(ground_metrics, kind)(PREFIX + name, doc, labels)
    for labels in EVENTS.values():   # every stage's series from the start, at 0
        out["events"].labels(**labels)
    for name, (kind, _, labels) in PROMETHEUS.items():
        if kind == "counter" and not labels:
            out[name].inc(0)
    return out


def series(counters: dict[str, int]) -> dict[tuple[str, tuple], int]:
    """Beam counter values -> {(Prometheus name without PREFIX, label values): value}.
    No label takes a value per thread, event or person: counter names are bounded sets."""
    out: dict[tuple[str, tuple], int] = {}

    def add(name, labels, value):
        out[(name, labels)] = out.get((name, labels), 0) + value

    for beam_name, value in counters.items():
        head, _, rest = beam_name.partition(".")
        if beam_name in EVENTS:
            add("events", (EVENTS[beam_name]["stage"], EVENTS[beam_name]["outcome"]), value)
        elif beam_name in PLAIN:
            add(PLAIN[beam_name], (), value)
        elif head == "dead_lettered" and rest:
            add("dead_letters", (rest,), value)
        elif head == "quarantined" and rest:
            add("quarantined", (rest,), value)
        elif head == "media" and rest:
            add("media_files", (rest,), value)
        elif head == "entities" and rest:
            add("entities_replaced", (rest,), value)
        elif head == "rules" and rest:
            kind, _, detail = rest.partition(".")
            if kind == "sentiment":
                add("rule_sentiment", (detail,), value)
            elif kind == "route1_misconfigured":
                if detail:
                    add("rule_misconfigured", (detail,), value)
            elif kind == "seals":
                if detail in ("", "forgotten", "read_back"):
                    add(f"seals_{detail}" if detail else "threads_sealed", (), value)
            elif "." in rest:
                rule, _, action = rest.rpartition(".")
                add("rule_outcomes", (rule, action), value)
    return out


def histogram_of(counters: dict[str, int], name: str = ALERT_LATENCY,
                 buckets_ms: tuple[int, ...] = ALERT_LATENCY_BUCKETS_MS) -> tuple[list[int], int, int]:
    """(counts per bucket, not cumulative, with +Inf last; sum in ms; count) of an `observe`d name."""
    per = [counters.get(f"{name}.le_ms.{b}", 0) for b in buckets_ms] + [counters.get(f"{name}.le_ms.inf", 0)]
    return per, counters.get(f"{name}.sum_ms", 0), counters.get(f"{name}.count", 0)


class Exporter:
    """Copies one run's Beam counters into the process registry: counters grow by what the
    runner reports beyond the last poll (a runner's numbers of one job only grow; a later run
    in the same process starts from its own zero, and the Prometheus counters go on growing)."""

    def __init__(self):
        self.metrics = declare()
        self.last: dict[tuple[str, tuple], int] = {}
        self.last_hist = ([0] * (len(ALERT_LATENCY_BUCKETS_MS) + 1), 0)

    def update(self, counters: dict[str, int]) -> None:
        if not counters:
            return
        for key, value in series(counters).items():
            delta = value - self.last.get(key, 0)
            if delta > 0:
                name, labels = key
                m = self.metrics[name]
                (m.labels(*labels) if labels else m).inc(delta)
                self.last[key] = value
        per, sum_ms, _count = histogram_of(counters)
        before, before_sum = self.last_hist
        new = [max(0, n - b) for n, b in zip(per, before)]
        if any(new):
            self.metrics[ALERT_LATENCY].add(new, max(0, sum_ms - before_sum) / 1000)
            self.last_hist = ([max(n, b) for n, b in zip(per, before)], max(sum_ms, before_sum))
        self.metrics["metrics_poll_timestamp"].set_to_current_time()

    def lag(self, topic: str, lags: dict[int, int]) -> None:
        for partition, value in lags.items():
            self.metrics["consumer_lag"].labels(topic, str(partition)).set(value)

    def running(self, up: bool) -> None:
        self.metrics["up"].set(1 if up else 0)
