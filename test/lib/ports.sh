# test/lib/ports.sh: free loopback ports for test servers. Sourced by pebble.sh and host.sh.
#
#   free_ports N    prints N distinct free 127.0.0.1 ports, space-separated
#
# A port picked with bind(0) and released can be handed out again by the next bind(0): two
# servers of one test then collide ("address already in use"). So every port handed out is
# remembered in $TEST_PORTS_FILE (test/run.sh makes one for the whole run and removes it;
# otherwise one per top shell: $$ is the same in subshells) and never handed out twice, and
# the N ports of one call are held open together while chosen.
# Ports come from below the kernel's ephemeral range (net.ipv4.ip_local_port_range), never
# from bind(0): an outbound connect() takes its local port from that range, and on a busy
# machine (load tests, other suites) a just-released ephemeral port is taken again before the
# server binds it. Outside the range only another listener can hold a port, and the bind
# test below skips those.
free_ports() {
    python3 - "$1" "${TEST_PORTS_FILE:-${TMPDIR:-/tmp}/test-ports.$$}" <<'PY'
import random, socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
try:
    used = set(open(path).read().split())
except OSError:
    used = set()
try:
    eph_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    eph_low = 32768
low, high = 10000, max(eph_low - 1, 10000 + 4 * n)
held, out = [], []
for _ in range(20000):
    if len(out) == n:
        break
    p = random.randint(low, high)
    if str(p) in used:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    used.add(str(p))
    out.append(str(p))
if len(out) < n:
    sys.exit("free_ports: no %d free ports in %d-%d" % (n, low, high))
with open(path, "a") as f:
    f.write("".join(p + "\n" for p in out))
print(" ".join(out))
PY
}
