"""Keyed pseudonyms (stability, length, rotation), the shared vault on its embedded default
(SQLite), collisions, the audit log in the vault's database, and the migration from segments."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import subprocess
import sys

import pytest
import yaml

from archiefstroom.core.pseudonymise.keys import DEV_KEY_ID, KeyedHash, KeyRing, decode_key, encode_key, normalise
from archiefstroom.core.pseudonymise.settings import KeyRingFile, PseudonymisationSettings
from archiefstroom.core.pseudonymise.vault import AuditLog, Vault, VaultError
from archiefstroom.ground.pseudonymisation import load_keyring
from archiefstroom.ground.settings import from_dict, load_yaml
from archiefstroom.ground.vault_db import SharedVault, Store, TokenCollision, plaintext

K1 = b"k" * 32
K2 = b"z" * 32


def colliding_pair(ring: KeyRing, label: str = "PERSOON") -> tuple[str, str]:
    """Two different people whose tokens are equal (only findable with short tokens)."""
    seen = {}
    for i in range(200_000):
        value = f"Persoon Nummer {i}"
        t = ring.token(label, value)
        if t in seen:
            return seen[t], value
        seen[t] = value
    raise AssertionError("no collision found")


def vault_at(tmp_path, key: bytes, name: str = "v") -> SharedVault:
    return SharedVault(Store.open(f"sqlite:///{tmp_path / name / 'vault.sqlite'}", tmp_path), key)


def test_token_is_stable_typed_keyed_and_16_hex_by_default():
    ring = KeyRing({"a": K1}, "a")
    t = ring.token("TEL", "06-12345678")
    assert t.startswith("[TEL-") and len(t) == len("[TEL-") + 16 + 1
    assert ring.token("TEL", "06-12345678") == t
    assert KeyRing({"b": K2}, "b").token("TEL", "06-12345678") != t
    assert ring.token("PERSOON", "Jan de Vries").startswith("[PERSOON-")
    assert len(KeyRing({"a": K1}, "a", token_hex=6).token("TEL", "06-12345678")) == len("[TEL-") + 6 + 1


def test_tokens_are_hmac_sha256_as_the_standard_library_computes_it():
    """The fast keyed hash (pads hashed once) against Python's hmac, for keys shorter than, equal to
    and longer than SHA-256's 64-byte block; and a token against its definition written out by hand."""
    for n in (16, 32, 63, 64, 65, 100):
        key = os.urandom(n)
        for msg in (b"", b"PERSOON\x1fjan de vries", os.urandom(200)):
            assert KeyedHash(key).digest(msg) == hmac.digest(key, msg, "sha256")
    expected = "[TEL-" + hmac.new(K1, b"TEL\x1f0612345678", hashlib.sha256).hexdigest()[:16] + "]"
    ring = KeyRing({"a": K1}, "a")
    assert ring.token("TEL", "06-12345678") == expected
    assert ring.token("TEL", "06-12345678") == expected          # the second time from the ring's cache


def test_notations_of_one_value_share_a_token():
    ring = KeyRing({"a": K1}, "a")
    assert len({ring.token("TEL", v) for v in ["06-12345678", "0612345678", "+31 6 1234 5678", "0031612345678"]}) == 1
    assert ring.token("IBAN", "NL91 ABNA 0417 1643 00") == ring.token("IBAN", "nl91abna0417164300")
    assert ring.token("EMAIL", "jan punt bos at gmail punt com") == ring.token("EMAIL", "Jan.Bos@gmail.com")
    assert ring.token("ACCOUNT", "@Jan_Burger") == ring.token("ACCOUNT", "jan_burger")
    assert ring.token("PERSOON", "Jan  de Vries") == ring.token("PERSOON", "jan de vries")
    assert ring.token("TEL", "06-12345678") != ring.token("TEL", "06-12345679")
    assert normalise("TEL", "+31 (0)6 1234 5678") == "0612345678"


def test_rotation_keeps_old_keys_with_their_length_and_moves_new_tokens_to_16_hex():
    old = KeyRing({"2026a": K1}, "2026a", token_hex=6)
    rotated = old.rotated("2026b")
    assert rotated.active == "2026b" and set(rotated.keys) == {"2026a", "2026b"}
    assert len(rotated.token("BSN", "111222333")) == len("[BSN-]") + 16
    assert rotated.token("BSN", "111222333", key_id="2026a") == old.token("BSN", "111222333")   # still 6 hex
    assert rotated.lengths == {"2026a": 6}
    with pytest.raises(ValueError):
        rotated.rotated("2026a")          # key ids are never reused


def test_key_ring_rejects_weak_or_missing_keys():
    with pytest.raises(ValueError):
        KeyRing({"a": b"short"}, "a")
    with pytest.raises(ValueError):
        KeyRing({"a": K1}, "b")
    with pytest.raises(ValueError):
        KeyRing({"a": K1}, "a", token_hex=5)
    assert decode_key(encode_key(K1)) == K1


