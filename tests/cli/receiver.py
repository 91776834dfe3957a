#!/usr/bin/env python3
"""receiver.py - a local HTTP endpoint for the sink tests: records every
POST as one NDJSON line {"path": ..., "body": <the body parsed as JSON, or
null>, "raw": <the body text when it is not JSON>} and answers 202.

  receiver.py PORTFILE LOG

Binds 127.0.0.1 on a free port, writes the port to PORTFILE once it
listens, and serves until killed.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    log_path = None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n).decode("utf-8", "replace")
        try:
            rec = {"path": self.path, "body": json.loads(data),
                   "content_type": self.headers.get("Content-Type")}
        except ValueError:
            rec = {"path": self.path, "body": None, "raw": data}
        with open(self.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    Handler.log_path = sys.argv[2]
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
