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
"""
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
    c.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk


def reply(mode, c):
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


def serve_conn(mode, raw):
    try:
        c = ctx.wrap_socket(raw, server_side=True)
        read_request(c)
        reply(mode, c)
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
        threading.Thread(target=serve_conn, args=(mode, raw), daemon=True).start()


ports = {}
for mode in ("blackhole", "slow", "bigheader", "bigbody", "badjson", "html", "redirect"):
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
