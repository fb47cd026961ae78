"""The harness shared by the reliability scenarios (tests/reliability/test_*.py).

run.sh runs run.py, which imports every test_*.py here and calls, for each strategy that
`srv --list-strategies` prints (or those given with --strategies):

    run(h: Harness, strategy: str, quick: bool) -> list[Result]

A scenario that only makes sense for some strategies returns [skip(name, reason)] for the
others. An exception out of run() is one failed result carrying its message, and every srv the
scenario started is stopped (killed if it must be) before the next one starts.

API (everything bounded in time; loopback only):

    Result(name, ok, figure)        one check: `ok - STRATEGY NAME: FIGURE` when printed
    check(name, ok, figure)         the same, as a function; skip(name, reason) a skipped one
    h.binary, h.quick               srv's path; the tier
    with h.server(strategy, protocol="echo", settings={...}, nofile=None,
                  listeners=None) as srv:
        settings: top-level YAML keys merged into the config (nested dicts become sections),
            e.g. {"max_connections": 20, "limits": {"output_high_water": "64KiB"}};
        protocol: a name, or {"name": "http", "options": {...}};
        listeners: a list of protocols for several listeners (srv.ports follows their order);
        nofile: RLIMIT_NOFILE for srv (soft and hard).
      srv.port, srv.ports, srv.pid  the first port, every port, the leader's pid (= its group)
      srv.proc, srv.config_path     the subprocess.Popen; the YAML file it was started with
      srv.pids()                    every process of srv's process group
      srv.counts()                  Counts(processes, threads, fds, zombies) of the group
      srv.cpu_ticks()               user+system clock ticks of the group, reaped children included
      srv.rss_kib()                 sum of the group's resident set sizes
      srv.pss_kib()                 sum of the group's proportional set sizes (shared pages once)
      srv.log()                     what srv wrote to stderr so far
      srv.stop(timeout=15)          SIGTERM, wait; returns the exit code (None: had to SIGKILL)
      srv.wait_counts(baseline, timeout)  polls until counts() matches baseline; returns the last
    connect(port, timeout=2)        a blocking socket with a timeout
    request(port, protocol, timeout=2)  one request on a new connection; True if answered right
    probe(port, protocol, n, timeout=2) -> Latencies (.p50, .p99 in ms; .failures counted)
    PROBE_REQUESTS[protocol]        (bytes sent, bytes expected) of the probe request;
                                    answered(protocol, data) says whether data answers it
    read_until(sock, predicate, limit, timeout)  reads until predicate(data) holds
    http_response_complete(data)    True once data holds one whole HTTP response
    open_clients(port, n)           n connected sockets; close_all(socks, reset=False) closes
                                    them (reset: SO_LINGER 0, so the peer gets an RST)
    Fanout(socks)                   reads many sockets from one selector: poll(timeout) returns
                                    the sockets that changed; .data[sock] what each received,
                                    .closed those at EOF or reset; forget(sock); close(reset)
    exchange(sock, payload, n, timeout)  sends payload from a thread while reading n bytes
    wait_for(predicate, timeout, step)  polls; returns the predicate's last value
    h.accepts_settings(settings)    whether srv's loader knows these keys (--check-config)
    h.make_config(strategy, protocol, settings, listeners) -> dict; to_yaml(dict) -> text
                                    (the config h.server writes: log_level info, for the
                                    listening line, and listeners on 127.0.0.1:0)
    TICKS_PER_SECOND
"""

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

# The clients are part of the harness's API (see above); they live in their own file.
from clients import (PROBE_REQUESTS, Fanout, Latencies, answered, close_all, connect, exchange,
                     http_response_complete, open_clients, probe, read_until, request)

__all__ = [
    "Counts", "Harness", "Result", "Server", "TICKS_PER_SECOND", "check", "group_pids", "skip",
    "to_yaml", "wait_for",
    "PROBE_REQUESTS", "Fanout", "Latencies", "answered", "close_all", "connect", "exchange",
    "http_response_complete", "open_clients", "probe", "read_until", "request",
]

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 10.0
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Result:
    name: str
    ok: bool
    figure: str
    skipped: bool = False


def check(name, ok, figure):
    return Result(name, bool(ok), figure)


def skip(name, reason):
    return Result(name, True, reason, skipped=True)


@dataclass
class Counts:
    processes: int
    threads: int
    fds: int
    zombies: int

    def __str__(self):
        return (f"{self.processes} processes, {self.threads} threads, {self.fds} fds, "
                f"{self.zombies} zombies")


def wait_for(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    return value


# ---- YAML: the few shapes srv's config needs ---------------------------------------------------

def _yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value == "" or any(c in value for c in ":#{}[],'\"")):
        return '"' + value.replace('"', '\\"') + '"'
    return str(value)


