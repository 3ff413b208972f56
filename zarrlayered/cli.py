"""The ``zarrlayered`` command line (also ``python -m zarrlayered``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zarrlayered", description="Zarr V2 and V3 from the command line.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="write a small hierarchy to ./demo.zarr and print its tree")
    demo.add_argument("path", nargs="?", default="demo.zarr", help="where to write (default: demo.zarr)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            from zarrlayered.demo import run_demo

            print(run_demo(args.path))
            return 0
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"zarrlayered {args.command}: error: {exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command!r}")  # argparse has already refused unknown commands
