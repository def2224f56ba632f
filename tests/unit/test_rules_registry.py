"""Registry files: mistakes are reported with file, line, field and what was expected."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import config, registries
from archiefstroom.ground.settings import ConfigError

SHIPPED = Path(config.DEFAULT_CONFIG).parent / "registry"


@pytest.fixture
def regdir(tmp_path):
    d = tmp_path / "registry"
    shutil.copytree(SHIPPED, d)
    return d


def load(regdir):
    return registries.load(RulesSettings(), regdir.parent)


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` by `new`; returns the line where the edit starts."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[:text.index(old)].count("\n") + 1


def test_shipped_registries_load(regdir):
    reg = load(regdir)
    assert len(reg.version) == 12 and reg.warnings == []


@pytest.mark.parametrize("file,old,new,field,expected", [
    ("accounts.yaml", "type: corporate, route: 2}\n  - {platform: facebook",
     "type: corporat, route: 2}\n  - {platform: facebook", "accounts[3].type", "one of 'corporate'"),
    ("accounts.yaml", "organisation: Politie, type: corporate, route: 2", "organisation: Politie, type: corporate, route: 3",
     "accounts[5].route", "one of 1, 2, None"),
    ("accounts.yaml", "organisation: Politie, type: corporate, route: 2", "organisation: Politie, type: corporate",
     "accounts[5].route", "1 (one-way) or 2"),
    ("accounts.yaml", "organisation: Politie,", "organisation: Polite,", "accounts[5].organisation",
     "an organisation listed under organisations"),
    ("accounts.yaml", "{platform: instagram, id: politie,", "{platform: instagram, id: politie, colour: blue,",
     "accounts[5].colour", "a known field"),
    ("accounts.yaml", "{platform: x, id: jan_burger, handle: jan_burger, type: private}",
     "{platform: x, id: jan_burger, handle: jan_burger, type: private, route: 2}", "accounts[10].type",
     "no route, hashtags or key_function"),
    ("accounts.yaml", "{platform: linkedin, id: ministerie-van-bzk,", "{platform: x, id: GemeenteAmsterdam,",
     "accounts[8].id", "a unique platform+id"),
    ("platforms.yaml", "mastodon:  {reactions_can_be_switched_off: false,", "mastodon:  {reactions_can_be_switched_off: nee,",
     "platforms.mastodon.reactions_can_be_switched_off", "true or false"),
    ("platforms.yaml", "  bluesky:", "  myspace: {reactions_can_be_switched_off: true}\n  bluesky:", "platforms.myspace",
     "a platform of schemas/social_event.avsc"),
    ("selectielijst.yaml", '"1.3": {retention_class: V, years: 5,', '"1.3": {retention_class: V,', "categories.1.3.years",
     "a number of years"),
    ("selectielijst.yaml", '{author: [hybrid, private, citizen], category: "1.3"}',
     '{author: [hybrid, private, citizen], category: "9.9"}', "mapping[4].category", "a category code defined"),
    ("selectielijst.yaml", 'hotspot_category: "1.6"', 'hotspot_category: "1.2"', "hotspot_category", "a B (bewaren)"),
    ("hotspots.yaml", "end: 2026-10-31", 'end: "2026-09-31"', "hotspots[0].end", "a date YYYY-MM-DD"),
    ("hotspots.yaml", "end: 2026-10-31", "end: 2026-09-30", "hotspots[0].end", "on or after start"),
])
def test_mistakes_name_file_line_field(regdir, file, old, new, field, expected):
    path = regdir / file
    at = edit(path, old, new)
    with pytest.raises(ConfigError) as exc:
        load(regdir)
    err = exc.value
    assert Path(err.file).name == file and err.field == field and expected in err.expected, str(err)
    assert str(err).startswith(f"{path}:{err.line}: field '{field}'")
    assert err.line in (at, at + 1), err.line


def test_route1_on_platform_without_switch_off_warns_and_applies_route2(regdir, caplog):
    edit(regdir / "accounts.yaml", "organisation: Gemeente Utrecht, type: corporate, route: 2",
         "organisation: Gemeente Utrecht, type: corporate, route: 1")
    with caplog.at_level("WARNING"):
        reg = load(regdir)
    a = reg.account("mastodon", "@gemeente_utrecht@social.overheid.nl")
    assert a.route == 1 and reg.route(a) == 2
    assert any("route 1 configured" in r.getMessage() for r in caplog.records)


def test_missing_registry_file_is_named(regdir):
    (regdir / "hotspots.yaml").unlink()
    with pytest.raises(ConfigError, match="hotspots.yaml: field '<root>': expected an existing YAML file"):
        load(regdir)


def test_rules_section_of_main_config(tmp_path, regdir):
    cfg_file = regdir.parent / "archiefstroom.yaml"
    cfg_file.write_text("rules:\n  hold_window_hours: 12\n  held_topic: archiefstroom.held\n")
    cfg = config.load(cfg_file)
    assert cfg.rules.hold_window_hours == 12
    assert registries.load_for(cfg).account("x", "GemeenteAmsterdam") is not None
    cfg_file.write_text("rules:\n  hold_window_hours: -1\n")
    with pytest.raises(ConfigError, match=r"archiefstroom.yaml:2: field 'rules.hold_window_hours'"):
        config.load(cfg_file)
