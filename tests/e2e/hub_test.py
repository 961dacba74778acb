#!/usr/bin/env python3
"""End-to-end test of --model org/name fetched from a hub: starts tests/e2e/hub_server.py on a free
loopback port over a folder this test fills, then runs the binary against it. No internet is used.

Cases: a model served with range requests (config.json + index + four header-only shards: the exact
bytes reach the report); the same from a server that ignores Range; a gated model without a token (401: exit 2, "gated"), and with HF_TOKEN (exit 0);
HF_HUB_OFFLINE=1 (exit 2, no request); an id the hub does not have (exit 2).

README.md's hub example (a fenced block opened by ```text hub, first line `$ gpuadvise ARGS`, the
expected stdout after it) is run here against the same loopback hub, which serves the example folder
under the block's --model id; `--update-readme` rewrites the block from the binary's output.

usage: hub_test.py BINARY SOURCE_DIR [--update-readme]
"""
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

binary, source = sys.argv[1], pathlib.Path(sys.argv[2])
update_readme = "--update-readme" in sys.argv[3:]
README_BLOCK = re.compile(r"^```text hub\n(\$ gpuadvise [^\n]*)\n(.*?)^```$", re.S | re.M)
readme_path = source / "README.md"
readme = readme_path.read_text(encoding="utf-8")
readme_blocks = README_BLOCK.findall(readme)
example = source / "tests" / "data" / "models" / "llama-3.1-8b-instruct"
failures = []


def check(name, ok, detail=""):
    if not ok:
        failures.append(f"{name}: {detail}")


with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp) / "hub"
    readme_repos = [shlex.split(cmd)[shlex.split(cmd).index("--model") + 1] for cmd, _ in readme_blocks]
    for repo in ("acme/llama-8b", "acme/gated-llama", "acme/norange-llama", *readme_repos):
        shutil.copytree(example, root / repo)
    server = subprocess.Popen([sys.executable, str(source / "tests" / "e2e" / "hub_server.py"), str(root)],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().strip()
        base = dict(os.environ, NO_COLOR="1", HF_ENDPOINT=f"http://127.0.0.1:{port}",
                    HF_HUB_CACHE=str(pathlib.Path(tmp) / "empty-cache"))
        base.pop("HF_TOKEN", None)
        base.pop("HF_HUB_OFFLINE", None)

        def run(model, **env):
            done = subprocess.run([binary, "--model", model, "--gpu", "l40s", "--batch", "8", "--json"],
                                  env=dict(base, **env), capture_output=True, text=True, timeout=120)
            return done.returncode, done.stdout, done.stderr

        # Served: exact bytes of the four shards' tensors (2 bytes x Llama-3.1-8B's parameters).
        rc, out, err = run("acme/llama-8b")
        check("served", rc in (0, 1), f"exit {rc}: {err}")
        if rc in (0, 1):
            doc = json.loads(out)
            text = json.dumps(doc)
            check("served", "model-weight-bytes" in text, "no model-weight-bytes finding")
            index = json.loads((example / "model.safetensors.index.json").read_text())
            total = index["metadata"]["total_size"]
            check("served", f"{total / 1e9:.2f} GB" in text, f"{total / 1e9:.2f} GB not reported")
        # A server that ignores Range: the client stops reading once the header's bytes are in.
        rc, out, err = run("acme/norange-llama")
        check("no range support", rc in (0, 1) and "model-weight-bytes" in out, f"exit {rc}: {err}")
        # Gated: 401 without a token, served with one.
        rc, out, err = run("acme/gated-llama")
        check("gated", rc == 2 and "gated" in err and "HF_TOKEN" in err, f"exit {rc}: {err}")
        rc, out, err = run("acme/gated-llama", HF_TOKEN="good-token")
        check("gated with token", rc in (0, 1), f"exit {rc}: {err}")
        # Offline: refused before any request.
        rc, out, err = run("acme/llama-8b", HF_HUB_OFFLINE="1")
        check("offline", rc == 2 and "HF_HUB_OFFLINE" in err, f"exit {rc}: {err}")
        # README's hub example, output compared line by line (or rewritten with --update-readme).
        check("README hub example", len(readme_blocks) >= 1, "no ```text hub block in README.md")

        def readme_run(match):
            command, expected = match.group(1), match.group(2)
            done = subprocess.run([binary, *shlex.split(command)[2:]], env=base, capture_output=True, text=True,
                                  timeout=120, cwd=source)
            check("README hub example", "(Hugging Face hub)" in done.stdout,
                  f"'{command}' did not read from the hub (an id matching a preset takes the preset)")
            if update_readme:
                return f"```text hub\n{command}\n{done.stdout.rstrip()}\n```"
            check("README hub example", done.stdout.rstrip() == expected.rstrip(),
                  f"'{command}' prints something else now:\n{done.stdout}")
            return match.group(0)

        new_readme = README_BLOCK.sub(readme_run, readme)
        if update_readme and new_readme != readme:
            readme_path.write_text(new_readme, encoding="utf-8")
            print(f"updated {readme_path}")
        # Unknown id.
        rc, out, err = run("acme/nothing-here")
        check("missing", rc == 2 and "no such model" in err, f"exit {rc}: {err}")
    finally:
        server.terminate()
        server.wait(timeout=10)

for f in failures:
    print("FAIL", f)
print(f"hub_test: {len(failures)} case(s) failed" if failures else "hub_test: all cases passed")
sys.exit(1 if failures else 0)
