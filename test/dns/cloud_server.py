"""test/dns/cloud_server.py WORLD_JSON: a local stand-in for Google Cloud (OAuth token
endpoint, metadata server, IAM Credentials, Cloud DNS v1) and the Cloudflare v4 API, written
from their REST documentation (no emulator exists), on one 127.0.0.1 port told apart by path:

  POST /token                                   JWT-bearer grant (RFC 7523)
  GET  /computeMetadata/v1/...                  metadata server (Metadata-Flavor: Google)
  POST /v1/projects/-/serviceAccounts/{sa}:generateAccessToken
  GET/POST /dns/v1/projects/{p}/managedZones[/{z}/rrsets|changes[/{id}]]
  GET/POST/DELETE /client/v4/zones[/{id}/dns_records[/{rid}]]

Google checks: the assertion's RS256 signature against the service account's public key,
iss, aud (the token endpoint's URL), iat/exp (at most 1 h), the scope; bearer tokens' expiry;
IAM roles (dns.admin on the project, serviceAccountTokenCreator on an impersonated account);
changes.create deletions matching the current rrset exactly (412 conditionNotMet) and
additions of an existing rrset (409 alreadyExists); Google's error JSON. Changes are
"pending" on creation and "done" at the next changes.get. Cloudflare checks: the bearer
token, its zone permission, the record shape (type, name inside the zone, ttl 1 or 60-86400),
the envelope {"success", "errors", "messages", "result"}. Every change is mirrored into the
BIND zones of the same names with nsupdate, so Pebble sees what the clouds hold.

WORLD_JSON: {"port", "named", "tsig", "project", "gzone": {"name", "dns"}, "accounts":
{email: {"public_pem", "roles": [...]}}, "cf_zone": {"id", "name"}, "cf_tokens":
{token: "edit"|"read"}}. Controls (test-side): POST /_control/lifetime {"seconds"},
/_control/throttle {"count", "retry_after"}, /_control/race {"value"}, /_control/hold {"on"}
(while on, changes are kept from BIND and sent when it goes off: a record published at the
cloud but not yet visible, as during propagation), GET /_control/stats."""
import base64
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

WORLD = json.load(open(sys.argv[1]))
LOCK = threading.Lock()
STATE = {"lifetime": 3600, "throttle": 0, "retry_after": 1, "race": None,
         "held": None}   # while held: (zone, fqdn) -> the nsupdate arguments to send at release
STATS = {"token": 0, "metadata": 0, "impersonate": 0, "throttled": 0, "conflicts": 0,
         "changes": 0, "change_polls": 0, "cf": 0, "scopes": []}
