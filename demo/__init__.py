"""Demo and loopback helpers: a station beside a county hub on one machine.

Kept out of `station/` and `sync/` so a station in the field never loads them; the demo
command, the end-to-end tests and the benchmarks import them from here.
"""
