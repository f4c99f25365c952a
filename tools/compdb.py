#!/usr/bin/env python3
"""Write compile_commands.json for editors (clangd).

Usage: compdb.py "<kernel cc + flags>" "<host cc + flags>" kernel.c... -- host.c...
"""
import json
import os
import shlex
import sys

kcmd, hcmd = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
sep = rest.index("--") if "--" in rest else len(rest)
kernel, host = rest[:sep], rest[sep + 1:]
cwd = os.getcwd()
entries = []
for src, cmd in [(s, kcmd) for s in kernel] + [(s, hcmd) for s in host]:
    args = shlex.split(cmd) + ["-c", src]
    entries.append({"directory": cwd, "file": src, "arguments": args})
json.dump(entries, sys.stdout, indent=1)
sys.stdout.write("\n")
