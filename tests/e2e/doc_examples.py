#!/usr/bin/env python3
"""Checks that every example quoted in README.md and docs/*.md is what the binary prints now.

An example is a fenced code block whose first line is `$ gpuadvise ARGS...`; the rest of the block is
the expected stdout. ARGS are split like a shell would (shlex) and run from the source directory with
NO_COLOR=1, the binary given as the first argument. With --update the blocks are rewritten from the
binary's output (review the diff before committing).

usage: doc_examples.py BINARY SOURCE_DIR [--update]
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys

FENCE = re.compile(r"^```[a-z]*\n(\$ gpuadvise [^\n]*)\n(.*?)^```$", re.S | re.M)


def run(binary: str, source: pathlib.Path, command: str) -> str:
    args = shlex.split(command[len("$ gpuadvise "):])
    env = dict(os.environ, NO_COLOR="1")
    done = subprocess.run([binary, *args], cwd=source, env=env, capture_output=True, text=True, timeout=60)
    return done.stdout


def main() -> int:
    binary, source = sys.argv[1], pathlib.Path(sys.argv[2])
    update = "--update" in sys.argv[3:]
    files = [source / "README.md", *sorted((source / "docs").glob("*.md")), source / "ARCHITECTURE.md"]
    failed = checked = 0
    for path in files:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")

        def replace(match: re.Match) -> str:
            nonlocal failed, checked
            command, expected = match.group(1), match.group(2)
            actual = run(binary, source, command)
            checked += 1
            if actual.rstrip() != expected.rstrip():
                if not update:
                    failed += 1
                    print(f"{path.name}: '{command}' prints something else now:")
                    exp, act = expected.rstrip().splitlines(), actual.rstrip().splitlines()
                    for i in range(max(len(exp), len(act))):
                        e = exp[i] if i < len(exp) else "<none>"
                        a = act[i] if i < len(act) else "<none>"
                        if e != a:
                            print(f"  line {i + 1}:\n    doc:    {e}\n    binary: {a}")
                            break
            if not update:
                return match.group(0)
            fence = match.group(0).split("\n", 1)[0]
            return f"{fence}\n{command}\n{actual.rstrip()}\n```"

        new = FENCE.sub(replace, text)
        if update and new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
    print(f"{checked - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
