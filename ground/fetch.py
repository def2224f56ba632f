"""The one fetcher of public web files (media, linked pages): httpx, one attempt per call.

What a URL from a platform payload may make this process do is bounded here:
- only http(s); a redirect is followed by hand (at most MAX_REDIRECTS), and every hop is checked
  again, so an allowed host cannot bounce the request somewhere else;
- a host that resolves to a private, loopback, link-local, multicast or reserved address is refused
  unless the caller lists it as private-allowed (an intranet mirror; the tests' local fakes).
  The address is checked just before the request; httpx resolves again when it connects, so a
  resolver that answers differently between the two (DNS rebinding) is not covered: limit the
  workers' egress to the internet as well (docs/media.md, "Where it runs");
- the body is streamed to a spooled temporary file while its SHA-256 is computed, and abandoned at
  `max_bytes`, so a 10 GB answer costs neither memory nor disk.
Retries are the caller's (archive/media.py): a FetchError says whether another try can help.
"""
from __future__ import annotations

import hashlib
import ipaddress
import socket
import tempfile
from dataclasses import dataclass
from typing import IO, Callable

import httpx

MAX_REDIRECTS = 5
SPOOL_BYTES = 8 * 2**20
USER_AGENT = "archiefstroom-media/1.0 (archiving of government publications)"


class FetchError(Exception):
    """A fetch that did not give the file; `retriable`: whether trying again may help."""

    def __init__(self, reason: str, retriable: bool):
        super().__init__(reason)
        self.reason, self.retriable = reason, retriable


@dataclass
class Fetched:
    body: IO[bytes]          # positioned at 0; the caller closes it
    size: int
    sha256: str
    declared_type: str | None
    head: bytes              # the first bytes, to tell the content type
    final_url: str

    def close(self) -> None:
        self.body.close()


def _public(host: str, port: int, resolve: Callable) -> None:
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"host not resolved ({type(exc).__name__})", retriable=True) from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if not addr.is_global or addr.is_multicast:
            raise FetchError("host resolves to a non-public address", retriable=False)


class Fetcher:
    def __init__(self, *, timeout_s: float, private_hosts=(), resolve: Callable = socket.getaddrinfo):
        self.private_hosts = {h.lower() for h in private_hosts}
        self.resolve = resolve
        self.client = httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT},
                                   timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)))

    def _check(self, url: httpx.URL) -> None:
        if url.scheme not in ("http", "https") or not url.host:
            raise FetchError("not an http(s) URL", retriable=False)
        port = url.port or (443 if url.scheme == "https" else 80)
        host = url.host.lower()
        if host in self.private_hosts or f"{host}:{port}" in self.private_hosts:
            return
        _public(host, port, self.resolve)

    def get(self, url: str, *, max_bytes: int, allowed: Callable[[str], bool] = lambda _u: True) -> Fetched:
        """GET `url` into a temporary file. `allowed(url)`: the caller's host policy, asked for
        every redirect target too."""
        target = httpx.URL(url)
        for _hop in range(MAX_REDIRECTS + 1):
            self._check(target)
            try:
                with self.client.stream("GET", target) as resp:
                    if resp.is_redirect:
                        nxt = resp.headers.get("location")
                        if not nxt:
                            raise FetchError(f"HTTP {resp.status_code} without a Location", retriable=False)
                        target = target.join(nxt)
                        if not allowed(str(target)):
                            raise FetchError("redirected to a host that is not allowed", retriable=False)
                        continue
                    if resp.status_code != 200:
                        retriable = resp.status_code >= 500 or resp.status_code in (408, 425, 429)
                        raise FetchError(f"HTTP {resp.status_code}", retriable=retriable)
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"larger than {max_bytes} bytes", retriable=False)
                    return self._spool(resp, max_bytes, str(target))
            except httpx.TransportError as exc:
                raise FetchError(f"network error ({type(exc).__name__})", retriable=True) from None
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", retriable=False)

    @staticmethod
    def _spool(resp: httpx.Response, max_bytes: int, final_url: str) -> Fetched:
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"larger than {max_bytes} bytes", retriable=False)
                if len(head) < 64:
                    head = (head + chunk)[:64]
                digest.update(chunk)
                out.write(chunk)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return Fetched(out, size, digest.hexdigest(), resp.headers.get("content-type"), head, final_url)

    def close(self) -> None:
        self.client.close()
