"""test/dns/azure_server.py WORLD_JSON: a local stand-in for the three Azure services the
azure-dns provider talks to, written from Azure's REST documentation (no Azure emulator
exists), on one 127.0.0.1 port told apart by path:

  Entra ID (login)   POST /{tenant}/oauth2/v2.0/token        client-credentials grant
  IMDS               GET  /metadata/identity/oauth2/token     managed identity (Metadata: true)
                     GET  /metadata/instance/compute/subscriptionId
  Resource Manager   PUT/GET/DELETE /subscriptions/{s}/resourceGroups/{rg}/providers/
                     Microsoft.Network/dnsZones/{zone}/TXT/{relative}?api-version=...

It checks what Azure checks: the form of the token request, tenant, client and secret
(AADSTS90002, 700016, 7000215 with Entra ID's error JSON), that client-credential scopes end
in /.default and name a known resource (AADSTS500011: the public cloud knows no China or
Government resource), the IMDS Metadata header and query; on ARM the bearer token's HS256
signature (this server is its issuer), expiry (ExpiredAuthenticationToken), audience
(InvalidAuthenticationTokenAudience) and tenant, the api-version (MissingApiVersionParameter,
NoRegisteredProviderFound), subscription, resource group, the principal's role assignment
(AuthorizationFailed naming action and scope), the zone (ParentResourceNotFound), request
shapes (Content-Type, properties.TTL, TXTRecords only) and ETag preconditions (If-Match,
If-None-Match: *, 412 PreconditionFailed). Every change to the zone is mirrored into the BIND
zone of the same name with nsupdate before the reply, so Pebble sees what "Azure" holds.

WORLD_JSON: {"port", "named": "host:port", "tsig": "hmac-sha256:name:secret", "tenant",
"tenant_domain", "subscription", "resource_group", "zone", "apps": {client_id: {"secret",
"object_id", "scopes": [...]}}, "system_identity": {"object_id", "scopes"} or null,
"user_identities": {client_id: {"object_id", "scopes"}}}. A scope grants DNS Zone
Contributor on everything below it.

Test-side controls (not Azure): POST /_control/lifetime {"seconds"}, /_control/revoke (every
token issued so far is refused as expired), /_control/throttle
{"count", "retry_after", "status"}, /_control/race {"value"} (the next write finds the record
set changed by someone else), /_control/hold {"on"} (while on, changes are kept from BIND
and sent when it goes off: a record published at "Azure" but not yet visible, as during
Azure DNS's propagation), GET /_control/stats, GET /_control/records."""
import base64
import datetime
import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORLD = json.load(open(sys.argv[1]))
KEY = secrets.token_bytes(32)
LOCK = threading.Lock()
API_VERSIONS = ["2016-04-01", "2017-09-01", "2017-10-01", "2018-03-01-preview", "2018-05-01",
                "2023-07-01-preview"]
ARM_AUDIENCES = {"https://management.azure.com", "https://management.azure.com/",
                 "https://management.core.windows.net", "https://management.core.windows.net/"}
STATE = {"lifetime": 3600, "throttle": None, "race": None, "issued": set(), "revoked": set(),
         "held": None}   # while held: fqdn -> the record set to mirror at release
STATS = {"login": 0, "imds": 0, "arm": 0, "throttled": 0, "precondition_failed": 0,
         "api_versions": [], "errors": [], "if_match": 0}
RECORDS = {}   # relative name (lower case) -> {"name", "ttl", "values": [[str]], "etag"}


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt(claims):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def jwt_claims(tok):
    try:
        head, body, sig = tok.split(".")
        want = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, unb64(sig)):
            return None
        return json.loads(unb64(body))
    except Exception:
        return None


def issue(aud, oid, appid):
    now = int(time.time())
    life = STATE["lifetime"]
    claims = {"aud": aud, "iss": f"https://sts.windows.net/{WORLD['tenant']}/", "iat": now,
              "nbf": now, "exp": now + life, "tid": WORLD["tenant"], "oid": oid, "sub": oid,
              "appid": appid, "uti": b64(secrets.token_bytes(12))}
    STATE["issued"].add(claims["uti"])
    return jwt(claims), life, now


