#!/usr/bin/env python3
"""Blocking lists and pub/sub under every strategy, beside redis-server, in one run:

  wakeup   one process LPUSHes, another is parked in BLPOP on the same key: the time from just
           before the LPUSH is sent to the BLPOP reply read (the pushed value is the send time,
           CLOCK_MONOTONIC, which both processes share); p50/p99 over --rounds round trips.
           Before each LPUSH the pusher polls INFO clients until the waiter is really blocked, so
           every round measures a wake-up, never an immediate pop. Also a PING round trip.
  fanout   N subscribers SUBSCRIBE one channel (N from --fanout), one publisher PUBLISHes
           --deliveries / N messages with 64 in flight (or fewer: it stops publishing after
           --publish-seconds); delivered messages per second (from the first PUBLISH to the
           last byte at the last subscriber), the server's CPU and context switches per
           delivered message. Every
           byte is counted and every PUBLISH reply checked.
  parked   --parked clients parked in BLPOP: the server's CPU over --seconds of quiet, then the
           time one LPUSH of that many elements takes to wake them all.

  loadtest/blocking.py [--srv build/bin/srv] [--targets fork,...,libevent,redis-server]
                       [--phases wakeup,fanout,parked] [--rounds 2000] [--fanout 100,1000]
                       [--deliveries 2000000] [--publish-seconds 5] [--parked 1000]
                       [--seconds 5] [--no-pin]
                       [--json FILE]

Every measurement gets a fresh server on a free loopback port. prefork and threadpool get a
worker for every connection of the measurement (--workers/--threads N + 8), every srv
--max-connections N + 16; a point srv refuses (--check-config exits 2: select past FD_SETSIZE)
is skipped with srv's reason. With 2+ CPUs the server is pinned to CPU 0 and the clients to
CPU 1. Every wait is bounded (--limit seconds per measurement). CPU comes from /proc (every
thread of every process of the server's process group, schedstat nanoseconds)."""

import argparse
import array
import json
import os
import resource
import selectors
import subprocess
import sys
import time

from resp_client import Conn, RespError, blocked_clients, encode
from server_group import Server, group_pss_kib, refusal

kTicksPerSecond = os.sysconf("SC_CLK_TCK")
kWindow = 64  # PUBLISHes in flight
kPayload = b"p" * 16
kChannel = b"fanout"


def wait_until(predicate, limit, what):
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.001)


