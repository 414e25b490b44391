#!/usr/bin/env python3
"""A webhook receiver for `make bench` (scripts/bench_webhooks.sh): HTTP/1.1 keep-alive on loopback,
answers 200 to every POST and appends "EVENT_ID UNIX_SECONDS" to a log for each request (the
latency from commit to delivery is read from it). Verifies nothing: the tests verify signatures.
    bench_webhook_receiver.py PORT LOGFILE
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)   # line-buffered: a line per request, nothing lost at exit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        log.write(f"{self.headers.get('Tierplan-Event-Id', '-')} {time.time():.6f}\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
try:
    server.serve_forever()
finally:
    log.flush()
