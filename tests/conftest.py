"""Shared fixtures.

Integration tests run against the real embedded stack (Tansu broker + SeaweedFS
S3), started once per test session on 127.0.0.1 with its own ports and a
temporary data directory, so a developer's running stack is never touched.
Each test gets its own topics, consumer group and bucket (`make_cfg`).
Apache Kafka 4.x (KRaft) is the second broker: started on its own ports beside
Tansu, sharing the S3 server, the first time a test asks for it (`broker="kafka"`).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import from_dict

# Below Linux's ephemeral range (32768-60999), SeaweedFS's gRPC ports (+10000) included: a
# server started mid-session (Apache Kafka) once failed to bind a port that an outgoing
# connection happened to hold as its local port. Clear of the default stack's ports too.
TEST_PORTS = {"broker_port": int(os.environ.get("ARCHIEFSTROOM_TEST_BROKER_PORT", 21092)),
              "s3_port": int(os.environ.get("ARCHIEFSTROOM_TEST_S3_PORT", 21333)),
              "weed_port_base": int(os.environ.get("ARCHIEFSTROOM_TEST_WEED_PORT_BASE", 21400))}
KAFKA_PORT = int(os.environ.get("ARCHIEFSTROOM_TEST_KAFKA_PORT", 21192))
STACKS = {"tansu": {**TEST_PORTS, "broker": "tansu"},
          "kafka": {**TEST_PORTS, "broker": "kafka", "broker_port": KAFKA_PORT, "controller_port": KAFKA_PORT + 1}}
BROKERS = tuple(STACKS)


def config_dict(data_dir: Path, name: str = "base", broker: str = "tansu", **sections) -> dict:
    """A configuration for the test stack; `name` makes topics, group and bucket unique."""
    from archiefstroom import stack
    sections["pipeline"] = {"batch_max_records": 500, "batch_max_seconds": 1.0, **sections.get("pipeline", {})}
    return stack.isolated_config(data_dir, name, STACKS[broker], **sections)


def pipeline_options(streaming: bool = False):
    """The project's own Prism (built by scripts/setup), as `run` uses it, for tests that run a
    pipeline. Never Beam's default runner: it tries Prism by downloading it, and the failed
    attempt leaves the process-wide Prism job server without the project's binary for every
    later pipeline of the test session."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from archiefstroom import runtimes
    opts = PipelineOptions(runtimes.beam_args("prism", []))
    opts.view_as(StandardOptions).streaming = streaming
    return opts


def build_cfg(data_dir: Path, name: str = "base", broker: str = "tansu", **sections) -> Config:
    return from_dict(config_dict(data_dir, name, broker, **sections), Config).resolve_paths(data_dir)


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def stack_cfg(stack_dir) -> Config:
    """The embedded stack, up for the whole session; the Config points at it."""
    from archiefstroom import stack
    cfg = build_cfg(stack_dir)
    try:
        stack.up(cfg, quiet=True)
        yield cfg
    finally:  # also when start-up failed half-way: leave no server behind on the test ports
        stack.down(cfg, quiet=True)


@pytest.fixture(scope="session")
def kafka_stack_cfg(stack_cfg, stack_dir) -> Config:
    """Apache Kafka beside Tansu, on the same S3 server, up from the first test that needs it."""
    from archiefstroom import stack
    cfg = build_cfg(stack_dir, broker="kafka")
    try:
        stack.up(cfg, quiet=True)
        yield cfg
    finally:
        stack.down(cfg, quiet=True, services=("kafka",))


@pytest.fixture
def make_cfg(request, stack_cfg, stack_dir):
    """`make_cfg(broker="tansu"|"kafka", **sections)` -> a Config with fresh topics, group and
    bucket on the session stack."""
    from archiefstroom import stack

    def make(broker: str = "tansu", **sections) -> Config:
        if broker == "kafka":
            request.getfixturevalue("kafka_stack_cfg")
        name = "t" + uuid.uuid4().hex[:10]
        cfg = build_cfg(stack_dir, name, broker, **sections)
        cfg.as_dict = config_dict(stack_dir, name, broker, **sections)  # as a YAML file for subprocesses
        stack.ensure(cfg)
        return cfg
    return make


PG_PORT = int(os.environ.get("ARCHIEFSTROOM_TEST_PG_PORT", 21532))


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server (Debian's package, installed by scripts/setup) on 127.0.0.1, for the
    catalog on its production database; `postgres.create_database(name)` gives a fresh URL."""
    from archiefstroom import pgserver
    server = pgserver.Server(PG_PORT)
    try:
        yield server.start()
    finally:
        server.stop()
