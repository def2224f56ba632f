"""A local HTTP fake of a platform's media host (127.0.0.1, a free port), serving real image bytes.

Routes are set per test: path -> list of answers, taken in turn (the last one repeats), each
(status, headers, body). Every request's path is recorded, so a test can tell what was fetched.
"""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "media"


class FakeCdn:
    def __init__(self):
        self.routes: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):   # noqa: N802 (http.server's name)
                fake.requests.append(self.path)
                answers = fake.routes.get(self.path) or [(404, {}, b"not found")]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def serve(self, path: str, *answers) -> str:
        self.routes[path] = list(answers)
        return self.url(path)

    def image(self, path: str, name: str, content_type: str) -> str:
        return self.serve(path, (200, {"Content-Type": content_type}, (FIXTURES / name).read_bytes()))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