def test_an_entry_encrypts_the_json_the_readers_expect():
    """The vault's hand-built plaintext is byte for byte json.dumps (what lookup and the segment
    vault's reader parse), also for quotes, control characters, non-ASCII and astral characters."""
    for label, value in [("PERSOON", "Jan de Vries"), ("RAW", '{"text": "a \\"quote\\"\\n", "x": 1}'),
                         ("PERSOON", "Zoë Çelik \u202e\u200b"), ("RAW", "emoji \U0001F600 tab\t nul\x00")]:
        assert plaintext(label, value) == json.dumps({"label": label, "value": value}).encode("utf-8")


def test_vault_round_trip_is_encrypted_at_rest_and_idempotent_across_writers(tmp_path):
    key = SharedVault.new_key()
    first, second = vault_at(tmp_path, key), vault_at(tmp_path, key)      # two workers, one store
    ring = KeyRing({"a": K1}, "a")
    token = ring.token("PERSOON", "Sanne de Vries")
    assert first.put_many("a", {token: ("PERSOON", "Sanne de Vries")}) == 1
    assert first.put_many("a", {token: ("PERSOON", "Sanne de Vries")}) == 0
    assert second.put_many("a", {token: ("PERSOON", "sanne  de vries")}) == 0   # same person, other notation
    first.sync()
    stored = (tmp_path / "v" / "vault.sqlite").read_bytes() + (tmp_path / "v" / "vault.sqlite-wal").read_bytes()
    assert b"Sanne" not in stored and token.encode() in stored
    (found,) = second.lookup(token)
    assert (found.value, found.label, found.key_id) == ("Sanne de Vries", "PERSOON", "a")
    assert second.lookup(token, key_id="other") == []
    assert first.lookup("[PERSOON-0000000000000000]") == []
    assert first.collision_count() == 0


def test_a_different_value_under_an_existing_token_is_refused_reported_and_not_merged(tmp_path, caplog):
    ring = KeyRing({"a": K1}, "a", token_hex=6)         # short on purpose: a pair is found quickly
    one, other = colliding_pair(ring)
    token = ring.token("PERSOON", one)
    key = SharedVault.new_key()
    writer, rival = vault_at(tmp_path, key), vault_at(tmp_path, key)
    writer.put_many("a", {token: ("PERSOON", one)})
    caplog.set_level(logging.WARNING)
    with pytest.raises(TokenCollision):
        rival.put_many("a", {token: ("PERSOON", other), ring.token("TEL", "0612345678"): ("TEL", "0612345678")})
    with pytest.raises(TokenCollision):
        writer.put_many("a", {token: ("PERSOON", other)})           # the writer's own cache knows too
    assert [r.value for r in rival.lookup(token)] == [one]
    assert rival.lookup(ring.token("TEL", "0612345678"))[0].value == "0612345678"   # the rest is stored
    assert rival.collision_count() == 2 and rival.collisions == 1 and writer.collisions == 1
    assert token in caplog.text and other not in caplog.text and one not in caplog.text


def test_a_bundle_is_written_at_once_and_refuses_only_the_records_whose_token_is_taken(tmp_path):
    ring = KeyRing({"a": K1}, "a", token_hex=6)
    one, other = colliding_pair(ring)
    token, tel = ring.token("PERSOON", one), ring.token("TEL", "0612345678")
    key = SharedVault.new_key()
    rival, writer = vault_at(tmp_path, key), vault_at(tmp_path, key)
    rival.put_many("a", {token: ("PERSOON", one)})
    # record 0: the rival's person again (fine); 1: someone else under the rival's token;
    # 2: a new number; 3: two notations of that number (one person, fine)
    refused = writer.put_batch("a", [{token: ("PERSOON", one)},
                                     {token: ("PERSOON", other), tel: ("TEL", "0612345678")},
                                     {tel: ("TEL", "06-12345678")},
                                     {tel: ("TEL", "+31 6 1234 5678")}])
    assert refused == [set(), {token}, set(), set()]
    assert writer.written == 1                                      # the number; the person was there
    assert [r.value for r in writer.lookup(token)] == [one]
    assert writer.collision_count() == 1 and writer.collisions == 1


def test_two_people_under_one_token_in_one_bundle_first_one_stays(tmp_path):
    ring = KeyRing({"a": K1}, "a", token_hex=6)
    one, other = colliding_pair(ring)
    token = ring.token("PERSOON", one)
    v = vault_at(tmp_path, SharedVault.new_key())
    assert v.put_batch("a", [{token: ("PERSOON", one)}, {token: ("PERSOON", other)},
                             {token: ("PERSOON", one)}]) == [set(), {token}, set()]
    assert [r.value for r in v.lookup(token)] == [one]
    assert v.put_batch("a", [{token: ("PERSOON", other)}]) == [{token}]     # known from now on, no write
    assert v.collision_count() == 2


