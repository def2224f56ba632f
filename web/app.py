"""The Starlette application: routes, the role check in front of every page, the audit line
before every record view, CSRF on every POST, and the security headers on every response.

It reads the catalog (search, versions, threads) and S3 (one record's object) and writes
only its own tables (users, audit log: web/store.py); nothing here can change the archive.
`create_app` takes the catalog and the record reader as arguments so that unit tests can hand
in a stand-in; `archiefstroom web` hands in the real ones.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import secrets
import threading
import urllib.parse
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import read
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import catalog as core
from archiefstroom.core import media
from archiefstroom.core.catalog import Query
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.web import present, roles
from archiefstroom.web.audit import AuditLog
from archiefstroom.web.roles import may
from archiefstroom.web.sessions import LoginTokens, Session, Sessions, Throttle, same
from archiefstroom.web.store import Store
from archiefstroom.web.users import Users

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "archiefstroom_sessie"
LOGIN_COOKIE = "archiefstroom_login"
PAGE_SIZE = 25

# no script at all: the interface needs none, and platform text can then never run
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]

# search form fields (Dutch, as they show in the address bar) -> facet they filter
FACET_PARAM = {"organisation": "organisatie", "account": "account", "platform": "platform", "period": "periode",
               "event_type": "soort", "retention_class": "retentie"}
FILTER_PARAMS = ("q", "organisatie", "account", "platform", "periode", "van", "tot", "soort", "retentie",
                 "burgerbrief", "versies")


class SecurityHeaders:
    """ASGI middleware: the headers above on every response, and no caching of pages."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)
        await self.app(scope, receive, send_with_headers)


class SharedCatalog:
    """One catalog connection for the server, used by one request at a time (the database
    wrapper is one thread's at a time); opened on first use; each use ends its read
    transaction, so every request sees what the indexer committed."""

    def __init__(self, opener: Callable[[], object]):
        self._opener = opener
        self._catalog = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._catalog is None:
                self._catalog = self._opener()
            try:
                yield self._catalog
            finally:
                db = getattr(self._catalog, "db", None)
                if db is not None:
                    with contextlib.suppress(Exception):
                        db.rollback()

    def close(self):
        with self._lock:
            if self._catalog is not None and hasattr(self._catalog, "close"):
                self._catalog.close()
            self._catalog = None


class Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


@dataclasses.dataclass
class Web:
    """What the routes share: settings, users, sessions, the audit log, data sources."""
    cfg: object
    store: Store
    users: Users
    sessions: Sessions
    login_tokens: LoginTokens
    throttle: Throttle
    audit: AuditLog
    catalog: SharedCatalog
    read_record: Callable
    env: Environment
    read_media: Callable[[str], bytes | None] = lambda key: None


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=present.when, when_dt=present.when_dt, day=present.day, yes_no=present.yes_no,
                       safe_link=present.safe_link, size=present.size)
    env.globals.update(EVENT_TYPES_NL=present.EVENT_TYPES_NL, FACETS_NL=present.FACETS_NL,
                       RETENTION_NL=present.RETENTION_NL, VERDICTS_NL=present.VERDICTS_NL,
                       ROLE_NAMES=roles.ROLE_NAMES, may=may, roles=roles, qs=_qs,
                       facet_label=present.facet_value, MEDIA_STATUS_NL=present.MEDIA_STATUS_NL,
                       MEDIA_KIND_NL=present.MEDIA_KIND_NL)
    return env


def _qs(**params) -> str:
    """A query string of the non-empty params (for links the templates build)."""
    return urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "")})


