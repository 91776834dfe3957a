#!/usr/bin/env python3
"""receiver.py - a webhook receiver on loopback for the soak benchmark and
the disk-fault test: it takes POSTs, answers, and logs each body it
accepted.

  receiver.py --port-file FILE --log FILE [--port N] [--control FILE]

It listens on 127.0.0.1 (port N, or a free one), writes the port to
--port-file once it listens, and for each POST reads --control (when the
file exists) for how to answer:
  ok            200 (also when the file is missing or empty)
  slow SECONDS  wait, then 200
  error         503, body not kept
  reject        400, body not kept
Each accepted body is appended to --log as one line
"<unix time> <eventID> <body>", flushed before the answer is sent, so a
line in the log is an event the sender was told it delivered (or was about
to be). One request at a time: a sender that posts in order is logged in
order. SIGTERM stops it after the request in hand is answered (so a
stop never loses the answer to a body it logged).
"""
import argparse
import http.server
import json
import os
import signal
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def control(self):
        try:
            with open(self.server.control_path) as f:
                words = f.read().split()
        except (OSError, TypeError):
            return "ok", 0.0
        if not words:
            return "ok", 0.0
        if words[0] == "slow" and len(words) > 1:
            return "slow", float(words[1])
        return words[0], 0.0

    def answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        mode, delay = self.control()
        if mode == "error":
            self.answer(503)
            return
        if mode == "reject":
            self.answer(400)
            return
        if delay > 0:
            time.sleep(delay)
        try:
            eid = json.loads(body).get("eventID", "-")
        except (ValueError, AttributeError):
            eid = "-"
        line = b"%.3f %s %s\n" % (time.time(), eid.encode(), body.replace(b"\n", b" "))
        log = self.server.log
        log.write(line)
        log.flush()
        self.answer(200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control")
    a = ap.parse_args()
    http.server.HTTPServer.allow_reuse_address = True
    srv = http.server.HTTPServer(("127.0.0.1", a.port), Handler)
    srv.control_path = a.control
    srv.log = open(a.log, "ab")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.timeout = 0.2
    while not stop:
        srv.handle_request()
    srv.server_close()
    srv.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
