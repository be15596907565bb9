"""Schemathesis against scimd's application API (/api/v1/openapi.json), every check on.

Starts a fresh scimd on a SQLite file in a scratch folder, with an operator key, a tenant
`contoso` and a pull consumer of it (so that operations on a tenant and the events feed reach
more than 404), runs Schemathesis with a fixed
seed and a bounded number of examples per operation, and exits with its status.

SCIMD_BIN: the scimd binary (target/debug/scimd). SCHEMATHESIS: the schemathesis command.
SCHEMATHESIS_EXAMPLES: examples per operation (default 30). SCHEMATHESIS_SEED (default 20261204).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
scimd = os.path.abspath(os.environ.get("SCIMD_BIN", "target/debug/scimd"))
schemathesis = os.environ.get("SCHEMATHESIS", "schemathesis")
examples = os.environ.get("SCHEMATHESIS_EXAMPLES", "30")
seed = os.environ.get("SCHEMATHESIS_SEED", "20261204")

with tempfile.TemporaryDirectory() as scratch:
    env = dict(
        os.environ,
        SCIMD_DATABASE_URL=f"sqlite://{scratch}/scimd.db",
        SCIMD_LISTEN="127.0.0.1:0",
        SCIMD_API_RATE_LIMIT="0",
        SCIMD_LOG="warn",
    )

    def run(*args):
        return subprocess.run([scimd, *args], env=env, check=True, capture_output=True, text=True)

    run("migrate")
    key = json.loads(run("operator-key", "add", "--name", "schemathesis", "--json").stdout)["key"]
    run("tenant", "create", "contoso")
    log = open(os.path.join(scratch, "scimd.log"), "w")
    server = subprocess.Popen([scimd, "serve"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
        if url is None:
            sys.exit("schemathesis: scimd did not start; its log:\n" + open(log.name).read())
        # a pull consumer of contoso, so that reads of the events feed reach more than 404
        request = urllib.request.Request(
            f"{url}/api/v1/tenants/contoso/consumers",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            consumer = json.load(answer)["id"]
        command = [
            schemathesis,
            "--config-file", os.path.join(here, "schemathesis.toml"),
            "run", f"{url}/api/v1/openapi.json",
            "--checks", "all",
            "--max-examples", examples,
            "--seed", seed,
            "--workers", "1",
            "--no-color",
        ]
        hooks_env = dict(
            os.environ,
            SCHEMATHESIS_HOOKS="schemathesis_hooks",
            PYTHONPATH=here,
            SCIMD_OPERATOR_KEY=key,
            SCIMD_CONSUMER=consumer,
        )
        status = subprocess.run(command, env=hooks_env).returncode
        if status != 0:
            print("scimd's log:\n" + open(log.name).read()[-5000:])
        sys.exit(status)
    finally:
        server.terminate()
        server.wait(timeout=30)
