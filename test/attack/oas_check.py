#!/usr/bin/env python3
"""oas_check.py DOC.json: what client generators need of an OpenAPI document beyond what
openapi-spec-validator checks. Prints one line per problem and exits 1 if there is any:

  - every {param} of a path is declared as an "in: path" parameter, required, and every
    declared path parameter appears in the path (generators drop or reject the others);
  - operationIds are unique (generators name functions after them);
  - every "pattern" compiles as an ECMA-262 regular expression in Unicode mode (the
    dialect OpenAPI 3.0 names; TypeScript and Java generators copy patterns into code, and
    drop or choke on ones that do not compile, such as "[\\w-.]");
  - a pattern on a path parameter accepts the sample value given with --sample NAME=VALUE
    (so it is not stricter than the route the plugin serves).

The ECMA-262 check runs node (apt-get install nodejs); without it, that is a problem too.
"""
import json
import re
import shutil
import subprocess
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def main():
    args = sys.argv[1:]
    samples = {}
    while args and args[0] == "--sample":
        k, _, v = args[1].partition("=")
        samples[k] = v
        args = args[2:]
    doc = json.load(open(args[0]))
    problems = []
    patterns = {}   # pattern -> first place it was seen
    ids = {}

    def walk(node, where):
        if isinstance(node, dict):
            p = node.get("pattern")
            if isinstance(p, str):
                patterns.setdefault(p, where)
            for k, v in node.items():
                walk(v, where)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    for path, item in doc.get("paths", {}).items():
        in_path = re.findall(r"\{([^}]+)\}", path)
        common = [p for p in item.get("parameters", []) if p.get("in") == "path"]
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = "%s %s" % (method, path)
            walk(op, where)
            declared = {p["name"]: p for p in common}
            declared.update({p["name"]: p for p in op.get("parameters", [])
                             if p.get("in") == "path"})
            for name in in_path:
                if name not in declared:
                    problems.append("%s: {%s} is not declared as a path parameter" % (where, name))
                elif not declared[name].get("required"):
                    problems.append("%s: path parameter %s is not required" % (where, name))
            for name, prm in declared.items():
                if name not in in_path:
                    problems.append("%s: path parameter %s is not in the path" % (where, name))
                pat = (prm.get("schema") or {}).get("pattern")
                if pat and name in samples and not re.search(pat, samples[name]):
                    problems.append("%s: pattern %s of %s refuses %r" % (where, pat, name,
                                                                        samples[name]))
            oid = op.get("operationId")
            if oid in ids:
                problems.append("%s: operationId %s also used by %s" % (where, oid, ids[oid]))
            elif oid:
                ids[oid] = where
        walk(item.get("parameters", []), "parameters of %s" % path)
    walk(doc.get("components", {}), "components")

    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        problems.append("node not found: cannot check patterns as ECMA-262 "
                        "(install: apt-get install nodejs)")
    elif patterns:
        js = ("const ps = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "for (const p of ps) { try { new RegExp(p, 'u'); } catch (e) {"
              " console.log(JSON.stringify([p, String(e.message)])); } }")
        out = subprocess.run([node, "-e", js], input=json.dumps(list(patterns)),
                             capture_output=True, text=True, check=False)
        if out.returncode:
            problems.append("node failed: " + out.stderr.strip()[:300])
        for line in out.stdout.splitlines():
            p, msg = json.loads(line)
            problems.append("%s: pattern %s is not ECMA-262: %s" % (patterns[p], p, msg))
    for p in problems:
        print(p)
    print("# %d paths, %d operations, %d distinct patterns, %d problems" % (
        len(doc.get("paths", {})), len(ids), len(patterns), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
