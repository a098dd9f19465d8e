"""deploy/nginx.conf running for a test: Debian's nginx in a temporary folder.

The shipped site file is rendered with test values (loopback ports, a throwaway
self-signed certificate, the redirect's port) by exact substitutions, each of
which must match: when the file changes shape the harness says so instead of
testing something else. The test adds one header of its own, X-Upstream (the
server that answered), and nothing else. nginx runs in the foreground
(`daemon off`) with its pid file, logs and temporary files in the folder, and
is stopped by its own process id.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lib import settings

NGINX = Path("/usr/sbin/nginx")
SITE = settings.PROJECT_ROOT / "deploy" / "nginx.conf"
STREAMLIT_CONFIG = settings.PROJECT_ROOT / ".streamlit" / "config.toml"
STARTUP_TIMEOUT_S = 15
# Streamlit lets an upload's body exceed server.maxUploadSize by this much (the
# multipart framing); deploy/nginx.conf's upload limit is the two together.
MULTIPART_MARGIN_MB = 1

_MAIN_CONF = """\
{user}
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/onboarding.conf;
}}
"""


@dataclass(frozen=True)
class Proxy:
    """nginx in front of the app servers: where to reach it, and its logs."""

    http_port: int
    https_port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        announce_length: int | None = None,
    ) -> tuple[int, dict[str, str]]:
        """One HTTPS request (certificate not verified): the status and the headers
        (lower-case names; repeated headers joined by newlines).

        `announce_length` sends only the headers, claiming a body of that many bytes
        (nginx answers a too-large Content-Length before reading any body)."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=30, context=insecure_tls()
        )
        try:
            if announce_length is None:
                connection.request(method, path, body=body, headers=headers or {})
            else:
                connection.putrequest(method, path)
                for name, value in (headers or {}).items():
                    connection.putheader(name, value)
                connection.putheader("Content-Length", str(announce_length))
                connection.endheaders()
            response = connection.getresponse()
            response.read()
            answer: dict[str, str] = {}
            for name, value in response.getheaders():  # several Set-Cookie: one a line
                name = name.lower()
                answer[name] = f"{answer[name]}\n{value}" if name in answer else value
            return response.status, answer
        finally:
            connection.close()


def insecure_tls() -> ssl.SSLContext:
    """TLS without certificate checks: the test's certificate is self-signed."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def missing() -> str | None:
    """Why the deploy test cannot run here, or None."""
    if not NGINX.exists():
        return (
            f"nginx not found at {NGINX} (run `make test` as root to install Debian's "
            "nginx-light package); the nginx deploy test skipped"
        )
    if not any(Path(d, "openssl").exists() for d in os.environ.get("PATH", "").split(":")):
        return "openssl not found (it makes the test certificate); the nginx deploy test skipped"
    return None


def app_upload_limit_mb() -> int:
    """server.maxUploadSize in .streamlit/config.toml (Streamlit's default: 200)."""
    config = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    return int(config.get("server", {}).get("maxUploadSize", 200))


def proxy_upload_limit_mb(site: str) -> int:
    """client_max_body_size in the site file's /_stcore/upload_file/ location, in MB."""
    block = re.search(r"location \^~ /_stcore/upload_file/ \{(.*?)\n    \}", site, re.S)
    assert block, "deploy/nginx.conf: no `location ^~ /_stcore/upload_file/` block"
    size = re.search(r"client_max_body_size (\d+)m;", block.group(1))
    assert size, "deploy/nginx.conf: the upload location has no client_max_body_size in MB"
    return int(size.group(1))


def _substitute(text: str, old: str, new: str, count: int = 1) -> str:
    found = text.count(old)
    assert found == count, f"deploy/nginx.conf: expected {old!r} {count} time(s), found {found}"
    return text.replace(old, new)


def render_site(
    site: str, *, http_port: int, https_port: int, servers: dict[str, int], cert: Path, key: Path
) -> str:
    """The shipped site file with the test's ports and certificate (servers: a, b -> port)."""
    text = site
    text = _substitute(text, "    listen [::]:80;\n", "")
    text = _substitute(text, "    listen [::]:443 ssl http2;\n", "")
    text = _substitute(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _substitute(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = _substitute(
        text,
        "return 301 https://$host$request_uri;",
        f"return 301 https://$host:{https_port}$request_uri;",
    )
    text = _substitute(text, "server_name onboarding.example.com;", "server_name 127.0.0.1;", 2)
    text = _substitute(
        text,
        "ssl_certificate /etc/ssl/onboarding/fullchain.pem;",
        f"ssl_certificate {cert};",
    )
    text = _substitute(
        text,
        "ssl_certificate_key /etc/ssl/onboarding/privkey.pem;",
        f"ssl_certificate_key {key};",
    )
    production = {"a": "127.0.0.1:8501", "b": "127.0.0.1:8502"}
    assert set(servers) == set(production), servers
    placeholders = {name: f"@server-{name}@" for name in production}
    for name, address in production.items():  # two steps: 8501 -> 8502 must not chain
        text = _substitute(text, f"server {address}", f"server {placeholders[name]}", 2)
    for name, port in servers.items():
        text = text.replace(placeholders[name], f"127.0.0.1:{port}")
    # The test's one addition: which server answered.
    text = _substitute(
        text,
        "    add_header X-Content-Type-Options nosniff always;\n",
        "    add_header X-Content-Type-Options nosniff always;\n"
        "    add_header X-Upstream $upstream_addr always;\n",
    )
    return text


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def running_nginx(folder: Path, servers: dict[str, int]) -> Iterator[Proxy]:
    """deploy/nginx.conf in front of `servers` (route name -> port), until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder)
    http_port, https_port = _free_port(), _free_port()
    site = render_site(
        SITE.read_text(encoding="utf-8"),
        http_port=http_port,
        https_port=https_port,
        servers=servers,
        cert=cert,
        key=key,
    )
    (folder / "onboarding.conf").write_text(site, encoding="utf-8")
    # As root, nginx's workers would run as nobody, who cannot enter pytest's 0700
    # temporary folders (nginx buffers large responses there): keep them root here.
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(_MAIN_CONF.format(dir=folder, user=user), encoding="utf-8")
    check = subprocess.run(
        [str(NGINX), "-t", "-q", "-c", str(conf), "-p", str(folder)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, f"nginx -t refused the configuration:\n{check.stderr}"
    process = subprocess.Popen(
        [str(NGINX), "-c", str(conf), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.log").open("wb"),
        start_new_session=True,
    )
    proxy = Proxy(http_port, https_port, folder, process)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (_answers(https_port) and _answers(http_port)):
            if process.poll() is not None:
                raise AssertionError(
                    f"nginx exited with {process.returncode}:\n{proxy.error_log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx not answering after {STARTUP_TIMEOUT_S}s")
            time.sleep(0.1)
        yield proxy
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown: the master stops its workers
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
