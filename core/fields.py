"""How a settings dataclass in `core` declares its checks; pydantic enforces them when a file is read.

Core's settings stay stdlib dataclasses (built in code as before, no validation then). The
one loader, `archiefstroom.ground.settings`, validates them with pydantic, which reads the
checks from the field's type:

    port: Annotated[int, check(lambda v: 1024 < v < 65536, "a TCP port 1025..65535")] = 8480
    password: Annotated[str | None, secret("ARCHIEFSTROOM_CATALOG_PASSWORD")] = None

`check` is a pydantic AfterValidator: it runs once the type is right, and `expected` is what
the error says was expected. `secret` marks a field whose value may come from an environment
variable (which wins over the file); the loader reads it, pydantic ignores it. Cross-field
checks are a `validate()` method raising ValueError("field: expected ...").
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CHECK = "check"   # pydantic's error type of a failed check; its message is what was expected


def check(fn, expected: str) -> AfterValidator:
    """A validation predicate for `Annotated[type, check(...)]`; `expected` is said when it fails."""
    def run(value):
        if not fn(value):
            raise PydanticCustomError(CHECK, "{expected}", {"expected": expected})
        return value
    return AfterValidator(run)


@dataclass(frozen=True)
class EnvSecret:
    """The marker `secret` puts in a field's type; the loader looks for it."""
    env: str


def secret(env: str) -> EnvSecret:
    """For `Annotated[str | None, secret(env)]`: the environment variable `env` wins over the file."""
    return EnvSecret(env)
