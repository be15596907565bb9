"""Runs scim2-tester (https://pypi.org/project/scim2-tester/), a third-party SCIM compliance
suite, against a freshly started scimd on a new SQLite file, and fails on any check that is not a
success. Called by .ci/run with the venv's python; SCIMD_BIN is the scimd binary to start."""

import collections
import os
import subprocess
import sys
import tempfile

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

TOKEN = "scim2-tester-token-0123456789"

with tempfile.TemporaryDirectory() as data:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
    env.update(
        SCIMD_DATABASE_URL=f"sqlite://{data}/scimd.db",
        SCIMD_LISTEN="127.0.0.1:0",
        SCIMD_BOOTSTRAP_TOKEN=TOKEN,
        SCIMD_LOG="warn",
    )
    # scim2-tester fills every attribute of its User model, `password` too, and a new tenant
    # refuses passwords: the tenant it provisions ignores them, as an application's team sets a
    # tenant whose identity provider syncs passwords (docs/src/operator/tenant-rules.md).
    for command in (["tenant", "create", "default"], ["tenant", "set", "default", "--passwords", "ignore"]):
        subprocess.run([os.environ["SCIMD_BIN"], *command], env=env, check=True, stdout=subprocess.DEVNULL)
    scimd = subprocess.Popen([os.environ["SCIMD_BIN"], "serve"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        address = None
        for line in scimd.stdout:
            if line.startswith("listening on "):
                address = line.split()[-1]
                break
        if address is None:
            sys.exit("scim2-tester: scimd exited before listening")
        http = Client(base_url=f"{address}/scim/v2", headers={"Authorization": f"Bearer {TOKEN}"})
        results = check_server(SyncSCIMClient(http))
    finally:
        scimd.terminate()
        scimd.wait(timeout=30)

counts = collections.Counter(r.status.name for r in results)
print(f"scim2-tester: {dict(counts)}")
bad = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
for r in bad:
    print(f"  {r.status.name} {r.title}: {r.reason}")
sys.exit(1 if bad or not results else 0)
