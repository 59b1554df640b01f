"""test/dns/imds.py PORT_FILE KEY_ID SECRET: a stand-in for the EC2 instance metadata
service (IMDSv2 only) on a free 127.0.0.1 port, written to PORT_FILE. PUT
/latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds) hands out a session token;
every GET must carry it (401 otherwise, as IMDSv2 answers); the instance profile
"vault-dns-profile" holds KEY_ID/SECRET. Logs "METHOD PATH token=ok|missing" per request
on stdout, so the test can tell what the plugin asked."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port_file, key_id, secret = sys.argv[1:4]
TOKEN = "imds-session-token-for-tests"
PROFILE = "vault-dns-profile"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        print(f"PUT {self.path} token={'ok' if ok else 'missing'}", flush=True)
        self.reply(200, TOKEN) if ok else self.reply(400, "")

    def do_GET(self):
        ok = self.headers.get("X-aws-ec2-metadata-token") == TOKEN
        print(f"GET {self.path} token={'ok' if ok else 'missing'}", flush=True)
        base = "/latest/meta-data/iam/security-credentials/"
        if not ok:
            self.reply(401, "")
        elif self.path == base:
            self.reply(200, PROFILE)
        elif self.path == base + PROFILE:
            self.reply(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                                        "AccessKeyId": key_id, "SecretAccessKey": secret,
                                        "Token": "", "Expiration": "2099-01-01T00:00:00Z"}))
        else:
            self.reply(404, "")


srv = HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
