"""Fixtures for the integration tests: the sample archived once, for the duties that read it."""
from __future__ import annotations

import base64
import uuid

import pytest
import yaml

SAMPLE_SEED, SAMPLE_THREADS = 11, 4
VAULT_KEY = "base64:" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="session")
def archived_sample(tmp_path_factory, stack_cfg, stack_dir):
    """The sample set run once through the whole pipeline on the embedded stack (Tansu,
    SeaweedFS, the SQLite catalog). For tests that only read the archive: Woo exports,
    transfers, reports. A test that deletes or re-tags objects builds its own archive.

    Returns cfg, the config file (for the CLI), the raw events and every personal value
    invented for them (for leak checks)."""
    from archiefstroom import replay, runner, stack
    from archiefstroom.samples.generator import generate_with_personal
    from tests.conftest import build_cfg, config_dict
    name = "duties" + uuid.uuid4().hex[:8]
    extra = {"pseudonymisation": {"key_id": "test-2026", "key": "a-test-key-that-is-long-enough-for-hmac",
                                  "allow_dev_key": False,
                                  "vault": {"enabled": True, "key": VAULT_KEY, "path": f"vault-{name}",
                                            "audit_log": f"vault-{name}/audit.jsonl"}}}
    cfg = build_cfg(stack_dir, name, "tansu", **extra)
    stack.ensure(cfg)
    cfg_file = tmp_path_factory.mktemp("duties") / "archiefstroom.yaml"
    cfg_file.write_text(yaml.safe_dump(config_dict(stack_dir, name, "tansu", **extra)))
    events, personal = generate_with_personal(SAMPLE_SEED, threads_per_account=SAMPLE_THREADS)
    ends = replay.produce(cfg, events)
    summary = runner.run(cfg, stop_at=ends, progress=False)
    return {"cfg": cfg, "file": cfg_file, "events": events, "personal": personal, "summary": summary}
