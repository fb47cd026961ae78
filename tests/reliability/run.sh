#!/usr/bin/env bash
# The reliability suite: attacks and faults (floods, descriptor exhaustion, slow clients, storms,
# kills, signals) against every strategy, each check with its figure.
#
#   tests/reliability/run.sh SRV [--quick] [--only SCENARIO[,SCENARIO]] [--strategies a,b]
#
# --quick is the CI tier (a few minutes); without it, the full tier (20-30 minutes on 2 cores).
# Prints `ok - ...`/`not ok - ...` lines and `N passed, M failed` last; exits 1 on a failure.
# Debian's python3 (the stdlib only) runs it: a pyenv python3 may lack modules.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 1 || ! -x $1 ]]; then
  echo "usage: $0 SRV [--quick] [--only SCENARIO] [--strategies a,b] (SRV: srv's binary)" >&2
  exit 2
fi
exec /usr/bin/python3 -u "$here/run.py" "$@"
