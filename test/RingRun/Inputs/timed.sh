#!/bin/sh
# usage: timed.sh MAX_SECONDS COMMAND...
# Runs COMMAND (stdout and stderr together on stdout), then fails if it took
# MAX_SECONDS or more, printing "timed.sh: took N s"; otherwise exits with
# COMMAND's status. Tests use it to bound how long a failing job takes to
# end (no hang, no rank left waiting past the timeout).
max=$1
shift
start=$(date +%s)
"$@" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
if [ "$took" -ge "$max" ]; then
  echo "timed.sh: took $took s, the bound is $max s"
  exit 124
fi
exit $rc
