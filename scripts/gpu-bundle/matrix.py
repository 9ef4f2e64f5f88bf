#!/usr/bin/env python3
#===- matrix.py - the L5 case list of the GPU bundle ----------------------===#
#
# Usage: matrix.py TEST_DIR OUT_DIR [--small]
#
# Reads the L5 lit tests (test/Execution/gpu-cuda*.test that REQUIRE a CUDA
# GPU) and writes OUT_DIR/artifacts.tsv (id, spec, target: what
# gpu-bundle.sh compiles, plus the test's extra ringc options joined by
# commas, or "-") and OUT_DIR/cases.tsv (what run.sh runs). The L5
# matrix is taken from the tests themselves, so the bundle cannot drift from
# the suite: every `ringc --spec S --target=T -o %t.X` and every
# `%mpirun -np N ring-run %t.X --check|--bench ...` in them. Each sm_80
# artifact gets an sm_90a twin (the target of the H100/H200), run where the
# GPU is a Hopper. Added to the tests' matrix: the compute-sanitizer runs,
# the single-GPU kernel benchmark shapes and one ring comparison.
#
# cases.tsv columns: id, stage (l5 | nccl | sanitize | bench | ring), ranks,
# GPUs needed, 1 if Hopper only, rehearsal (1: in the --small set too, 2:
# in the --small set only, 0: not in it), time
# limit in seconds, artifact id, ring-run arguments (run.sh adds --device),
# and a stage-specific note (sanitizer tool; bench "B H L D causal").
#
#===----------------------------------------------------------------------===#
import os
import re
import sys

# The ringc options after `-o %t.X` (e.g. --grad-comm=bf16) travel with the
# artifact, so the bundle compiles exactly what the test compiles.
SPEC_RE = re.compile(r'ringc --spec "([^"]+)" --target=(\S+) -o %t\.([\w.-]+)'
                     r'((?:\s+--[\w-]+(?:=[^\s"&|;]+)?)*)')
RUN_RE = re.compile(r'%mpirun -np (\d+) ring-run %t\.([\w.-]+) (--(?:check|bench)[^|;]*?)\s*2>&1')

# The rehearsal (`run.sh --device=emu --small`): one case of each kind of
# kernel and schedule that the PTX emulator runs in seconds.
SMALL = {"cuda.p1", "cuda.p2", "cuda.m2", "cuda.tail-f16", "cuda.sm90"}
# compute-sanitizer: one small case per kernel kind (single-stage attention,
# ring merges on the Hopper target, dim-slice kernels).
SANITIZE = [("cuda.p1", "sm_80"), ("cuda.p2", "sm_90a"), ("nccl.m2", "sm_80")]
LIMIT_CHECK, LIMIT_CHECK_8, LIMIT_SANITIZE, LIMIT_BENCH = 20, 40, 90, 30


def spec_ranks(spec):
    """ring x a2a x head_groups x dim_slices of a spec string."""
    keys = dict(kv.split("=", 1) for kv in spec.split(","))
    ranks = 1
    for k in ("ring", "a2a", "head_groups", "dim_slices"):
        ranks *= int(keys.get(k, 1))
    return ranks


