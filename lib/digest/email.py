"""A digest as an email (pure): From the console's address (ONBOARDING_MAIL_FROM, else the
Reply-To), To the login's email, a text/plain part and a text/html part."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from lib.digest import render
from lib.digest.model import Digest
from lib.errors import SendFailed
from lib.mail import compose
from lib.mail.settings import FROM_ENV, SmtpSettings


def sender(smtp: SmtpSettings) -> str:
    """The console's address (its name as configured, else "Onboarding console")."""
    for value, what in ((smtp.from_addr, FROM_ENV), (smtp.reply_to, "ONBOARDING_MAIL_REPLY_TO")):
        pairs = getaddresses([value]) if value else []
        if len(pairs) == 1 and pairs[0][1]:
            name, address = pairs[0]
            return compose.formatted(
                name or "Onboarding console", compose.check_address(address, what)
            )
    raise SendFailed(
        f"the digest needs an address to send from: set {FROM_ENV} (or [smtp] from), "
        "e.g. 'Onboarding <onboarding@example.com>'"
    )


def message(
    digest: Digest, name: str, email: str | None, smtp: SmtpSettings, now: dt.datetime | None = None
) -> EmailMessage:
    """The digest's email to `email` (a login's); SendFailed when the login has no real
    address or the console none to send from."""
    if compose.is_placeholder(email):
        raise SendFailed(
            f"the login {digest.username!r} has no email address: add one on the Users page "
            "or choose Slack for the digest"
        )
    assert email is not None
    to = compose.formatted(name, compose.check_address(email, f"{digest.username}'s email"))
    frm = sender(smtp)
    mail = EmailMessage(policy=compose.MAIL_POLICY)
    mail["From"] = frm
    mail["To"] = to
    if smtp.reply_to:
        mail["Reply-To"] = smtp.reply_to
    mail["Subject"] = digest.subject
    mail["Date"] = format_datetime((now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    mail["Message-ID"] = make_msgid(domain=compose.addresses_of([frm])[0].rpartition("@")[2])
    mail["Auto-Submitted"] = "auto-generated"  # no out-of-office answers
    mail.set_content(render.text(digest))
    mail.add_alternative(render.html(digest), subtype="html")
    return mail
