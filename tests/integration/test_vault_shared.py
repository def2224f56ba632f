"""The shared vault (issue 16) on both of its databases, PostgreSQL (the production store, a real
server from the `postgres` fixture) and SQLite (the embedded default): two worker processes
pseudonymise concurrently into one vault, a token of each is re-identified from a third
process; a forced collision (6-hex tokens) is refused, reported and quarantined, never merged;
a vault in the old segment format is imported and re-identifies."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.unit.test_pseudonymise_keys_vault import colliding_pair

pytestmark = pytest.mark.integration
VAULT_KEY = "base64:" + base64.b64encode(bytes(range(32))).decode()
PSEUDONYM_KEY = "a-test-key-that-is-long-enough-for-hmac"
ROOT = Path(__file__).resolve().parents[2]


def _worker(cfg_path: str, mode: str, *args: str) -> None:
    """Run in a child process: `sample SEED...` pseudonymises the sample records of those
    seeds through the Beam DoFn's own code and prints token, label, value of every mapping;
    `record NAME` pseudonymises one record whose author is called NAME."""
    from archiefstroom.core.pseudonymise.keys import KeyRing
    from archiefstroom.core.validation import InvalidEvent, parse_event
    from archiefstroom.ground import config
    from archiefstroom.samples.generator import generate_with_personal
    from archiefstroom.transforms.pseudonymise import QUARANTINE, _Pseudonymise
    from tests.unit.test_pseudonymise_record import record

    cfg = config.load(cfg_path)
    fn = _Pseudonymise(cfg, frozenset())
    fn.setup()
    if mode == "sample":
        records = []
        for seed in args:
            for i, raw in enumerate(generate_with_personal(int(seed), threads_per_account=1)[0]):
                try:
                    ev = parse_event(raw, max_bytes=1_000_000)
                except InvalidEvent:
                    continue
                records.append({"event": ev, "source": {"topic": "raw", "partition": 0, "offset": i},
                                "archived_at": ev["captured_at"], "pipeline_version": "t"})
    else:
        records = [record(author={"id": "u1", "handle": "h1", "display_name": args[0]})]
    ring: KeyRing = fn.rt.ring
    out = {"mappings": [], "quarantined": []}
    from apache_beam.transforms.window import GlobalWindow
    from apache_beam.utils.timestamp import Timestamp
    fn.start_bundle()
    emitted = []
    for rec in records:
        mappings = fn.rt.records.apply(rec).mappings          # what the vault is given for this record
        emitted += list(fn.process(rec, timestamp=Timestamp(0), window=GlobalWindow()))
        out["mappings"] += [[t, label, value] for t, (label, value) in mappings.items()]
    emitted += list(fn.finish_bundle())                      # held records leave with their vault entries
    fn.teardown()
    for o in emitted:
        if getattr(o, "tag", None) == QUARANTINE:
            out["quarantined"].append(o.value.value.reason)
    out["key_id"] = ring.active
    print(json.dumps(out))


def _config(tmp_path: Path, name: str, url: str | None, token_hex: int = 16) -> Path:
    vault = {"enabled": True, "key": VAULT_KEY, "path": f"vault-{name}"}
    if url:
        vault["url"] = url
    doc = {"data_dir": str(tmp_path / f"data-{name}"),
           "pseudonymisation": {"key_id": "test-2026", "key": PSEUDONYM_KEY, "allow_dev_key": False,
                                "recognizers": "own", "token_hex": token_hex, "vault": vault}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _spawn(cfg: Path, *args: str) -> subprocess.Popen:
    code = "import sys; from tests.integration.test_vault_shared import _worker; _worker(*sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, str(cfg), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _result(p: subprocess.Popen) -> dict:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _cli(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg), *args],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(params=["postgresql", "sqlite"])
def vault_url(request, tmp_path):
    """A fresh vault database: a PostgreSQL database, or None for the embedded default."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").create_database("vault" + os.urandom(4).hex())


