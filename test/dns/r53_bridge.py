"""test/dns/r53_bridge.py MOTO_URL KEY_ID SECRET ZONE_ID ZONE DNS_ADDR TSIG: the test-side
bridge that makes Route 53 records (held by moto) resolvable: every 0.3 s it reads the TXT
RRsets of the hosted zone from moto and mirrors them into the BIND zone of the same name
with nsupdate (TSIG "hmac-sha256:key-sha256:<secret>"), so Pebble's resolver, which asks
BIND, sees exactly what Route 53 holds. The plugin knows nothing of it."""
import subprocess
import sys
import time

from moto_client import client

url, kid, secret, zone_id, zone, addr, tsig = sys.argv[1:8]
host, port = addr.rsplit(":", 1)
r53 = client("route53", url, kid, secret)
mirrored = set()


def nsupdate(lines):
    script = f"server {host} {port}\nzone {zone}.\n" + "".join(l + "\n" for l in lines) + "send\n"
    subprocess.run(["nsupdate", "-y", tsig], input=script.encode(), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


while True:
    try:
        want = set()
        for rrset in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
            if rrset["Type"] == "TXT":
                for rr in rrset.get("ResourceRecords", []):
                    want.add((rrset["Name"], rr["Value"]))
        ops = [f"update add {n} 60 TXT {v}" for n, v in want - mirrored]
        ops += [f"update delete {n} TXT {v}" for n, v in mirrored - want]
        if ops:
            nsupdate(ops)
            mirrored = want
    except Exception as ex:  # moto restarting, a transient error: try again
        print("bridge:", ex, file=sys.stderr, flush=True)
    time.sleep(0.3)
