"""The baseline of the delivery figures in docs/benchmarks.md: Python's own
SMTP client sends the messages an `opskpi run --dry-run` wrote (.eml files)
to the same server the same way opskpi does — one connection per message
and recipient, STARTTLS verified against a CA file, AUTH — and prints the
wall time.

    python3 benches/smtp_baseline.py RUN_FOLDER --host localhost --port 2525 \
        --ca ca.crt --user opskpi   # password in OPSKPI_SMTP_PASSWORD
"""

import argparse
import email
import email.policy
import os
import pathlib
import smtplib
import ssl
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--user", required=True)
    args = parser.parse_args()
    password = os.environ["OPSKPI_SMTP_PASSWORD"]
    context = ssl.create_default_context(cafile=args.ca)
    files = sorted(pathlib.Path(args.folder).glob("monthly-*.eml"))
    started = time.perf_counter()
    sent = 0
    for path in files:
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = message["From"].addresses[0].addr_spec
        for recipient in [a.addr_spec for a in message["To"].addresses]:
            with smtplib.SMTP(args.host, args.port) as smtp:
                smtp.starttls(context=context)
                smtp.login(args.user, password)
                smtp.sendmail(sender, [recipient], raw)
            sent += 1
    print(f"{sent} messages of {len(files)} files in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
