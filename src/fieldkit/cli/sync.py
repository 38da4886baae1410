"""Sync commands: ``hub serve`` (coordinator) and ``sync`` (monitor)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from fieldkit.cli.common import StderrProgress, emit, open_vault
from fieldkit.i18n import _

PROXY_ENV = "FIELDKIT_SYNC_PROXY"


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    hub = subparsers.add_parser(
        "hub",
        parents=parents,
        help=_("the organisation's sync server, and the people of a hub on PostgreSQL"),
    )
    hub_sub = hub.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    from fieldkit.cli.hub import register_people

    register_people(hub_sub, parents)
    serve = hub_sub.add_parser(
        "serve",
        parents=parents,
        help=_("receive bundles from monitors over HTTPS and answer with receipts"),
    )
    serve.add_argument(
        "--listen",
        required=True,
        metavar="HOST:PORT",
        help=_("address and port to listen on, e.g. 0.0.0.0:8443 (port 0: any free port)"),
    )
    serve.add_argument(
        "--max-bundle-size",
        type=int,
        default=8 * 1024,
        metavar="MIB",
        help=_("refuse bundles larger than this many MiB (default 8192)"),
    )
    serve.add_argument(
        "--requests-per-minute",
        type=int,
        default=120,
        metavar="N",
        help=_("requests each device may make per minute (default 120)"),
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help=_("drop an upload that sends nothing for this long (default 120); it can resume"),
    )
    serve.add_argument(
        "--import-wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help=_(
            "how long an upload that arrived whole waits while another bundle is imported "
            "(default 30); then it is kept for the sender's next attempt"
        ),
    )
    serve.set_defaults(handler=cmd_hub_serve)

    sync = subparsers.add_parser(
        "sync",
        parents=parents,
        help=_(
            "send every bundle the organisation has not acknowledged to its server and apply "
            "the receipt (monitor profile)"
        ),
    )
    sync.add_argument(
        "--proxy",
        default=None,
        metavar="URL",
        help=_(
            "connect through this proxy, e.g. socks5://127.0.0.1:9050 for Tor "
            "(default: $FIELDKIT_SYNC_PROXY, else a direct connection)"
        ),
    )
    sync.add_argument(
        "--no-export",
        action="store_true",
        help=_("only deliver bundles already waiting; do not write a new one"),
    )
    sync.set_defaults(handler=cmd_sync)


def cmd_hub_serve(args: argparse.Namespace) -> int:
    from fieldkit.domain.errors import ErrorCode, FieldkitError
    from fieldkit.server.run import serve
    from fieldkit.services.sync_inbox import InboxLimits

    if (
        args.max_bundle_size <= 0
        or args.requests_per_minute <= 0
        or args.idle_timeout <= 0
        or args.import_wait <= 0
    ):
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="limits must be positive")
    limits = InboxLimits(
        max_bundle_bytes=args.max_bundle_size * 1024 * 1024,
        requests_per_minute=args.requests_per_minute,
        burst=max(1, min(30, args.requests_per_minute)),
        idle_timeout=args.idle_timeout,
        import_wait=args.import_wait,
    )

    def ready(host: str, port: int, fingerprint: str) -> None:
        shown = f"[{host}]" if ":" in host else host
        if getattr(args, "json", False):
            import json

            print(
                json.dumps(
                    {"listening": f"https://{shown}:{port}", "certificate_sha256": fingerprint}
                ),
                flush=True,
            )
            return
        print(
            _("Listening on https://{host}:{port}, certificate SHA-256 {fingerprint}.").format(
                host=shown, port=port, fingerprint=fingerprint
            ),
            flush=True,
        )
        print(
            _(
                "Monitors need a card with this address: fieldkit org public --out org.pub "
                "--sync-url https://PUBLIC-ADDRESS:{port}"
            ).format(port=port),
            flush=True,
        )

    with open_vault(args) as vault:
        serve(vault, args.listen, limits, ready)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from fieldkit.services import sync as sync_service

    proxy = args.proxy or os.environ.get(PROXY_ENV) or None
    with open_vault(args) as vault:
        result = sync_service.sync(
            vault,
            proxy=proxy,
            export=not args.no_export,
            progress=StderrProgress(_("Sending")) if sys.stderr.isatty() else None,
        )
    lines = result.summary_lines()
    emit(args, {"ok": True, **result.to_dict()}, lines)
    return 0