def test_what_was_stored_once_is_not_written_again(tmp_path):
    ring = KeyRing({"a": K1}, "a")
    v = vault_at(tmp_path, SharedVault.new_key())
    batch = [{ring.token("TEL", f"061234567{i}"): ("TEL", f"061234567{i}")} for i in range(5)]
    v.put_raw("a", "x:1", '{"text": "bel 0612345670"}')
    assert v.put_batch("a", batch) == [set()] * 5 and v.written == 6     # five numbers and the raw payload
    statements = []
    v.store.db.conn.set_trace_callback(statements.append)
    v.put_raw("a", "x:1", '{"text": "bel 0612345670"}')               # the same payload again: known
    assert v.put_batch("a", batch) == [set()] * 5 and v.written == 6
    assert not [s for s in statements if "vault_entries" in s]        # neither written nor looked up


def test_vault_refuses_another_key_and_moved_entries(tmp_path):
    key = SharedVault.new_key()
    v = vault_at(tmp_path, key)
    v.put_many("a", {"[TEL-aaaaaaaaaaaaaaaa]": ("TEL", "0612345678")})
    v.sync()
    with pytest.raises(VaultError):
        vault_at(tmp_path, SharedVault.new_key())       # another vault key is refused at open
    db = sqlite3.connect(tmp_path / "v" / "vault.sqlite")
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE vault_entries SET token = '[TEL-bbbbbbbbbbbbbbbb]'")
    # the token is associated data: a copy under another token does not decrypt
    db.execute("INSERT INTO vault_entries SELECT '[TEL-bbbbbbbbbbbbbbbb]', key_id, variant, kind, fingerprint, "
               "nonce, ct, created_at FROM vault_entries")
    db.commit()
    with pytest.raises(VaultError):
        vault_at(tmp_path, key).lookup("[TEL-bbbbbbbbbbbbbbbb]")


def test_raw_payload_in_vault(tmp_path):
    v = vault_at(tmp_path, SharedVault.new_key())
    ref = v.put_raw("a", "x:1", '{"text":"bel 0612345678"}')
    assert ref.startswith("raw:") and len(ref) == 36
    assert ref != v.put_raw("a", "x:1", '{"text":"bel 0612345678", "likes": 3}')   # re-fetched, other payload
    v.sync()
    assert v.lookup(ref)[0].value == '{"text":"bel 0612345678"}'


def test_audit_log_is_hash_chained_append_only_and_verified(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'vault.sqlite'}", tmp_path)
    store.audit(actor="a", role="privacy-officer", reason="WOO-2026-1", ref="[TEL-aaaaaa]", outcome="revealed 1")
    store.audit(actor="b", role="x", reason="test", ref="[TEL-aaaaaa]", outcome="refused")
    assert store.verify_audit()[:2] == (True, 2)
    db = sqlite3.connect(tmp_path / "vault.sqlite")
    for sql in ("UPDATE vault_audit SET reason = 'changed' WHERE seq = 1", "DELETE FROM vault_audit WHERE seq = 1"):
        with pytest.raises(sqlite3.DatabaseError):
            db.execute(sql)
    db.execute("DROP TRIGGER vault_audit_no_update")     # someone with the database owner's rights
    db.execute("UPDATE vault_audit SET reason = 'changed' WHERE seq = 1")
    db.commit()
    ok, n, _, problem = store.verify_audit()
    assert not ok and "entry 1" in problem


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


