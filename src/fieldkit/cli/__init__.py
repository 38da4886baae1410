"""The command line: `fieldkit [--profile DIR] [--json] COMMAND`.

With no command it starts the desktop program. Expected errors print one clear line on stderr and
exit 1; a traceback is shown only with FIELDKIT_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from fieldkit import __version__, i18n
from fieldkit.cli.common import add_global_options, global_parent
from fieldkit.domain.errors import FieldkitError
from fieldkit.i18n import _

# One module per command group; each has register(subparsers, parents).
COMMAND_MODULES = (
    "fieldkit.cli.profile",
    "fieldkit.cli.records",
    "fieldkit.cli.evidence",
    "fieldkit.cli.trust",
    "fieldkit.cli.bundles",
    "fieldkit.cli.reports",
    "fieldkit.cli.sync",
    "fieldkit.cli.counsel",
    "fieldkit.cli.reprisals",
    "fieldkit.cli.guide",
)

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _translate_argparse() -> None:
    # argparse looks its own words ("usage:", "options", its error texts) up through module-level
    # gettext functions at call time; pointing them at our catalogues translates them too.
    argparse._ = i18n.current().gettext  # type: ignore[attr-defined]
    argparse.ngettext = i18n.current().ngettext  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    _translate_argparse()
    parser = argparse.ArgumentParser(
        prog="fieldkit",
        description=_(
            "Encrypted documentation of detention visits, interviews and evidence. "
            "Run without a command to start the desktop program."
        ),
    )
    parser.add_argument("--version", action="version", version=f"fieldkit {__version__}")
    add_global_options(parser, suppress_defaults=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [global_parent()]
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that command group is not part of this build yet
            raise
        module.register(subparsers, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    i18n.set_language(_language_from_argv(argv) or i18n.language_from_environment())
    desktop = _desktop_options(argv)
    if desktop is not None:
        # No command: the desktop program, without importing every command group first.
        if desktop.lang:
            i18n.set_language(desktop.lang)
        from fieldkit.app import run_desktop

        return run_desktop(desktop.profile)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        i18n.set_language(args.lang)
    if not getattr(args, "command", None):
        from fieldkit.app import run_desktop

        return run_desktop(args.profile)
    try:
        result = args.handler(args)
        return int(result or 0)
    except FieldkitError as exc:
        _report_error(args, exc.to_dict(i18n.current()), exc.message(i18n.current()))
        hint = getattr(exc, "cli_hint", None)  # a command-line-only next step, set by a command
        if hint:
            print(f"fieldkit: {hint}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except KeyboardInterrupt:
        _report_error(args, {"code": "interrupted"}, _("Interrupted; nothing more was changed."))
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("FIELDKIT_DEBUG") == "1":
            raise
        # Never print the exception text: it may quote record content.
        message = _("Unexpected internal error ({kind}); run with FIELDKIT_DEBUG=1 for details.")
        _report_error(args, {"code": "internal"}, message.format(kind=type(exc).__name__))
        return EXIT_ERROR


class _NotDesktop(Exception):
    pass


class _GlobalOptionsOnly(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotDesktop(message)


def _desktop_options(argv: list[str]) -> argparse.Namespace | None:
    """The global options when ``argv`` holds nothing else (the desktop program starts); None
    when it names a command, asks for help or the version, or is wrong (the full parser then
    answers it with its usual messages)."""
    if any(token in ("-h", "--help", "--version") for token in argv):
        return None
    parser = _GlobalOptionsOnly(prog="fieldkit", add_help=False)
    add_global_options(parser, suppress_defaults=False)
    try:
        args, rest = parser.parse_known_args(argv)
    except _NotDesktop:
        return None
    return None if rest else args


def _report_error(args: argparse.Namespace, data: dict[str, object], message: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": data}, ensure_ascii=False))
    print(f"fieldkit: {message}", file=sys.stderr)


def _language_from_argv(argv: list[str]) -> str | None:
    # The language must be known before --help texts are built.
    for i, token in enumerate(argv):
        if token.startswith("--lang="):
            value = token.split("=", 1)[1]
            return value if value in i18n.SUPPORTED_LANGUAGES else None
        if token == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
            return value if value in i18n.SUPPORTED_LANGUAGES else None
    return None
