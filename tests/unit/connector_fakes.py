"""Local fake platforms for connector tests: an HTTP server on 127.0.0.1 (random port) whose
answers come from a routing function, and a WebSocket server. No network."""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.sync.server import serve


class FakePlatform:
    """`route(method, path, query, headers, body)` -> (status, headers, body); body may be a
    generator of chunks for streaming answers (SSE, JSON lines)."""

    def __init__(self, route):
        self.route, self.requests = route, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True   # headers and body go out in two writes on a kept-alive connection

            def _do(self):
                url = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((self.command, url.path, query, dict(self.headers)))
                status, headers, payload = fake.route(self.command, url.path, query, dict(self.headers), body)
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if isinstance(payload, (bytes, str, dict, list)):
                    data = payload if isinstance(payload, bytes) else (
                        payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for chunk in payload:
                        self.wfile.write(chunk.encode() if isinstance(chunk, str) else chunk)
                        self.wfile.flush()
                    self.close_connection = True

            do_GET = do_POST = _do

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self):
        return [r[1] for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeWebSocketServer:
    """A websockets server (permessage-deflate offered, as a real one may): records each request
    path and the extensions it agreed, sends the given text messages, closes normally."""

    def __init__(self, messages_for):
        self.messages_for, self.paths, self.extensions = messages_for, [], []
        self.server = serve(self._handle, "127.0.0.1", 0, compression="deflate")
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, ws):
        self.paths.append(ws.request.path)
        self.extensions.append(ws.response.headers.get("Sec-WebSocket-Extensions"))
        for msg in self.messages_for(ws.request.path):
            ws.send(msg)

    def close(self):
        self.server.shutdown()