def _yaml(value, indent):
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml(item, indent + 2))
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    else:
        for item in value:
            sub = _yaml(item, indent + 2)
            lines.append(f"{pad}- {sub[0].lstrip()}")
            lines.extend(sub[1:])
    return lines


def to_yaml(config):
    return "\n".join(_yaml(config, 0)) + "\n"


def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


# ---- /proc ------------------------------------------------------------------------------------

def _stat_fields(pid):
    """Fields after the command name of /proc/PID/stat (index 0 is the state), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def group_pids(pgid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields and int(fields[2]) == pgid:
                pids.append(int(entry))
    return pids


def _count_entries(path):
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


# ---- The server -------------------------------------------------------------------------------

class Server:
    def __init__(self, binary, workdir, config, nofile):
        self.binary = binary
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "srv.yaml")
        self.log_path = os.path.join(workdir, "srv.log")
        with open(self.config_path, "w") as f:
            f.write(to_yaml(config))
        self.listener_count = len(config["listeners"])
        self.nofile = nofile
        self.proc = None
        self.ports = []

    def _preexec(self):
        if self.nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def start(self):
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config_path], stdin=subprocess.DEVNULL,
            stdout=log, stderr=log, process_group=0, preexec_fn=self._preexec, close_fds=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.ports = [int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
                          for line in self.log().splitlines() if "listening on " in line]
            if len(self.ports) >= self.listener_count:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"srv exited with {self.proc.returncode}: {self.log()[-800:]}")
            time.sleep(0.02)
        else:
            raise RuntimeError(f"srv printed no listening line in {START_TIMEOUT}s")
        # The listening line is printed before workers and threads are all up: let them start.
        time.sleep(0.2)

    @property
    def pid(self):
        return self.proc.pid

    @property
    def port(self):
        return self.ports[0]

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def pids(self):
        return group_pids(self.proc.pid)

    def counts(self):
        processes = threads = fds = zombies = 0
        for pid in self.pids():
            fields = _stat_fields(pid)
            if fields is None:
                continue
            processes += 1
            if fields[0] == "Z":
                zombies += 1
                continue
            threads += _count_entries(f"/proc/{pid}/task")
            fds += _count_entries(f"/proc/{pid}/fd")
        return Counts(processes, threads, fds, zombies)

    def wait_counts(self, baseline, timeout):
        last = [None]

        def settled():
            last[0] = self.counts()
            return last[0] == baseline
        wait_for(settled, timeout, 0.1)
        return last[0]

    def cpu_ticks(self):
        total = 0
        for pid in self.pids():
            fields = _stat_fields(pid)
            if fields is None:
                continue
            total += int(fields[11]) + int(fields[12])
            if pid == self.proc.pid:
                total += int(fields[13]) + int(fields[14])  # reaped children (fork)
        return total

    def rss_kib(self):
        total = 0
        for pid in self.pids():
            fields = _stat_fields(pid)
            if fields is not None:
                total += int(fields[21]) * PAGE_KIB
        return total

    def pss_kib(self):
        """Sum of the group's proportional set sizes: shared pages (a fork child's copy-on-write
        pages, the keyspace mapping) are counted once in all, not once per process."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
        return total

    def stop(self, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


class Harness:
    def __init__(self, binary, quick):
        self.binary = binary
        self.quick = quick
        self._running = []

    def make_config(self, strategy, protocol="echo", settings=None, listeners=None):
        protocols = listeners if listeners is not None else [protocol]
        config = {
            "strategy": strategy,
            "log_level": "info",
            "shutdown_timeout": "5s",
            "listeners": [{"listen": "127.0.0.1:0", "protocol": p} for p in protocols],
        }
        return _merge(config, settings or {})

    @contextlib.contextmanager
    def server(self, strategy, protocol="echo", settings=None, nofile=None, listeners=None):
        config = self.make_config(strategy, protocol, settings, listeners)
        with tempfile.TemporaryDirectory(prefix="srv-reliability.") as workdir:
            srv = Server(self.binary, workdir, config, nofile)
            self._running.append(srv)
            try:
                srv.start()
                yield srv
            finally:
                if srv.proc is not None and srv.proc.poll() is None:
                    srv.kill()
                # A fork child or prefork worker left behind would be a finding, but must not
                # outlive the test either.
                for pid in group_pids(srv.pid) if srv.proc else []:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self._running.remove(srv)

    def kill_all(self):
        for srv in list(self._running):
            srv.kill()

    def accepts_settings(self, settings):
        """True if srv's config loader knows these keys (for settings newer than the binary)."""
        config = self.make_config("epoll", "echo", settings)
        with tempfile.TemporaryDirectory(prefix="srv-reliability.") as workdir:
            path = os.path.join(workdir, "check.yaml")
            with open(path, "w") as f:
                f.write(to_yaml(config))
            done = subprocess.run([self.binary, "--config", path, "--check-config"],
                                  capture_output=True, timeout=10)
        return done.returncode == 0
