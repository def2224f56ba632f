"""`dlq inspect|redrive` on the embedded stack (issue 14): an event dead-lettered for its size is
redriven after the limit was raised and archived once; a second redrive finds nothing to do; a
connector's dead letter is normalised again and archived; one still unreadable stays where it is."""
from __future__ import annotations

import json
import uuid

import pytest
import yaml

from archiefstroom import cli, replay, runner, schemas
from archiefstroom.connectors.runtime import KafkaSink
from archiefstroom.core.rules.scenarios import event

from .spine_helpers import ledger_entries, topic_messages

pytestmark = pytest.mark.integration
ACC = "GemeenteAmsterdam"                   # deploy/registry/accounts.yaml: X, corporate, route 2
GOV = {"id": ACC, "handle": ACC, "display_name": "Gemeente Amsterdam", "profile_url": None, "avatar_url": None}


def _wire(ev) -> bytes:
    return json.dumps(schemas.to_wire(ev, "social_event"), ensure_ascii=False).encode()


def _cli(tmp_path, cfg, *argv) -> int:
    path = tmp_path / f"cfg-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(cfg.as_dict))
    return cli.main(["--config", str(path), "dlq", *argv])


@pytest.fixture
def two_limits(stack_cfg, stack_dir):
    """One archive, read first with a small event limit, then (the fix) with the default."""
    from tests.conftest import build_cfg, config_dict
    name = "dlq" + uuid.uuid4().hex[:8]
    small = {"pipeline": {"max_event_bytes": 3000}, "burgerbrief": {"enabled": False}}
    made = []
    for sections in (small, {"burgerbrief": {"enabled": False}}):
        cfg = build_cfg(stack_dir, name, "tansu", **sections)
        cfg.as_dict = config_dict(stack_dir, name, "tansu", **sections)
        made.append(cfg)
    return made


def test_an_oversized_event_is_redriven_after_the_fix_and_archived_once(two_limits, tmp_path, capsys):
    before, fixed = two_limits
    big = event("post", platform="x", account=ACC, author=GOV, native_id="9001", text="Lange bekendmaking. " * 200)
    small = event("post", platform="x", account=ACC, author=GOV, native_id="9002", text="Korte bekendmaking")
    runner.run(before, stop_at=replay.produce(before, [_wire(big), _wire(small)]), progress=False)
    ((dead,),) = [[e for e in ledger_entries(before) if e["kind"] == "dead_letter"]]
    assert dead["detail"]["code"] == "oversized" and dead["reason"].endswith("more than the limit of 3000")

    assert _cli(tmp_path, fixed, "inspect") == 0
    listed = capsys.readouterr().out
    assert "1 letters on" in listed and "(1 not redriven)" in listed and "Lange bekendmaking" not in listed

    offsets = tmp_path / "ends.json"
    assert _cli(tmp_path, fixed, "redrive", "--code", "oversized", "--by", "beheer",
                "--offsets-out", str(offsets)) == 0
    assert "redriven 1 letters as 1 raw messages" in capsys.readouterr().out
    ends = {int(k): v for k, v in json.loads(offsets.read_text()).items()}
    runner.run(fixed, stop_at=ends, progress=False)
    archived = [e["event_id"] for e in ledger_entries(fixed) if e["kind"] == "archived"]
    assert sorted(archived) == ["x:9001", "x:9002"]                     # each once
    (back,) = [m for m in topic_messages(fixed, fixed.topics.raw, timeout_s=3)
               if dict(m.headers).get("redriven_from")]
    assert dict(back.headers)["redriven_from"].decode().startswith(f"{fixed.topics.dead_letter}/")

    assert _cli(tmp_path, fixed, "redrive", "--code", "oversized") == 0     # marked: nothing again
    assert "redriven 0 letters" in capsys.readouterr().out
    assert _cli(tmp_path, fixed, "inspect", "--json") == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["redriven"]["by"] == "beheer" and row["code"] == "oversized"


def test_a_connector_dead_letter_is_normalised_again_and_one_still_unreadable_stays(two_limits, tmp_path, capsys):
    _, cfg = two_limits
    status = {"id": "77", "created_at": "2026-05-04T09:00:00.000Z", "in_reply_to_id": "76",
              "in_reply_to_account_id": "1", "content": "<p>Wanneer wordt dit opgelost?</p>", "visibility": "public",
              "url": "https://social.example/@burger/77", "uri": "https://social.example/users/burger/statuses/77",
              "account": {"id": "5", "username": "burger", "acct": "burger@social.example",
                          "display_name": "Burger", "url": "https://social.example/@burger"},
              "media_attachments": [], "mentions": [], "tags": [], "reblog": None}
    sink = KafkaSink(cfg)
    try:
        sink.dead_letter(json.dumps(status).encode(), "not readable as mastodon: a bug since fixed",
                         "connector:mastodon-gemeente", "mastodon")
        sink.dead_letter(b'{"half": ', "not readable as mastodon: NormaliseError: not JSON",
                         "connector:mastodon-gemeente", "mastodon")
    finally:
        sink.close()
    assert _cli(tmp_path, cfg, "redrive", "--all") == 1                # one stays: exit 1, said why
    out = capsys.readouterr().out
    assert "redriven 1 letters as 1 raw messages" in out and "1 still unreadable" in out and "NormaliseError" in out
    (back,) = [m for m in topic_messages(cfg, cfg.topics.raw, timeout_s=3)]
    ev = json.loads(back.value)
    assert (ev["platform"], ev["native_id"], ev["event_type"]) == ("mastodon", "77", "reply")
    origin = dict(back.headers)["redriven_from"].decode()
    assert origin.startswith(f"{cfg.topics.dead_letter}/") and origin.endswith("/0")   # the first letter
