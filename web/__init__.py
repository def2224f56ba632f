"""The archivists' web interface (issue 12): search with facets, threads, records with their
versions, decision trace, retention, burgerbrief verdict and integrity; behind a login with
roles decided on the server, and an audit log of every record view.

  app.py       Starlette routes; role check before, audit line with, every page; CSRF, CSP
  roles.py     the role matrix, a table to read (docs/web.md repeats it)
  users.py     the users file: names, roles, argon2id password hashes
  sessions.py  server-side sessions, CSRF tokens, login throttling
  audit.py     the append-only JSON-lines audit log of record and thread views
  present.py   Dutch labels and dates; which platform urls may become links
  templates/   Jinja2 (autoescaped: platform text is never markup), static/ the stylesheet
It reads the catalog and S3 and never writes the archive; it shows only pseudonymised text
(re-identification stays `archiefstroom reidentify`, outside the web).
"""
