"""burgerbrief / webcare commands without Kafka: score, eval, table, mark; settings errors."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from archiefstroom import cli
from archiefstroom.commands import webcare
from archiefstroom.core.burgerbrief import alerts
from archiefstroom.ground import config
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.settings import ConfigError

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_score_adds_burgerbrief_objects(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    lines = [{"text": "Kunnen jullie mij terugbellen over mijn aanslag? Al 3 weken niks gehoord.", "org": "Belastingdienst",
              "id": 1},
             {"text": "hahaha wat een clowns 🤡", "platform": "x", "id": 2},
             {"text": "", "id": 3}]
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli.main(["burgerbrief", "score", "--in", str(src), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]                        # same lines, same order, fields kept
    assert rows[0]["org"] == "Belastingdienst"
    first, second = rows[0]["burgerbrief"], rows[1]["burgerbrief"]
    assert first["label"] is True and first["category"] and first["reasons"] and 0.5 <= first["score"] <= 1
    assert second["label"] is False and second["category"] is None
    assert set(first) == {"label", "score", "category", "reasons", "urgent", "model_version"}


def test_score_reports_bad_lines_with_their_number(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Hoe vraag ik huurtoeslag aan?"}\nnot json\n{"tekst": "x"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli.main(["burgerbrief", "score", "--in", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "in.jsonl:2" in err and "in.jsonl:3" in err
    assert len(out.read_text().splitlines()) == 1


def test_eval_prints_overall_and_per_category(capsys):
    assert cli.main(["burgerbrief", "eval", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["label"]["f1"] >= 0.85
    assert set(m["categories"]) == {"vraag", "verzoek", "klacht", "bezwaar", "melding", "woo-verzoek"}
    assert cli.main(["burgerbrief", "eval"]) == 0
    text = capsys.readouterr().out
    assert "burgerbrief" in text and "woo-verzoek" in text and "precision" in text


def _alert(eid, minutes, urgent=False, text="Kunnen jullie mij bellen?"):
    bb = {"label": True, "score": 0.91, "category": "verzoek", "reasons": ["vraagt om contact (bellen, mailen, DM)"],
          "urgent": urgent, "model_version": "m"}
    ev = {"event_id": eid, "object_id": eid, "platform": "x", "event_type": "reply", "text": text,
          "account": {"id": "GemeenteX", "handle": "GemeenteX", "display_name": "Gemeente X"},
          "author": {"id": "u", "handle": "burger"}, "thread_root": "x:1", "in_reply_to": "x:1", "url": None,
          "referenced": None, "created_at": T0}
    return alerts.alert_datum({"event": ev}, bb, T0 + dt.timedelta(minutes=minutes))


def test_table_is_newest_first_and_shows_verdicts():
    rows = sorted([_alert("x:2", 1), _alert("x:3", 5, urgent=True, text="Brand!")],
                  key=lambda a: a["detected_at"], reverse=True)
    fb = {"x:2": alerts.feedback_datum("x:2", "geen_burgerbrief", "anna", T0)}
    table = webcare.format_table(rows, fb, width=140, now=T0 + dt.timedelta(minutes=10)).splitlines()
    body = [line for line in table if line[:3].strip().isdigit()]
    assert "Brand!" in body[0] and "!" in body[0][:20]                  # newest (and urgent) first
    assert "geen" in body[1] and "Kunnen jullie" in body[1]
    assert any("waarom:" in line for line in table)
    assert "nog geen meldingen" in webcare.format_table([], {}, width=100)


class _Future:
    def get(self, timeout=None):
        return None


class FakeProducer:
    sent: list = []

    def send(self, topic, key=None, value=None):
        FakeProducer.sent.append((topic, key, value))
        return _Future()

    def close(self):
        pass


def test_mark_sends_a_feedback_datum(monkeypatch, capsys):
    FakeProducer.sent = []
    monkeypatch.setattr(kafka_clients, "producer", lambda settings, **kw: FakeProducer())
    monkeypatch.setattr(kafka_clients, "ensure_topics", lambda *a, **kw: None)
    assert cli.main(["webcare", "mark", "x:42", "--verdict", "n", "--by", "anna", "--note", "grap"]) == 0
    (topic, key, value), = FakeProducer.sent
    assert topic == config.load().burgerbrief.feedback_topic and key == b"x:42"
    fb = alerts.decode(value, alerts.FEEDBACK_SCHEMA)
    assert (fb["event_id"], fb["decision"], fb["by"], fb["note"]) == ("x:42", "geen_burgerbrief", "anna", "grap")


def test_settings_errors_name_the_field(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("burgerbrief:\n  threshold: 1.5\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert "a.yaml:2" in str(info.value) and "burgerbrief.threshold" in str(info.value)
    path.write_text("burgerbrief:\n  alert_topic: same\n  feedback_topic: same\n")
    with pytest.raises(ConfigError, match="burgerbrief.feedback_topic"):
        config.load(path)
    path.write_text("burgerbrief:\n  selectielijst_category: abc\n")
    with pytest.raises(ConfigError, match="selectielijst_category"):
        config.load(path)
    path.write_text("burgerbrief:\n  threshold: 0.6\n  keep_in_social_archive: false\n  alert_format: json\n")
    s = config.load(path).burgerbrief
    assert (s.threshold, s.keep_in_social_archive, s.alert_format) == (0.6, False, "json")
