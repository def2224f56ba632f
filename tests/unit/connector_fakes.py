"""Local fake platforms for connector tests: an HTTP server on 127.0.0.1 (random port) whose
answers come from a routing function, and a tiny WebSocket server. No network."""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakePlatform:
    """`route(method, path, query, headers, body)` -> (status, headers, body); body may be a
    generator of chunks for streaming answers (SSE, JSON lines)."""

    def __init__(self, route):
        self.route, self.requests = route, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

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
    """Accepts one client at a time, records the request line, sends the given text messages, closes."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, messages_for):
        self.messages_for, self.paths = messages_for, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}/subscribe"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                head = data.decode("latin-1")
                path = head.split(" ")[1]
                self.paths.append(path)
                key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                           if line.lower().startswith("sec-websocket-key"))
                accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
                conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
                for msg in self.messages_for(path):
                    payload = msg.encode()
                    n = len(payload)
                    head = bytes([0x81]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack("!H", n)
                                            if n < 65536 else bytes([127]) + struct.pack("!Q", n))
                    conn.sendall(head + payload)
                conn.sendall(bytes([0x88, 2]) + struct.pack("!H", 1000))

    def close(self):
        self.sock.close()
