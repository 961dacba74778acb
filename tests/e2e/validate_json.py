#!/usr/bin/env python3
"""Validates gpuadvise JSON documents against a JSON Schema file (python3-jsonschema, Debian).

usage: validate_json.py SCHEMA FILE... ('-' reads stdin). A golden file's trailing "exit N" line is dropped.
"""
import json
import sys

import jsonschema


def main() -> int:
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failed = 0
    for path in sys.argv[2:]:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        lines = text.rstrip("\n").split("\n")
        if lines and lines[-1].startswith("exit "):
            lines = lines[:-1]
        doc = json.loads("\n".join(lines))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:10]:
            print(f"{path}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}")
        failed += bool(errors)
        if not errors:
            print(f"{path}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