def main():
    test_dir, out_dir = sys.argv[1], sys.argv[2]
    small_only = "--small" in sys.argv[3:]
    artifacts = {}  # id -> (spec, target, options)
    cases = []
    specs = {}      # "file.X" -> (spec, target, options)

    def artifact(key, target):
        spec, _, options = specs[key]
        aid = f"{key}.{target}"
        artifacts[aid] = (spec, target, options)
        return aid

    for name in sorted(os.listdir(test_dir)):
        if not (name.startswith("gpu-cuda") and name.endswith(".test")):
            continue
        text = open(os.path.join(test_dir, name)).read()
        requires = re.findall(r"^REQUIRES:(.*)$", text, re.M)
        if not any("cuda-gpu" in r for r in requires):
            continue  # e.g. the no-driver test
        # Ids are namespaced by file (gpu-cuda.test -> cuda, gpu-cuda-grad.test
        # -> cuda-grad, gpu-cuda-nccl.test -> nccl), so two files may use the
        # same %t name; NCCL cases need one GPU per rank.
        kind_of_file = "nccl" if "nccl" in name else "cuda"
        stem = "nccl" if kind_of_file == "nccl" else name[len("gpu-"):-len(".test")]
        for line in text.splitlines():
            if not line.startswith("RUN:"):
                continue
            m = SPEC_RE.search(line)
            if m:
                options = ",".join(m.group(4).split()) or "-"
                specs[f"{stem}.{m.group(3)}"] = (m.group(1), m.group(2), options)
                continue
            m = RUN_RE.search(line)
            if not m:
                continue
            ranks, key, args = int(m.group(1)), f"{stem}.{m.group(2)}", m.group(3)
            args = re.sub(r"\s*--device=\S+", "", args).strip()
            target = specs[key][1]
            kind = "check" if args.startswith("--check") else "bench"
            for t in ([target] if target != "sm_80" else ["sm_80", "sm_90a"]):
                aid = artifact(key, t)
                small = key in SMALL and (t == target)
                cid = f"{aid}" + ("" if kind == "check" else ".bench")
                limit = LIMIT_CHECK_8 if ranks > 4 else LIMIT_CHECK
                gpus = ranks if kind_of_file == "nccl" else 1
                cases.append((cid, "l5" if kind_of_file == "cuda" else "nccl", ranks,
                              gpus, int(t == "sm_90a"), int(small), limit,
                              aid, args, kind))

    for key, target in SANITIZE:
        aid = artifact(key, target)
        ranks = spec_ranks(specs[key][0])
        for tool in ("memcheck", "racecheck"):
            cases.append((f"{aid}.{tool}", "sanitize", ranks, 1,
                          int(target == "sm_90a"), 0, LIMIT_SANITIZE, aid,
                          "--check --comm=mpi", tool))

    # Kernel benchmark (P = 1): FlashAttention's shapes, 16k tokens per batch
    # (B = 16384 / L) and a model width of 2048 (H = 2048 / D).
    # sm_80 (the mma.sync kernel on the same chip) at d = 128 only, for time.
    for target, dims in (("sm_90a", (64, 128, 256)), ("sm_80", (128,))):
        for d in dims:
            for L in (4096, 16384):
                for causal in (0, 1):
                    b, h = 16384 // L, 2048 // d
                    aid = f"bench.d{d}.L{L // 1024}k.{'causal' if causal else 'full'}.{target}"
                    artifacts[aid] = (f"batch={b},heads={h},seq={L},head_dim={d},"
                                      f"ring=1,causal={causal}", target, "-")
                    cases.append((aid, "bench", 1, 1, int(target == "sm_90a"), 0,
                                  LIMIT_BENCH, aid, "--bench --iters 10 --comm=mpi",
                                  f"{b} {h} {L} {d} {causal}"))
    # One ring case: P = 2 ranks sharing one GPU (--comm=mpi) against P = 1.
    aid = "ring.d128.L16k.causal.P2.sm_90a"
    artifacts[aid] = ("batch=1,heads=16,seq=16384,head_dim=128,ring=2,causal=1",
                      "sm_90a", "-")
    cases.append((aid, "ring", 2, 1, 1, 0, LIMIT_BENCH, aid,
                  "--bench --iters 10 --comm=mpi", "1 16 16384 128 1"))
    # The rehearsal's benchmark stage: the smallest L5 artifact, on emu.
    cases.append(("cuda.p1.sm_80.bench-small", "bench", 1, 1, 0, 2, LIMIT_BENCH,
                  "cuda.p1.sm_80", "--bench --iters 1 --comm=mpi", "1 2 64 64 1"))

    if small_only:
        cases = [c for c in cases if c[5] in (1, 2)]
        used = {c[7] for c in cases}
        artifacts = {a: v for a, v in artifacts.items() if a in used}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "artifacts.tsv"), "w") as f:
        for aid, (spec, target, options) in sorted(artifacts.items()):
            f.write(f"{aid}\t{spec}\t{target}\t{options}\n")
    with open(os.path.join(out_dir, "cases.tsv"), "w") as f:
        for c in cases:
            f.write("\t".join(str(x) for x in c) + "\n")


if __name__ == "__main__":
    main()
