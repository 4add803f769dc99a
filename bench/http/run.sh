#!/usr/bin/env bash
# bench/http: jpkid over HTTP on loopback, next to its peers (openssl ocsp,
# openssl speed). Run by `make bench`; by hand:
#
#   bench/http/run.sh build/release            # about two minutes
#   bench/http/run.sh build/release --quick    # 3 s a load run (smoke test)
#
# Prints one table; exits non-zero when any step failed (an error answer,
# a socket error under load, a status that differs between the responders).
# Everything else (setup, load, checks) is in bench.py next to this file.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$here/bench.py" "$@"
