"""What the CRM stand-ins (testkit/hubspot_standin.py, testkit/salesforce_standin.py) share about
serving HTTP: a server on 127.0.0.1 answering from a background thread, stopped at once, and
a request handler that replies JSON and logs nothing (the tests' output stays their own)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve_in_background(server: ThreadingHTTPServer, stand_in: object) -> None:
    """Serve `server` from a daemon thread; its handler finds `stand_in` on `server.stand_in`."""
    server.stand_in = stand_in  # type: ignore[attr-defined]
    server.daemon_threads = True
    # A short poll interval keeps stop() fast; tests start and stop many servers.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()


def stop_serving(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


class JsonReplyHandler(BaseHTTPRequestHandler):
    # The Content-Type the CRM sends its JSON with (HubSpot and Salesforce spell it differently).
    content_type = "application/json;charset=utf-8"

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return
