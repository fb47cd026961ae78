"""10 000 pipelined requests on one connection, answered whole and in order: HTTP keep-alive
POST /echo with numbered bodies, and RESP INCR whose replies must count 1..N."""

import time

import harness as h

kRequests = 10000


def http_round(port):
    bodies = [b"%d" % i for i in range(kRequests)]
    requests = b"".join(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(b), b) for b in bodies)
    expected = _http_expected(port, bodies)
    with h.connect(port) as sock:
        data = h.exchange(sock, requests, len(expected), timeout=30.0)
    return data == expected, len(data), len(expected)


def _http_expected(port, bodies):
    # One response, read from srv itself, tells its exact framing; the others differ by body.
    with h.connect(port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n@@@")
        sample = h.read_until(sock, h.http_response_complete)
    head = sample[:sample.index(b"\r\n\r\n") + 4]
    return b"".join(head.replace(b"Content-Length: 3", b"Content-Length: %d" % len(b)) + b
                    for b in bodies)


def resp_round(port):
    key = b"pipeline:%d" % time.monotonic_ns()
    command = b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(key), key)
    expected = b"".join(b":%d\r\n" % i for i in range(1, kRequests + 1))
    with h.connect(port) as sock:
        data = h.exchange(sock, command * kRequests, len(expected), timeout=30.0)
    return data == expected, len(data), len(expected)


def run(harness, strategy, quick):
    results = []
    with harness.server(strategy, listeners=["http", "resp"]) as srv:
        for name, round_trip, port in (("http", http_round, srv.ports[0]),
                                       ("resp", resp_round, srv.ports[1])):
            start = time.monotonic()
            same, got, want = round_trip(port)
            took = time.monotonic() - start
            results.append(h.check(f"{kRequests} pipelined {name} requests answered in order",
                                   same, f"{got} of {want} bytes byte-exact in {took:.2f} s"))
        code = srv.stop()
    results.append(h.check("SIGTERM exits 0", code == 0, f"exit {code}"))
    return results
