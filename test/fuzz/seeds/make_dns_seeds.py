#!/usr/bin/env python3
"""make_dns_seeds.py: writes the seed DNS replies of fuzz_dns_reply (run from this folder;
the .bin files it writes are committed). Replies of the shapes the plugin reads: a TXT
answer at the challenge name, an SOA in the authority section, NS with glue, and a
TSIG-signed update reply whose MAC verifies with the fuzzer's key (so verification runs to
the end)."""
import base64
import hashlib
import hmac
import struct

KEY_NAME, ALG = "fuzz-key", "hmac-sha256"
SECRET = base64.b64decode("MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=")
REQ_MAC = b"\x11" * 32   # the request MAC the fuzzer passes
WHEN = 1700000000


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=60, cls=1):
    return name(owner) + struct.pack(">HHIH", rtype, cls, ttl, len(rdata)) + rdata


def msg(qname, qtype, an=(), ns=(), ar=(), flags=0x8180, qid=0x1234):
    h = struct.pack(">HHHHHH", qid, flags, 1, len(an), len(ns), len(ar))
    return h + name(qname) + struct.pack(">HH", qtype, 1) + b"".join(an + ns + ar)


def txt(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


def soa(zone):
    return name("ns1." + zone) + name("admin." + zone) + struct.pack(">IIIII", 1, 3600, 600, 86400, 60)


def signed(m):
    """m with a TSIG RR whose MAC covers REQ_MAC, m and the variables (RFC 8945 4.3.3)."""
    var = name(KEY_NAME) + struct.pack(">HI", 255, 0) + name(ALG) + \
        struct.pack(">Q", WHEN)[2:] + struct.pack(">HHH", 300, 0, 0)
    mac = hmac.new(SECRET, struct.pack(">H", len(REQ_MAC)) + REQ_MAC + m + var,
                   hashlib.sha256).digest()
    rdata = name(ALG) + struct.pack(">Q", WHEN)[2:] + struct.pack(">HH", 300, len(mac)) + \
        mac + m[:2] + struct.pack(">HH", 0, 0)
    ar = struct.unpack(">H", m[10:12])[0] + 1
    return m[:10] + struct.pack(">H", ar) + m[12:] + rr(KEY_NAME, 250, rdata, ttl=0, cls=255)


CH = "_acme-challenge.www.example.com"
seeds = {
    "txt.bin": msg(CH, 16, an=(rr(CH, 16, txt("value-1")), rr(CH, 16, txt("part", "two")))),
    "soa.bin": msg(CH, 6, ns=(rr("example.com", 6, soa("example.com")),)),
    "ns_glue.bin": msg("example.com", 2, an=(rr("example.com", 2, name("ns1.example.com")),),
                       ar=(rr("ns1.example.com", 1, bytes([127, 0, 0, 1])),
                           rr("ns1.example.com", 28, bytes(15) + b"\1"))),
    "tsig_update.bin": signed(msg("example.com", 6, flags=0xa800)),
    "tsig_badsig.bin": msg("example.com", 6, flags=0xa809),
}
for f, data in seeds.items():
    with open(f, "wb") as out:
        out.write(data)