def aad_error(code, err, num, text):
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return code, {"error": err, "error_description": f"AADSTS{num}: {text}\r\nTrace ID: {trace}"
                  f"\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: {now}",
                  "error_codes": [num], "timestamp": now, "trace_id": trace,
                  "correlation_id": str(uuid.uuid4()),
                  "error_uri": f"https://login.microsoftonline.com/error?code={num}"}


def arm_error(code, err, msg):
    STATS["errors"].append(err)
    return code, {"error": {"code": err, "message": msg}}


def azure_time(t):
    return datetime.datetime.utcfromtimestamp(t).strftime("%-m/%-d/%Y %-I:%M:%S %p")


def known_resource(res):
    return res.rstrip("/") in {a.rstrip("/") for a in ARM_AUDIENCES}


def nsupdate(fqdn, rec):
    if STATE["held"] is not None:
        STATE["held"][fqdn] = rec and {**rec, "values": [list(v) for v in rec["values"]]}
        return
    host, port = WORLD["named"].rsplit(":", 1)
    lines = [f"server {host} {port}", f"zone {WORLD['zone']}.", f"update delete {fqdn} TXT"]
    for v in (rec["values"] if rec else []):
        lines.append(f"update add {fqdn} {rec['ttl']} TXT " + " ".join(
            '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"' for s in v))
    script = "\n".join(lines) + "\nsend\n"
    subprocess.run(["nsupdate", "-y", WORLD["tsig"]], input=script.encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def recordset_json(rec):
    zone = WORLD["zone"]
    fqdn = zone + "." if rec["name"] == "@" else f"{rec['name']}.{zone}."
    return {"id": f"/subscriptions/{WORLD['subscription']}/resourceGroups/"
                  f"{WORLD['resource_group']}/providers/Microsoft.Network/dnszones/{zone}/TXT/"
                  f"{rec['name']}",
            "name": rec["name"], "type": "Microsoft.Network/dnszones/TXT", "etag": rec["etag"],
            "properties": {"metadata": {}, "TTL": rec["ttl"], "fqdn": fqdn,
                           "provisioningState": "Succeeded", "targetResource": {},
                           "TXTRecords": [{"value": v} for v in rec["values"]]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, headers=None, text=False):
        data = body.encode() if text else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if text else
                         "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        parts = [urllib.parse.unquote(p) for p in u.path.split("/")[1:]]
        raw = self.body()
        with LOCK:
            if parts and parts[0] == "_control":
                return self.control(method, parts[1:], raw)
            if parts[:2] == ["metadata", "identity"]:
                return self.reply(*self.imds_token(q))
            if parts[:2] == ["metadata", "instance"]:
                if self.headers.get("Metadata") != "true":
                    return self.reply(400, {"error": "invalid_request", "error_description":
                                            "Required metadata header not specified"})
                return self.reply(200, WORLD["subscription"], text=True)
            if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
                return self.reply(*self.login(parts[0], raw))
            if parts and parts[0] == "subscriptions":
                r = self.arm(method, parts, q, raw)
                return self.reply(*r)
            self.reply(404, {"error": {"code": "NotFound", "message": "no such endpoint"}})

    # ---- Entra ID ------------------------------------------------------------------------
    def login(self, tenant, raw):
        STATS["login"] += 1
        if not (self.headers.get("Content-Type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return aad_error(400, "invalid_request", 900144, "The request body must contain "
                             "the following parameter: 'grant_type'.")
        f = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if tenant not in (WORLD["tenant"], WORLD["tenant_domain"]):
            return aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. "
                             "Check to make sure you have the correct tenant ID and are "
                             "signing into the correct cloud. Check with your subscription "
                             "administrator, this may happen if there are no active "
                             "subscriptions for the tenant.")
        for p in ("grant_type", "client_id", "scope"):
            if not f.get(p):
                return aad_error(400, "invalid_request", 900144, "The request body must "
                                 f"contain the following parameter: '{p}'.")
        if f["grant_type"] != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003, "The app requested an "
                             "unsupported grant type.")
        app = WORLD["apps"].get(f["client_id"])
        if not app:
            return aad_error(400, "unauthorized_client", 700016, "Application with identifier "
                             f"'{f['client_id']}' was not found in the directory "
                             f"'{WORLD['tenant_domain']}'. This can happen if the application "
                             "has not been installed by the administrator of the tenant or "
                             "consented to by any user in the tenant. You may have sent your "
                             "authentication request to the wrong tenant.")
        if not f.get("client_secret") or not hmac.compare_digest(f["client_secret"],
                                                                 app["secret"]):
            return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. "
                             "Ensure the secret being sent in the request is the client secret "
                             "value, not the client secret ID, for a secret added to app "
                             f"'{f['client_id']}'.")
        scope = f["scope"]
        if not scope.endswith("/.default"):
            return aad_error(400, "invalid_scope", 1002012, f"The provided value for scope "
                             f"{scope} is not valid. Client credential flows must have a scope "
                             "value with /.default suffixed to the resource identifier "
                             "(application ID URI).")
        res = scope[:-len("/.default")]
        if not known_resource(res):
            return aad_error(400, "invalid_resource", 500011, f"The resource principal named "
                             f"{res} was not found in the tenant named {WORLD['tenant_domain']}. "
                             "This can happen if the application has not been installed by "
                             "the administrator of the tenant or consented to by any user in "
                             "the tenant. You might have sent your authentication request to "
                             "the wrong tenant.")
        tok, life, _ = issue(res, app["object_id"], f["client_id"])
        return 200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                     "access_token": tok}

    # ---- IMDS ----------------------------------------------------------------------------
    def imds_token(self, q):
        STATS["imds"] += 1
        if self.headers.get("Metadata") != "true":
            return 400, {"error": "invalid_request",
                         "error_description": "Required metadata header not specified"}
        if self.headers.get("X-Forwarded-For"):
            return 400, {"error": "invalid_request",
                         "error_description": "Request contains X-Forwarded-For header"}
        for p in ("api-version", "resource"):
            if not q.get(p, [""])[0]:
                return 400, {"error": "invalid_request",
                             "error_description": f"Required query variable '{p}' is missing"}
        res, cid = q["resource"][0], q.get("client_id", [""])[0]
        ident = WORLD["user_identities"].get(cid) if cid else WORLD.get("system_identity")
        if not ident:
            return 400, {"error": "invalid_request", "error_description": "Identity not found"}
        if not known_resource(res):
            return 400, {"error": "invalid_resource", "error_description":
                         f"AADSTS500011: The resource principal named {res} was not found in "
                         f"the tenant named {WORLD['tenant_domain']}."}
        tok, life, now = issue(res, ident["object_id"], cid or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                            "system")))
        return 200, {"access_token": tok, "client_id": cid, "expires_in": str(life),
                     "expires_on": str(now + life), "ext_expires_in": str(life),
                     "not_before": str(now), "resource": res, "token_type": "Bearer"}

    # ---- Resource Manager ----------------------------------------------------------------
    def principal(self):
        auth = self.headers.get("Authorization") or ""
        if not auth:
            return None, arm_error(401, "AuthenticationFailed", "Authentication failed. The "
                                   "'Authorization' header is missing.")
        if not auth.startswith("Bearer "):
            return None, arm_error(401, "AuthenticationFailed", "Authentication failed. The "
                                   "'Authorization' header is provided in an invalid format.")
        c = jwt_claims(auth[7:])
        if c is None:
            return None, arm_error(401, "InvalidAuthenticationToken", "The access token is "
                                   "invalid.")
        now = int(time.time())
        if now >= c["exp"] or c["uti"] in STATE["revoked"]:
            return None, arm_error(401, "ExpiredAuthenticationToken", "The access token expiry "
                                   f"UTC time '{azure_time(c['exp'])}' is earlier than current "
                                   f"UTC time '{azure_time(now)}'.")
        if c["aud"] not in ARM_AUDIENCES:
            return None, arm_error(401, "InvalidAuthenticationTokenAudience", "The access token "
                                   "has been obtained for wrong audience or resource "
                                   f"'{c['aud']}'. It should exactly match with one of the "
                                   "allowed audiences 'https://management.core.windows.net/',"
                                   "'https://management.core.windows.net','https://management."
                                   "azure.com/','https://management.azure.com'.")
        return c, None

    def arm(self, method, parts, q, raw):
        STATS["arm"] += 1
        t = STATE["throttle"]
        if t and t["count"] > 0:
            t["count"] -= 1
            STATS["throttled"] += 1
            return t["status"], {"error": {"code": "TooManyRequests", "message": "The request "
                                 "is being throttled as the limit has been reached for "
                                 "operation type - Write_ObservationWindow_00:01:00."}}, \
                {"Retry-After": str(t["retry_after"])}
        c, err = self.principal()
        if err:
            return err[0], err[1], {"WWW-Authenticate": 'Bearer authorization_uri="https://'
                                    'login.microsoftonline.com/' + WORLD["tenant"] + '", '
                                    'error="invalid_token"'}
        ver = q.get("api-version", [""])[0]
        STATS["api_versions"].append(ver)
        if not ver:
            return arm_error(400, "MissingApiVersionParameter", "The api-version query "
                             "parameter (?api-version=) is required for all requests.")
        if ver not in API_VERSIONS:
            return arm_error(400, "NoRegisteredProviderFound", "No registered resource provider "
                             f"found for location 'global' and API version '{ver}' for type "
                             f"'dnszones'. The supported api-versions are "
                             f"'{', '.join(API_VERSIONS)}'.")
        # /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{z}/TXT/{n}
        if len(parts) != 10 or parts[2].lower() != "resourcegroups" or \
                parts[4] != "providers" or parts[5].lower() != "microsoft.network" or \
                parts[6].lower() != "dnszones" or parts[8] != "TXT":
            return arm_error(404, "InvalidResourceType", "The resource type could not be found "
                             "in the namespace 'Microsoft.Network' for api version "
                             f"'{ver}'.")
        sub, rg, zone, name = parts[1], parts[3], parts[7], parts[9]
        if sub != WORLD["subscription"]:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not "
                             "be found.")
        if c["tid"] != WORLD["tenant"]:
            return arm_error(401, "InvalidAuthenticationTokenTenant", "The access token is from "
                             f"the wrong issuer '{c['iss']}'.")
        if rg.lower() != WORLD["resource_group"].lower():
            return arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not "
                             "be found.")
        action = {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(method)
        if not action:
            return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.")
        scope = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/"
                 f"dnszones/{zone}/TXT/{name}")
        scopes = []
        for a in WORLD["apps"].values():
            if a["object_id"] == c["oid"]:
                scopes = a["scopes"]
        for i in [WORLD.get("system_identity")] + list(WORLD["user_identities"].values()):
            if i and i["object_id"] == c["oid"]:
                scopes = i["scopes"]
        if not any(scope.lower().startswith(s.lower()) for s in scopes):
            return arm_error(403, "AuthorizationFailed", f"The client '{c['appid']}' with "
                             f"object id '{c['oid']}' does not have authorization to perform "
                             f"action 'Microsoft.Network/dnszones/TXT/{action}' over scope "
                             f"'{scope}' or the scope is invalid. If access was recently "
                             "granted, please refresh your credentials.")
        if zone.lower() != WORLD["zone"]:
            return arm_error(404, "ParentResourceNotFound", "Can not perform requested "
                             "operation on nested resource. Parent resource "
                             f"'{zone}' not found.")
        return self.recordset(method, name, raw)

    def recordset(self, method, name, raw):
        key = name.lower()
        fqdn = WORLD["zone"] + "." if key == "@" else f"{key}.{WORLD['zone']}."
        if method != "GET" and STATE["race"] is not None:
            # Someone else writes the set between the client's read and its write.
            v = STATE["race"]
            STATE["race"] = None
            rec = RECORDS.get(key) or {"name": name, "ttl": 60, "values": [], "etag": ""}
            rec["values"].append([v])
            rec["etag"] = str(uuid.uuid4())
            RECORDS[key] = rec
            nsupdate(fqdn, rec)
        cur = RECORDS.get(key)
        if method == "GET":
            if not cur:
                return arm_error(404, "NotFound", f"The resource record '{name}' does not "
                                 f"exist in resource group '{WORLD['resource_group']}' of "
                                 f"subscription '{WORLD['subscription']}'.")
            return 200, recordset_json(cur), {"ETag": cur["etag"]}
        im, inm = self.headers.get("If-Match"), self.headers.get("If-None-Match")
        if im:
            STATS["if_match"] += 1
        if (im and (not cur or (im != "*" and im != cur["etag"]))) or (inm == "*" and cur):
            STATS["precondition_failed"] += 1
            return arm_error(412, "PreconditionFailed", f"The Record set {name} has been "
                             "modified (etag mismatch).")
        if method == "DELETE":
            if not cur:
                return 204, None
            del RECORDS[key]
            nsupdate(fqdn, None)
            return 200, None
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return arm_error(415, "UnsupportedMediaType", "The content media type "
                             f"'{self.headers.get('Content-Type')}' is not supported. Only "
                             "'application/json' is supported.")
        try:
            body = json.loads(raw)
            props = body["properties"]
            ttl = props["TTL"]
            recs = props["TXTRecords"]
            assert isinstance(ttl, int) and 0 <= ttl <= 2147483647
            assert isinstance(recs, list) and recs
            other = [k for k in props if k.endswith("Records") and k != "TXTRecords"]
            assert not other
            values = []
            for r in recs:
                v = r["value"]
                assert isinstance(v, list) and v and all(isinstance(s, str) and 0 < len(s) <= 1024
                                                         for s in v)
                values.append(v)
        except Exception:
            return arm_error(400, "BadRequest", "The request body is not a valid TXT record "
                             "set: properties.TTL and properties.TXTRecords[].value[] are "
                             "required, and only TXT records are allowed.")
        rec = {"name": cur["name"] if cur else name, "ttl": ttl, "values": values,
               "etag": str(uuid.uuid4())}
        RECORDS[key] = rec
        nsupdate(fqdn, rec)
        return (200 if cur else 201), recordset_json(rec), {"ETag": rec["etag"]}

    # ---- test controls ---------------------------------------------------------------------
    def control(self, method, parts, raw):
        arg = json.loads(raw) if raw else {}
        what = parts[0] if parts else ""
        if what == "lifetime":
            STATE["lifetime"] = int(arg["seconds"])
        elif what == "throttle":
            STATE["throttle"] = {"count": int(arg["count"]), "status": int(arg.get("status", 429)),
                                 "retry_after": arg.get("retry_after", 1)}
        elif what == "revoke":
            # Every token issued so far is refused from now on, as ARM refuses one whose
            # lifetime ended early (the test's stand-in for a clock that ran ahead).
            STATE["revoked"] |= STATE["issued"]
        elif what == "race":
            STATE["race"] = arg["value"]
        elif what == "hold":
            held, STATE["held"] = STATE["held"], ({} if arg["on"] else None)
            for fqdn, rec in (held or {}).items():
                nsupdate(fqdn, rec)
        elif what == "stats":
            return self.reply(200, STATS)
        elif what == "records":
            return self.reply(200, {k: [("".join(v)) for v in r["values"]]
                                    for k, r in RECORDS.items()})
        else:
            return self.reply(404, {"error": "unknown control"})
        self.reply(200, {})


ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer(("127.0.0.1", int(WORLD["port"])), Handler)
print(f"azure_server: listening on 127.0.0.1:{WORLD['port']}", file=sys.stderr, flush=True)
srv.serve_forever()
