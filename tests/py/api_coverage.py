#!/usr/bin/env python3
"""Every operation of docs/openapi.json is exercised by the declarative API
cases (tests/api/*.json): at least one case that it answers with success
(2xx or 3xx) and at least one that it refuses (4xx). Prints what is not, and
exits 1; a case whose path matches no documented operation must expect 404
(or 405 for a documented path and an undocumented method).

usage: api_coverage.py SOURCE_DIR
"""
import glob
import json
import os
import re
import sys

METHODS = ("get", "post", "put", "patch", "delete", "head")


def spans(item, name):
    """Whether the path parameter name may span segments: its pattern lets
    a slash in (a tile index such as x001/234; the router does the same)."""
    for op in [item] + [item[m] for m in item if m in METHODS]:
        for prm in op.get("parameters", []):
            if prm.get("in") == "path" and prm.get("name") == name:
                return "/" in prm.get("schema", {}).get("pattern", "")
    return False


def template_regex(template, item):
    """A path template as a regular expression: a parameter is one segment,
    unless it spans."""
    out = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            out += ".+" if spans(item, part[1:-1]) else "[^/]+"
        else:
            out += re.escape(part)
    return re.compile("^" + out + "$")


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(os.path.join(top, "docs/openapi.json")) as f:
        paths = json.load(f)["paths"]
    ops = {}  # (METHOD, template) -> set of statuses seen
    templates = []
    for template, item in paths.items():
        templates.append((template, template_regex(template, item)))
        for m in item:
            if m in METHODS:
                ops[(m.upper(), template)] = set()
    faults = []
    files = sorted(glob.glob(os.path.join(top, "tests/api/*.json")))
    if not files:
        print("no tests/api/*.json")
        return 1
    for name in files:
        with open(name) as f:
            cases = json.load(f)["cases"]
        for c in cases:
            if c["path"].startswith("{"):
                continue  # a saved Location or href: which operation is known only when it runs
            # "{var}" is a saved value: one segment, or more for a spanning parameter
            path = re.sub(r"\{[a-z0-9_]+\}", "v", c["path"].split("?")[0])
            status = c.get("status", 200)
            method = c.get("method", "GET")
            found = next((t for t, rx in templates if rx.match(path)), None)
            label = "%s: '%s' (%s %s)" % (os.path.basename(name), c.get("name"), method, c["path"])
            if not found:
                if status != 404:
                    faults.append("%s: no documented path, yet it expects %s" % (label, status))
                continue
            if (method, found) not in ops:
                if status != 405 and not (method == "HEAD" and ("GET", found) in ops):
                    faults.append("%s: %s is not documented for %s, yet it expects %s" %
                                  (label, method, found, status))
                continue
            ops[(method, found)].add(status)
    for (method, template), seen in sorted(ops.items()):
        if not any(200 <= s < 400 for s in seen):
            faults.append("%s %s: no case it answers with success" % (method, template))
        if not any(400 <= s < 500 for s in seen):
            faults.append("%s %s: no case it refuses (4xx)" % (method, template))
    for line in faults:
        print(line)
    print("%d operations, %d cases in %d files, %d faults" %
          (len(ops), sum(len(json.load(open(n))["cases"]) for n in files), len(files), len(faults)))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
