#!/usr/bin/env python3
"""cutproxy.py - a loopback TCP proxy that cuts connections, for fault tests.

    cutproxy.py PORTFILE UPSTREAM_PORT MODE N CUTS LOG

Listens on a free 127.0.0.1 port (written to PORTFILE) and forwards each
connection to 127.0.0.1:UPSTREAM_PORT. The first CUTS times a connection
meets MODE's condition it is cut (both sides closed) and a line goes to LOG:

  bytes  once a connection has sent N bytes to the server, forward exactly
         N and cut: the server gets a command pipeline cut in the middle;
  eval   once a connection has sent N bytes and a chunk holding an EVAL or
         EVALSHA call is forwarded, wait for the server to run it, then cut
         before its reply reaches the client: the reply is lost.

Exits by itself after 300 s. Loopback only.
"""
import socket
import sys
import threading
import time

portfile, upstream, mode, limit, cuts, log = sys.argv[1:7]
upstream, limit, cuts = int(upstream), int(limit), int(cuts)
lock = threading.Lock()
state = {"cuts": 0}


def take_cut(what):
    """Count one cut if any are left; True when this one is to be made."""
    with lock:
        if state["cuts"] >= cuts:
            return False
        state["cuts"] += 1
        with open(log, "a") as f:
            f.write(what + "\n")
        return True


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def to_server(client, server):
    sent = 0
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            if mode == "bytes" and sent + len(data) >= limit and take_cut(
                    "bytes: cut after %d bytes" % limit):
                server.sendall(data[:limit - sent])
                time.sleep(0.2)
                close(client, server)
                return
            server.sendall(data)
            sent += len(data)
            if mode == "eval" and sent >= limit and b"EVAL" in data and take_cut(
                    "eval: reply dropped after %d bytes" % sent):
                time.sleep(0.3)  # the server runs the script; its reply is lost
                close(client, server)
                return
    except OSError:
        pass
    close(client, server)


def to_client(client, server):
    try:
        while True:
            data = server.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    close(client, server)


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    ls.settimeout(1.0)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    end = time.time() + 300
    while time.time() < end:
        try:
            client, _ = ls.accept()
        except socket.timeout:
            continue
        server = socket.create_connection(("127.0.0.1", upstream))
        for fn in (to_server, to_client):
            threading.Thread(target=fn, args=(client, server), daemon=True).start()


main()
