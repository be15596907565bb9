#!/usr/bin/env python3
# A receiver of scimd's SCIM events (RFC 9967): Security Event Tokens (RFC 8417) that scimd
# pushes as RFC 8935 says, verified with the Python 3 standard library alone. Run it with the
# secret `scimd webhook add` printed and the port to listen on (on 127.0.0.1):
#
#   SCIMD_WEBHOOK_SECRET=whsec_... python3 docs/event-receiver.py 8000
#
# A SET must be signed with HS256, keyed with the whole `whsec_...` string as UTF-8 bytes, and
# its `aud` must be SCIMD_WEBHOOK_AUDIENCE when that is set (the URL given to `scimd webhook
# add`). One that passes is printed and answered 202; one that fails gets 400 with an RFC 8935
# error body, and scimd drops it and records the error. A `jti` seen before is a retry of a SET
# already handled: answered 202 again, not handled twice. (`seen` lives in memory here; an
# application keeps the `jti` with the change it applied, in the same transaction.) A SET that
# carries `deactivate` (the user's `active` went to false: unassigned, out of scope or deleted
# in the identity provider) is where the application ends the user's sessions.
import base64, hashlib, hmac, json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET, AUDIENCE, seen = os.environ["SCIMD_WEBHOOK_SECRET"].encode(), os.environ.get("SCIMD_WEBHOOK_AUDIENCE"), set()
DEACTIVATE = "urn:ietf:params:scim:event:prov:deactivate"
b64 = lambda part: base64.urlsafe_b64decode(part + b"==")  # JWTs leave the padding out


class Receiver(BaseHTTPRequestHandler):
    error_content_type, error_message_format = "application/json", '{"err": "%(message)s", "description": "%(explain)s"}'

    def do_POST(self):
        try:
            head, body, signature = self.rfile.read(int(self.headers["Content-Length"])).split(b".")
            alg, claims, mac = json.loads(b64(head))["alg"], json.loads(b64(body)), b64(signature)
        except (KeyError, TypeError, ValueError):
            return self.send_error(400, "invalid_request", "the body is not a SET")
        if alg != "HS256" or not hmac.compare_digest(mac, hmac.new(SECRET, head + b"." + body, hashlib.sha256).digest()):
            return self.send_error(400, "invalid_key", "the signature does not verify with the secret")
        if AUDIENCE not in (None, claims["aud"]): return self.send_error(400, "invalid_audience", "not my URL")
        if not (claims["jti"] in seen or seen.add(claims["jti"])):  # the first time: handle it
            print(claims["sub_id"]["uri"], *claims["events"], flush=True)  # (the application's work)
            if DEACTIVATE in claims["events"]:  # here the application signs the user out everywhere
                print("ending the sessions of", claims["sub_id"]["uri"], file=sys.stderr, flush=True)
        self.send_response(202)
        self.end_headers()


HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
