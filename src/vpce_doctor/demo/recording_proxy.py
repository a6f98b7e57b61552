"""A loopback HTTP proxy in front of moto that records every AWS request (service, action):
what lets a test prove that preflight, which talks to AWS APIs directly (AWS_ENDPOINT_URL),
only ever read."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Tuple

from . import aws_answers

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class RecordingProxy:
    def __init__(self, moto: Tuple[str, int]):
        self.moto = moto
        self.requests: List[Tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: the test reads self.requests
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                scope = _SCOPE.search(headers.get("Authorization", ""))
                proxy.requests.append((scope.group(1) if scope else "?",
                                       aws_answers.action_of(self.command, self.path, headers, body)))
                status, answer_headers, content = aws_answers.forward(proxy.moto, self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in answer_headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="recording-proxy", daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def start(self) -> "RecordingProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
