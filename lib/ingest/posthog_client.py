"""PostHog's query API: the connection settings (the key shown masked), the HogQL query
files of data/posthog_queries, and a paging client with bounded retries. No database."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from lib import settings
from lib.errors import UserError
from lib.ingest.http_retry import Outcome, RetryPolicy, send
from lib.ingest.sources import kind_from_name
from lib.ingest.spec import SPECS

ENV_API_KEY = "POSTHOG_PERSONAL_API_KEY"
ENV_PROJECT_ID = "POSTHOG_PROJECT_ID"
ENV_HOST = "POSTHOG_HOST"
DEFAULT_HOST = "https://us.posthog.com"
HOST_SHORTCUTS = {"us": "https://us.posthog.com", "eu": "https://eu.posthog.com"}
QUERIES_DIR = settings.DATA_DIR / "posthog_queries"

# PostHog answers at most 50,000 rows per API query and allows about 120 HogQL
# API queries an hour: big pages keep a sync to a handful of requests.
PAGE_SIZE = 50_000
PLACEHOLDERS = ("since", "until")
TIMEOUT_S = (10.0, 300.0)  # connect, read: a HogQL query over months can take a while

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


# ------------------------------------------------------------------- errors


class SyncError(UserError):
    """The sync stopped; nothing was written. The message says why."""


class ConfigError(SyncError):
    """Missing or unusable settings or query files (the admin must fix them)."""


# ----------------------------------------------------------------- settings


def mask(secret: str) -> str:
    """Enough of a key to tell two keys apart, never enough to use one."""
    if len(secret) < 12:
        return "…" if secret else "(empty)"
    prefix = secret[:4] if secret[3:4] == "_" else ""
    return f"{prefix}…{secret[-4:]}"


@dataclass(frozen=True)
class Connection:
    host: str
    project_id: str
    api_key: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Connection:
        """From the environment (Streamlit also exports root-level secrets there)."""
        env = os.environ if env is None else env
        api_key = env.get(ENV_API_KEY, "").strip()
        project_id = env.get(ENV_PROJECT_ID, "").strip()
        host = env.get(ENV_HOST, "").strip() or DEFAULT_HOST
        missing = [
            name
            for name, value in ((ENV_API_KEY, api_key), (ENV_PROJECT_ID, project_id))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"PostHog is not configured: set {' and '.join(missing)} (a personal API key "
                f"with the query:read scope, and the project's id), and {ENV_HOST} if the "
                f"project is not on {DEFAULT_HOST} (eu, or a self-hosted address)"
            )
        if not project_id.isdigit():
            raise ConfigError(f"{ENV_PROJECT_ID} must be the project's number, not {project_id!r}")
        return cls(_normalise_host(host), project_id, api_key)

    @property
    def source(self) -> str:
        """What the sync state is kept under: the project, not the key."""
        return f"{self.host}#{self.project_id}"

    @property
    def query_url(self) -> str:
        return f"{self.host}/api/projects/{self.project_id}/query/"

    def describe(self) -> str:
        return f"PostHog project {self.project_id} at {self.host} (key {mask(self.api_key)})"


def _normalise_host(host: str) -> str:
    host = HOST_SHORTCUTS.get(host.lower(), host).rstrip("/")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{ENV_HOST} must be an address like https://eu.posthog.com (or us / eu), not {host!r}"
        )
    if parts.path or parts.query or parts.fragment:
        raise ConfigError(f"{ENV_HOST} must be just the address, like https://eu.posthog.com")
    if parts.scheme == "http" and not _is_local(parts.hostname):
        # The key would travel in clear text.
        raise ConfigError(f"{ENV_HOST} must use https:// (http:// only for this machine)")
    return host


def _is_local(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------ queries


@dataclass(frozen=True)
class Query:
    name: str  # the file name, e.g. events.sql
    kind: str  # usage, or another import kind (customers, config, ...)
    text: str  # HogQL without full-line comments

    @property
    def incremental(self) -> bool:
        return self.kind == "usage"


def load_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    paths = sorted(folder.glob("*.sql"))
    if not paths:
        raise ConfigError(f"no PostHog queries in {folder} (expected *.sql files)")
    return [parse_query(path.name, path.read_text(encoding="utf-8")) for path in paths]


def parse_query(name: str, source: str) -> Query:
    stem = name[:-4] if name.lower().endswith(".sql") else name
    kind = kind_from_name(stem) or "usage"
    # Full-line comments only: the paging wrapper must not end inside one.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("--")]
    text = "\n".join(lines).strip().rstrip(";").strip()
    if not text:
        raise ConfigError(f"{name}: the query is empty")
    used = set(_PLACEHOLDER.findall(text))
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise ConfigError(
            f"{name}: uses {', '.join('{' + u + '}' for u in unknown)}; "
            "only {since} and {until} are filled in"
        )
    if kind == "usage" and used != set(PLACEHOLDERS):
        raise ConfigError(
            f"{name}: a usage query must filter its days with {{since}} and {{until}} "
            "(inclusive ISO dates), or every sync would fetch everything"
        )
    return Query(name, kind, text)


def _paged(query: Query, limit: int, offset: int) -> str:
    # A stable order makes LIMIT/OFFSET pages add up to the whole result.
    # HogQL for PostHog, not SQL for our database: the admin's own query file,
    # our key columns and two integers; the user's dates travel in `values`.
    order = ", ".join(SPECS[query.kind].key)
    wrapped = f"SELECT * FROM (\n{query.text}\n) ORDER BY {order}"  # noqa: S608
    return f"{wrapped} LIMIT {int(limit)} OFFSET {int(offset)}"


# ------------------------------------------------------------------- client


@dataclass(frozen=True)
class Page:
    columns: list[str]
    rows: list[list[Any]]
    has_more: bool | None


class PostHogClient:
    """PostHog's query endpoint through `requests`, with bounded retries."""

    def __init__(
        self,
        connection: Connection,
        policy: RetryPolicy | None = None,
        timeout: tuple[float, float] = TIMEOUT_S,
    ) -> None:
        self.connection = connection
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {connection.api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )

    def close(self) -> None:
        self.session.close()

    def fetch(
        self,
        query: Query,
        values: dict[str, str],
        page_size: int = PAGE_SIZE,
        on_rows: Callable[[int], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> tuple[list[str], list[list[Any]], int]:
        """Every row of the query: (columns, rows, pages)."""
        columns: list[str] | None = None
        rows: list[list[Any]] = []
        pages = 0
        while True:
            page = self._page(query, values, page_size, len(rows), on_wait)
            pages += 1
            if columns is None:
                columns = page.columns
            elif page.columns != columns:
                raise self._error(
                    query, f"page {pages} has other columns than page 1 ({page.columns})"
                )
            rows += page.rows
            if on_rows:
                on_rows(len(rows))
            # hasMore is only sent for queries without a LIMIT; ours always has one,
            # so a short page is the end (PostHog caps a page at 50,000 rows).
            if not page.rows or page.has_more is False:
                break
            if page.has_more is None and len(page.rows) < page_size:
                break
        return columns or [], rows, pages

    def _page(
        self,
        query: Query,
        values: dict[str, str],
        limit: int,
        offset: int,
        on_wait: Callable[[str], None] | None,
    ) -> Page:
        body: dict[str, Any] = {
            "query": {"kind": "HogQLQuery", "query": _paged(query, limit, offset), "values": values}
        }

        def post() -> requests.Response:
            return self.session.post(
                self.connection.query_url, json=body, timeout=self.timeout, allow_redirects=False
            )

        outcome = send(post, self.policy, on_wait)
        response = outcome.response
        if response is None:
            raise self._error(
                query,
                f"could not reach {self.connection.host}: {self._scrub(str(outcome.error))} "
                f"(gave up after {outcome.gave_up_because})",
            )
        if response.status_code != 200:
            raise self._error(query, self._status_message(response, outcome))
        try:
            data = response.json()
        except ValueError:
            raise self._error(
                query,
                f"PostHog's answer is not JSON ({response.headers.get('Content-Type', 'no content type')}): "
                f"{self._scrub(response.text[:120])!r}",
            ) from None
        return self._parse(query, data)

    def _parse(self, query: Query, data: Any) -> Page:
        if not isinstance(data, dict):
            raise self._error(query, "PostHog's answer is not a query result (not a JSON object)")
        if data.get("error"):
            raise self._error(query, f"PostHog: {self._scrub(str(data['error']))}")
        results, columns = data.get("results"), data.get("columns")
        if not isinstance(results, list) or not isinstance(columns, list):
            keys = ", ".join(sorted(map(str, data))) or "nothing"
            raise self._error(
                query, f"PostHog's answer has no results/columns (it has: {keys[:200]})"
            )
        if not all(isinstance(c, str) for c in columns):
            raise self._error(query, "PostHog's answer has column names that are not text")
        for number, row in enumerate(results, start=1):
            if not isinstance(row, list) or len(row) != len(columns):
                raise self._error(
                    query,
                    f"PostHog's answer is malformed: result row {number} is not "
                    f"{len(columns)} values ({str(row)[:80]})",
                )
        has_more = data.get("hasMore")
        return Page(list(columns), results, has_more if isinstance(has_more, bool) else None)

    def _status_message(self, response: requests.Response, outcome: Outcome) -> str:
        status = response.status_code
        detail = self._detail(response)
        connection = self.connection
        if status == 401:
            return (
                f"PostHog refused the personal API key {mask(connection.api_key)} (HTTP 401: "
                f"{detail}). It may be expired, revoked or mistyped: create a personal API key "
                f"with the query:read scope and set {ENV_API_KEY}"
            )
        if status == 403:
            return (
                f"the key {mask(connection.api_key)} may not query project {connection.project_id} "
                f"(HTTP 403: {detail}); it needs the query:read scope and access to that project"
            )
        if status == 404:
            return (
                f"no project {connection.project_id} at {connection.host} (HTTP 404: {detail}); "
                f"check {ENV_PROJECT_ID} and {ENV_HOST} (us, eu, or your own address)"
            )
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere")
            return f"PostHog redirects to {where} (HTTP {status}); set {ENV_HOST} to that address"
        if outcome.gave_up_because:
            return (
                f"PostHog kept answering HTTP {status} ({detail}); gave up after "
                f"{outcome.gave_up_because}. Try again later"
            )
        return f"PostHog rejected the query (HTTP {status}): {detail}"

    def _detail(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("detail", "error", "message"):
                if body.get(key):
                    return self._scrub(str(body[key]))[:500]
        text = response.text.strip()
        return self._scrub(text[:200]) if text else "no details"

    def _scrub(self, text: str) -> str:
        key = self.connection.api_key
        return text.replace(key, mask(key)) if key else text

    def _error(self, query: Query, message: str) -> SyncError:
        return SyncError(f"PostHog query {query.name}: {message}; nothing was written")
