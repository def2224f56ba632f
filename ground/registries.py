"""The one loader of the rules' registries (accounts, platforms, selectielijst, hotspots).

Strict everywhere: a missing or wrong registry file is a ConfigError naming file,
line and field, at start-up, whoever asks (the pipeline, the CLI, a benchmark). The
pipeline loads it once when the graph is built and hands the Registry to its stages.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import yaml

from archiefstroom.core.rules.registry import (
    AccountsFile,
    HotspotsFile,
    PlatformsFile,
    Registry,
    Selectielijst,
    problems,
)
from archiefstroom.ground.config import DEFAULT_CONFIG
from archiefstroom.ground.settings import ConfigError, from_dict, load_yaml

log = logging.getLogger(__name__)

FILES = {"accounts": AccountsFile, "platforms": PlatformsFile, "selectielijst": Selectielijst,
         "hotspots": HotspotsFile}


def _line_of(path: Path, keys) -> int | None:
    """Line of the YAML node at `keys` (mapping keys and list indexes) in `path`."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    for k in keys:
        if isinstance(node, yaml.MappingNode):
            node = next((v for kn, v in node.value if kn.value == str(k)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(k, int) and k < len(node.value):
            node = node.value[k]
        else:
            node = None
        if node is None:
            return None
    return node.start_mark.line + 1


def load(settings, base: Path | None) -> Registry:
    """Read and check the four registries named in RulesSettings; log the start-up warnings."""
    files = {name: settings.path(name, base) for name in FILES}
    reg = Registry(**{name: load_yaml(files[name], cls) for name, cls in FILES.items()})
    for p in problems(reg)[:1]:
        path = files[p.file]
        raise ConfigError(path, _line_of(path, p.path), p.field, p.expected.format(**files), p.got)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(files[name].read_bytes())
    reg.version = digest.hexdigest()[:12]
    for w in reg.warnings:
        log.warning("rules registry: %s", w)
    return reg


def load_for(cfg) -> Registry:
    """The registries of a loaded Config (paths relative to its file)."""
    base = Path(cfg.source_file).parent if getattr(cfg, "source_file", None) else DEFAULT_CONFIG.parent
    return load(cfg.rules, base)


def build(accounts: dict, platforms: dict, selectielijst: dict, hotspots: dict | None = None) -> Registry:
    """A registry from plain dicts (tests, diagrams), with the same checks as files."""
    given = {"accounts": accounts, "platforms": platforms, "selectielijst": selectielijst, "hotspots": hotspots or {}}
    reg = Registry(**{name: from_dict(given[name], cls, source=f"<{name}>") for name, cls in FILES.items()})
    for p in problems(reg)[:1]:
        raise ConfigError(f"<{p.file}>", None, p.field, p.expected.format(**{n: f"<{n}>" for n in FILES}), p.got)
    reg.version = "inline"
    return reg
