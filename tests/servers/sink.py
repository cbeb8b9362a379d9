"""A mail server and a webhook receiver on 127.0.0.1 that keep what they
receive, for the delivery tests (tests/delivery.rs). `.ci/run` installs
aiosmtpd from PyPI into a virtual environment and starts this script.

    sink.py DIR --cert CERT --key KEY --smtp-port 2525 --smtps-port 2465 --http-port 8025

SMTP (STARTTLS required, then AUTH) on --smtp-port and SMTP with implicit
TLS on --smtps-port; the login is SINK_USER / SINK_PASSWORD from the
environment. Every accepted message is written as DIR/NNNNNN.eml with
DIR/NNNNNN.json beside it (envelope sender, recipients, login, TLS). A
recipient whose local part holds `+tempfail` is refused once with 421, then
accepted; one holding `+reject` is refused with 550 every time.

HTTP on --http-port: a POST to /hook/TOKEN/BEHAVIOUR is written as
DIR/http-NNNNNN.json (path, status, content type, body) and answered by
BEHAVIOUR: `ok` 200, `429-once` 429 with Retry-After: 1 the first time
(per path) then 200, `500-always` 500, `404` 404.

DIR/ready appears when every server listens.
"""

import argparse
import itertools
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOCK = threading.Lock()
COUNTER = itertools.count(1)
SEEN = set()


def next_name(folder, prefix=""):
    with LOCK:
        return os.path.join(folder, f"{prefix}{next(COUNTER):06d}")


class Mailbox:
    def __init__(self, folder):
        self.folder = folder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if "+reject" in local:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if "+tempfail" in local:
            with LOCK:
                first = address not in SEEN
                SEEN.add(address)
            if first:
                return "421 4.3.2 service busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = next_name(self.folder)
        with open(name + ".eml.part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            "tls": session.ssl is not None,
        }
        with open(name + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(name + ".eml.part", name + ".eml")
        return "250 2.0.0 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode():
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    return check


def hook_handler(folder):
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            behaviour = self.path.rstrip("/").rsplit("/", 1)[-1]
            status = 200
            if behaviour == "429-once":
                with LOCK:
                    first = self.path not in SEEN
                    SEEN.add(self.path)
                status = 429 if first else 200
            elif behaviour == "500-always":
                status = 500
            elif behaviour == "404":
                status = 404
            record = {
                "path": self.path,
                "status": status,
                "content_type": self.headers.get("Content-Type"),
                "body": body,
            }
            name = next_name(folder, "http-")
            with open(name + ".part", "w") as f:
                json.dump(record, f, ensure_ascii=False)
            os.rename(name + ".part", name + ".json")
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Hook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--smtps-port", type=int, default=2465)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    user, password = os.environ["SINK_USER"], os.environ["SINK_PASSWORD"]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    starttls = Controller(
        Mailbox(args.folder), hostname="127.0.0.1", port=args.smtp_port,
        server_hostname="localhost", tls_context=context, require_starttls=True,
        authenticator=authenticator(user, password), auth_required=True, auth_require_tls=True,
    )
    implicit = Controller(
        Mailbox(args.folder), hostname="127.0.0.1", port=args.smtps_port,
        server_hostname="localhost", ssl_context=context,
        authenticator=authenticator(user, password), auth_required=True, auth_require_tls=False,
    )
    starttls.start()
    implicit.start()
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), hook_handler(args.folder))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    open(os.path.join(args.folder, "ready"), "w").close()
    threading.Event().wait()


if __name__ == "__main__":
    main()
