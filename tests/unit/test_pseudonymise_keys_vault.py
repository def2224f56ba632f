"""Keyed pseudonyms (stability, rotation), the encrypted vault and the audit log."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from archiefstroom.core.pseudonymise.keys import DEV_KEY_ID, KeyRing, decode_key, encode_key, normalise
from archiefstroom.core.pseudonymise.vault import AuditLog, Vault, VaultError

K1 = b"k" * 32
K2 = b"z" * 32


def test_token_is_stable_typed_and_keyed():
    ring = KeyRing({"a": K1}, "a")
    t = ring.token("TEL", "06-12345678")
    assert t.startswith("[TEL-") and len(t) == len("[TEL-") + 6 + 1
    assert ring.token("TEL", "06-12345678") == t
    assert KeyRing({"b": K2}, "b").token("TEL", "06-12345678") != t
    assert ring.token("PERSOON", "Jan de Vries").startswith("[PERSOON-")


def test_notations_of_one_value_share_a_token():
    ring = KeyRing({"a": K1}, "a")
    assert len({ring.token("TEL", v) for v in ["06-12345678", "0612345678", "+31 6 1234 5678", "0031612345678"]}) == 1
    assert ring.token("IBAN", "NL91 ABNA 0417 1643 00") == ring.token("IBAN", "nl91abna0417164300")
    assert ring.token("EMAIL", "jan punt bos at gmail punt com") == ring.token("EMAIL", "Jan.Bos@gmail.com")
    assert ring.token("ACCOUNT", "@Jan_Burger") == ring.token("ACCOUNT", "jan_burger")
    assert ring.token("PERSOON", "Jan  de Vries") == ring.token("PERSOON", "jan de vries")
    assert ring.token("TEL", "06-12345678") != ring.token("TEL", "06-12345679")
    assert normalise("TEL", "+31 (0)6 1234 5678") == "0612345678"


def test_rotation_keeps_old_keys_and_changes_tokens():
    ring = KeyRing({"2026a": K1}, "2026a")
    rotated = ring.rotated("2026b")
    assert rotated.active == "2026b" and set(rotated.keys) == {"2026a", "2026b"}
    assert rotated.token("BSN", "111222333") != ring.token("BSN", "111222333")
    assert rotated.token("BSN", "111222333", key_id="2026a") == ring.token("BSN", "111222333")
    with pytest.raises(ValueError):
        rotated.rotated("2026a")          # key ids are never reused


def test_key_ring_rejects_weak_or_missing_keys():
    with pytest.raises(ValueError):
        KeyRing({"a": b"short"}, "a")
    with pytest.raises(ValueError):
        KeyRing({"a": K1}, "b")
    assert decode_key(encode_key(K1)) == K1


def test_vault_round_trip_is_encrypted_at_rest(tmp_path):
    vault = Vault(tmp_path / "vault", Vault.new_key())
    ring = KeyRing({"a": K1}, "a")
    token = ring.token("PERSOON", "Sanne de Vries")
    assert vault.put_many("a", {token: ("PERSOON", "Sanne de Vries")}) == 1
    assert vault.put_many("a", {token: ("PERSOON", "Sanne de Vries")}) == 0       # once per process
    stored = "".join(p.read_text() for p in (tmp_path / "vault").glob("*.jsonl"))
    assert "Sanne" not in stored and token in stored
    (found,) = vault.lookup(token)
    assert (found.value, found.label, found.key_id) == ("Sanne de Vries", "PERSOON", "a")
    assert vault.lookup("[PERSOON-000000]") == []


def test_vault_refuses_wrong_key_and_moved_entries(tmp_path):
    key = Vault.new_key()
    v = Vault(tmp_path / "v", key)
    v.put_many("a", {"[TEL-aaaaaa]": ("TEL", "0612345678")})
    with pytest.raises(VaultError):
        Vault(tmp_path / "v", Vault.new_key()).lookup("[TEL-aaaaaa]")
    seg = next((tmp_path / "v").glob("*.jsonl"))
    row = json.loads(seg.read_text())
    row["ref"] = "[TEL-bbbbbb]"                   # the token is associated data: a moved entry fails
    seg.write_text(json.dumps(row) + "\n")
    with pytest.raises(VaultError):
        Vault(tmp_path / "v", key).lookup("[TEL-bbbbbb]")


def test_raw_payload_in_vault(tmp_path):
    v = Vault(tmp_path / "v", Vault.new_key())
    ref = v.put_raw("a", "x:1", '{"text":"bel 0612345678"}')
    assert ref.startswith("raw:")
    assert v.lookup(ref)[0].value == '{"text":"bel 0612345678"}'


def test_audit_log_is_hash_chained(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.write(actor="a", role="privacy-officer", reason="WOO-2026-1", ref="[TEL-aaaaaa]", outcome="revealed 1")
    log.write(actor="b", role="x", reason="test", ref="[TEL-aaaaaa]", outcome="refused")
    assert log.verify() and len(log.entries()) == 2
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["reason"] = "changed"
    (tmp_path / "audit.jsonl").write_text(json.dumps(first) + "\n" + lines[1] + "\n")
    assert not log.verify()


def _cli(tmp_path, *args, env=None):
    cfg = tmp_path / "archiefstroom.yaml"
    return subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def _write_config(tmp_path, vault_enabled: bool):
    (tmp_path / "archiefstroom.yaml").write_text(
        f"data_dir: {tmp_path}\npseudonymisation:\n  vault:\n    enabled: {str(vault_enabled).lower()}\n")


def test_reidentify_refuses_without_vault(tmp_path):
    _write_config(tmp_path, False)
    p = _cli(tmp_path, "reidentify", "[TEL-aaaaaa]", "--role", "privacy-officer", "--reason", "WOO-2026-0142")
    assert p.returncode == 3 and "no vault" in p.stderr


def test_reidentify_needs_role_and_reason_and_audits(tmp_path):
    _write_config(tmp_path, True)
    key = Vault.new_key()
    env = {"ARCHIEFSTROOM_VAULT_KEY": encode_key(key)}
    ring = KeyRing({DEV_KEY_ID: b"x" * 32}, DEV_KEY_ID)
    token = ring.token("TEL", "0612345678")
    Vault(tmp_path / "vault", key).put_many(DEV_KEY_ID, {token: ("TEL", "0612345678")})
    bad_role = _cli(tmp_path, "reidentify", token, "--role", "intern", "--reason", "WOO-2026-0142", env=env)
    assert bad_role.returncode == 3 and "0612345678" not in bad_role.stdout
    no_reason = _cli(tmp_path, "reidentify", token, "--role", "privacy-officer", "--reason", " ", env=env)
    assert no_reason.returncode == 3
    ok = _cli(tmp_path, "reidentify", token, "--role", "privacy-officer", "--reason", "WOO-2026-0142",
              "--actor", "tester", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "0612345678" in ok.stdout
    entries = AuditLog(tmp_path / "vault" / "audit.jsonl").entries()
    assert [e["outcome"] for e in entries] == ["refused", "refused", "revealed 1"]
    assert entries[-1]["reason"] == "WOO-2026-0142" and entries[-1]["actor"] == "tester"
    assert AuditLog(tmp_path / "vault" / "audit.jsonl").verify()
