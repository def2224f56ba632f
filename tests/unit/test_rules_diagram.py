"""The flow chart comes from the rules: the shipped docs must equal what the rules generate now."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from archiefstroom.commands import rules as rules_cmd
from archiefstroom.core.rules import diagram, engine, scenarios
from archiefstroom.ground import config, registries


def test_docs_are_generated_from_the_current_rules():
    files = rules_cmd.render(config.load(config.DEFAULT_CONFIG))
    for name, text in files.items():
        assert (rules_cmd.DOCS / name).read_text(encoding="utf-8") == text, \
            f"docs/rules/{name} is stale: run `archiefstroom rules diagram`"


def test_every_rule_and_scenario_is_drawn():
    cfg = config.load(config.DEFAULT_CONFIG)
    reg = scenarios.example_registry(registries.load_for(cfg).selectielijst)
    mmd = diagram.mermaid(reg, cfg.rules)
    for r in engine.RULES:
        assert r.id in mmd and r.yes
    root = ET.fromstring(diagram.svg(reg, cfg.rules))
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for title, _, _ in scenarios.scenarios():
        assert title in text
    for aspect in diagram.ASPECTS:
        assert aspect in text


def test_scenario_consequences_follow_the_rules():
    cfg = config.load(config.DEFAULT_CONFIG)
    reg = scenarios.example_registry(registries.load_for(cfg).selectielijst)
    rows = {title[:2]: {r.label: r for r in rs} for title, rs in diagram.scenario_rows(reg, cfg.rules)}
    one, two, hybrid = rows["1."], rows["2."], rows["3."]
    assert one["reactie"].consequences["archiveren"].startswith("nee") and one["reactie"].rule == "R3-route-1"
    assert two["reactie"].consequences["archiveren"].startswith("ja") and two["reactie"].rule == "R4-route-2"
    assert two["bericht"].consequences["overbrengen"].startswith("ja: B")        # key function account
    assert one["bericht"].consequences["overbrengen"].startswith("nee: V")
    assert two["delen van derde"].consequences["openbaar maken"].startswith("niet zonder beoordeling")
    assert hybrid["reactie"].consequences["archiveren"].startswith("ja")          # root carries #raad
    assert hybrid["delen van derde"].consequences["archiveren"].startswith("nee")  # no hashtag
    for scenario in (one, two, hybrid):
        assert scenario["like"].consequences["archiveren"].startswith("nee")
        assert scenario["privébericht"].rule == "R9-direct-message"
