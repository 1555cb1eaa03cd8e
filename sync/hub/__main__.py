"""``python -m sync.hub …`` — see sync/hub/cli.py."""

from sync.hub.cli import PROG, cli

cli(prog_name=PROG)
