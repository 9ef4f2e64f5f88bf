"""Checks ring-run's OVERHEAD line (test/RingRun/bench-overhead.test).

Reads ring-run --bench output on stdin and prints `overhead: ok` when the
line's numbers agree with each other: 0 <= ms_per_call < entry_ms,
kernel_ms > 0, ms_per_call = entry_ms - kernel_ms (to the printed
rounding) and return_ms <= entry_ms; otherwise
what disagrees.
"""
import re
import sys

text = sys.stdin.read()
m = re.search(r"OVERHEAD ms_per_call=(\S+) entry_ms=(\S+) kernel_ms=(\S+) "
              r"return_ms=(\S+) rank=(\d+)", text)
if not m:
    sys.exit("overhead: no OVERHEAD line in:\n" + text)
o, e, k, r = (float(m.group(i)) for i in range(1, 5))
problems = []
if not 0 <= o < e:
    problems.append(f"ms_per_call {o} not in [0, entry_ms {e})")
if not k > 0:
    problems.append(f"kernel_ms {k} is not positive")
if abs(o - (e - k)) > 2e-4:
    problems.append(f"ms_per_call {o} != entry_ms {e} - kernel_ms {k}")
if r > e + 2e-4:
    problems.append(f"return_ms {r} > entry_ms {e}")
print("overhead: " + ("; ".join(problems) if problems else "ok"))
