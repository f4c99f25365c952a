#!/usr/bin/env python3
"""KTAP parsing for the test runner.

The kernel prints (Linux Documentation/dev-tools/ktap.rst):

    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: kernel
        1..3
        ok 1 name # 4 checks, 12 us
        not ok 2 other
        ok 3 third # SKIP no PCID
    ok 1 kernel
        ...
    ok 2 user

Leaf results (indented) are the tests; a suite whose plan promises more
results than were printed (the kernel died mid-suite) yields one failure per
missing result, named "<suite>: missing result".
"""
import re

RESULT = re.compile(r"^(\s*)(not ok|ok) (\d+) ([^#]*?)\s*(?:#\s*(.*))?$")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")
SUBTEST = re.compile(r"^\s*# Subtest: (\S+)")


class Case:
    def __init__(self, suite, name, ok, directive):
        self.suite = suite
        self.name = name
        self.ok = ok
        self.skip = directive is not None and directive.upper().startswith("SKIP")
        self.directive = directive or ""

    def __repr__(self):
        return "%s %s/%s" % ("ok" if self.ok else "not ok", self.suite, self.name)


def parse(log):
    """Returns (cases, problems): leaf cases and structural problems."""
    cases, problems = [], []
    suite, plan, seen = None, None, 0
    top_plan = None
    top_results = 0
    for raw in log.splitlines():
        line = raw.rstrip("\r")
        m = SUBTEST.match(line)
        if m:
            suite, plan, seen = m.group(1), None, 0
            continue
        m = PLAN.match(line)
        if m:
            if m.group(1):
                plan = int(m.group(2))
            else:
                top_plan = int(m.group(2))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        indent, status, _num, name, directive = m.groups()
        if indent:
            cases.append(Case(suite or "?", name.strip(), status == "ok", directive))
            seen += 1
        else:
            top_results += 1
            if plan is not None and seen < plan:
                for _ in range(plan - seen):
                    cases.append(Case(suite or "?", "missing result", False, None))
                problems.append("suite %s: plan 1..%d but %d results" % (suite, plan, seen))
            suite, plan, seen = None, None, 0
    if suite is not None and plan is not None and seen < plan:
        for _ in range(plan - seen):
            cases.append(Case(suite, "missing result", False, None))
        problems.append("suite %s: plan 1..%d but only %d results (boot ended early)"
                        % (suite, plan, seen))
    if top_plan is not None and top_results < top_plan:
        problems.append("top-level plan 1..%d but %d suites finished"
                        % (top_plan, top_results))
    if top_plan is None:
        problems.append("no KTAP output")
    return cases, problems
