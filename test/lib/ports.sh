# test/lib/ports.sh: free loopback ports for test servers. Sourced by pebble.sh and host.sh.
#
#   free_ports N    prints N distinct free 127.0.0.1 ports, space-separated
#
# A port picked with bind(0) and released can be handed out again by the next bind(0): two
# servers of one test then collide ("address already in use"). So every port handed out is
# remembered in $TEST_PORTS_FILE (test/run.sh makes one for the whole run and removes it;
# otherwise one per top shell: $$ is the same in subshells) and never handed out twice, and
# the N ports of one call are held open together while chosen.
free_ports() {
    python3 - "$1" "${TEST_PORTS_FILE:-${TMPDIR:-/tmp}/test-ports.$$}" <<'PY'
import socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
try:
    used = set(open(path).read().split())
except OSError:
    used = set()
held, out = [], []
while len(out) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
    p = str(s.getsockname()[1])
    if p not in used:
        used.add(p)
        out.append(p)
with open(path, "a") as f:
    f.write("".join(p + "\n" for p in out))
print(" ".join(out))
PY
}

