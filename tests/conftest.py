"""Shared fixtures.

Integration tests run against the real embedded stack (Tansu broker + SeaweedFS
S3), started once per test session on 127.0.0.1 with its own ports and a
temporary data directory, so a developer's running stack is never touched.
Each test gets its own topics, consumer group and bucket (`make_cfg`).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from archiefstroom.config import Config
from archiefstroom.settings import from_dict

REGISTRY = Path(__file__).resolve().parent.parent / "deploy" / "registry"
TEST_PORTS = {"broker_port": int(os.environ.get("ARCHIEFSTROOM_TEST_BROKER_PORT", 39092)),
              "s3_port": int(os.environ.get("ARCHIEFSTROOM_TEST_S3_PORT", 38333)),
              "weed_port_base": int(os.environ.get("ARCHIEFSTROOM_TEST_WEED_PORT_BASE", 39333))}


def config_dict(data_dir: Path, name: str = "base", **sections) -> dict:
    """A configuration for the test stack; `name` makes topics, group and bucket unique."""
    d = {
        "data_dir": str(data_dir),
        "kafka": {"bootstrap_servers": [f"127.0.0.1:{TEST_PORTS['broker_port']}"],
                  "consumer_group": f"archiver-{name}"},
        "topics": {"raw": f"{name}.raw", "dead_letter": f"{name}.deadletter",
                   "quarantine": f"{name}.quarantine", "partitions": 3},
        "s3": {"endpoint_url": f"http://127.0.0.1:{TEST_PORTS['s3_port']}", "bucket": f"archive-{name}",
               "prefix": "archive"},
        "pipeline": {"batch_max_records": 500, "batch_max_seconds": 1.0},
        "stack": {**TEST_PORTS, "durable_broker": False},
        # stage topics unique per test too; registries by absolute path (config files may live in tmp)
        "rules": {"held_topic": f"{name}.held",
                  **{k: str(REGISTRY / f"{k}.yaml") for k in ("accounts", "platforms", "selectielijst", "hotspots")}},
        "burgerbrief": {"alert_topic": f"{name}.alerts", "feedback_topic": f"{name}.feedback"},
    }
    for key, value in sections.items():
        d[key] = {**d.get(key, {}), **value} if isinstance(value, dict) else value
    return d


def build_cfg(data_dir: Path, name: str = "base", **sections) -> Config:
    return from_dict(config_dict(data_dir, name, **sections), Config).resolve_paths(data_dir)


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def stack_cfg(stack_dir) -> Config:
    """The embedded stack, up for the whole session; the Config points at it."""
    from archiefstroom import stack
    cfg = build_cfg(stack_dir)
    stack.up(cfg, quiet=True)
    yield cfg
    stack.down(cfg, quiet=True)


@pytest.fixture
def make_cfg(stack_cfg, stack_dir):
    """`make_cfg(**sections)` -> a Config with fresh topics, group and bucket on the session stack."""
    from archiefstroom import kafka as kafka_clients
    from archiefstroom import s3 as s3io
    from archiefstroom import stack

    def make(**sections) -> Config:
        name = "t" + uuid.uuid4().hex[:10]
        cfg = build_cfg(stack_dir, name, **sections)
        cfg.as_dict = config_dict(stack_dir, name, **sections)  # to write it as a YAML file for subprocesses
        kafka_clients.ensure_topics(cfg.kafka, stack.topics(cfg), cfg.topics.partitions,
                                    compacted=stack.compacted_topics(cfg))
        s3io.ensure_bucket(cfg.s3)
        return cfg
    return make
