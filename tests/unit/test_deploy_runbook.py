"""Every `archiefstroom ...` command in deploy/RUNBOOK.md's code blocks names an existing
subcommand path and only options that path accepts (checked against the real argparse tree)."""
from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from archiefstroom.cli import build_parser

RUNBOOK = Path(__file__).resolve().parents[2] / "deploy" / "RUNBOOK.md"


def commands(text: str) -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    return [l.strip() for b in blocks for l in b.splitlines() if l.strip().startswith("archiefstroom ")]


def _subparsers(p):
    return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)


def check(line: str) -> None:
    """Raises AssertionError when the command does not exist as written."""
    tokens = shlex.split(line)[1:]
    parser, path = build_parser(), ["archiefstroom"]
    options = {s for a in parser._actions for s in a.option_strings}
    while tokens:
        t = tokens.pop(0)
        if t.startswith("-"):
            name = t.split("=", 1)[0]
            assert name in options, f"{' '.join(path)}: no option {name}"
            action = next(a for a in parser._actions if name in a.option_strings)
            if action.nargs != 0 and "=" not in t and tokens:
                tokens.pop(0)
            continue
        sub = _subparsers(parser)
        if sub is not None and t in sub.choices:
            parser = sub.choices[t]
            path.append(t)
            options = {s for a in parser._actions for s in a.option_strings}
            continue
        positional = [a for a in parser._actions if not a.option_strings and a.choices and
                      not isinstance(a, argparse._SubParsersAction)]
        if positional:
            assert any(t in a.choices for a in positional), f"{' '.join(path)}: no {t!r}"
        else:
            assert sub is None, f"{' '.join(path)}: no subcommand {t!r}"
    assert _subparsers(parser) is None or not _subparsers(parser).required, f"{' '.join(path)} needs a subcommand"


CMDS = commands(RUNBOOK.read_text())


def test_runbook_has_commands_for_its_steps():
    assert len(CMDS) >= 8
    text = " ".join(CMDS)
    for needed in ("pseudonymise rotate-key", "catalog rebuild", "rules check", "run "):
        assert needed in text


@pytest.mark.parametrize("line", CMDS)
def test_runbook_command_exists(line):
    check(line)


@pytest.mark.parametrize("bad", ["archiefstroom dlq purge", "archiefstroom catalog restore",
                                 "archiefstroom pseudonymise rotate", "archiefstroom run --from-offset 5"])
def test_the_check_refuses_commands_that_do_not_exist(bad):
    with pytest.raises(AssertionError):
        check(bad)
