"""`archiefstroom web`: the archivists' web interface (serve), and its users (`web user add|list|remove`)."""
from __future__ import annotations

import getpass
import sys

import uvicorn

from archiefstroom.ground import config
from archiefstroom.web.app import create_app
from archiefstroom.web.roles import ROLES
from archiefstroom.web.users import UserError, Users


def register(sub):
    p = sub.add_parser("web", help="serve the web interface (search, threads, records; roles, audit log)")
    _serve_options(p)
    p.set_defaults(func=serve)
    cmds = p.add_subparsers(dest="web_command", metavar="serve|user")
    s = cmds.add_parser("serve", help="serve the web interface (the default)")
    _serve_options(s)
    s.set_defaults(func=serve)
    u = cmds.add_parser("user", help="manage the web interface's users (cfg.web.users_file)")
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
    users = Users(cfg.web.users_file)
    if not users.list():
        print(f"archiefstroom web: no users in {cfg.web.users_file}: add one with "
              "`archiefstroom web user add NAME --role archivist`", file=sys.stderr)
    print(f"archiefstroom web: http://{host}:{port}/ (audit log {cfg.web.audit_log})", flush=True)
    # no access log: request lines hold search terms, which may name people
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="warning", access_log=False,
                server_header=False, proxy_headers=False)
    return 0


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the passwords differ")
    return first


def user_add(args) -> int:
    cfg = config.load(args.config)
    try:
        user = Users(cfg.web.users_file).add(args.name, args.role, _password(args), replace=args.replace)
    except UserError as exc:
        print(f"archiefstroom web user add: {exc}", file=sys.stderr)
        return 2
    print(f"{user.name}: {user.role} (in {cfg.web.users_file})")   # a changed role ends open sessions
    return 0


def user_list(args) -> int:
    cfg = config.load(args.config)
    try:
        found = Users(cfg.web.users_file).list()
    except UserError as exc:
        print(f"archiefstroom web user list: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(f"no users in {cfg.web.users_file}")
    for u in found:
        print(f"{u.name:24} {u.role:16} {u.created}")
    return 0


def user_remove(args) -> int:
    cfg = config.load(args.config)
    try:
        Users(cfg.web.users_file).remove(args.name)
    except UserError as exc:
        print(f"archiefstroom web user remove: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name}: removed (a running server ends their sessions at their next request)")
    return 0
