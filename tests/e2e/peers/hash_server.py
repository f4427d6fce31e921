#!/usr/bin/env python3
"""Upload endpoint for the proxy tests: answers every POST/PUT with the
SHA-256 and length of the request body it received, as one JSON line.
HTTP/1.1 with keep-alive, one thread per connection (runs on the lab's server).

    python3 hash_server.py PORT
"""

from __future__ import annotations

import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        h = hashlib.sha256()
        left = int(self.headers.get("Content-Length", "0"))
        n = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            left -= len(chunk)
        body = (json.dumps({"sha256": h.hexdigest(), "bytes": n}) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
