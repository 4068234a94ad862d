"""`python -m novelbench ...` is the `bench` command (handy in a checkout that is not installed)."""

from novelbench.cli import app

app(prog_name="bench")
