#!/usr/bin/env bash
# test/readme/run.sh: the README's "Running under a real Vault or OpenBao" build steps, as
# an operator runs them on a fresh clone. The commands are read from the README itself (so
# the test follows the document), run in a copy of the tracked tree that has no build/
# directory, and must produce exactly the file the README's `install` line installs.
#   1. the README's `make` line, dry run: its recipe links the installed binary and
#      builds the dev host (a wrong default goal builds only a layer library);
#   2. the README's `install` line, pointed at a temporary plugin directory, installs
#      that binary from this tree's build (made by `make tests` with the same Makefile),
#      and the installed file is an executable that speaks the go-plugin handshake check.
# Prints "ok - " / "not ok - " lines and "N passed, N failed"; exits 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $1"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

for tool in git make awk; do
    command -v "$tool" >/dev/null || { nok "prerequisite: $tool (apt-get install -y $tool)"; finish; }
done

TMP=$(mktemp -d /tmp/readme-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The first ```sh block after the "Running under a real Vault or OpenBao" heading.
awk '/^## Running under a real Vault or OpenBao/ {sec=1; next}
     sec && /^## / {exit}
     sec && /^```sh/ {blk=1; next}
     blk && /^```/ {exit}
     blk {print}' README.md > "$TMP/commands"
make_line=$(grep -m1 -E '^make( |$)' "$TMP/commands")
install_line=$(grep -m1 -E '^install ' "$TMP/commands")
installed=$(awk '/^install / {for (i = 2; i <= NF; i++) if ($i ~ /^build\//) {print $i; exit}}' "$TMP/commands")
if [ -n "$make_line" ] && [ -n "$install_line" ] && [ -n "$installed" ]; then
    ok "README section names a make command ('$make_line') and installs $installed"
else
    nok "README section has a make line and an install line of a build/ file" \
        "commands found: $(tr '\n' ';' < "$TMP/commands")"
    finish
fi

# A fresh clone: the tracked files (with any uncommitted edits), no build output.
mkdir -p "$TMP/clone"
git ls-files -z | xargs -0 cp --parents -t "$TMP/clone" 2>/dev/null
if [ -f "$TMP/clone/Makefile" ] && [ ! -e "$TMP/clone/build" ]; then
    ok "fresh copy of the tracked tree without build/"
else
    nok "fresh copy of the tracked tree without build/"; finish
fi

# 1. The README's make line, dry run, in the operator's environment (no BUILD/SAN from
#    `make asan`, no goals from the caller).
(cd "$TMP/clone" && env -u BUILD -u SAN -u MAKEFLAGS -u MFLAGS $make_line -n) \
    > "$TMP/make-n.out" 2> "$TMP/make-n.err"
rc=$?
if [ "$rc" -eq 0 ]; then ok "'$make_line -n' succeeds in the fresh copy"
else nok "'$make_line -n' succeeds in the fresh copy" "$(head -c 400 "$TMP/make-n.err")"; fi
if grep -qE -- "-o $installed( |$)" "$TMP/make-n.out"; then
    ok "'$make_line' links $installed, the file the README installs"
else
    nok "'$make_line' links $installed, the file the README installs" \
        "the recipe builds: $(grep -oE -- '-o [^ ]+' "$TMP/make-n.out" | sort -u | tr '\n' ' ')"
fi
if grep -qE -- "go build -o \.\./\.\./build/dev-vault" "$TMP/make-n.out"; then
    ok "'$make_line' builds the dev host build/dev-vault"
else
    nok "'$make_line' builds the dev host build/dev-vault"
fi

# 2. The README's install line into a temporary plugin directory, from this tree's build.
# Under `make asan` the tree's build is $BUILD (build-asan): the same rule, another folder.
built="$ROOT/${BUILD:-build}/$(basename "$installed")"
if [ ! -x "$built" ]; then
    nok "prerequisite: $built (run: make, or make SAN=1 for build-asan)"; finish
fi
mkdir -p "$TMP/plugins"
cmd=${install_line//\/etc\/vault\/plugins/$TMP/plugins}
cmd=${cmd//$installed/$built}
(cd "$ROOT" && eval "$cmd")
dest="$TMP/plugins/$(basename "$installed")"
if [ -x "$dest" ] && cmp -s "$dest" "$built"; then
    ok "README install line installs an executable $(basename "$installed")"
else
    nok "README install line installs an executable $(basename "$installed")" "ran: $cmd"
fi
# Run by hand (no host), a go-plugin plugin refuses to start and says why, exit 1.
out=$(timeout 10 "$dest" 2>&1 </dev/null)
rc=$?
if [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -qi 'plugin'; then
    ok "installed binary is the plugin (run without a host it explains and exits 1)"
else
    nok "installed binary is the plugin (run without a host it explains and exits 1)" \
        "rc=$rc, output: $(printf '%s' "$out" | head -c 300)"
fi
finish