def test_reidentify_needs_role_and_reason_and_audits_in_the_vault(tmp_path):
    _write_config(tmp_path, True)
    key = SharedVault.new_key()
    env = {"ARCHIEFSTROOM_VAULT_KEY": encode_key(key)}
    ring = KeyRing({DEV_KEY_ID: b"x" * 32}, DEV_KEY_ID)
    token = ring.token("TEL", "0612345678")
    v = SharedVault(Store.open(f"sqlite:///{tmp_path / 'vault' / 'vault.sqlite'}", tmp_path), key)
    v.put_many(DEV_KEY_ID, {token: ("TEL", "0612345678")})
    v.close()
    bad_role = _cli(tmp_path, "reidentify", token, "--role", "intern", "--reason", "WOO-2026-0142", env=env)
    assert bad_role.returncode == 3 and "0612345678" not in bad_role.stdout
    no_reason = _cli(tmp_path, "reidentify", token, "--role", "privacy-officer", "--reason", " ", env=env)
    assert no_reason.returncode == 3
    ok = _cli(tmp_path, "reidentify", token, "--role", "privacy-officer", "--reason", "WOO-2026-0142",
              "--actor", "tester", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "0612345678" in ok.stdout
    entries = Store.open(f"sqlite:///{tmp_path / 'vault' / 'vault.sqlite'}", tmp_path).audit_entries()
    assert [e["outcome"] for e in entries] == ["refused", "refused", "revealed 1"]
    assert entries[-1]["reason"] == "WOO-2026-0142" and entries[-1]["actor"] == "tester"
    verified = _cli(tmp_path, "reidentify", "verify-audit", env=env)
    assert verified.returncode == 0 and "3 entries" in verified.stdout


def test_import_segments_round_trip(tmp_path):
    """A vault in the segment-file format (before issue 16) with its audit log is imported; its
    tokens re-identify, a legacy 6-hex collision keeps both values, a second import adds nothing."""
    key = Vault.new_key()
    old_dir = tmp_path / "old-vault"
    ring = KeyRing({"k2025": K1}, "k2025", token_hex=6)
    one, other = colliding_pair(ring)
    legacy = Vault(old_dir, key)
    tel = ring.token("TEL", "0612345678")
    legacy.put_many("k2025", {tel: ("TEL", "06-12345678"), ring.token("PERSOON", one): ("PERSOON", one)})
    legacy.put_many("k2025", {tel: ("TEL", "0612345678")})                       # a second notation
    legacy.put_many("k2025", {ring.token("PERSOON", other): ("PERSOON", other)})  # the old vault merged these
    raw_ref = legacy.put_raw("k2025", "x:9", '{"text": "bel 0612345678"}')
    legacy.close()
    old_audit = AuditLog(old_dir / "audit.jsonl")
    old_audit.write(actor="eva", role="privacy-officer", reason="WOO-2025-0007", ref=tel, outcome="revealed 1")
    (tmp_path / "archiefstroom.yaml").write_text(
        f"data_dir: {tmp_path}\npseudonymisation:\n  vault:\n    enabled: true\n    path: new-vault\n"
        f"    audit_log: {old_dir / 'audit.jsonl'}\n")
    env = {"ARCHIEFSTROOM_VAULT_KEY": "base64:" + base64.b64encode(key).decode()}
    first = _cli(tmp_path, "reidentify", "import-segments", str(old_dir), "--actor", "beheer", env=env)
    assert first.returncode == 0, first.stderr
    assert "5 entries read, 3 stored, 1 already there, 1 tokens with more than one value" in first.stdout
    assert "1 audit entries" in first.stdout
    again = _cli(tmp_path, "reidentify", "import-segments", str(old_dir), env=env)
    assert "0 stored, 5 already there, 0 tokens" in again.stdout and "0 audit entries" in again.stdout
    ask = ["--role", "privacy-officer", "--reason", "WOO-2026-0009"]
    tel_out = _cli(tmp_path, "reidentify", tel, *ask, env=env)
    assert tel_out.returncode == 0 and "06-12345678" in tel_out.stdout and "key k2025" in tel_out.stdout
    both = _cli(tmp_path, "reidentify", ring.token("PERSOON", one), *ask, env=env)
    assert one in both.stdout and other in both.stdout and "more than one value" in both.stderr
    raw = _cli(tmp_path, "reidentify", "vault:" + raw_ref, *ask, env=env)
    assert "bel 0612345678" in raw.stdout
    entries = Store.open(f"sqlite:///{tmp_path / 'new-vault' / 'vault.sqlite'}", tmp_path).audit_entries()
    assert [e["reason"] for e in entries][:3] == ["import-segments", "WOO-2025-0007", "import-segments"]
    assert _cli(tmp_path, "reidentify", "verify-audit", env=env).returncode == 0


def test_rotate_key_moves_a_6_hex_ring_to_16_hex_tokens_and_keeps_the_old_length(tmp_path):
    ring_file = tmp_path / "ring.yaml"
    ring_file.write_text(yaml.safe_dump({"active": "k2025", "token_hex": 6, "keys": {"k2025": encode_key(K1)}}))
    _write_config(tmp_path, False)
    assert _cli(tmp_path, "pseudonymise", "rotate-key", "--keyring", str(ring_file), "--new-id", "k2026").returncode == 0
    doc = load_yaml(ring_file, KeyRingFile)
    assert (doc.active, doc.token_hex, doc.token_hex_by_key) == ("k2026", 16, {"k2025": 6})
    ring = load_keyring(from_dict({"keyring_file": str(ring_file)}, PseudonymisationSettings), tmp_path)
    old = KeyRing({"k2025": K1}, "k2025", token_hex=6)
    assert ring.token("PERSOON", "Sanne de Vries", key_id="k2025") == old.token("PERSOON", "Sanne de Vries")
    assert len(ring.token("PERSOON", "Sanne de Vries")) == len("[PERSOON-]") + 16
