"""`archiefstroom web`: the archivists' web interface (serve), its users (`web user add|list|remove`)
and the check of its audit chain (`web verify-audit`); users and audit log are tables of the
catalog's database (web/store.py)."""
from __future__ import annotations

import getpass
import sys

import uvicorn

from archiefstroom.ground import config
from archiefstroom.web.app import create_app
from archiefstroom.web.audit import AuditLog
from archiefstroom.web.roles import ROLES
from archiefstroom.web.store import Store
from archiefstroom.web.users import UserError, Users


def register(sub):
    p = sub.add_parser("web", help="serve the web interface (search, threads, records; roles, audit log)")
    _serve_options(p)
    p.set_defaults(func=serve)
    cmds = p.add_subparsers(dest="web_command", metavar="serve|user|verify-audit")
    s = cmds.add_parser("serve", help="serve the web interface (the default)")
    _serve_options(s)
    s.set_defaults(func=serve)
    cmds.add_parser("verify-audit", help="check the audit log's hash chain (exit 1 when broken)").set_defaults(
        func=verify_audit)
    u = cmds.add_parser("user", help="manage the web interface's users (in the catalog's database)")
    ucmds = u.add_subparsers(dest="user_command", metavar="add|list|remove", required=True)
    add = ucmds.add_parser("add", help="add a user (or, with --replace, set a new role and password)")
    add.add_argument("name", help="login name: a-z 0-9 . _ -")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input (one line)")
    add.add_argument("--replace", action="store_true", help="replace an existing user's role and password")
    add.set_defaults(func=user_add)
    ucmds.add_parser("list", help="list users and roles").set_defaults(func=user_list)
    rm = ucmds.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    rm.set_defaults(func=user_remove)


def _serve_options(p):
    p.add_argument("--host", help="address to bind (default cfg.web.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default cfg.web.port)")


def serve(args) -> int:
    cfg = config.load(args.config)
    host, port = args.host or cfg.web.host, args.port or cfg.web.port
    app = create_app(cfg)
    store = app.app.state.web.store
    if not Users(store).list():
        print(f"archiefstroom web: no users in {store.where}: add one with "
              "`archiefstroom web user add NAME --role archivist`", file=sys.stderr)
    print(f"archiefstroom web: http://{host}:{port}/ (users and audit log in {store.where})", flush=True)
    # no access log: request lines hold search terms, which may name people
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                server_header=False, proxy_headers=False)
    return 0


def verify_audit(args) -> int:
    store = Store.open(config.load(args.config))
    where = store.where
    try:
        ok, n, head, problem = AuditLog(store).verify()
    finally:
        store.close()
    if ok:
        print(f"web audit log intact: {n} entries, head {head} ({where})")
        return 0
    print(f"web verify-audit: BROKEN: {problem} ({n} entries read, {where})", file=sys.stderr)
    return 1


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the passwords differ")
    return first


def _users(args, action: str, fn) -> int:
    """Run `fn(users)` on the users in the catalog's database (files of an earlier version
    taken over first); a refusal is exit code 2."""
    try:
        store = Store.open(config.load(args.config))
    except UserError as exc:            # a users file of an earlier version that cannot be read
        print(f"archiefstroom web user {action}: {exc}", file=sys.stderr)
        return 2
    try:
        return fn(Users(store), store.where)
    except UserError as exc:
        print(f"archiefstroom web user {action}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


def user_add(args) -> int:
    def add(users, where):
        user = users.add(args.name, args.role, _password(args), replace=args.replace)
        print(f"{user.name}: {user.role} (in {where})")   # a changed role ends open sessions
        return 0
    return _users(args, "add", add)


def user_list(args) -> int:
    def show(users, where):
        found = users.list()
        if not found:
            print(f"no users in {where}")
        for u in found:
            print(f"{u.name:24} {u.role:16} {u.created}")
        return 0
    return _users(args, "list", show)


def user_remove(args) -> int:
    def remove(users, where):
        users.remove(args.name)
        print(f"{args.name}: removed (a running server ends their sessions at their next request)")
        return 0
    return _users(args, "remove", remove)
