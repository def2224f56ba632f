"""The one configuration file (archiefstroom.yaml): brokers, topics, S3, data directory,
retention defaults and pipeline options. Validated at start-up; see deploy/archiefstroom.example.yaml.

Secrets (SASL password, S3 keys) may come from environment variables, which win
over the file, so that production files hold no secrets.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from archiefstroom.core.burgerbrief.settings import BurgerbriefSettings
from archiefstroom.core.fields import check, secret
from archiefstroom.core.media import MediaSettings
from archiefstroom.core.pseudonymise.settings import PseudonymisationSettings
from archiefstroom.core.retention import Category
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground.settings import ConfigError, load_yaml

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "archiefstroom.yaml"
CONFIG_ENV = "ARCHIEFSTROOM_CONFIG"

_host_port = re.compile(r"^[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")
_bucket = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_topic = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")


@dataclass
class KafkaSettings:
    bootstrap_servers: Annotated[
        list[str], check(lambda v: bool(v) and all(_host_port.match(s) for s in v), "a non-empty list of host:port")
    ] = field(default_factory=lambda: ["127.0.0.1:19092"])
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", None] = None
    sasl_username: Annotated[str | None, secret("ARCHIEFSTROOM_KAFKA_USERNAME")] = None
    sasl_password: Annotated[str | None, secret("ARCHIEFSTROOM_KAFKA_PASSWORD")] = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    client_id: str = "archiefstroom"
    consumer_group: str = "archiefstroom-archiver"

    def validate(self):
        if self.security_protocol.startswith("SASL") and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError("sasl_mechanism: expected a mechanism, username and password when security_protocol is SASL_*")


@dataclass
class Topics:
    raw: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.raw"
    dead_letter: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.deadletter"
    quarantine: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.quarantine"
    # connectors' checkpoints (compacted, keyed by connector name), so a connector moved to another
    # machine resumes where it stopped; null = a file under the connector's data_dir (single host)
    connector_checkpoints: Annotated[
        str | None, check(lambda v: v is None or _topic.match(v), "a Kafka topic name or null")
    ] = "archiefstroom.connector-checkpoints"
    # compacted: each dead letter or quarantined event `dlq redrive` put back on the raw topic, keyed by
    # where it lay (topic/partition/offset), so that a second redrive skips it
    redriven: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.redriven"
    partitions: Annotated[int, check(lambda v: 1 <= v <= 1000, "an integer 1..1000")] = 3


@dataclass
class S3Settings:
    endpoint_url: Annotated[str | None, check(lambda v: v is None or v.startswith(("http://", "https://")),
                                              "an http(s) URL or null for AWS")] = "http://127.0.0.1:8333"
    region: str = "us-east-1"
    bucket: Annotated[
        str, check(_bucket.match, "an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)")
    ] = "archiefstroom-archive"
    prefix: Annotated[str, check(lambda v: not v.startswith("/") and not v.endswith("/"),
                                 "a key prefix without leading or trailing '/'")] = "archive"
    access_key_id: Annotated[str | None, secret("ARCHIEFSTROOM_S3_ACCESS_KEY_ID")] = "archiefstroom"
    secret_access_key: Annotated[str | None, secret("ARCHIEFSTROOM_S3_SECRET_ACCESS_KEY")] = "archiefstroom-dev-secret"
    object_lock: Literal["auto", "on", "off"] = "auto"
    create_bucket: bool = True
    # a request the store accepted but does not answer (a restarting SeaweedFS that has no volume
    # yet, an overloaded gateway) is abandoned after this and tried again on a new connection; with
    # boto3's 60 s and 8 attempts one stalled write held a batch for 8 minutes. Longer outages are
    # waited out a level up (pipeline.outage_seconds), with nothing committed meanwhile.
    read_timeout_seconds: Annotated[float, check(lambda v: 0.1 <= v <= 600, "seconds between 0.1 and 600")] = 20.0
    max_attempts: Annotated[int, check(lambda v: 1 <= v <= 20, "attempts between 1 and 20")] = 4


@dataclass
class RetentionSettings:
    """Selectielijst categories and the default choice; the rules (issue 4) refine the choice."""
    categories: dict[str, Category] = field(default_factory=lambda: {
        "1.1": Category("B", None, "Publicaties van de organisatie op sociale media (kernfunctie)"),
        "1.2": Category("V", 10, "Publicaties van de organisatie op sociale media"),
        "1.3": Category("V", 5, "Reacties van burgers op sociale media"),
    })
    default_category: str = "1.2"
    by_account_type: dict[str, str] = field(default_factory=dict)
    by_event_type: dict[str, str] = field(default_factory=dict)

    def validate(self):
        for name, code in [("default_category", self.default_category),
                           *((f"by_account_type.{k}", v) for k, v in self.by_account_type.items()),
                           *((f"by_event_type.{k}", v) for k, v in self.by_event_type.items())]:
            if code not in self.categories:
                raise ValueError(f"{name}: expected a category code defined under categories ({', '.join(self.categories)}), got {code!r}")


@dataclass
class PipelineSettings:
    runner: str = "prism"  # prism (embedded default), flink, or any Beam runner name (archiefstroom/runtimes.py)
    beam_options: list[str] = field(default_factory=list)
    # rotation, as flush.size and rotate.interval.ms in Confluent's S3 sink: a partition's
    # batch is written at this many records or this long after its first record; bigger
    # batches make fewer, fuller objects (one per retention group and month per batch)
    batch_max_records: Annotated[int, check(lambda v: 1 <= v <= 1_000_000, "an integer 1..1000000")] = 10000
    batch_max_seconds: Annotated[float, check(lambda v: 0.05 <= v <= 3600, "seconds between 0.05 and 3600")] = 10.0
    # how long a batch's write waits out an unreachable object store or broker (retrying with
    # backoff; meanwhile nothing is committed, and what the source reads waits in the runner) before
    # the job fails
    outage_seconds: Annotated[float, check(lambda v: 0 <= v <= 86400, "seconds between 0 and 86400")] = 900.0
    max_event_bytes: Annotated[int, check(lambda v: 1024 <= v <= 50_000_000,
                                          "bytes between 1 KiB and 50 MB")] = 1_000_000
    codec: Literal["deflate", "snappy", "zstandard", "null"] = "deflate"
    poll_max_records: Annotated[int, check(lambda v: 1 <= v <= 100_000, "an integer 1..100000")] = 2000
    # event-time watermark = latest event time read - this slack: how late (in event time) a
    # record may arrive and still count, e.g. a reaction a connector captures hours later
    event_time_slack_seconds: Annotated[float, check(lambda v: 0 <= v <= 7 * 86400,
                                                     "seconds between 0 and 604800")] = 6 * 3600.0
    # `run`'s metrics endpoint (/metrics, /healthz, /readyz; docs/observability.md)
    metrics_host: Annotated[str, check(bool, "a host to bind")] = "127.0.0.1"
    metrics_port: Annotated[int | None, check(lambda v: v is None or 0 <= v < 65536, "a TCP port, or 0/null for no metrics endpoint")] = 9400


@dataclass
class StackSettings:
    """The embedded stack; everything binds to 127.0.0.1. `broker` picks the Kafka-protocol
    broker: Tansu (light, from a PyPI wheel: the default) or Apache Kafka 4.x in KRaft mode
    (jars from Maven Central, fetched by scripts/setup; needs Java 17)."""
    broker: Literal["tansu", "kafka"] = "tansu"
    broker_port: Annotated[int, check(lambda v: 1024 < v < 65536, "a TCP port 1025..65535")] = 19092
    controller_port: Annotated[int, check(
        lambda v: v == 0 or 1024 < v < 65536,
        "a TCP port 1025..65535, or 0 for broker_port + 1 (Apache Kafka's KRaft controller)")] = 0
    s3_port: Annotated[int, check(lambda v: 1024 < v < 55536,
                                  "a TCP port 1025..55535 (its gRPC port is +10000)")] = 8333
    weed_port_base: Annotated[int, check(lambda v: 1024 < v < 55500,
                                         "a TCP port 1025..55499 (uses base..base+6 and +10000)")] = 9333
    durable_broker: bool = True


@dataclass
class CatalogSettings:
    """The archive's index (issue 12): SQLite by default (a file under data_dir), PostgreSQL in
    production (`postgresql://user@host:5432/db`, password from the environment). The sink
    announces every committed batch on `announce_topic`; `archiefstroom catalog run` indexes it,
    and so does a thread of `archiefstroom run` when `index_in_run` (the embedded default;
    a cluster runs `catalog run` as its own deployment)."""
    url: Annotated[str, check(
        lambda v: v.startswith(("sqlite:///", "postgresql://")),
        "sqlite:///PATH (relative to data_dir) or postgresql://...")] = "sqlite:///catalog.sqlite"
    password: Annotated[str | None, secret("ARCHIEFSTROOM_CATALOG_PASSWORD")] = None
    announce_topic: Annotated[
        str | None, check(lambda v: v is None or _topic.match(v), "a Kafka topic name or null (no announcements)")
    ] = "archiefstroom.catalog"
    consumer_group: str = "archiefstroom-catalog"
    index_in_run: bool = True
    # processes that read and decode the announced Avro objects while the indexer writes (decoding
    # is most of the work); 0 decodes in the indexer itself, as the thread inside `run` always does
    read_processes: Annotated[int, check(lambda v: 0 <= v <= 64, "a number of processes 0..64")] = 2
    # `catalog run`'s metrics endpoint (/metrics, /healthz, /readyz; docs/observability.md)
    metrics_host: Annotated[str, check(bool, "a host to bind")] = "127.0.0.1"
    metrics_port: Annotated[int | None, check(lambda v: v is None or 0 <= v < 65536, "a TCP port, or 0/null for no metrics endpoint")] = 9401


@dataclass
class WebSettings:
    """`archiefstroom web`: the archivists' web interface (reads the catalog and S3; its users
    and audit log are tables of the catalog's database, `catalog.url`)."""
    host: Annotated[str, check(bool, "a host to bind")] = "127.0.0.1"
    port: Annotated[int, check(lambda v: 1024 < v < 65536, "a TCP port 1025..65535")] = 8480
    # the files of versions before issue 16 (relative to data_dir), taken over into the
    # database once, at the first start that finds them while its tables are empty
    users_file: Path = Path("web-users.json")
    audit_log: Path = Path("web-audit.jsonl")
    session_secret: Annotated[str | None, secret("ARCHIEFSTROOM_WEB_SECRET")] = None
    session_minutes: Annotated[int, check(lambda v: 1 <= v <= 24 * 60, "minutes 1..1440")] = 60
    # the cookie's Secure flag: set it when a TLS proxy is in front (browsers drop Secure
    # cookies that come over plain http from anything but localhost)
    secure_cookie: bool = False
    # `web`'s metrics endpoint, its own port (/metrics, /healthz, /readyz; docs/observability.md)
    metrics_host: Annotated[str, check(bool, "a host to bind")] = "127.0.0.1"
    metrics_port: Annotated[int | None, check(lambda v: v is None or 0 <= v < 65536, "a TCP port, or 0/null for no metrics endpoint")] = 9402


