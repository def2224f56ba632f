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

TEST_PORTS = {"broker_port": int(os.environ.get("ARCHIEFSTROOM_TEST_BROKER_PORT", 39092)),
              "s3_port": int(os.environ.get("ARCHIEFSTROOM_TEST_S3_PORT", 38333)),
              "weed_port_base": int(os.environ.get("ARCHIEFSTROOM_TEST_WEED_PORT_BASE", 39333))}


def config_dict(data_dir: Path, name: str = "base", **sections) -> dict:
    """A configuration for the test stack; `name` makes topics, group and bucket unique."""
    from archiefstroom import stack
    sections["pipeline"] = {"batch_max_records": 500, "batch_max_seconds": 1.0, **sections.get("pipeline", {})}
    return stack.isolated_config(data_dir, name, TEST_PORTS, **sections)


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
    from archiefstroom import stack

    def make(**sections) -> Config:
        name = "t" + uuid.uuid4().hex[:10]
        cfg = build_cfg(stack_dir, name, **sections)
        cfg.as_dict = config_dict(stack_dir, name, **sections)  # to write it as a YAML file for subprocesses
        stack.ensure(cfg)
        return cfg
    return make
