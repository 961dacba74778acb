#!/usr/bin/env python3
"""--emit through the binary: every target's files written with --emit-dir pass `gpuadvise check`, and
one value changed to an impossible one fails check with the finding on that key's line.

usage: emit_roundtrip.py BINARY
"""
import os
import pathlib
import subprocess
import sys
import tempfile

PLAN = ["--model", "llama-3.1-70b", "--gpu", "l40s", "--count", "4", "--context", "8k",
        "--input-tokens", "1000", "--output-tokens", "200"]

# target -> (file to edit, text to replace, impossible value, rule or key the failure names, exit code)
EDITS = {
    "vllm": ("vllm-config.yaml", "tensor-parallel-size: 4", "tensor-parallel-size: 3", "tensor-parallel-invalid", 1),
    "sglang": ("sglang-serve.sh", "--tp-size 4", "--tp-size 3", "tensor-parallel-invalid", 1),
    "trtllm": ("trtllm-serve.sh", "--kv_cache_free_gpu_memory_fraction 0.90",
               "--kv_cache_free_gpu_memory_fraction 1.5", "kv_cache_free_gpu_memory_fraction", 2),
    "skypilot": ("sky-serve.yaml", "replicas: 1", "replicas: 0", "skypilot-replicas", 1),
    "k8s": ("k8s-vllm.yaml", "nvidia.com/gpu: 4", "nvidia.com/gpu: 2", "k8s-gpu-limit", 1),
}


def run(binary, *args):
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NO_COLOR="1"))
    return done.returncode, done.stdout + done.stderr


def main() -> int:
    binary = sys.argv[1]
    failed = 0
    for target, (name, old, new, rule, code) in EDITS.items():
        with tempfile.TemporaryDirectory() as tmp:
            status, out = run(binary, *PLAN, "--emit", target, "--emit-dir", tmp)
            if status != 0:
                print(f"{target}: --emit exited {status}:\n{out}")
                failed += 1
                continue
            files = sorted(p for p in pathlib.Path(tmp).iterdir() if "options" not in p.name)
            for path in files:
                status, out = run(binary, "check", "--format", "github", str(path))
                if status != 0 or "::error" in out:
                    print(f"{target}: check {path.name} exited {status}:\n{out}")
                    failed += 1
            path = pathlib.Path(tmp) / name
            text = path.read_text()
            if old not in text:
                print(f"{target}: '{old}' is not in {name}")
                failed += 1
                continue
            text = text.replace(old, new, 1)
            path.write_text(text)
            line = text[: text.index(new)].count("\n") + 1
            status, out = run(binary, "check", "--format", "github", str(path))
            where = f"line={line}" if code == 1 else f"{path}:{line}:"
            if status != code or rule not in out or where not in out:
                print(f"{target}: after '{new}' check exited {status} (want {code}, {rule} at {where}):\n{out}")
                failed += 1
            else:
                print(f"{target}: emitted files pass; '{new}' fails with {rule} at line {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
