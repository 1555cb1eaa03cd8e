"""A seeded, randomised fault suite: `python -m bench.faults --runs 100 --seed 1 --json out.json`.

Each run builds a fresh station (a copy of one template database) and a fresh county hub on
loopback, takes a random number of applications offline, injects one fault at a seeded random
point of a sync round, then syncs without the fault until the queue drains (bounded), and
counts: events the station committed that never reached the hub (lost), events stored twice
at the hub (duplicated), events still not acknowledged (stuck) and events set aside.
Same seed, same faults at the same points: a failing run can be replayed. See docs/reliability.md.
"""
