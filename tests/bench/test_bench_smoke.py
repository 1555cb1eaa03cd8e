"""Keep `python -m bench` from rotting: one cheap figure at minimal size, and the report shape."""

from __future__ import annotations

import json

import pytest

from bench import __main__ as bench_main
from bench import sync_bench
from bench.link import LinkProxy


@pytest.mark.slow
def test_push_throughput_at_minimal_size(tmp_path) -> None:
    result = sync_bench.throughput(tmp_path, cases=10)
    assert result["events"] == 10 * 3 + result["cases"] - 10  # three per clone, one per real seed case
    assert result["exactly_once"] is True
    assert result["events_per_s"] > 0
    assert 0 < result["bytes_per_event"] < 5000


def test_report_lists_every_figure_with_target_and_verdict(tmp_path, monkeypatch) -> None:
    fake = {"events_per_s": 20000, "vs_naive": 30.0, "vs_ceiling": 0.3, "bytes_per_event": 120.0}
    monkeypatch.setattr(sync_bench, "run", lambda *a, **k: fake)
    out = tmp_path / "bench.json"
    assert bench_main.main(["--quick", "--only", "sync", "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    assert set(figures) == {"sync_events_per_s", "sync_vs_naive", "sync_vs_ceiling", "sync_bytes_per_event"}
    assert all(f["pass"] is True and f["target"] is not None for f in figures.values())


def test_link_proxy_counts_bytes_both_ways() -> None:
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def echo() -> None:
        conn, _ = server.accept()
        conn.sendall(conn.recv(100) * 2)
        conn.close()

    threading.Thread(target=echo, daemon=True).start()
    proxy = LinkProxy(server.getsockname()[1], rate_bps=64_000, latency_s=0.05)
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        client.sendall(b"x" * 40)
        received = b""
        while len(received) < 80:
            received += client.recv(100)
    proxy.close()
    server.close()
    assert (proxy.up.bytes, proxy.down.bytes) == (40, 80)
