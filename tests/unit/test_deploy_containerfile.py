"""deploy/Containerfile, parsed with dockerfile-parse: pinned bases, a non-root USER last, no
secret-looking ENV/ARG with a value, no ADD of a URL, the deduce cache built at build time."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

FILE = Path(__file__).resolve().parents[2] / "deploy" / "Containerfile"
SECRETISH = re.compile(r"(PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_KEY|_KEY$)", re.I)


def _parse(text: str) -> list[dict]:
    p = DockerfileParser(fileobj=__import__("io").BytesIO(text.encode()))
    return p.structure


def problems(text: str) -> list[str]:
    out = []
    ins = _parse(text)
    stages = set()
    for i in ins:
        if i["instruction"] == "FROM":
            parts = i["value"].split()
            image = parts[0]
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
            if image in stages:
                continue
            tag = image.rsplit("/", 1)[-1]
            if "@sha256:" not in image and (":" not in tag or tag.endswith(":latest")
                                            or not re.search(r":\d+\.\d+\.\d+", tag)):
                out.append(f"unpinned base {image}")
        if i["instruction"] in ("ENV", "ARG"):
            for m in re.finditer(r"(\w+)=(\S+)", i["value"]):
                if SECRETISH.search(m.group(1)):
                    out.append(f"{i['instruction']} {m.group(1)} has a value")
        if i["instruction"] == "ADD" and re.search(r"\b(https?|ftp)://", i["value"]):
            out.append("ADD of a URL")
    users = [i["value"].split(":")[0].strip() for i in ins if i["instruction"] == "USER"]
    if not users or users[-1] in ("root", "0"):
        out.append("no non-root USER")
    return out


def test_containerfile_is_clean():
    assert problems(FILE.read_text()) == []


def test_deduce_cache_and_job_server_are_built_into_the_image():
    text = FILE.read_text()
    runs = " ".join(i["value"] for i in _parse(text) if i["instruction"] == "RUN")
    assert "pseudonymise build-cache" in runs
    assert "deploy/flink/pom.xml" in runs
    assert "/opt/archiefstroom/deduce-cache" in runs


@pytest.mark.parametrize("bad, why", [
    ("FROM python:latest\nUSER 1000\n", "unpinned base"),
    ("FROM python:3.11.7-slim\n", "no non-root USER"),
    ("FROM python:3.11.7-slim\nUSER root\n", "no non-root USER"),
    ("FROM python:3.11.7-slim\nENV DB_PASSWORD=hunter2\nUSER 1000\n", "has a value"),
    ("FROM python:3.11.7-slim\nARG API_KEY=abc\nUSER 1000\n", "has a value"),
    ("FROM python:3.11.7-slim\nADD https://example.org/x.tgz /x\nUSER 1000\n", "ADD of a URL"),
])
def test_the_checks_catch_what_they_claim(bad, why):
    assert any(why in p for p in problems(bad)), problems(bad)
