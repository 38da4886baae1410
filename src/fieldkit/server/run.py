"""Starting the sync server: the certificate, the listening socket, uvicorn."""

from __future__ import annotations

import logging
import re
import socket
import sys
from collections.abc import Callable

import uvicorn

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.oserrors import os_reason
from fieldkit.server.app import build_app
from fieldkit.services import sync_tls
from fieldkit.services.sync_inbox import Inbox, InboxLimits
from fieldkit.storage.vault import Vault

_LISTEN = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")


def parse_listen(text: str) -> tuple[str, int]:
    match = _LISTEN.fullmatch(text.strip())
    if match is None or int(match.group(2)) > 65535:
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="--listen HOST:PORT")
    return match.group(1).strip("[]"), int(match.group(2))


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, made here so that port 0 (any free port) can be told."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise FieldkitError(
            ErrorCode.SYNC_LISTEN_FAILED, address=f"{host}:{port}", reason=os_reason(exc)
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(
    vault: Vault,
    listen: str,
    limits: InboxLimits,
    on_ready: Callable[[str, int, str], None],
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM: uvicorn finishes the running requests)."""
    host, port = parse_listen(listen)
    certificate = sync_tls.server_certificate(vault)
    assert certificate is not None
    inbox = Inbox(vault, certificate.sha256, limits)
    _log_to_stderr()
    sock = bind(host, port)
    config = uvicorn.Config(
        build_app(inbox),
        ssl_certfile=str(certificate.cert_path),
        ssl_keyfile=str(certificate.key_path),
        ssl_keyfile_password=certificate.key_password,
        access_log=False,  # request lines carry addresses; our own log says what matters
        log_config=None,
        server_header=False,
        date_header=False,
        lifespan="off",
        timeout_keep_alive=20,
        limit_concurrency=64,
        h11_max_incomplete_event_size=64 * 1024,
        # the importer reads while the body streams; bound what waits in memory per connection
        http="h11",
    )
    server = uvicorn.Server(config)
    on_ready(host, sock.getsockname()[1], certificate.sha256)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _log_to_stderr() -> None:
    logger = logging.getLogger("fieldkit.sync")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
