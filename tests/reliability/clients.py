"""Clients for the reliability scenarios: probes with latencies, many sockets read at once,
pipelined exchanges. harness.py re-exports every name here; its docstring is the API."""

import contextlib
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass

PROBE_REQUESTS = {
    "echo": (b"probe\n", b"probe\n"),
    "http": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None),  # None: any whole 200 response
    "resp": (b"PING\r\n", b"+PONG\r\n"),
}


def connect(port, timeout=2.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def http_response_complete(data):
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    length = 0
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= head_end + 4 + length


def read_until(sock, predicate, limit=1 << 20, timeout=2.0):
    """Reads until predicate(data) is true, the peer closes, limit bytes or timeout."""
    deadline = time.monotonic() + timeout
    data = b""
    while not predicate(data) and len(data) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    return data


def answered(protocol, data):
    sent, expected = PROBE_REQUESTS[protocol]
    if expected is None:
        return data.startswith(b"HTTP/1.1 200") and http_response_complete(data)
    return data == expected


def request(port, protocol, timeout=2.0):
    sent, expected = PROBE_REQUESTS[protocol]
    try:
        with connect(port, timeout) as sock:
            sock.sendall(sent)
            if expected is None:
                data = read_until(sock, http_response_complete, timeout=timeout)
            else:
                data = read_until(sock, lambda d: len(d) >= len(expected), timeout=timeout)
    except OSError:
        return False
    return answered(protocol, data)


@dataclass
class Latencies:
    samples: list
    failures: int

    def percentile(self, p):
        if not self.samples:
            return float("inf")
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self):
        return self.percentile(50)

    @property
    def p99(self):
        return self.percentile(99)

    def __str__(self):
        return (f"p50 {self.p50:.2f} ms, p99 {self.p99:.2f} ms over {len(self.samples)}"
                f" (failed {self.failures})")


def probe(port, protocol, n=100, timeout=2.0):
    """n requests, each on a new connection (so accepting is measured too): latencies in ms."""
    samples = []
    failures = 0
    for _ in range(n):
        start = time.monotonic()
        if request(port, protocol, timeout):
            samples.append((time.monotonic() - start) * 1000)
        else:
            failures += 1
    return Latencies(samples, failures)


def open_clients(port, n, timeout=2.0):
    """n connected sockets (closed by the caller); connects one after the other."""
    return [connect(port, timeout) for _ in range(n)]


def close_all(socks, reset=False):
    for sock in socks:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            sock.close()


class Fanout:
    """Reads many sockets at once (one selector) and says, per socket, what came back."""

    def __init__(self, socks):
        self.selector = selectors.DefaultSelector()
        self.data = {}
        self.closed = set()
        for sock in socks:
            sock.setblocking(False)
            self.data[sock] = b""
            self.selector.register(sock, selectors.EVENT_READ)

    def poll(self, timeout):
        """One round: reads what is readable within timeout. Returns the sockets that changed."""
        changed = []
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                self.data[sock] += chunk
            else:
                self.closed.add(sock)
                self.selector.unregister(sock)
            changed.append(sock)
        return changed

    def forget(self, sock):
        if sock not in self.closed:
            self.selector.unregister(sock)
            self.closed.add(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def close(self, reset=False):
        self.selector.close()
        close_all(self.data, reset)


def exchange(sock, payload, expected_len, timeout):
    """Sends payload from a thread while reading expected_len bytes here (a pipelined client
    that reads as it writes, so srv's backpressure never deadlocks it). Returns what was read."""
    sender = threading.Thread(target=_send_quietly, args=(sock, payload), daemon=True)
    sender.start()
    data = read_until(sock, lambda d: len(d) >= expected_len, limit=expected_len,
                      timeout=timeout)
    sender.join(1.0)
    return data


def _send_quietly(sock, payload):
    with contextlib.suppress(OSError):
        sock.sendall(payload)
