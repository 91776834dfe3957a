#!/usr/bin/env python3
"""sqsd.py - a stand-in SQS queue for the tests, on loopback: the query
protocol (form-encoded POST, XML answers) for ReceiveMessage (long polling
with WaitTimeSeconds, VisibilityTimeout, ApproximateReceiveCount),
DeleteMessage, DeleteMessageBatch and ChangeMessageVisibility, each request's AWS Signature
Version 4 checked (service sqs) against the keys given. A message received
and not deleted comes back when its visibility timeout has passed, with a
new receipt handle, as SQS does; a receipt handle of an earlier receive no
longer deletes it.

  sqsd.py PORTFILE [--key ID:SECRET] [--lose-deletes N]

Listens on 127.0.0.1, a free port, written to PORTFILE once listening. The
queue URL is http://127.0.0.1:PORT/000000000000/trail. --lose-deletes N:
the first N deletions (DeleteMessage, or an entry of DeleteMessageBatch)
are answered as done but delete nothing
(the message comes back, as after a deletion lost on the way).

Test side (not SQS's): POST /_send with one message body per line queues
them in order; GET /_stats gives {"visible", "inflight", "deleted",
"received", "deletes", "extends", "bad_signatures", "requests"}. Each SQS
request is logged on stdout: "ACTION MESSAGE-ID...".
"""
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

lock = threading.Condition()
queue = []  # dicts: id, body, visible_at, receipt, receives (in send order)
stats = {"deleted": 0, "received": 0, "deletes": 0, "extends": 0, "bad_signatures": 0,
         "requests": 0}
keys = {"SQSD": "SQSD"}
lose_deletes = 0
default_visibility = 30


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signature_ok(h, body):
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False
    fields = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 5 or scope[0] not in keys or scope[3] != "sqs":
        return False
    signed = fields.get("SignedHeaders", "").split(";")
    canon_headers = "".join(
        "%s:%s\n" % (n, " ".join((h.headers.get(n) or "").split())) for n in signed)
    path, _, query = h.path.partition("?")
    canon = "\n".join([h.command, path, query, canon_headers, ";".join(signed),
                       hashlib.sha256(body).hexdigest()])
    amz_date = h.headers.get("x-amz-date", "")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(scope[1:]),
                         hashlib.sha256(canon.encode()).hexdigest()])
    want = hmac.new(signing_key(keys[scope[0]], scope[1], scope[2], "sqs"), to_sign.encode(),
                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, fields.get("Signature", ""))


def answer(action, inner=""):
    return ('<?xml version="1.0"?><%sResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
            '%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>'
            % (action, inner, uuid.uuid4(), action))


def error(code, message):
    return ('<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>'
            '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
            % (code, escape(message), uuid.uuid4()))


def receive(form):
    n = max(1, min(10, int(form.get("MaxNumberOfMessages", "1"))))
    wait = max(0, min(20, int(form.get("WaitTimeSeconds", "0"))))
    vis = int(form.get("VisibilityTimeout", default_visibility))
    deadline = time.time() + wait
    got = []
    with lock:
        while True:
            now = time.time()
            for m in queue:
                if len(got) == n:
                    break
                if m["visible_at"] <= now:
                    m["visible_at"] = now + vis
                    m["receipt"] = uuid.uuid4().hex
                    m["receives"] += 1
                    got.append(dict(m))
            if got or now >= deadline:
                break
            # wake for a new message, or when one's visibility runs out
            nxt = min([m["visible_at"] for m in queue] + [deadline])
            lock.wait(max(0.01, min(nxt, deadline) - now))
        stats["received"] += len(got)
    print("ReceiveMessage", "%.2f" % time.monotonic(), " ".join(m["id"] for m in got), flush=True)
    parts = []
    for m in got:
        parts.append(
            "<Message><MessageId>%s</MessageId><ReceiptHandle>%s</ReceiptHandle>"
            "<MD5OfBody>%s</MD5OfBody><Body>%s</Body><Attribute><Name>ApproximateReceiveCount"
            "</Name><Value>%d</Value></Attribute></Message>"
            % (m["id"], m["receipt"], hashlib.md5(m["body"].encode()).hexdigest(),
               escape(m["body"], {'"': "&quot;"}), m["receives"]))
    return 200, answer("ReceiveMessage", "<ReceiveMessageResult>%s</ReceiveMessageResult>"
                       % "".join(parts))


