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
  rules.R-late-reaction.count|addendum        reactions after the seal (docs/harvest-window.md), and
  rules.R-late-reaction.thread.THREAD         per thread key
"""
from __future__ import annotations

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.portability.api import beam_job_api_pb2
from apache_beam.runners.portability.portable_runner import PortableMetrics

NAMESPACE = "archiefstroom"


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
