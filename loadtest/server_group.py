"""A server under measurement (srv under one strategy, or redis-server) in its own process group,
and what /proc says about every process and thread of that group."""

import os
import re
import socket
import subprocess
import tempfile
import time

from parked import group_cpu_ticks
from resp_client import Conn


def group_pids(pgid):
    """The live processes of group `pgid`."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:  # state, ppid, pgrp
                    yield pid
        except OSError:
            continue


def group_task_sum(pgid, read):
    """`read(task dir)` summed over every thread of every live process of group `pgid`."""
    total = 0
    for pid in group_pids(pgid):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                total += read(f"/proc/{pid}/task/{tid}")
        except OSError:
            continue
    return total


def cpu_ns_of(task):
    """schedstat: nanoseconds on a CPU (exact, where clock ticks are samples)."""
    with open(f"{task}/schedstat") as f:
        return int(f.read().split()[0])


def switches_of(task):
    """Voluntary and involuntary context switches."""
    with open(f"{task}/status") as f:
        return sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)


def group_pss_kib(pgid):
    """Proportional set size of every process in group `pgid`: shared pages (the keyspace, the
    code of forked children) split between their sharers rather than counted in each."""
    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += int(re.search(r"^Pss:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
    return total


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin_to(cpu):
    return (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None


class Server:
    """srv under one strategy, or redis-server, in its own process group."""

    def __init__(self, args, target, connections):
        self.target = target
        self.log = tempfile.NamedTemporaryFile(prefix=f"blocking-{target}-", suffix=".log")
        if target == "redis-server":
            self.port = free_port()
            command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--maxclients",
                       str(connections + 100)]
        else:
            command = [args.srv] + srv_arguments(target, connections)
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True,
                                        preexec_fn=pin_to(args.server_cpu))
        try:
            self._wait_listening(target)
        except Exception:
            self.stop()
            raise

    def _wait_listening(self, target):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{target} exited: {open(self.log.name).read()[-500:]}")
            if target == "redis-server":
                try:
                    Conn(self.port, 1).close()
                    return
                except OSError:
                    pass
            else:
                match = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(self.log.name).read())
                if match:
                    self.port = int(match.group(1))
                    return
            time.sleep(0.02)
        raise RuntimeError(f"{target} did not start listening within 10 s")

    def cpu_ticks(self):
        return group_cpu_ticks(self.process.pid)

    def cpu_ns(self):
        return group_task_sum(self.process.pid, cpu_ns_of)

    def switches(self):
        return group_task_sum(self.process.pid, switches_of)

    def stop(self):
        try:
            os.killpg(self.process.pid, 9)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.log.close()


def srv_arguments(strategy, connections):
    sized = {"prefork": ["--workers", str(connections + 8)],
             "threadpool": ["--threads", str(connections + 8)]}.get(strategy, [])
    return (["--strategy", strategy, "--protocol", "resp", "--listen", "127.0.0.1:0",
             "--max-connections", str(connections + 16)] + sized)


def refusal(args, target, connections):
    """srv's reason for refusing this size (its --check-config message), or None."""
    if target == "redis-server":
        return None
    check = subprocess.run([args.srv, "--check-config"] + srv_arguments(target, connections),
                           capture_output=True, text=True, timeout=10)
    return check.stderr.strip().splitlines()[-1] if check.returncode != 0 else None
