"""`python -m novelbench ...` is the `bench` command (handy in a checkout that is not installed)."""

import sys


def main() -> None:
    """The `bench` entry point: Ctrl-C while the command's modules load (torch takes seconds) is one
    line and exit code 130, as it is once a command runs."""
    try:
        from novelbench.cli import app
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(130)
    app(prog_name="bench")


if __name__ == "__main__":
    main()
