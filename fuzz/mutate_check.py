#!/usr/bin/env python3
#===- fuzz/mutate_check.py - hostile-input campaign over ringc ----------===#
#
# Runs ringc on a few hundred mutated specs and IR files (numbers replaced
# by 0, -1, huge, INT64_MAX, off-by-one values; keys dropped or repeated)
# and flags every outcome that breaks the promise "bad input gets a precise
# diagnostic": a crash (signal), a hang (timeout), an "LLVM ERROR", or a
# rejection whose stderr has no `error:` line naming a cause.
#
# Usage: fuzz/mutate_check.py RINGC N [--seed S] [--target T] [--timeout SEC]
# Exit status 0 when nothing was flagged; the flagged inputs are printed.
#
#===----------------------------------------------------------------------===#
import argparse
import glob
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMBERS = ["0", "-1", "1", "2", "3", "7", "9223372036854775807",
           "-9223372036854775808", "4611686018427387904", "94143178827",
           "8192", "1025", "65536", "4294967296"]
SPEC_KEYS = ["batch", "heads", "kv_heads", "seq", "head_dim", "ring",
             "head_groups", "dim_slices", "causal", "balance", "dtype", "scale"]
# Messages that say something failed but not what or where.
VAGUE = [r"lowering to the LLVM dialect failed$", r"without saying why"]


def mutate_spec(rng, seeds):
    items = rng.choice(seeds).split(",")
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.6 and items:
            i = rng.randrange(len(items))
            k = items[i].split("=")[0]
            items[i] = k + "=" + rng.choice(NUMBERS + ["1.0", "3e2", "1e39",
                                                       "nan", "zigzag", "f16"])
        elif op < 0.8:
            items.append(rng.choice(SPEC_KEYS) + "=" + rng.choice(NUMBERS))
        elif items:
            items.pop(rng.randrange(len(items)))
    return ",".join(items)


def mutate_ir(rng, text):
    nums = [m for m in re.finditer(r"(?<![A-Za-z_%#@0-9.])-?\d+(?![.\d])", text)]
    if not nums:
        return text
    for _ in range(rng.randint(1, 3)):
        m = rng.choice(nums)
        text = text[:m.start()] + rng.choice(NUMBERS) + text[m.end():]
        nums = [m for m in re.finditer(r"(?<![A-Za-z_%#@0-9.])-?\d+(?![.\d])", text)]
    return text


def judge(proc, timed_out):
    """Returns why an outcome is flagged, or None."""
    if timed_out:
        return "timeout"
    if proc.returncode < 0:
        return "killed by signal %d" % -proc.returncode
    err = proc.stderr
    if "LLVM ERROR" in err or "Assertion" in err or "Stack dump" in err:
        return "abort: " + err.strip().splitlines()[-1][:200]
    if proc.returncode == 0:
        return None
    lines = [l for l in err.splitlines() if "error:" in l]
    if not lines:
        return "rejected without an error: line"
    causes = [l for l in lines if not any(re.search(v, l) for v in VAGUE)]
    if not causes:
        return "only vague errors: " + lines[0][:200]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ringc")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", default="")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--keep", default="", help="directory for flagged IR inputs")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    specs = [open(f).read().strip()
             for f in sorted(glob.glob(os.path.join(ROOT, "fuzz/corpus/spec/*")))]
    irs = [open(f).read()
           for f in sorted(glob.glob(os.path.join(ROOT, "fuzz/corpus/pipeline/*")))]
    flagged = []
    counts = {"accepted": 0, "rejected": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            if i % 2 == 0:
                spec = mutate_spec(rng, specs)
                cmd = [args.ringc, "--spec", spec]
                what = "--spec " + spec
            else:
                path = os.path.join(tmp, "in%d.mlir" % i)
                with open(path, "w") as f:
                    f.write(mutate_ir(rng, rng.choice(irs)))
                cmd = [args.ringc, path]
                what = path
            if args.target:
                cmd += ["--target=" + args.target, "-o", os.path.join(tmp, "out")]
            else:
                cmd += ["--compile-to=overlapped"]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=args.timeout)
                why = judge(proc, False)
            except subprocess.TimeoutExpired:
                proc, why = None, "timeout"
            if proc is not None and proc.returncode == 0:
                counts["accepted"] += 1
            else:
                counts["rejected"] += 1
            if why:
                # An IR input is shown by its text (the file goes with tmp).
                shown = what if i % 2 == 0 else open(path).read()[:2000]
                if args.keep and i % 2:
                    os.makedirs(args.keep, exist_ok=True)
                    with open(os.path.join(args.keep, "flagged-%d.mlir" % i), "w") as f:
                        f.write(open(path).read())
                flagged.append((shown, why))
    for what, why in flagged:
        print("FLAGGED (%s):\n%s\n" % (why, what))
    print("mutate_check: %d inputs, %d accepted, %d rejected, %d flagged"
          % (args.n, counts["accepted"], counts["rejected"], len(flagged)))
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
