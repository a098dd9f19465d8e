"""Posting a digest to Slack through slack-sdk: a direct message from the bot (the bot
token and the login's Slack member ID), else the team's incoming webhook. slack-sdk's
retry handlers wait out a 429 (its Retry-After), and retry a 5xx or a dropped connection
with a growing wait; what still fails becomes a SendFailed saying what Slack answered."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from lib.digest.settings import SLACK_TOKEN_ENV, SLACK_WEBHOOK_ENV, DigestSettings
from lib.errors import SendFailed

NOT_CONFIGURED = (
    f"Slack is not configured: set {SLACK_WEBHOOK_ENV} (the team's incoming webhook) or "
    f"{SLACK_TOKEN_ENV} (a bot token) with the login's Slack member ID"
)


def retry_handlers(settings: DigestSettings) -> list[RetryHandler]:
    backoff = BackoffRetryIntervalCalculator(backoff_factor=settings.slack_backoff_s)
    count = settings.slack_retries
    return [
        RateLimitErrorRetryHandler(max_retry_count=count),
        ServerErrorRetryHandler(max_retry_count=count, interval_calculator=backoff),
        ConnectionErrorRetryHandler(max_retry_count=count, interval_calculator=backoff),
    ]


def _tries(settings: DigestSettings) -> str:
    n = settings.slack_retries + 1
    return f"after {n} attempt{'s' if n != 1 else ''}"


def _direct(settings: DigestSettings, member: str, text: str, blocks: list[dict[str, Any]]) -> str:
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=max(1, round(settings.slack_timeout_s)),
        retry_handlers=retry_handlers(settings),
    )
    try:
        client.chat_postMessage(channel=member, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        status = error.response.status_code if error.response is not None else "?"
        hint = ""
        if code in ("invalid_auth", "invalid_token", "not_authed", "token_revoked"):
            hint = f": check {SLACK_TOKEN_ENV}"
        elif code in ("channel_not_found", "user_not_found"):
            hint = ": check the login's Slack member ID"
        raise SendFailed(
            f"Slack refused the direct message to {member} (HTTP {status}, "
            f"{code or 'no reason given'}) {_tries(settings)}{hint}"
        ) from None
    except (SlackClientError, OSError, ValueError) as error:
        raise SendFailed(
            f"Could not reach Slack's Web API at {settings.slack_api_url} "
            f"({error or type(error).__name__}) {_tries(settings)}"
        ) from None
    return f"Slack direct message to {member}"


def _webhook(settings: DigestSettings, text: str, blocks: list[dict[str, Any]]) -> str:
    assert settings.slack_webhook_url is not None
    client = WebhookClient(
        settings.slack_webhook_url,
        timeout=max(1, round(settings.slack_timeout_s)),
        retry_handlers=retry_handlers(settings),
    )
    try:
        response = client.send(text=text, blocks=blocks, unfurl_links=False)
    except (SlackClientError, OSError, ValueError) as error:
        raise SendFailed(
            f"Could not reach Slack's incoming webhook ({error or type(error).__name__}) "
            f"{_tries(settings)}: check {SLACK_WEBHOOK_ENV}"
        ) from None
    if response.status_code != 200:
        said = " ".join(str(response.body or "").split())[:200]
        raise SendFailed(
            f"Slack's incoming webhook answered HTTP {response.status_code} ({said or 'no body'}) "
            f"{_tries(settings)}"
        )
    return "Slack webhook"


def post(
    settings: DigestSettings, member: str | None, text: str, blocks: list[dict[str, Any]]
) -> str:
    """Post the digest; returns where it went. With a bot token and the login's member ID
    it is a direct message; otherwise the team's webhook. SendFailed when Slack is not
    configured for this login or did not take the message after the retries."""
    if settings.slack_bot_token and member:
        return _direct(settings, member, text, blocks)
    if settings.slack_webhook_url:
        return _webhook(settings, text, blocks)
    if settings.slack_bot_token:
        raise SendFailed(
            "this login has no Slack member ID for the bot to write to: set it on the "
            "Users page or with `onboarding user digest NAME --slack-user U...`"
        )
    raise SendFailed(NOT_CONFIGURED)