def find(receipt):
    for m in queue:
        if m["receipt"] == receipt:
            return m
    return None


def delete(form):
    with lock:
        code = delete_one(form.get("ReceiptHandle", ""))
    if code:
        return 400, error(code, "The receipt handle is not valid.")
    return 200, answer("DeleteMessage")


def delete_one(receipt):
    """Delete the message holding receipt (under the lock): None, or an
    error code."""
    global lose_deletes
    stats["deletes"] += 1
    m = find(receipt)
    if m is None:
        return "ReceiptHandleIsInvalid"
    if lose_deletes > 0:
        lose_deletes -= 1
        print("DeleteMessage(lost)", m["id"], flush=True)
        return None
    queue.remove(m)
    stats["deleted"] += 1
    print("DeleteMessage", m["id"], flush=True)
    return None


def delete_batch(form):
    ok, bad = [], []
    with lock:
        i = 1
        while "DeleteMessageBatchRequestEntry.%d.Id" % i in form:
            eid = form["DeleteMessageBatchRequestEntry.%d.Id" % i]
            code = delete_one(form.get("DeleteMessageBatchRequestEntry.%d.ReceiptHandle" % i, ""))
            if code:
                bad.append("<BatchResultErrorEntry><Id>%s</Id><Code>%s</Code><Message>The "
                           "receipt handle is not valid.</Message><SenderFault>true</SenderFault>"
                           "</BatchResultErrorEntry>" % (escape(eid), code))
            else:
                ok.append("<DeleteMessageBatchResultEntry><Id>%s</Id>"
                          "</DeleteMessageBatchResultEntry>" % escape(eid))
            i += 1
    if i == 1 or i > 11:
        return 400, error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest" if i > 11 else
                          "AWS.SimpleQueueService.EmptyBatchRequest", "bad batch")
    return 200, answer("DeleteMessageBatch", "<DeleteMessageBatchResult>%s</DeleteMessageBatchResult>"
                       % "".join(ok + bad))


def change_visibility(form):
    with lock:
        m = find(form.get("ReceiptHandle", ""))
        if m is None:
            return 400, error("ReceiptHandleIsInvalid", "The receipt handle is not valid.")
        m["visible_at"] = time.time() + int(form.get("VisibilityTimeout", "0"))
        stats["extends"] += 1
        lock.notify_all()
    print("ChangeMessageVisibility", m["id"], flush=True)
    return 200, answer("ChangeMessageVisibility")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # head and body in one write (no wait for a delayed ACK)

    def log_message(self, *args):
        pass

    def reply(self, status, text, ctype="text/xml"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                now = time.time()
                s = dict(stats, visible=sum(m["visible_at"] <= now for m in queue),
                         inflight=sum(m["visible_at"] > now for m in queue))
            self.reply(200, json.dumps(s), "application/json")
        else:
            self.reply(404, "")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_send":
            with lock:
                for line in body.decode().splitlines():
                    if line.strip():
                        queue.append({"id": str(uuid.uuid4()), "body": line, "visible_at": 0,
                                      "receipt": None, "receives": 0})
                lock.notify_all()
            self.reply(200, "")
            return
        with lock:
            stats["requests"] += 1
        if not signature_ok(self, body):
            with lock:
                stats["bad_signatures"] += 1
            self.reply(403, error("SignatureDoesNotMatch", "The request signature we calculated "
                                  "does not match the signature you provided."))
            return
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(),
                                                            keep_blank_values=True).items()}
        action = form.get("Action", "")
        qurl = form.get("QueueUrl", "")
        if not qurl.endswith("/000000000000/trail"):
            self.reply(400, error("AWS.SimpleQueueService.NonExistentQueue",
                                  "The specified queue does not exist for this wsdl version."))
            return
        handlers = {"ReceiveMessage": receive, "DeleteMessage": delete,
                    "DeleteMessageBatch": delete_batch,
                    "ChangeMessageVisibility": change_visibility}
        if action not in handlers:
            self.reply(400, error("InvalidAction", "The action %s is not valid." % action))
            return
        status, text = handlers[action](form)
        self.reply(status, text)


def main():
    global lose_deletes
    args = sys.argv[1:]
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    portfile = args.pop(0)
    while args:
        opt = args.pop(0)
        if opt == "--key":
            k, s = args.pop(0).split(":", 1)
            keys.clear()
            keys[k] = s
        elif opt == "--lose-deletes":
            lose_deletes = int(args.pop(0))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
