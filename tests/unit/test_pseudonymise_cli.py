"""The pseudonymise command: --in/--out with offsets into the original text, eval, key rotation."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from archiefstroom.ground.config import DEFAULT_CONFIG

# the shipped registries: their government accounts stay readable (one strict registry loader)
RULES = "".join(f"  {n}: {DEFAULT_CONFIG.parent / 'registry' / (n + '.yaml')}\n"
                for n in ("accounts", "platforms", "selectielijst", "hotspots"))


def _cli(tmp_path, *args, env=None):
    cfg = tmp_path / "archiefstroom.yaml"
    if not cfg.exists():
        cfg.write_text(f"data_dir: {tmp_path}\npseudonymisation:\n  recognizers: own\nrules:\n{RULES}")
    return subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_in_out_writes_tokens_and_original_offsets(tmp_path):
    src = tmp_path / "in.jsonl"
    texts = ["Bel me op 06-12345678 of mail sanne.jansen@gmail.com", "Goed nieuws! Eindelijk", "bsn\u200b 111222333"]
    src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)))
    out = tmp_path / "out.jsonl"
    p = _cli(tmp_path, "pseudonymise", "--in", str(src), "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [0, 1, 2]
    first = rows[0]
    assert [first["text"][e["start"]:e["end"]] for e in first["entities"]] == ["06-12345678", "sanne.jansen@gmail.com"]
    assert [e["label"] for e in first["entities"]] == ["TEL", "EMAIL"]
    assert "06-12345678" not in first["text_pseudonymised"] and "[TEL-" in first["text_pseudonymised"]
    assert rows[1]["entities"] == [] and rows[1]["text_pseudonymised"] == texts[1]
    (bsn,) = rows[2]["entities"]
    assert rows[2]["text"][bsn["start"]:bsn["end"]] == "111222333"


def test_eval_prints_all_three_modes(tmp_path):
    p = _cli(tmp_path, "pseudonymise", "eval", "--set", "holdout")
    assert "deduce R/P" in p.stdout and "own R/P" in p.stdout and "combined R/P" in p.stdout
    assert "PERSOON" in p.stdout and "targets:" in p.stdout


def test_rotate_key_keeps_old_keys(tmp_path):
    ring = tmp_path / "keys.yaml"
    assert _cli(tmp_path, "pseudonymise", "rotate-key", "--keyring", str(ring), "--new-id", "k1").returncode == 0
    assert _cli(tmp_path, "pseudonymise", "rotate-key", "--keyring", str(ring), "--new-id", "k2").returncode == 0
    doc = yaml.safe_load(ring.read_text())
    assert doc["active"] == "k2" and set(doc["keys"]) == {"k1", "k2"}
    assert oct(ring.stat().st_mode & 0o777) == "0o600"
    assert _cli(tmp_path, "pseudonymise", "rotate-key", "--keyring", str(ring), "--new-id", "k1").returncode != 0
    # the ring is used: records say the active key id
    (tmp_path / "archiefstroom.yaml").write_text(
        f"data_dir: {tmp_path}\npseudonymisation:\n  recognizers: own\n  keyring_file: {ring}\nrules:\n{RULES}")
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"text": "bel 0612345678"}) + "\n")
    assert _cli(tmp_path, "pseudonymise", "--in", str(src), "--out", str(out)).returncode == 0
    assert json.loads(out.read_text())["pseudonymisation_key_id"] == "k2"


def test_eval_on_the_independent_set_with_the_office_holder_registry(tmp_path):
    p = _cli(tmp_path, "pseudonymise", "eval", "--set", "independent")
    assert "independent.txt: 18" in p.stdout and "office holders: office_holders.yaml version 20" in p.stdout, p.stderr
    assert "DOSSIER" in p.stdout and "combined R/P" in p.stdout
    bad = _cli(tmp_path, "pseudonymise", "eval", "--set", "no-such-set")
    assert bad.returncode == 2 and "expected annotated, holdout, independent" in bad.stderr
