#!/usr/bin/env python3
"""What parked connections cost: N clients WAIT on the test protocol tests/plugin/wait_poke.cc
(built as build/tests/libwaitpoke.so), then srv's CPU time is read from /proc over a window
while nothing happens, then one POKE wakes them all and the time until the last is woken is
measured.

  loadtest/parked.py [--srv build/bin/srv] [--plugin build/tests/libwaitpoke.so]
                     [--strategies epoll,thread] [--connections 1000] [--seconds 5]

Loopback only; every wait is bounded. Prints one line per strategy."""

import argparse
import os
import re
import selectors
import socket
import subprocess
import sys
import time


def group_stats(pgid):
    """(/proc/PID/stat fields after the name, PID) of every live process in group `pgid`."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the name: state, ppid, pgrp, ...
            yield fields, pid


def group_cpu_ticks(pgid):
    """utime + stime of every live process in group `pgid` (threads included)."""
    return sum(int(fields[11]) + int(fields[12]) for fields, _ in group_stats(pgid))


def group_rss_kib(pgid):
    total = 0
    for _, pid in group_stats(pgid):
        try:
            with open(f"/proc/{pid}/status") as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            continue
    return total


def read_line(sock, deadline):
    data = b""
    while not data.endswith(b"\n"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("srv closed the connection")
        data += chunk
    return data.decode().strip()


def ask(sock, line, deadline):
    sock.sendall(line.encode() + b"\n")
    return read_line(sock, deadline)


def start(args, strategy):
    server = subprocess.Popen(
        [args.srv, "--strategy", strategy, "--protocol", os.path.abspath(args.plugin),
         "--listen", "127.0.0.1:0", "--max-connections", str(args.connections + 16)]
        + (["--workers", str(args.connections + 4)] if strategy == "prefork" else [])
        + (["--threads", str(args.connections + 4)] if strategy == "threadpool" else []),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        match = re.search(r"listening on \S+:(\d+)", line)
        if match:
            return server, int(match.group(1))
    server.kill()
    raise RuntimeError(f"srv --strategy {strategy} did not start")


def measure(args, strategy):
    server, port = start(args, strategy)
    clients = []
    try:
        for _ in range(args.connections):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(b"WAIT parked\n")
            clients.append(client)
        control = socket.create_connection(("127.0.0.1", port), timeout=5)
        deadline = time.monotonic() + 30
        while ask(control, "WAITERS parked", deadline) != str(args.connections):
            if time.monotonic() > deadline:
                raise RuntimeError("not every client is waiting")
            time.sleep(0.05)
        time.sleep(1)  # let the start-up settle
        before = group_cpu_ticks(server.pid)
        time.sleep(args.seconds)
        ticks = group_cpu_ticks(server.pid) - before
        rss = group_rss_kib(server.pid)
        start_wake = time.monotonic()
        poked = ask(control, "POKE parked", start_wake + 10)
        selector = selectors.DefaultSelector()
        for client in clients:
            client.setblocking(False)
            selector.register(client, selectors.EVENT_READ)
        woken = 0
        while woken < len(clients) and time.monotonic() < start_wake + 10:
            for key, _ in selector.select(timeout=1):
                if key.fileobj.recv(64) == b"WOKE parked\n":
                    woken += 1
                selector.unregister(key.fileobj)
        wake_ms = (time.monotonic() - start_wake) * 1000
        print(f"{strategy}: {args.connections} parked connections: {ticks} CPU ticks in "
              f"{args.seconds} s ({os.sysconf('SC_CLK_TCK')}/s), RSS {rss // 1024} MiB; "
              f"'{poked}' woke {woken} in {wake_ms:.0f} ms", flush=True)
        return ticks
    finally:
        for client in clients:
            client.close()
        os.killpg(server.pid, 9)
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--srv", default="build/bin/srv")
    parser.add_argument("--plugin", default="build/tests/libwaitpoke.so")
    parser.add_argument("--strategies", default="epoll,thread")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    for strategy in args.strategies.split(","):
        measure(args, strategy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
