"""Schemathesis hooks for scimd's /api/v1 (.ci/run-schemathesis.py loads them).

Two values of a request are the client's to make only in one way, which no schema can say:

- An Idempotency-Key names one request: a client makes a new one for each new request. The
  generator would send the same valid key with different requests, which scimd rightly refuses
  (422 idempotency-key-reused, tested in tests/scimd/operator_api/idempotency.rs). A key that is
  valid as generated is replaced with a fresh UUID; an invalid one is left, to be refused.
- A cursor is one scimd issued (a page's next_cursor), never made up: a made-up one is refused
  (422, tested in tests/scimd/operator_api/tenants.rs). A cursor that the schema allows is
  dropped; one that it does not (too long) is left, to be refused.
"""

import re
import uuid

import schemathesis

VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            if VISIBLE_ASCII.match(headers[name]):
                headers[name] = str(uuid.uuid4())
    query = case.query or {}
    cursor = query.get("cursor")
    if isinstance(cursor, str) and len(cursor) <= 2048:
        del query["cursor"]
