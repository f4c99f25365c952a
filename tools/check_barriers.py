#!/usr/bin/env python3
"""Every barrier and every non-relaxed atomic names what it orders and its pair.

STYLE.md: "Every barrier, every non-relaxed atomic, every instruction
relied on as serializing carries a comment naming what it orders and its
pair". This check finds uses of mb(), rmb(), wmb(), smp_mb(), the fence
instructions and __atomic_* with an ordering stronger than relaxed in the
code (not the comments) of C sources under lib/ kernel/ arch/ mm/ sched/
user/, and for each one finds the comment block that explains it:

  - a comment that starts on the barrier's line (the whole comment, also
    when it continues on the lines below), and
  - the nearest comment that starts above the barrier's line and ends on
    it or within the three lines above it (the whole comment: a /* */
    block, or a run of // lines).

The rule: that block exists and names the pair, i.e. contains (any case)
"pairs with", "paired with" or "pair:" followed by the other side (the
function and file whose barrier or atomic this one pairs with), or says
there is none, "no pair" followed by the reason (a fence that orders only
this CPU's own accesses, such as LFENCE before RDTSC). The check sees the
phrase only; that the side it names is the true one is the reviewer's part
(read both). A mention of a
barrier inside a comment is not a site. The helpers' own definitions
(mb(), rdtsc_ordered() in arch/x86/include/arch/cpu.h) follow the rule too:
"no pair here", each caller names its own.

--self-test runs the rule on small inputs (a barrier without a pair must
fail, one with a pair or "no pair" must pass); make test runs both.
"""
import re
import subprocess
import sys

PATTERN = re.compile(r"\b(smp_mb|mb|rmb|wmb)\(\)|\b[lms]fence\b|"
                     r"__atomic_\w+\([^;]*__ATOMIC_(ACQUIRE|RELEASE|ACQ_REL|SEQ_CST)")
PAIR = re.compile(r"\bpairs with\b|\bpaired with\b|\bpair:|\bno pair\b", re.IGNORECASE)
DIRS = ("lib/", "kernel/", "arch/", "mm/", "sched/", "user/")


def split_comments(text):
    """Returns (code lines, comments): the code with every comment blanked
    out, and a list of (first line, last line, comment text), 0-based."""
    code = []
    comments = []
    i = 0
    line = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i) or text.startswith("//", i):
            block = text.startswith("/*", i)
            end = text.find("*/", i + 2) if block else text.find("\n", i)
            end = n if end < 0 else end + (2 if block else 0)
            body = text[i:end]
            comments.append((line, line + body.count("\n"), body))
            code.append("\n" * body.count("\n"))
            line += body.count("\n")
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            code.append(text[i:j + 1])
            i = j + 1
        else:
            if c == "\n":
                line += 1
            code.append(c)
            i += 1
    return "".join(code).split("\n"), comments


def merge_line_comments(comments):
    """Joins runs of // comments on consecutive lines into one block."""
    out = []
    for first, last, body in comments:
        if out and body.startswith("//") and out[-1][2].lstrip().startswith("//") \
                and out[-1][1] + 1 == first:
            out[-1] = (out[-1][0], last, out[-1][2] + "\n" + body)
        else:
            out.append((first, last, body))
    return out


def explaining_block(comments, i):
    """The comment text that explains a barrier on line i, one line."""
    text = ""
    above = [c for c in comments if i - 3 <= c[1] <= i and c[0] < i]
    if above:
        text += max(above, key=lambda c: c[1])[2]
    text += " ".join(c[2] for c in comments if c[0] == i)
    # "pairs\n * with" reads "pairs with".
    return re.sub(r"\s*\n\s*(\*(?!/)|//)?\s*", " ", text)


def check_text(name, text):
    """The sites in text that break the rule, as "name:line: code" strings."""
    code, comments = split_comments(text)
    comments = merge_line_comments(comments)
    bad = []
    for i, line in enumerate(code):
        if not PATTERN.search(line):
            continue
        block = explaining_block(comments, i)
        if not block:
            bad.append("barrier without a comment: %s:%d: %s" % (name, i + 1, line.strip()))
        elif not PAIR.search(block):
            bad.append("barrier whose comment names no pair: %s:%d: %s" %
                       (name, i + 1, line.strip()))
    return bad


SELF_TEST = [
    ("no comment", "void f(void)\n{\n\tx = 1;\n\tsmp_mb();\n}\n", 1),
    ("comment, no pair", "\t/* Order x before y. */\n\tsmp_mb();\n", 1),
    ("pair only in a far comment", "/* Pairs with g(). */\n\n\n\n\tmb();\n", 1),
    ("barrier in a comment only", "/* a = 1; smp_mb(); b = 2 */\nint x;\n", 0),
    ("pairs with, above", "\t/* Release: x before flag. Pairs with the\n\t * acquire in g(). */\n"
     "\t__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);\n", 0),
    ("pair on the same line, continued",
     "\tsmp_mb(); /* store before load; pairs with\n\t\t   * h() in a.c */\n", 0),
    ("no pair with a reason", "\t/* No pair: orders only this CPU's loads. */\n"
     "\tasm volatile(\"lfence\" ::: \"memory\");\n", 0),
    ("relaxed needs nothing", "\t__atomic_store_n(&x, 1, __ATOMIC_RELAXED);\n", 0),
    ("pairs with across lines", "\t/* Acquire: pairs\n\t * with put(). */\n"
     "\tv = __atomic_load_n(&x, __ATOMIC_ACQUIRE);\n", 0),
    ("// run", "\t// Acquire.\n\t// Pairs with the release in put().\n"
     "\tv = __atomic_load_n(&x, __ATOMIC_ACQUIRE);\n", 0),
]


def self_test():
    failed = 0
    for name, text, want in SELF_TEST:
        got = len(check_text("self-test", text))
        if got != want:
            print("check_barriers self-test %r: %d findings, wanted %d" % (name, got, want))
            failed += 1
    return failed


def main():
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(1 if self_test() else 0)
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True,
                           text=True).stdout.split()
    bad = []
    for f in files:
        if not f.startswith(DIRS):
            continue
        with open(f) as fh:
            bad += check_text(f, fh.read())
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
