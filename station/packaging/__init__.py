"""The offline installer for a station PC: wheelhouse (wheelhouse.py), folder and scripts (build.py)."""
