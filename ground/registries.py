"""The one loader of the rules' registries (accounts, platforms, selectielijst, hotspots) and of the
platform assessments (issue 17: assessments.yaml, and a filled-in questionnaire).

Strict everywhere: a missing or wrong registry file is a ConfigError naming file,
line and field, at start-up, whoever asks (the pipeline, the CLI, a benchmark). The
pipeline loads it once when the graph is built and hands the Registry to its stages.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from archiefstroom.core.platforms.assessment import AssessmentsFile, PlatformAssessment
from archiefstroom.core.pseudonymise.officials import PublicFiguresFile
from archiefstroom.core.rules.registry import (
    AccountsFile,
    HotspotsFile,
    PlatformsFile,
    Registry,
    Selectielijst,
    problems,
    unverified_routes,
)
from archiefstroom.ground.config import DEFAULT_CONFIG
from archiefstroom.ground.settings import ConfigError, from_dict, line_in, load_yaml

log = logging.getLogger(__name__)

FILES = {"accounts": AccountsFile, "platforms": PlatformsFile, "selectielijst": Selectielijst,
         "hotspots": HotspotsFile}
# read and checked with the others, but not part of the registry version: no rule decides on it
ASSESSMENTS = "assessments"


def load(settings, base: Path | None) -> Registry:
    """Read and check the four registries and the platform assessments named in RulesSettings; log the
    start-up warnings."""
    files = {name: settings.path(name, base) for name in FILES}
    # the assessments came later than the four registries: a registry folder without them still
    # loads (its accounts are then not checked against an assessment), and says so
    assessed = settings.path(ASSESSMENTS, base)
    reg = Registry(**{name: load_yaml(files[name], cls) for name, cls in FILES.items()},
                   assessments=load_yaml(assessed, AssessmentsFile) if assessed.exists() else AssessmentsFile())
    if not assessed.exists():
        reg.warnings.append(f"{assessed}: no platform assessments; accounts are not checked against them "
                            f"(`archiefstroom platform assess` writes a questionnaire)")
    named = {**files, ASSESSMENTS: settings.path(ASSESSMENTS, base)}
    for p in problems(reg)[:1]:
        path = named[p.file]
        raise ConfigError(path, line_in(path, p.path), p.field, p.expected.format(**named), p.got)
    reg.warnings += unverified_routes(reg)
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


PUBLIC_FIGURES = DEFAULT_CONFIG.parent / "registry" / "office_holders.yaml"


def load_public_figures(path: Path | None = None) -> PublicFiguresFile:
    """The public office holders and organisations that stay readable (issue 15), strictly;
    None = the shipped deploy/registry/office_holders.yaml."""
    return load_yaml(path or PUBLIC_FIGURES, PublicFiguresFile)


def build(accounts: dict, platforms: dict, selectielijst: dict, hotspots: dict | None = None,
          assessments: dict | None = None) -> Registry:
    """A registry from plain dicts (tests, diagrams), with the same checks as files."""
    given = {"accounts": accounts, "platforms": platforms, "selectielijst": selectielijst, "hotspots": hotspots or {}}
    reg = Registry(**{name: from_dict(given[name], cls, source=f"<{name}>") for name, cls in FILES.items()},
                   assessments=from_dict(assessments or {}, AssessmentsFile, source=f"<{ASSESSMENTS}>"))
    for p in problems(reg)[:1]:
        raise ConfigError(f"<{p.file}>", None, p.field,
                          p.expected.format(**{n: f"<{n}>" for n in [*FILES, ASSESSMENTS]}), p.got)
    reg.version = "inline"
    return reg


def load_answers(path: Path) -> PlatformAssessment:
    """A filled-in questionnaire (`archiefstroom platform assess NAME --answers FILE`), as strictly
    as the registries: a wrong answer names file, line and field."""
    return load_yaml(path, PlatformAssessment)
