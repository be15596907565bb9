"""A real SMTP server for scimd's alert tests: aiosmtpd on 127.0.0.1:PORT, keeping each message
it receives as a JSON file in DIR (the envelope, the headers and both bodies decoded, and the
raw message), written whole (a temporary
name, then renamed) so that a reader never sees half a message. Prints "ready" once it accepts
connections, and runs until killed. Without aiosmtpd it exits 3 saying how to install it."""

import argparse
import email
import email.policy
import json
import os
import sys
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:
    print(
        "aiosmtpd is not installed for this interpreter: "
        "pip install aiosmtpd==1.4.6 (or point SCIMD_TEST_PYTHON at a Python that has it)",
        file=sys.stderr,
    )
    sys.exit(3)


def lines(part):
    if part is None:
        return None
    return part.get_content().replace("\r\n", "\n")


class Keep:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.directory, f"{self.count:05d}.json")
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        plain = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        message = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(parsed["from"]),
            "to": str(parsed["to"]),
            "subject": str(parsed["subject"]),
            "content_type": parsed.get_content_type(),
            # lines as the body's author wrote them: SMTP's CRLF read as LF
            "text": lines(plain),
            "html": lines(html),
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(message, f)
        os.replace(name + ".tmp", name)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(Keep(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
