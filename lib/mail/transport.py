"""Talking to the team's SMTP server (smtplib, with a timeout): the message goes out as
composed, byte for byte, and every way it can fail becomes a SendFailed saying what
happened (a refused recipient, a refused login, a timeout, no server at that address)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence

from lib.errors import SendFailed
from lib.mail.settings import PASSWORD_ENV, USER_ENV, SmtpSettings

NOT_SENT = "Nothing was sent or recorded."
# The server may have taken the message before it stopped answering.
MAYBE_SENT = (
    "It was not recorded as sent, but the server may still deliver it: check with the "
    "customer (or the server's log) before sending it again."
)


def _said(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _timed_out(settings: SmtpSettings, stage: str, after: str) -> str:
    return (
        f"The mail server {settings.where} did not answer within {settings.timeout_s:g} s "
        f"while {stage}. {after}"
    )


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout_s,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)


def deliver(
    settings: SmtpSettings, envelope_from: str, recipients: Sequence[str], raw: bytes
) -> dict[str, str]:
    """Send `raw` to `recipients`. Returns the recipients the server refused while taking
    the message for the others (address -> its answer); SendFailed when nothing went."""
    where = settings.where
    stage = "connecting"
    client: smtplib.SMTP | None = None
    try:
        client = _connect(settings)
        stage = "greeting"
        client.ehlo()
        if settings.security == "starttls":
            stage = "starting TLS"
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if settings.user:
            stage = "signing in"
            client.login(settings.user, settings.password or "")
        stage = "sending"
        refused = client.sendmail(envelope_from, list(recipients), raw)
        stage = "done"
    except smtplib.SMTPRecipientsRefused as error:
        answers = "; ".join(f"{a} ({_said(*r)})" for a, r in error.recipients.items())
        raise SendFailed(
            f"The mail server {where} refused the recipients: {answers}. {NOT_SENT}"
        ) from None
    except smtplib.SMTPSenderRefused as error:
        raise SendFailed(
            f"The mail server {where} refused the sender {error.sender!r} "
            f"({_said(error.smtp_code, error.smtp_error)}): it may not let this login send "
            f"as that address. {NOT_SENT}"
        ) from None
    except smtplib.SMTPAuthenticationError as error:
        raise SendFailed(
            f"The mail server {where} refused the login of {settings.user!r} "
            f"({_said(error.smtp_code, error.smtp_error)}): check {USER_ENV} and "
            f"{PASSWORD_ENV} (or [smtp] user and password). {NOT_SENT}"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        raise SendFailed(
            f"The mail server {where} does not support {stage.replace('starting ', '')} "
            f"({error}): check ONBOARDING_SMTP_SECURITY and the port. {NOT_SENT}"
        ) from None
    except smtplib.SMTPDataError as error:
        raise SendFailed(
            f"The mail server {where} refused the message "
            f"({_said(error.smtp_code, error.smtp_error)}). {NOT_SENT}"
        ) from None
    except smtplib.SMTPServerDisconnected as error:
        after = MAYBE_SENT if stage == "sending" else NOT_SENT
        if isinstance(error.__context__, TimeoutError):  # smtplib's reading timed out
            raise SendFailed(_timed_out(settings, stage, after)) from None
        raise SendFailed(
            f"The mail server {where} closed the connection while {stage} ({error}). {after}"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise SendFailed(
            f"The mail server {where} answered {_said(error.smtp_code, error.smtp_error)} "
            f"while {stage}. {NOT_SENT}"
        ) from None
    except smtplib.SMTPException as error:
        raise SendFailed(
            f"Sending through {where} failed while {stage}: {error}. {NOT_SENT}"
        ) from None
    except TimeoutError:
        after = MAYBE_SENT if stage == "sending" else NOT_SENT
        raise SendFailed(_timed_out(settings, stage, after)) from None
    except ssl.SSLError as error:
        raise SendFailed(
            f"The secure connection to {where} failed ({error.reason or error}): check "
            f"ONBOARDING_SMTP_SECURITY (starttls, tls or none) and the port. {NOT_SENT}"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise SendFailed(
            f"Could not reach the mail server {where} ({reason}): check "
            f"ONBOARDING_SMTP_HOST and ONBOARDING_SMTP_PORT. {NOT_SENT}"
        ) from None
    finally:
        if client is not None and stage != "done":
            client.close()
    assert client is not None
    try:  # the message is taken: a failed goodbye changes nothing
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
    return {address: _said(*answer) for address, answer in refused.items()}