@dataclass
class Config:
    data_dir: Path = Path("data")
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: Topics = field(default_factory=Topics)
    s3: S3Settings = field(default_factory=S3Settings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    stack: StackSettings = field(default_factory=StackSettings)
    # stage sections: each stage owns its settings dataclass next to its core logic
    rules: RulesSettings = field(default_factory=RulesSettings)
    pseudonymisation: PseudonymisationSettings = field(default_factory=PseudonymisationSettings)
    burgerbrief: BurgerbriefSettings = field(default_factory=BurgerbriefSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)
    web: WebSettings = field(default_factory=WebSettings)
    source_file: Path | None = None

    def resolve_paths(self, base: Path) -> "Config":
        if not self.data_dir.is_absolute():
            self.data_dir = (base / self.data_dir).resolve()
        for name in ("users_file", "audit_log"):
            if not getattr(self.web, name).is_absolute():
                setattr(self.web, name, self.data_dir / getattr(self.web, name))
        return self


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path.cwd() / "archiefstroom.yaml"
    return local if local.exists() else DEFAULT_CONFIG


def load(path: str | os.PathLike | None = None) -> Config:
    """Load and validate the configuration; raises ConfigError naming file, line and field."""
    p = config_path(path)
    cfg = load_yaml(p, Config)
    cfg.source_file = p.resolve()
    # relative data_dir is relative to the repository/working dir the file lives in
    base = p.resolve().parent.parent if p.resolve().parent.name == "deploy" else p.resolve().parent
    return cfg.resolve_paths(base)


__all__ = ["Config", "ConfigError", "load", "config_path"]
