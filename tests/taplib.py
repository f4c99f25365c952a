"""The TAP runner of the host test scripts (tests/test_*.py): every
case_* function of a script, in name order, one TAP line each, which
tools/test.py counts; a failing case prints its traceback as comments."""
import sys
import traceback


def run(namespace):
    """Runs the case_* functions in namespace (a script's globals());
    returns the exit code (1 if any failed)."""
    cases = [(n[5:], f) for n, f in sorted(namespace.items()) if n.startswith("case_")]
    print("TAP version 13\n1..%d" % len(cases))
    failed = 0
    for i, (name, fn) in enumerate(cases, 1):
        try:
            fn()
            print("ok %d - %s" % (i, name))
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, name))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
    sys.stdout.flush()
    return 1 if failed else 0