def percentile(sorted_values, fraction):
    """Nearest rank."""
    index = max(0, min(len(sorted_values) - 1, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


# ---------------------------------------------------------------------------------------------
# Measurements


def blpop_loop(port, rounds, key, out_fd, client_cpu):
    """The waiter (a forked child): BLPOP `rounds` times; writes each latency (ns) to out_fd."""
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    latencies = array.array("q")
    conn = Conn(port, 10)
    for _ in range(rounds):
        conn.send("BLPOP", key, "0")
        _, value = conn.reply()
        latencies.append(time.monotonic_ns() - int(value))
    with os.fdopen(out_fd, "wb") as out:
        out.write(latencies.tobytes())


def measure_wakeup(args, server):
    key, warmup = "wakeup", 100
    rounds = args.rounds + warmup
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_fd)
        try:
            blpop_loop(server.port, rounds, key, write_fd, args.client_cpu)
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        pusher = Conn(server.port, 10)
        deadline = time.monotonic() + args.limit
        for _ in range(rounds):
            while blocked_clients(pusher) < 1:  # the waiter is parked: this LPUSH will wake it
                if time.monotonic() > deadline:
                    raise RuntimeError("wakeup: the waiter is not blocked")
            pusher.call("LPUSH", key, time.monotonic_ns())
        with os.fdopen(read_fd, "rb") as source:
            latencies = array.array("q", source.read())
        pings = []
        for _ in range(args.rounds):
            start = time.monotonic_ns()
            pusher.call("PING")
            pings.append(time.monotonic_ns() - start)
    finally:
        os.waitpid(child, 0)
    if len(latencies) != rounds:
        raise RuntimeError(f"wakeup: the waiter saw {len(latencies)} of {rounds} wake-ups")
    wakes = sorted(latencies[warmup:])
    pings.sort()
    return {"rounds": args.rounds, "p50_us": percentile(wakes, 0.5) / 1000,
            "p99_us": percentile(wakes, 0.99) / 1000, "max_us": wakes[-1] / 1000,
            "ping_p50_us": percentile(pings, 0.5) / 1000}


def subscribe_all(server, subscribers):
    conns = [Conn(server.port, 10) for _ in range(subscribers)]
    for conn in conns:
        conn.send("SUBSCRIBE", kChannel)
    for conn in conns:
        if conn.reply() != [b"subscribe", kChannel, 1]:
            raise RuntimeError("fanout: SUBSCRIBE was not confirmed")
        conn.sock.setblocking(False)
    return conns


def pump(publisher, subs, messages, expected_reply, frame, stop_publishing, deadline):
    """Publishes up to `messages` with kWindow in flight, stopping early at `stop_publishing`,
    and reads every subscriber until each has every message published (or `deadline`).
    Returns (messages published, bytes received per subscriber)."""
    selector = selectors.DefaultSelector()
    received = {}
    for conn in subs:
        selector.register(conn.sock, selectors.EVENT_READ)
        received[conn.sock] = 0
    publisher.sock.setblocking(False)
    selector.register(publisher.sock, selectors.EVENT_READ)
    request = encode("PUBLISH", kChannel, kPayload)
    sent, replies, total = 0, b"", 0
    while (sent < messages and time.monotonic() < stop_publishing) or \
            len(replies) < len(expected_reply) * sent or total < len(frame) * sent * len(subs):
        if time.monotonic() > deadline:
            break
        in_flight = sent - len(replies) // len(expected_reply)
        if sent < messages and in_flight < kWindow and time.monotonic() < stop_publishing:
            batch = min(kWindow - in_flight, messages - sent)
            publisher.sock.setblocking(True)
            publisher.sock.sendall(request * batch)
            publisher.sock.setblocking(False)
            sent += batch
        for key, _ in selector.select(timeout=0.1):
            chunk = key.fileobj.recv(262144)
            if not chunk:
                raise RuntimeError("fanout: the server closed a connection")
            if key.fileobj is publisher.sock:
                replies += chunk
            else:
                received[key.fileobj] += len(chunk)
                total += len(chunk)
    if replies != expected_reply * sent:
        raise RuntimeError(f"fanout: PUBLISH replies {replies[:60]!r}... are not "
                           f"{sent} x {expected_reply!r}")
    return sent, received


def measure_fanout(args, server, subscribers):
    messages = max(1, args.deliveries // subscribers)
    subs = subscribe_all(server, subscribers)
    publisher = Conn(server.port, 10)
    wait_until(lambda: publisher.call("PUBSUB", "NUMSUB", kChannel)[1] == subscribers, 30,
               "every subscription")
    frame = encode("message", kChannel, kPayload)  # what each subscriber gets, per message
    expected_reply = b":%d\r\n" % subscribers
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    switches_before, cpu_before, start = server.switches(), server.cpu_ns(), time.monotonic()
    sent, received = pump(publisher, subs, messages, expected_reply, frame,
                          start + args.publish_seconds, start + args.limit)
    elapsed = time.monotonic() - start
    cpu_ns = server.cpu_ns() - cpu_before
    switches = server.switches() - switches_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for conn in subs + [publisher]:
        conn.close()
    short = [n for n in received.values() if n != len(frame) * sent]
    if short:
        raise RuntimeError(f"fanout: {len(short)} subscribers short after {args.limit} s")
    delivered = sent * subscribers
    client_cpu = (usage.ru_utime + usage.ru_stime - usage_before.ru_utime -
                  usage_before.ru_stime)
    return {"subscribers": subscribers, "messages": sent, "delivered": delivered,
            "seconds": elapsed, "per_second": delivered / elapsed,
            "server_cpu_us_per_delivery": cpu_ns / 1000 / delivered,
            "server_cpu_percent": cpu_ns / 1e9 / elapsed * 100,
            "server_switches_per_delivery": switches / delivered,
            "client_cpu_percent": client_cpu / elapsed * 100}


def measure_parked(args, server):
    clients = [Conn(server.port, 10) for _ in range(args.parked)]
    try:
        for conn in clients:
            conn.send("BLPOP", "parked", "0")
        control = Conn(server.port, 10)
        wait_until(lambda: blocked_clients(control) == args.parked, 30, "every client parked")
        time.sleep(1)  # let the start-up settle
        before, before_ns = server.cpu_ticks(), server.cpu_ns()
        time.sleep(args.seconds)
        ticks, cpu_ns = server.cpu_ticks() - before, server.cpu_ns() - before_ns
        pss_mib = group_pss_kib(server.process.pid) / 1024
        start = time.monotonic()
        control.call("LPUSH", "parked", *range(args.parked))
        for conn in clients:
            if conn.reply()[0] != b"parked":
                raise RuntimeError("parked: a wrong BLPOP reply")
        wake_ms = (time.monotonic() - start) * 1000
        return {"clients": args.parked, "seconds": args.seconds, "cpu_ticks": ticks,
                "ticks_per_second": kTicksPerSecond, "cpu_ms": cpu_ns / 1e6, "pss_mib": pss_mib,
                "wake_all_ms": wake_ms}
    finally:
        for conn in clients:
            conn.close()


# ---------------------------------------------------------------------------------------------
# The run


def run_point(args, target, phase, size):
    """One measurement on a fresh server: a dict, or {"skipped": reason}."""
    connections = {"wakeup": 2, "fanout": size, "parked": args.parked}[phase] + 2
    reason = refusal(args, target, connections)
    if reason:
        return {"skipped": reason}
    server = Server(args, target, connections)
    try:
        if phase == "wakeup":
            return measure_wakeup(args, server)
        if phase == "fanout":
            return measure_fanout(args, server, size)
        return measure_parked(args, server)
    finally:
        server.stop()


def describe(phase, r):
    if "skipped" in r:
        return f"skipped: {r['skipped']}"
    if phase == "wakeup":
        return (f"LPUSH -> BLPOP reply p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us, "
                f"max {r['max_us']:.0f} us over {r['rounds']} (PING p50 {r['ping_p50_us']:.0f} us)")
    if phase == "fanout":
        return (f"{r['subscribers']} subscribers: {r['per_second'] / 1000:.0f}k deliveries/s "
                f"({r['delivered']} in {r['seconds']:.2f} s), server "
                f"{r['server_cpu_us_per_delivery']:.2f} us CPU and "
                f"{r['server_switches_per_delivery']:.2f} context switches per delivery "
                f"({r['server_cpu_percent']:.0f}% busy), client {r['client_cpu_percent']:.0f}%")
    return (f"{r['clients']} parked: {r['cpu_ms']:.1f} ms of CPU ({r['cpu_ticks']} ticks) in "
            f"{r['seconds']} s, PSS {r['pss_mib']:.0f} MiB; one LPUSH woke all in "
            f"{r['wake_all_ms']:.0f} ms")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cell(result, text):
    """A table cell: `text(result)` if it was measured, else why not."""
    if result is None:
        return "not run"
    if "skipped" in result:
        return "skipped (FD_SETSIZE)" if "FD_SETSIZE" in result["skipped"] else "skipped"
    if "failed" in result:
        return "FAILED"
    return text(result)


def markdown(results, fanout_sizes):
    header = ["server", "wake-up p50 / p99", "PING p50"]
    header += [f"PUBLISH to {n}: deliveries/s (CPU per delivery)" for n in fanout_sizes]
    header += ["parked BLPOP: CPU over the window"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for target, phases in results.items():
        w = phases.get("wakeup")
        row = [f"`{target}`", cell(w, lambda r: f"{r['p50_us']:.0f} / {r['p99_us']:.0f} µs"),
               cell(w, lambda r: f"{r['ping_p50_us']:.0f} µs")]
        for n in fanout_sizes:
            row.append(cell(phases.get(f"fanout{n}"), lambda r: f"{r['per_second'] / 1000:.0f}k "
                            f"({r['server_cpu_us_per_delivery']:.2f} µs)"))
        row.append(cell(phases.get("parked"),
                        lambda r: f"{r['cpu_ms']:.1f} ms in {r['seconds']:g} s"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--srv", default="build/bin/srv")
    parser.add_argument("--targets", default="fork,prefork,thread,threadpool,select,poll,epoll,"
                                             "libevent,redis-server")
    parser.add_argument("--phases", default="wakeup,fanout,parked")
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--fanout", default="100,1000")
    parser.add_argument("--deliveries", type=int, default=2000000)
    parser.add_argument("--parked", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--publish-seconds", type=float, default=5,
                        help="fanout: stop publishing after this long, even short of "
                             "--deliveries (then wait for those published to arrive)")
    parser.add_argument("--limit", type=float, default=60, help="seconds per measurement")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    pin = not args.no_pin and os.cpu_count() >= 2
    args.server_cpu, args.client_cpu = (0, 1) if pin else (None, None)
    if args.client_cpu is not None:
        os.sched_setaffinity(0, {args.client_cpu})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fanout_sizes = [int(n) for n in args.fanout.split(",") if n]
    phases = args.phases.split(",")
    points = ([("wakeup", 0)] if "wakeup" in phases else []) + \
        [("fanout", n) for n in fanout_sizes if "fanout" in phases] + \
        ([("parked", 0)] if "parked" in phases else [])
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"{'server on CPU 0, clients on CPU 1' if pin else 'not pinned'}, load average "
          f"{loadavg()}", flush=True)
    results, failed = {}, False
    for target in args.targets.split(","):
        results[target] = {}
        for phase, size in points:
            name = phase + (str(size) if size else "")
            try:
                result = run_point(args, target, phase, size)
            except (RuntimeError, RespError, OSError, subprocess.SubprocessError) as e:
                result, failed = {"failed": str(e)}, True
                print(f"{target}: {name}: FAILED: {e}", flush=True)
            else:
                print(f"{target}: {name}: {describe(phase, result)}", flush=True)
            results[target][name] = result
    print(f"# load average at the end {loadavg()}\n")
    print(markdown(results, fanout_sizes))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"command": " ".join(sys.argv), "results": results}, out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
