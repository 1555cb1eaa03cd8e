"""`python -m station …` — see station/cli.py."""

from station.cli import PROG, cli

cli(prog_name=PROG)