TOKENS = {}      # access token -> {"email", "exp", "scope"}
GRRSETS = {}     # fqdn -> {"ttl", "rrdatas"}
CHANGES = {}     # id -> polls left before done
CFRECS = {}      # id -> {"id", "type", "name", "content", "ttl"}
DNS_SCOPES = {"https://www.googleapis.com/auth/ndev.clouddns.readwrite",
              "https://www.googleapis.com/auth/cloud-platform"}


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def nsupdate(zone, fqdn, values, ttl):
    if STATE["held"] is not None:
        STATE["held"][(zone, fqdn)] = (zone, fqdn, list(values), ttl)
        return
    host, port = WORLD["named"].rsplit(":", 1)
    lines = [f"server {host} {port}", f"zone {zone}.", f"update delete {fqdn} TXT"]
    lines += [f"update add {fqdn} {ttl} TXT \"{v}\"" for v in values]
    subprocess.run(["nsupdate", "-y", WORLD["tsig"]], input=("\n".join(lines) + "\nsend\n").encode(),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def gerr(code, status, message, reason):
    return code, {"error": {"code": code, "message": message, "status": status,
                            "errors": [{"message": message, "domain": "global", "reason": reason}]}}


def issue(email, scope):
    tok = "ya29." + secrets.token_urlsafe(24)
    TOKENS[tok] = {"email": email, "exp": time.time() + STATE["lifetime"], "scope": scope}
    return tok


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, headers=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        raw = self.body()
        with LOCK:
            if u.path.startswith("/_control/"):
                return self.reply(*self.control(u.path[10:], raw))
            if STATE["throttle"] > 0 and not u.path.startswith("/computeMetadata"):
                STATE["throttle"] -= 1
                STATS["throttled"] += 1
                if u.path.startswith("/client/v4"):
                    return self.reply(429, {"success": False, "errors": [{"code": 10000 + 971, "message": "Rate limited"}], "messages": [], "result": None}, {"Retry-After": str(STATE["retry_after"])})
                return self.reply(*gerr(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "rateLimitExceeded"), {"Retry-After": str(STATE["retry_after"])})
            if u.path == "/token" and method == "POST":
                return self.reply(*self.token(raw))
            if u.path.startswith("/computeMetadata/v1/"):
                return self.metadata(u.path)
            if u.path.startswith("/v1/projects/-/serviceAccounts/") and u.path.endswith(":generateAccessToken"):
                return self.reply(*self.impersonate(urllib.parse.unquote(u.path[31:-20]), raw))
            if u.path.startswith("/dns/v1/"):
                return self.reply(*self.clouddns(method, u.path[8:].split("/"), q, raw))
            if u.path.startswith("/client/v4/"):
                STATS["cf"] += 1
                code, res = self.cloudflare(method, u.path[11:].split("/"), q, raw)
                if code >= 400:
                    return self.reply(code, {"success": False, "errors": [res], "messages": [], "result": None})
                return self.reply(code, {"success": True, "errors": [], "messages": [], "result": res})
            return self.reply(404, {"error": "no such path"})

    def control(self, what, raw):
        if what == "stats":
            return 200, {**STATS, "rrsets": GRRSETS, "cf_records": list(CFRECS.values())}
        j = json.loads(raw or b"{}")
        if what == "lifetime":
            STATE["lifetime"] = j["seconds"]
        elif what == "throttle":
            STATE["throttle"], STATE["retry_after"] = j["count"], j.get("retry_after", 1)
        elif what == "race":
            STATE["race"] = j["value"]
        elif what == "hold":
            held, STATE["held"] = STATE["held"], ({} if j["on"] else None)
            for args in (held or {}).values():
                nsupdate(*args)
        return 200, {}

    # ---- Google ------------------------------------------------------------------------

    def token(self, raw):
        STATS["token"] += 1
        f = dict(urllib.parse.parse_qsl(raw.decode()))
        if f.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + f.get("grant_type", "")}
        try:
            head, claims, sig = f["assertion"].split(".")
            h, c = json.loads(unb64(head)), json.loads(unb64(claims))
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."}
        acct = WORLD["accounts"].get(c.get("iss"))
        if h.get("alg") != "RS256" or not acct:
            return 400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"}
        try:
            serialization.load_pem_public_key(acct["public_pem"].encode()).verify(
                unb64(sig), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        now = time.time()
        me = f"http://{self.headers['Host']}/token"
        if c.get("aud") != me:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: audience must be " + me}
        if not (c.get("iat", 0) - 60 <= now <= c.get("exp", 0)) or c["exp"] - c["iat"] > 3600:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."}
        scope = c.get("scope", "")
        STATS["scopes"].append(scope)
        if not set(scope.split()) & DNS_SCOPES:
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}
        return 200, {"access_token": issue(c["iss"], scope), "expires_in": STATE["lifetime"], "token_type": "Bearer"}

    def metadata(self, path):
        STATS["metadata"] += 1
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, b"Missing Metadata-Flavor:Google header.")
        if path == "/computeMetadata/v1/project/project-id":
            return self.reply(200, WORLD["project"].encode())
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            return self.reply(200, {"access_token": issue(WORLD["vm_account"], "https://www.googleapis.com/auth/cloud-platform"),
                                    "expires_in": STATE["lifetime"], "token_type": "Bearer"})
        return self.reply(404, b"Not Found")

    def caller(self):
        a = self.headers.get("Authorization", "")
        t = TOKENS.get(a[7:]) if a.startswith("Bearer ") else None
        if not t:
            return None, gerr(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "authError")
        if t["exp"] < time.time():
            return None, gerr(401, "UNAUTHENTICATED", "Request had invalid authentication credentials (token expired).", "authError")
        return t, None

    def impersonate(self, target, raw):
        STATS["impersonate"] += 1
        t, er = self.caller()
        if er:
            return er
        if "https://www.googleapis.com/auth/cloud-platform" not in t["scope"].split():
            return gerr(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "insufficientPermissions")
        acct = WORLD["accounts"].get(target)
        if not acct or ("tokenCreator:" + t["email"]) not in acct["roles"]:
            return gerr(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", "forbidden")
        j = json.loads(raw or b"{}")
        if not j.get("scope"):
            return gerr(400, "INVALID_ARGUMENT", "Scope required.", "badRequest")
        exp = time.time() + STATE["lifetime"]
        tok = issue(target, " ".join(j["scope"]))
        return 200, {"accessToken": tok, "expireTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))}

    def clouddns(self, method, parts, q, raw):
        t, er = self.caller()
        if er:
            return er
        if len(parts) < 3 or parts[0] != "projects" or parts[1] != WORLD["project"]:
            return gerr(404, "NOT_FOUND", "The requested project was not found.", "notFound")
        if "dns.admin" not in WORLD["accounts"].get(t["email"], {}).get("roles", []):
            return gerr(403, "PERMISSION_DENIED", f"Forbidden: {t['email']} does not have dns.changes.create access to the project.", "forbidden")
        gz = WORLD["gzone"]
        if parts[2:] == ["managedZones"] and method == "GET":
            dn = q.get("dnsName")
            zones = [{"kind": "dns#managedZone", "name": gz["name"], "dnsName": gz["dns"] + ".", "visibility": "public"}]
            return 200, {"managedZones": [z for z in zones if not dn or z["dnsName"] == dn]}
        if len(parts) < 5 or parts[3] != gz["name"]:
            return gerr(404, "NOT_FOUND", f"The 'parameters.managedZone' resource named '{parts[3] if len(parts) > 3 else ''}' does not exist.", "notFound")
        if parts[4] == "rrsets" and method == "GET":
            name = q.get("name")
            return 200, {"rrsets": [{"kind": "dns#resourceRecordSet", "name": n, "type": "TXT", **v}
                                    for n, v in GRRSETS.items() if not name or n == name]}
        if parts[4] == "changes" and method == "POST" and len(parts) == 5:
            return self.change(json.loads(raw or b"{}"))
        if parts[4] == "changes" and method == "GET" and len(parts) == 6:
            if parts[5] not in CHANGES:
                return gerr(404, "NOT_FOUND", "The 'parameters.changeId' resource does not exist.", "notFound")
            STATS["change_polls"] += 1
            CHANGES[parts[5]] = max(0, CHANGES[parts[5]] - 1)
            return 200, {"kind": "dns#change", "id": parts[5], "status": "done" if CHANGES[parts[5]] == 0 else "pending"}
        return gerr(400, "INVALID_ARGUMENT", "Invalid request.", "invalid")

    def change(self, j):
        if STATE["race"] is not None:   # another writer changes the rrset first
            name = (j.get("additions") or j.get("deletions"))[0]["name"]
            cur = GRRSETS.get(name, {"ttl": 10, "rrdatas": []})
            GRRSETS[name] = {"ttl": cur["ttl"], "rrdatas": cur["rrdatas"] + [f"\"{STATE['race']}\""]}
            nsupdate(WORLD["gzone"]["dns"], name, [r.strip('"') for r in GRRSETS[name]["rrdatas"]], cur["ttl"])
            STATE["race"] = None
        for rs in j.get("additions", []) + j.get("deletions", []):
            if rs.get("type") != "TXT" or not rs.get("name", "").endswith(WORLD["gzone"]["dns"] + ".") \
                    or not isinstance(rs.get("ttl"), int) or rs["ttl"] < 1 or not rs.get("rrdatas") \
                    or not all(r.startswith('"') and r.endswith('"') for r in rs["rrdatas"]):
                return gerr(400, "INVALID_ARGUMENT", "Invalid value for 'entity.change': a TXT rrset needs name in the zone, ttl and quoted rrdatas", "invalid")
        for d in j.get("deletions", []):
            cur = GRRSETS.get(d["name"])
            if not cur or cur["rrdatas"] != d["rrdatas"] or cur["ttl"] != d["ttl"]:
                STATS["conflicts"] += 1
                return gerr(412, "FAILED_PRECONDITION", f"The resource 'entity.change.deletions[{d['name']}][TXT]' does not match the current record set.", "conditionNotMet")
        for a in j.get("additions", []):
            if a["name"] in GRRSETS and not any(d["name"] == a["name"] for d in j.get("deletions", [])):
                STATS["conflicts"] += 1
                return gerr(409, "ALREADY_EXISTS", f"The resource 'entity.change.additions[{a['name']}][TXT]' named '{a['name']} (TXT)' already exists", "alreadyExists")
        for d in j.get("deletions", []):
            del GRRSETS[d["name"]]
        names = {d["name"] for d in j.get("deletions", [])}
        for a in j.get("additions", []):
            GRRSETS[a["name"]] = {"ttl": a["ttl"], "rrdatas": a["rrdatas"]}
            names.add(a["name"])
        for n in names:
            cur = GRRSETS.get(n)
            nsupdate(WORLD["gzone"]["dns"], n, [r.strip('"') for r in cur["rrdatas"]] if cur else [], cur["ttl"] if cur else 10)
        STATS["changes"] += 1
        cid = str(STATS["changes"])
        CHANGES[cid] = 1
        return 200, {"kind": "dns#change", "id": cid, "status": "pending", **j}

    # ---- Cloudflare ----------------------------------------------------------------------

    def cloudflare(self, method, parts, q, raw):
        a = self.headers.get("Authorization", "")
        if not a.startswith("Bearer "):
            return 400, {"code": 6003, "message": "Invalid request headers"}
        perm = WORLD["cf_tokens"].get(a[7:])
        if not perm:
            return 401, {"code": 1000, "message": "Invalid API Token"}
        z = WORLD["cf_zone"]
        if parts == ["zones"] and method == "GET":
            return 200, [{"id": z["id"], "name": z["name"], "status": "active"}] if q.get("name", z["name"]) == z["name"] else []
        if len(parts) < 3 or parts[0] != "zones" or parts[2] != "dns_records":
            return 400, {"code": 7003, "message": "Could not route to /" + "/".join(parts) + ", perhaps your object identifier is invalid?"}
        if parts[1] != z["id"]:
            return 404, {"code": 7003, "message": "Could not route to /zones/" + parts[1] + "/dns_records, perhaps your object identifier is invalid?"}
        if method == "GET" and len(parts) == 3:
            return 200, [r for r in CFRECS.values() if r["type"] == q.get("type", r["type"]) and r["name"] == q.get("name", r["name"])]
        if perm != "edit":
            return 403, {"code": 10000, "message": "Authentication error"}
        if method == "POST" and len(parts) == 3:
            j = json.loads(raw or b"{}")
            if j.get("type") != "TXT" or not isinstance(j.get("content"), str) or not j["content"]:
                return 400, {"code": 9005, "message": "Content for TXT record is invalid."}
            if not (j.get("name") == z["name"] or j.get("name", "").endswith("." + z["name"])):
                return 400, {"code": 9007, "message": "Record name is outside the zone."}
            if not isinstance(j.get("ttl"), int) or not (j["ttl"] == 1 or 60 <= j["ttl"] <= 86400):
                return 400, {"code": 9021, "message": "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."}
            if any(r["name"] == j["name"] and r["content"] == j["content"] for r in CFRECS.values()):
                return 400, {"code": 81058, "message": "An identical record already exists."}
            rid = secrets.token_hex(16)
            CFRECS[rid] = {"id": rid, "type": "TXT", "name": j["name"], "content": f"\"{j['content']}\"", "ttl": j["ttl"], "proxied": False}
            self.cf_mirror(j["name"])
            return 200, CFRECS[rid]
        if method == "DELETE" and len(parts) == 4:
            r = CFRECS.pop(parts[3], None)
            if not r:
                return 404, {"code": 81044, "message": "Record does not exist."}
            self.cf_mirror(r["name"])
            return 200, {"id": r["id"]}
        return 405, {"code": 10405, "message": "Method not allowed"}

    def cf_mirror(self, name):
        recs = [r for r in CFRECS.values() if r["name"] == name]
        nsupdate(WORLD["cf_zone"]["name"], name + ".", [r["content"].strip('"') for r in recs], recs[0]["ttl"] if recs else 60)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(WORLD["port"])), H).serve_forever()
