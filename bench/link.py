"""A TCP proxy on loopback that counts every byte and can play a thin mobile link.

Counting happens at the TCP payload level, so request and response headers are included —
what a metered SIM card would bill. With ``rate_bps`` and ``latency_s`` set, each direction is
one shared link (all connections queue on it): a chunk takes ``len * 8 / rate_bps`` seconds to
send once the link is free, then arrives ``latency_s`` later; a new connection first waits one
round trip (the TCP handshake).
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class _Direction:
    rate_bps: float | None
    latency_s: float
    busy_until: float = 0.0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def schedule(self, size: int, arrived: float, not_before: float) -> float:
        """When a chunk that arrived at `arrived` is delivered at the far end."""
        with self.lock:
            self.bytes += size
            if not self.rate_bps:
                return max(arrived, not_before) + self.latency_s
            start = max(arrived, self.busy_until, not_before)
            self.busy_until = start + size * 8 / self.rate_bps
            return self.busy_until + self.latency_s


class LinkProxy:
    """Forward 127.0.0.1:<port> to 127.0.0.1:<upstream_port>, counting and optionally shaping."""

    def __init__(self, upstream_port: int | list[int], rate_bps: float | None = None, latency_s: float = 0.0) -> None:
        # several ports: each new connection goes to the next one (a county hub's workers behind
        # one address, as a load balancer would spread them)
        self.upstream_ports = list(upstream_port) if isinstance(upstream_port, list) else [upstream_port]
        self.shaped = bool(rate_bps or latency_s)
        self.up = _Direction(rate_bps, latency_s)
        self.down = _Direction(rate_bps, latency_s)
        self.connections = 0
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, name="link-proxy", daemon=True).start()

    @property
    def total_bytes(self) -> int:
        return self.up.bytes + self.down.bytes

    def reset(self) -> None:
        self.up.bytes = self.down.bytes = 0
        self.connections = 0

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            accepted = time.monotonic()
            try:
                port = self.upstream_ports[(self.connections - 1) % len(self.upstream_ports)]
                server = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
            handshake = accepted + 2 * self.up.latency_s if self.shaped else 0.0
            self._pipe(client, server, self.up, handshake)
            self._pipe(server, client, self.down, 0.0)

    def _pipe(self, src: socket.socket, dst: socket.socket, direction: _Direction, not_before: float) -> None:
        if not self.shaped:
            threading.Thread(target=self._pump, args=(src, dst, direction), daemon=True).start()
            return
        line: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
        threading.Thread(target=self._read_shaped, args=(src, direction, line, not_before), daemon=True).start()
        threading.Thread(target=self._deliver, args=(dst, line), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, direction: _Direction) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with direction.lock:
                    direction.bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _half_close(dst)

    @staticmethod
    def _read_shaped(src: socket.socket, direction: _Direction, line: queue.Queue, not_before: float) -> None:
        try:
            while True:
                data = src.recv(4096)  # small chunks: the link paces smoothly, not in 64 KB jumps
                if not data:
                    break
                line.put((direction.schedule(len(data), time.monotonic(), not_before), data))
        except OSError:
            pass
        finally:
            line.put(None)

    @staticmethod
    def _deliver(dst: socket.socket, line: queue.Queue) -> None:
        try:
            while True:
                entry = line.get()
                if entry is None:
                    break
                at, data = entry
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _half_close(dst)


def _half_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        sock.close()