def test_two_workers_write_one_vault_and_a_third_process_reidentifies(tmp_path, vault_url):
    # both data dirs point at the same vault: the database URL, or (SQLite) the same file
    shared = vault_url or f"sqlite:///{tmp_path / 'shared-vault' / 'vault.sqlite'}"
    a, b = _config(tmp_path, "a", shared), _config(tmp_path, "b", shared)
    # seeds 21 and 22 are each worker's own, 23 both pseudonymise at the same time
    pa, pb = _spawn(a, "sample", "23", "21"), _spawn(b, "sample", "23", "22")
    ra, rb = _result(pa), _result(pb)
    assert ra["quarantined"] == rb["quarantined"] == []
    own_a = {t for t, _, _ in ra["mappings"]} - {t for t, _, _ in rb["mappings"]}
    own_b = {t for t, _, _ in rb["mappings"]} - {t for t, _, _ in ra["mappings"]}
    assert own_a and own_b and len(ra["mappings"]) > 100
    values = {t: v for t, _, v in ra["mappings"] + rb["mappings"]}
    third = _config(tmp_path, "c", shared)
    ask = ["--role", "privacy-officer", "--reason", "WOO-2026-0016", "--actor", "tester"]
    for token in (sorted(own_a)[0], sorted(own_b)[0], sorted(values.keys() - own_a - own_b)[0]):
        p = _cli(third, "reidentify", token, *ask)
        assert p.returncode == 0, p.stderr
        (line,) = p.stdout.splitlines()          # one person per token, never two
        assert line.split("\t")[0] == token and line.split("\t")[2] == "key test-2026"
        assert line.split("\t")[3] == values[token] or _same_person(token, line.split("\t")[3], values[token])
    status = _cli(third, "reidentify", "status")
    distinct = len(values)
    assert f"{distinct} token entries" in status.stdout and "0 refused collisions" in status.stdout, status.stdout
    verified = _cli(third, "reidentify", "verify-audit")
    assert verified.returncode == 0 and "3 entries" in verified.stdout


def _same_person(token: str, shown: str, written: str) -> bool:
    """Two notations of one value share a token; the vault keeps the first it was given."""
    from archiefstroom.core.pseudonymise.keys import normalise
    label = {"PLAATS": "WOONPLAATS", "DATUM": "GEBOORTEDATUM"}.get(token[1:].split("-")[0], token[1:].split("-")[0])
    return normalise(label, shown) == normalise(label, written)


def test_a_forced_collision_is_refused_reported_and_quarantined_not_merged(tmp_path, vault_url):
    from archiefstroom.core.pseudonymise.keys import KeyRing
    shared = vault_url or f"sqlite:///{tmp_path / 'shared-vault' / 'vault.sqlite'}"
    ring = KeyRing({"test-2026": PSEUDONYM_KEY.encode()}, "test-2026", token_hex=6)
    one, other = colliding_pair(ring)
    a, b = _config(tmp_path, "a", shared, token_hex=6), _config(tmp_path, "b", shared, token_hex=6)
    ra, rb = _result(_spawn(a, "record", one)), _result(_spawn(b, "record", other))
    token = ring.token("PERSOON", one)
    assert ra["quarantined"] == [] and rb["quarantined"] == ["pseudonymisation failed (TokenCollision)"]
    p = _cli(a, "reidentify", token, "--role", "privacy-officer", "--reason", "WOO-2026-0017")
    assert p.returncode == 0 and one in p.stdout and other not in p.stdout
    assert "1 refused collisions" in _cli(a, "reidentify", "status").stdout


def test_a_segment_vault_is_imported_into_postgresql_and_reidentifies(tmp_path, postgres):
    from archiefstroom.core.pseudonymise.keys import KeyRing
    from archiefstroom.core.pseudonymise.vault import AuditLog, Vault
    old = tmp_path / "old-vault"
    ring = KeyRing({"k2025": b"k" * 32}, "k2025", token_hex=6)
    legacy = Vault(old, base64.b64decode(VAULT_KEY[7:]))
    tokens = {ring.token("PERSOON", f"Burger {i}"): f"Burger {i}" for i in range(300)}
    legacy.put_many("k2025", {t: ("PERSOON", v) for t, v in tokens.items()})
    legacy.close()
    AuditLog(old / "audit.jsonl").write(actor="eva", role="privacy-officer", reason="WOO-2025-1", ref="x",
                                        outcome="revealed 1")
    cfg = _config(tmp_path, "m", postgres.create_database("vaultimport"))
    doc = yaml.safe_load(cfg.read_text())
    doc["pseudonymisation"]["vault"]["audit_log"] = str(old / "audit.jsonl")
    cfg.write_text(yaml.safe_dump(doc))
    p = _cli(cfg, "reidentify", "import-segments", str(old))
    assert p.returncode == 0, p.stderr
    assert "300 entries read, 300 stored" in p.stdout and "1 audit entries" in p.stdout
    token, value = sorted(tokens.items())[7]
    shown = _cli(cfg, "reidentify", token, "--role", "woo-coordinator", "--reason", "WOO-2026-0018")
    assert shown.returncode == 0 and shown.stdout.split("\t")[3].strip() == value
    assert _cli(cfg, "reidentify", "verify-audit").returncode == 0