def create_app(cfg, *, catalog: Callable[[], object] | None = None, read_record: Callable | None = None,
               read_media: Callable[[str], bytes | None] | None = None, clock=None) -> "SecurityHeaders":
    """`catalog`: opens the catalog (default Catalog.open(cfg)); `read_record(entry) -> record`
    (default: the entry's S3 object through catalog.read); `read_media(key) -> bytes` a stored
    media file of a record (default: from the archive bucket). The web's own tables are opened
    now (the files of an earlier version taken over), so that a database it cannot reach
    stops the start, not the first login."""
    secret = cfg.web.session_secret or secrets.token_urlsafe(32)
    if read_record is None:
        store = ArchiveStore(cfg.s3)

        def read_record(entry):
            return read.records(store, [entry])[0]
    if read_media is None:
        lazy: list[ArchiveStore] = []   # the bucket is reached at the first download, not at start

        def read_media(key):
            if not lazy:
                lazy.append(ArchiveStore(cfg.s3))
            return lazy[0].get(key)
    own = Store.open(cfg)
    web = Web(cfg=cfg, store=own, users=Users(own),
              sessions=Sessions(cfg.web.session_minutes, **({"clock": clock} if clock else {})),
              login_tokens=LoginTokens(secret), throttle=Throttle(), audit=AuditLog(own),
              catalog=SharedCatalog(catalog or (lambda: Catalog.open(cfg))), read_record=read_record,
              env=templates(), read_media=read_media)

    def page(permission: str | None, handler, respond: Callable | None = None):
        """Wrap a GET page: a session is required (else to the login page), then the role's
        permission (else 403); the handler's result (template, context, status) is rendered, or
        handed to `respond` for a response that is not a page (a file)."""
        async def endpoint(request: Request):
            session = _session(web, request)
            if session is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/login?" + _qs(next=target), status_code=303)
            if permission and not may(session.role, permission):
                return _refused(web, request, session, 403,
                                f"Uw rol ({roles.ROLE_NAMES[session.role]}) geeft geen toegang tot deze pagina.")
            try:
                result = await run_in_threadpool(handler, web, request, session)
            except Refused as r:
                return _refused(web, request, session, r.status, r.message)
            if respond is not None:
                return respond(*result)
            name, context, status = result
            return _render(web, request, session, name, context, status)
        return endpoint

    routes = [
        Route("/", page(None, _home), methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/zoeken", page(roles.SEARCH, _search), methods=["GET"]),
        Route("/draad", page(roles.THREAD, _thread), methods=["GET"]),
        Route("/record", page(roles.RECORD, _record), methods=["GET"]),
        # one stored media file of a record, by number (never a bucket key), for roles that see content
        Route("/bestand", page(roles.CONTENT, _media_bytes, _attachment), methods=["GET"]),
        Route("/audit", page(roles.AUDIT_LOG, _audit), methods=["GET"]),
        Route("/status", page(roles.STATUS, _status), methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def not_found(request: Request, exc: HTTPException):
        session = _session(web, request)
        status = getattr(exc, "status_code", 404)
        message = {404: "Deze pagina bestaat niet.", 405: "Deze handeling is hier niet toegestaan."}.get(
            status, "Er ging iets mis.")
        return _refused(web, request, session, status, message)

    def ping_store():
        with web.store.transaction() as db:
            return bool(db.execute("SELECT 1"))

    def ping_catalog():
        with web.catalog() as catalog:
            db = getattr(catalog, "db", None)
            return True if db is None else bool(db.execute("SELECT 1"))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # the metrics endpoint, own port (/metrics, /healthz, /readyz: database and catalog answer)
        stop = threading.Event()
        server = ground_metrics.start(cfg.web.metrics_host, cfg.web.metrics_port, {
            "database": ground_metrics.polled(ping_store, name="web-database", stop=stop),
            "catalog": ground_metrics.polled(ping_catalog, name="web-catalog", stop=stop)}, what="web")
        try:
            yield
        finally:
            stop.set()
            ground_metrics.stop(server)
            web.catalog.close()
            web.store.close()

    async def server_error(request: Request, exc: Exception):
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return _render(web, request, None, "error.html", {
            "title": "Fout", "status": 500,
            "message": "Er ging iets mis; er is niets getoond. Probeer het later opnieuw of meld het aan beheer."}, 500)

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, 500: server_error},
                    lifespan=lifespan,
                    max_body_size=64 * 1024)   # forms only: login and logout
    app.state.web = web
    # outside Starlette's own error middleware, so that a 500 carries the headers too
    return SecurityHeaders(ground_metrics.CountedRequests(app, "archiefstroom_web"))


# -- sessions, rendering --------------------------------------------------------------------
def _session(web: Web, request: Request) -> Session | None:
    """The request's session, if it is live and its user still has the role it was made
    with (`web user remove` or `add --replace` takes effect at the next request)."""
    sid = request.cookies.get(SESSION_COOKIE)
    session = web.sessions.get(sid)
    if session is not None and web.users.role_of(session.user) != session.role:
        web.sessions.end(sid)
        return None
    return session


def _render(web: Web, request: Request, session: Session | None, name: str, context: dict,
            status: int = 200) -> HTMLResponse:
    html = web.env.get_template(name).render(session=session, role=session.role if session else None,
                                             path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def _refused(web: Web, request: Request, session: Session | None, status: int, message: str) -> HTMLResponse:
    titles = {400: "Ongeldige vraag", 401: "Niet aangemeld", 403: "Geen toegang", 404: "Niet gevonden",
              405: "Niet toegestaan", 429: "Te veel pogingen", 502: "Archief niet bereikbaar"}
    return _render(web, request, session, "error.html",
                   {"title": titles.get(status, "Fout"), "message": message, "status": status}, status)


def _cross_site(request: Request) -> bool:
    """A POST from another site, as the browser tells (Sec-Fetch-Site) or its Origin shows.
    Neither is required (old clients send neither): the CSRF token is the check that
    always applies; this one refuses early what a browser already marks as foreign."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urllib.parse.urlsplit(origin).netloc != request.headers.get("host")
    return False


def _cookie(web: Web, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=bool(web.cfg.web.secure_cookie))


# -- login, logout ----------------------------------------------------------------------------
async def login_form(request: Request):
    web: Web = request.app.state.web
    session = _session(web, request)
    if session is not None:
        return RedirectResponse(roles.home(session.role), status_code=303)
    return _login_page(web, request, "", 200)


def _login_page(web: Web, request: Request, error: str, status: int, name: str = "") -> HTMLResponse:
    nonce = LoginTokens.nonce()
    nxt = present.local_path(request.query_params.get("next"), "")
    response = _render(web, request, None, "login.html",
                       {"csrf": web.login_tokens.token(nonce), "error": error, "next": nxt, "name": name}, status)
    _cookie(web, response, LOGIN_COOKIE, nonce, 30 * 60)
    return response


async def login(request: Request):
    web: Web = request.app.state.web
    form = await request.form()
    if _cross_site(request) or not web.login_tokens.check(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
        return _refused(web, request, None, 403,
                        "Het aanmeldformulier is verlopen of niet van deze site. Laad de aanmeldpagina opnieuw.")
    name = str(form.get("naam") or "").strip().lower()
    password = str(form.get("wachtwoord") or "")
    if web.throttle.blocked(name):
        return _login_page(web, request, "Te veel mislukte pogingen. Probeer het over enkele minuten opnieuw.",
                           429, name)
    user = await run_in_threadpool(web.users.verify, name, password)
    if user is None:
        web.throttle.failed(name)
        return _login_page(web, request, "Onbekende gebruikersnaam of onjuist wachtwoord.", 401, name)
    web.throttle.succeeded(name)
    sid, session = web.sessions.create(user.name, user.role)
    target = present.local_path(str(form.get("next") or ""), roles.home(user.role))
    response = RedirectResponse(target, status_code=303)
    _cookie(web, response, SESSION_COOKIE, sid, web.sessions.seconds)
    response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def logout(request: Request):
    web: Web = request.app.state.web
    session = _session(web, request)
    form = await request.form()
    if session is None or _cross_site(request) or not same(form.get("csrf"), session.csrf):
        return _refused(web, request, session, 403, "Afmelden geweigerd: het formulier is niet van deze sessie.")
    web.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- pages (run in a worker thread: they read the database and S3) -----------------------
def _home(web: Web, request: Request, session: Session):
    return "home.html", {"granted": roles.granted(session.role)}, 200


def query_of(params) -> tuple[Query, dict]:
    """The catalog question of the search form's fields; raises Refused(400) on nonsense."""
    form = {k: (params.get(k) or "").strip() for k in FILTER_PARAMS}
    try:
        page = max(1, int(params.get("pagina") or 1))
    except ValueError:
        raise Refused(400, "Paginanummer: verwacht een geheel getal.")
    date_from = date_to = None
    try:
        if form["van"]:
            date_from = dt.date.fromisoformat(form["van"])
        if form["tot"]:
            date_to = dt.date.fromisoformat(form["tot"])
        if form["periode"]:
            year, month = (int(x) for x in form["periode"].split("-"))
            first = dt.date(year, month, 1)
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            date_from, date_to = max(filter(None, [date_from, first])), min(filter(None, [date_to, last]))
    except ValueError:
        raise Refused(400, "Datum: verwacht JJJJ-MM-DD (van, tot) of JJJJ-MM (periode).")
    if form["soort"] and form["soort"] not in core.EVENT_TYPES:
        raise Refused(400, "Soort: onbekend berichttype.")
    bb = {"": None, "ja": True, "nee": False}.get(form["burgerbrief"], "?")
    if bb == "?":
        raise Refused(400, "Burgerbrief: verwacht ja, nee of leeg.")
    version = {"": "latest", "laatste": "latest", "alle": "all"}.get(form["versies"])
    if version is None:
        raise Refused(400, "Versies: verwacht laatste of alle.")
    q = Query(terms=form["q"], organisation=form["organisatie"] or None, account=form["account"] or None,
              platform=form["platform"] or None, date_from=date_from, date_to=date_to,
              event_type=form["soort"] or None, burgerbrief=bb, retention=form["retentie"] or None,
              version=version, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return q, {**form, "pagina": page}


def _search(web: Web, request: Request, session: Session):
    q, form = query_of(request.query_params)
    with web.catalog() as catalog:
        result = catalog.search(q, facets=True)
    links = {}
    for facet, values in result.facets.items():
        param = FACET_PARAM[facet]
        links[facet] = [(value, count, _qs(**{**form, param: value, "pagina": ""}), form.get(param) == str(value))
                        for value, count in values]
    active = [(FACET_PARAM[f], present.FACETS_NL[f], form[FACET_PARAM[f]], _qs(**{**form, FACET_PARAM[f]: "",
                                                                                    "pagina": ""}))
              for f in core.FACETS if form.get(FACET_PARAM[f])]
    pages = max(1, -(-result.total // PAGE_SIZE))
    nav = {"previous": _qs(**{**form, "pagina": form["pagina"] - 1}) if form["pagina"] > 1 else None,
           "next": _qs(**{**form, "pagina": form["pagina"] + 1}) if form["pagina"] < pages else None}
    return "search.html", {"form": form, "result": result, "facets": [(f, links.get(f, [])) for f in core.FACETS],
                           "active": active, "pages": pages, "nav": nav, "searched": bool(request.query_params)}, 200


def _thread(web: Web, request: Request, session: Session):
    some_id = (request.query_params.get("id") or "").strip()
    if not some_id:
        raise Refused(400, "Geef het id van een bericht of reactie.")
    with web.catalog() as catalog:
        roots = catalog.thread(some_id)
    if not roots:
        raise Refused(404, "Geen draad met dit bericht in de catalogus.")
    web.audit.write(user=session.user, role=session.role, page="thread", record=some_id)
    return "thread.html", {"roots": roots, "focus": some_id}, 200


def _record(web: Web, request: Request, session: Session):
    event_id = (request.query_params.get("id") or "").strip()
    raw_version = request.query_params.get("versie")
    try:
        version = int(raw_version) if raw_version else None
    except ValueError:
        raise Refused(400, "Versie: verwacht een geheel getal.")
    if not event_id:
        raise Refused(400, "Geef het id van een record.")
    with web.catalog() as catalog:
        entry = catalog.get(event_id, version)
        versions = catalog.versions(entry.object_id) if entry else []
        records = catalog.entries(event_id) if entry else []
    if entry is None:
        raise Refused(404, "Dit record staat niet in de catalogus.")
    # logged before anything of the record is read or shown: no view without its line
    web.audit.write(user=session.user, role=session.role, page="record", record=entry.event_id,
                    version=entry.record_version)
    record, problem = None, None
    try:
        record = web.read_record(entry)
    except Exception as exc:   # the page still shows the catalog's metadata, and says what failed
        log.warning("reading %s v%s from %s failed: %s", entry.event_id, entry.record_version, entry.object_key,
                    type(exc).__name__)
        problem = f"Het archiefobject kon niet worden gelezen ({type(exc).__name__})."
    check = core.integrity(record) if record else None
    return "record.html", {"entry": entry, "record": record, "versions": versions, "record_versions": records,
                           "integrity": check, "problem": problem}, 200


def _attachment(data: bytes, file_type: str, name: str) -> Response:
    """A file as an attachment, never rendered in the interface's origin (a kept HTML page cannot run here)."""
    return Response(data, media_type=file_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _media_bytes(web: Web, request: Request, session: Session) -> tuple[bytes, str, str]:
    event_id = (request.query_params.get("id") or "").strip()
    try:
        version = int(request.query_params.get("versie") or 0) or None
        number = int(request.query_params.get("nr") or "")
    except ValueError:
        raise Refused(400, "Versie en nr: verwacht gehele getallen.")
    with web.catalog() as catalog:
        entry = catalog.get(event_id, version) if event_id else None
    if entry is None:
        raise Refused(404, "Dit record staat niet in de catalogus.")
    files = media.stored(web.read_record(entry))
    if not 1 <= number <= len(files):
        raise Refused(404, "Dit record heeft geen bewaard bestand met dit nummer.")
    f = files[number - 1]
    web.audit.write(user=session.user, role=session.role, page="bestand", record=entry.event_id,
                    version=entry.record_version)
    data = web.read_media(f["object_key"])
    if data is None:
        raise Refused(404, "Het bestand staat niet (meer) in het archief.")
    return data, f.get("content_type") or "application/octet-stream", f"{f['sha256']}{present.extension(f)}"


def _audit(web: Web, request: Request, session: Session):
    user = (request.query_params.get("gebruiker") or "").strip() or None
    record = (request.query_params.get("record") or "").strip() or None
    lines = web.audit.read(user=user, record=record, limit=500)
    return "audit.html", {"lines": lines, "user": user or "", "record": record or ""}, 200


def _status(web: Web, request: Request, session: Session):
    with web.catalog() as catalog:
        counts = catalog.counts()
        facets = catalog.search(Query(limit=1), facets=True).facets
    shown = {f: facets.get(f, []) for f in ("platform", "organisation", "retention_class", "period")}
    return "status.html", {"counts": counts, "facets": shown}, 200
