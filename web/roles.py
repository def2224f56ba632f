"""Who may see what in the web interface: one hand-readable table, decided on the server.

Every page asks `may(role, PERMISSION)` before it reads anything; a refusal is HTTP 403.
The table is parsed at import, so what is read here is exactly what is enforced
(docs/web.md repeats it for people who do not read Python).

Why this split:
  archivist, privacy_officer  everything: contents, the rules' decision trace, the audit log
  webcare                     finds and reads posts and reactions (contents, verdicts), no
                              decision trace (the rules' inputs), no audit log
  auditor                     the audit log, and records as metadata only (ids, dates,
                              retention, versions, integrity): never the text
  operations                  counts and status only, no record at all
"""
from __future__ import annotations

ROLES = ("archivist", "webcare", "operations", "auditor", "privacy_officer")

# Dutch names shown in the interface
ROLE_NAMES = {"archivist": "archivaris", "webcare": "webcare", "operations": "beheer",
              "auditor": "auditor", "privacy_officer": "privacyfunctionaris"}

MATRIX = """
permission   archivist  webcare  operations  auditor  privacy_officer   what it opens
search       yes        yes      -           yes      yes               search page, facets, result list
thread       yes        yes      -           yes      yes               thread tree (audited)
record       yes        yes      -           yes      yes               record metadata, versions, retention, burgerbrief, integrity (audited)
content      yes        yes      -           -        yes               pseudonymised text, author and link of posts and reactions
trace        yes        -        -           -        yes               the rules' decision trace (rules evaluated, fired, inputs)
audit_log    yes        -        -           yes      yes               the audit log of record views
status       yes        -        yes         yes      yes               counts of the catalog (no record contents)
"""


def _parse(table: str) -> dict[str, frozenset[str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    roles = header[1:1 + len(ROLES)]
    assert tuple(roles) == ROLES, roles
    out = {}
    for row in rows:
        marks = row[1:1 + len(ROLES)]
        assert all(m in ("yes", "-") for m in marks), row
        out[row[0]] = frozenset(r for r, m in zip(roles, marks) if m == "yes")
    return out


PERMISSIONS: dict[str, frozenset[str]] = _parse(MATRIX)
SEARCH, THREAD, RECORD, CONTENT, TRACE, AUDIT_LOG, STATUS = (
    "search", "thread", "record", "content", "trace", "audit_log", "status")
assert set(PERMISSIONS) == {SEARCH, THREAD, RECORD, CONTENT, TRACE, AUDIT_LOG, STATUS}


def may(role: str | None, permission: str) -> bool:
    """Unknown roles and unknown permissions are refused."""
    return role in PERMISSIONS.get(permission, frozenset())


def granted(role: str) -> frozenset[str]:
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)


def home(role: str) -> str:
    """The page a role lands on after logging in."""
    if may(role, SEARCH):
        return "/zoeken"
    if may(role, STATUS):
        return "/status"
    return "/"
