"""Runs the reliability scenarios (test_*.py beside this file) over srv's strategies.

    /usr/bin/python3 run.py SRV [--quick] [--only SCENARIO] [--strategies a,b]

Prints one `ok - ...` / `not ok - ...` line per check, with its figure, and `N passed, M failed`
last; exits 1 if any check failed. See harness.py for what a scenario is.
"""

import argparse
import glob
import importlib.util
import os
import resource
import signal
import subprocess
import sys
import time
import traceback

from harness import Harness

HERE = os.path.dirname(os.path.abspath(__file__))


def load_scenarios(only):
    scenarios = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        name = os.path.basename(path)[len("test_"):-len(".py")]
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(f"test_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        scenarios.append((name, module))
    return scenarios


def list_strategies(binary):
    out = subprocess.run([binary, "--list-strategies"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("srv")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--strategies", default="", help="comma-separated; default: every one")
    args = parser.parse_args()
    binary = os.path.abspath(args.srv)
    only = [s for s in args.only.split(",") if s]
    strategies = [s for s in args.strategies.split(",") if s] or list_strategies(binary)
    harness = Harness(binary, args.quick)
    # The storms and slowloris hold hundreds of sockets at once: allow what the hard limit does.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # SIGTERM/SIGINT end the run through KeyboardInterrupt, so every srv is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    passed = failed = 0
    scenarios = load_scenarios(only)
    if only and len(scenarios) != len(only):
        print(f"not ok - unknown scenario in --only {args.only}")
        failed += 1
    try:
        for name, module in scenarios:
            for strategy in strategies:
                start = time.monotonic()
                try:
                    results = module.run(harness, strategy, args.quick)
                except KeyboardInterrupt:
                    raise
                except Exception as error:  # noqa: BLE001 - reported as a failed check
                    results = None
                    print(f"not ok - {strategy} {name}: {type(error).__name__}: {error}")
                    traceback.print_exc(file=sys.stdout)
                    failed += 1
                for result in results or []:
                    if result.skipped:
                        print(f"ok - {strategy} {name} {result.name} # SKIP {result.figure}")
                    elif result.ok:
                        print(f"ok - {strategy} {name} {result.name}: {result.figure}")
                    else:
                        print(f"not ok - {strategy} {name} {result.name}: {result.figure}")
                    passed += result.ok
                    failed += not result.ok
                print(f"# {strategy} {name}: {time.monotonic() - start:.1f} s", flush=True)
    except KeyboardInterrupt:
        harness.kill_all()
        print("not ok - interrupted")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
