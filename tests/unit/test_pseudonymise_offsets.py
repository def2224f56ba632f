"""Issue 15: entity offsets are plain ints everywhere (deduce's overlap resolver hands out numpy
integers when it cuts one annotation around another), so the CLI's JSON and the archive's Avro
never meet a numpy scalar. A property test over random Dutch texts with personal data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.entities import Entity
from archiefstroom.core.pseudonymise.keys import KeyRing
from archiefstroom.core.pseudonymise.names import DEDUCE_NAMES, deduce_entities
from archiefstroom.core.pseudonymise.pseudonymiser import pseudonymise_text
from archiefstroom.ground.config import DEFAULT_CONFIG

# deduce's OverlapResolver cuts "Jan" out of a longer overlapping annotation: numpy.int64 offsets
MERGED = "Jan Amsterdam 5 van Kerkstraat Laan"
# ... and such a cut-out, merged with an own detection by `resolve`, reached the CLI's json.dumps
CRASHED = ["Willem Den Haag 12", "Den Haag 1234 AB dhr. Hof Sint Bakker Bakker",
           "Bakker Peter Jan de Vries Laan 1234 AB 12 1234 AB"]
RULES = "".join(f"  {n}: {DEFAULT_CONFIG.parent / 'registry' / (n + '.yaml')}\n"
                for n in ("accounts", "platforms", "selectielijst", "hotspots"))
RING = KeyRing({"t": b"k" * 32}, "t", 16)
# Hypothesis keeps a cache directory; not in the work tree (the examples hold invented personal data)
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "archiefstroom-hypothesis")


@pytest.fixture(scope="module")
def combined():
    return Detector("combined")


def test_deduce_itself_hands_out_numpy_offsets_here(combined):
    """The premise of the fix: if deduce stops doing this, the test below still guards the CLI."""
    doc = combined.engine.deidentify(MERGED, enabled=DEDUCE_NAMES)
    assert any(type(a.start_char) is not int for a in doc.annotations)


def test_offsets_are_plain_ints_at_the_source(combined):
    for text in (MERGED, *CRASHED):
        ents = deduce_entities(combined.engine, text, names_only=True) + combined.detect(text)
        assert all(type(e.start) is int and type(e.end) is int for e in ents), text
        json.dumps([e.datum() for e in combined.detect(text)])


def test_entity_refuses_non_integer_offsets():
    import numpy as np
    e = Entity(np.int64(3), np.int64(7), "TEL")
    assert type(e.start) is int and type(e.end) is int and e == Entity(3, 7, "TEL")
    with pytest.raises(TypeError):
        Entity(1.5, 3, "TEL")


def test_cli_in_out_with_merged_detections(tmp_path):
    cfg = tmp_path / "archiefstroom.yaml"
    cfg.write_text(f"data_dir: {tmp_path}\npseudonymisation:\n  recognizers: combined\nrules:\n{RULES}")
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(CRASHED)))
    p = subprocess.run([sys.executable, "-m", "archiefstroom.cli", "--config", str(cfg), "pseudonymise",
                        "--in", str(src), "--out", str(out)], capture_output=True, text=True, env=dict(os.environ))
    assert p.returncode == 0, p.stderr[-2000:]
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert row["entities"] and all(0 <= e["start"] < e["end"] <= len(row["text"]) for e in row["entities"])
    assert "Willem" not in rows[0]["text_pseudonymised"] and "1234 AB" not in rows[1]["text_pseudonymised"]


# ---------------------------------------------------------------- property test over random texts

WORDS = ["ik", "woon", "op", "de", "bel", "me", "mijn", "buurman", "heeft", "gisteren", "gemeente", "brief",
         "graag", "terug", "waarom", "duurt", "dit", "zo", "lang", "toeslag", "aanvraag", "bedankt", "en", "in",
         "met", "dhr.", "mevr.", "patient", "Laan", "Hof", "Sint", "Dam", "van", "der", "zaaknummer", "kenmerk",
         "geboren", "bsn", "postcode", "PL", "@", "#", "!", "?", ",", ".", "…", "\u200b", "😡", "thx", "pls", "lol"]
NAMES = ["Jan", "Willem", "Peter", "Henk", "Maria", "Fatima", "de Vries", "Jansen", "Bakker", "van der Berg",
         "El Amrani", "Den Haag", "Amsterdam", "Utrecht", "Rotterdam", "Kerkstraat", "Stationsweg"]


def _digits(n):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


PERSONAL = st.one_of(
    st.sampled_from(["06-12345678", "+31 6 2345 6789", "020-5551234", "111222333", "NL91ABNA0417164300",
                     "1234 AB", "2511 cv", "12-AB-34", "03/04/61", "12-03-1975", "jan.bos@gmail.com",
                     "PL0900-2024123456", "1234 5678 9012 3456", "2024/123456", "@keesdevries12",
                     "@Belastingdienst", "minister Keijzer", "Kerkstraat 12", "Postbus 51"]),
    st.builds(lambda a, b: f"06-{a}{b}", _digits(4), _digits(4)),
    st.builds(lambda a, b: f"{a} {b.upper()}", _digits(4).filter(lambda d: d[0] != "0"),
              st.text(alphabet="abcdefghjklmnprtvwxz", min_size=2, max_size=2)),
    st.builds(lambda a, b, c: f"{a}-{b}-{c}", st.integers(1, 31), st.integers(1, 12), st.integers(0, 99)),
    st.builds(lambda a: " ".join(a[i:i + 4] for i in range(0, 16, 4)), _digits(16)),
    st.builds(lambda a, b: f"PL{a}-{b}", _digits(4), _digits(10)),
)
TOKEN = st.one_of(st.sampled_from(WORDS), st.sampled_from(NAMES), PERSONAL, st.text(max_size=6))
TEXTS = st.lists(TOKEN, min_size=1, max_size=14).flatmap(
    lambda toks: st.lists(st.sampled_from([" ", " ", " ", ", ", "\n", "", "  "]), min_size=len(toks),
                          max_size=len(toks)).map(lambda seps: "".join(t + s for t, s in zip(toks, seps))))


def _no_numpy(o):
    raise TypeError(f"not JSON: {type(o).__name__}")   # no default=str: it would hide a numpy scalar


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=TEXTS)
def test_random_texts_give_int_offsets_in_bounds_and_json(combined, text):
    res = pseudonymise_text(text, combined, RING)
    ents = res.entities
    assert all(type(e.start) is int and type(e.end) is int for e in ents)
    assert all(0 <= e.start < e.end <= len(text) for e in ents)
    assert all(a.end <= b.start for a, b in zip(ents, ents[1:]))          # resolved: sorted, no overlap
    line = json.dumps({"text": text, "text_pseudonymised": res.text, "entities": [e.datum() for e in ents]},
                      default=_no_numpy, ensure_ascii=False)
    back = json.loads(line)
    assert [text[e["start"]:e["end"]] for e in back["entities"]] == [text[e.start:e.end] for e in ents]
    for token, (label, original) in res.mappings.items():
        assert type(token) is str and type(original) is str and original and token in res.text
