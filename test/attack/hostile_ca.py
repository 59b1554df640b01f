#!/usr/bin/env python3
"""hostile_ca.py CERT KEY PORTFILE: misbehaving "ACME CAs" on free 127.0.0.1 ports, for the
attack suite. Writes "mode port" lines to PORTFILE once every listener is up, then serves
until killed. Modes (all HTTPS with CERT/KEY except blackhole and closed):

  blackhole  accepts TCP connections and never sends a byte (not even a TLS handshake)
  closed     a port that was bound and released: connections are refused
  slow       answers "HTTP/1.1 200" one byte per second, forever
  bigheader  a 200 with a 200 KB header line (libcurl refuses header lines over 100 KB)
  bigbody    a 200 application/json body of 50 MB
  badjson    a 200 application/json body that is not JSON
  html       a 200 text/html page (a web server, not an ACME directory)
  redirect   a 301 to another URL
  ctdir      a valid ACME directory served as text/plain (RFC 8555: application/json)
  hang       reads the request and never answers; appends "<epoch-ms>" to PORTFILE.hang
             when the client closes the connection (the plugin gave the exchange up)
  ctorder    a minimal ACME CA (no JWS checks): directory, nonces and newAccount as RFC 8555
             says, then a newOrder reply whose JSON comes as text/html
"""
import json
import socket
import ssl
import sys
import threading
import time

CERT, KEY, PORTFILE = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
held = []


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


def read_request(c):
    """Reads headers and a Content-Length body; returns (request line, body)."""
    c.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    want = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            want = int(v.strip() or 0)
    while len(body) < want:
        chunk = c.recv(4096)
        if not chunk:
            break
        body += chunk
    return head.split(b"\r\n")[0].decode("latin-1"), body


def send(c, status, ctype, body, extra=b""):
    if isinstance(body, str):
        body = body.encode()
    c.sendall(b"HTTP/1.1 " + status.encode() + b"\r\n" +
              (b"Content-Type: " + ctype.encode() + b"\r\n" if ctype else b"") + extra +
              b"Replay-Nonce: n%d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
              % (int(time.time() * 1000), len(body)) + body)


def directory(port):
    base = "https://127.0.0.1:%d" % port
    return json.dumps({"newNonce": base + "/nonce", "newAccount": base + "/acct",
                       "newOrder": base + "/order", "revokeCert": base + "/revoke",
                       "keyChange": base + "/kc"})


def mini_acme(c, line, port):
    """ctorder: right content types up to newOrder, then text/html."""
    base = "https://127.0.0.1:%d" % port
    if line.startswith("GET /dir "):
        send(c, "200 OK", "application/json", directory(port))
    elif " /nonce " in line:
        send(c, "200 OK", None, b"")
    elif line.startswith("POST /acct "):
        send(c, "201 Created", "application/json",
             json.dumps({"status": "valid", "orders": base + "/acct/1/orders"}),
             b"Location: " + base.encode() + b"/acct/1\r\n")
    elif line.startswith("POST /order "):
        body = json.dumps({"status": "pending", "expires": "2099-01-01T00:00:00Z",
                           "identifiers": [{"type": "dns", "value": "www.example.com"}],
                           "authorizations": [base + "/authz/1"], "finalize": base + "/fin/1"})
        send(c, "201 Created", "text/html", body, b"Location: " + base.encode() + b"/order/1\r\n")
    else:
        send(c, "404 Not Found", "application/problem+json",
             json.dumps({"type": "urn:ietf:params:acme:error:malformed", "detail": "no such URL"}))


def hang(c):
    """Never answers; records when the client gives up the connection."""
    c.settimeout(None)
    try:
        while c.recv(4096):
            pass
    except Exception:
        pass
    with open(PORTFILE + ".hang", "a") as f:
        f.write("%d\n" % int(time.time() * 1000))


def reply(mode, c, line, port):
    if mode == "ctdir":
        send(c, "200 OK", "text/plain; charset=utf-8", directory(port))
        return
    if mode == "hang":
        hang(c)
        return
    if mode == "ctorder":
        mini_acme(c, line, port)
        return
    if mode == "slow":
        for b in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}" * 100:
            c.sendall(bytes([b]))
            time.sleep(1)
        return
    if mode == "bigheader":
        c.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200000 + b"\r\nContent-Length: 2\r\n\r\n{}")
    elif mode == "bigbody":
        n = 50 * 1024 * 1024
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % n)
        block = b"[" * 65536
        for _ in range(n // 65536):
            c.sendall(block)
    elif mode == "badjson":
        body = b'{"newNonce": "https://x", oops'
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "html":
        body = b"<html><body>It works!</body></html>"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "redirect":
        c.sendall(b"HTTP/1.1 301 Moved\r\nLocation: https://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n")


def serve_conn(mode, raw, port):
    try:
        c = ctx.wrap_socket(raw, server_side=True)
        line, _ = read_request(c)
        reply(mode, c, line, port)
        c.close()
    except Exception:
        try:
            raw.close()
        except Exception:
            pass


def serve(mode, s):
    while True:
        raw, _ = s.accept()
        if mode == "blackhole":
            held.append(raw)   # keep it open, say nothing
            continue
        threading.Thread(target=serve_conn, args=(mode, raw, s.getsockname()[1]),
                         daemon=True).start()


ports = {}
for mode in ("blackhole", "slow", "bigheader", "bigbody", "badjson", "html", "redirect",
             "ctdir", "hang", "ctorder"):
    s = listener()
    ports[mode] = s.getsockname()[1]
    threading.Thread(target=serve, args=(mode, s), daemon=True).start()
tmp = listener()
ports["closed"] = tmp.getsockname()[1]
tmp.close()
with open(PORTFILE + ".tmp", "w") as f:
    for m, p in ports.items():
        f.write("%s %d\n" % (m, p))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
while True:
    time.sleep(3600)
