"""``python -m convcost``, and the ``convcost`` console script (``convcost.__main__:main``).

The command line is imported here, inside :func:`main`, so that Ctrl-C while it loads (the
first few hundred milliseconds) ends in one line and exit 130 like Ctrl-C at any later time:
``import convcost`` itself loads nothing but the version until a name is used.
``convcost --version`` loads nothing else either: not typer, not yaml, not even dataclasses.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        if sys.argv[1:] == ["--version"]:
            from convcost.cli.streams import print_version  # noqa: PLC0415

            raise SystemExit(print_version())
        # imported here, not at the top, so that Ctrl-C while they load is caught
        from convcost.cli.entry import main as run  # noqa: PLC0415
    except KeyboardInterrupt:
        if sys.stderr is not None:
            sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None
    run()


if __name__ == "__main__":
    main()
