#!/bin/sh
# Runs node >= 24.9 (see ensure-node.sh) with that node first on PATH, so that
# the processes it starts (test servers, the sample) run on it too.
set -eu
bin=$(sh "$(dirname "$0")/ensure-node.sh")
PATH="$bin:$PATH"
export PATH
exec node "$@"
