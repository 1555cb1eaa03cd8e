"""`python -m station …` — see station/cli.py."""

from station.cli import main

raise SystemExit(main())
