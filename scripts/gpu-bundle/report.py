#!/usr/bin/env python3
#===- report.py - results.json and results.md of a bundle run -------------===#
#
# Usage: report.py RESULTS_DIR INFO SKIPPED
#
# Reads RESULTS_DIR/cases.out (run.sh's tab-separated case results: id,
# stage, PASS/FAIL, seconds, ring-run's last line or the failure, note) and
# RESULTS_DIR/sdpa.json (PyTorch figures, if any); INFO is run.sh's
# "key=value;..." machine summary and SKIPPED its skipped cases, one a line.
# Writes RESULTS_DIR/results.json and RESULTS_DIR/results.md and prints the
# markdown.
#
#===----------------------------------------------------------------------===#
import json
import os
import re
import sys


def fields(line):
    """key=value pairs of a ring-run BENCH/PASS line."""
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


def main():
    out_dir, info, skipped = sys.argv[1], sys.argv[2], sys.argv[3]
    machine = dict(kv.split("=", 1) for kv in info.split(";") if "=" in kv)
    cases = []
    path = os.path.join(out_dir, "cases.out")
    if os.path.exists(path):
        for line in open(path):
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (6 - len(parts))
            cid, stage, verdict, secs, detail, note = parts[:6]
            cases.append({"id": cid, "stage": stage, "result": verdict,
                          "seconds": float(secs or 0), "detail": detail,
                          "note": note, **{k: v for k, v in fields(detail).items()}})
    sdpa = []
    path = os.path.join(out_dir, "sdpa.json")
    if os.path.exists(path):
        try:
            sdpa = json.load(open(path))
        except ValueError:
            pass

    md = [f"# ringc L5 run: {machine.get('gpu', '?')} (compute capability "
          f"{machine.get('cc', '?')}, driver {machine.get('driver', '?')}), "
          f"device {machine.get('device')}, {machine.get('seconds')} s", ""]
    if machine.get("ldd_ok") != "1":
        md += ["**Bundle self-check failed**: a binary's libraries resolve outside the bundle.", ""]
    md += ["## Correctness (L5) and compute-sanitizer", "",
           "| case | stage | result | s | detail |", "|---|---|---|---|---|"]
    for c in cases:
        if c["stage"] in ("l5", "nccl", "sanitize"):
            md.append(f"| {c['id']} | {c['stage']} | {c['result']} | {c['seconds']:.1f} | {c['detail']} |")
    if skipped.strip():
        md += ["", "Skipped: " + "; ".join(s for s in skipped.splitlines() if s)]

    # Benchmark: one row per shape, ringc per target beside PyTorch.
    shapes = {}
    for c in cases:
        if c["stage"] != "bench" or not c["note"]:
            continue
        target = c["id"].rsplit(".", 1)[-1] if c["id"].startswith("bench.") else "emu-small"
        row = shapes.setdefault(c["note"], {})
        row[f"ringc {target}"] = c
    for r in sdpa:
        key = f"{r['B']} {r['H']} {r['L']} {r['D']} {r['causal']}"
        shapes.setdefault(key, {})[f"torch {r['backend']}"] = r
    columns = sorted({col for row in shapes.values() for col in row},
                     key=lambda s: (not s.startswith("ringc"), s))

    def cell(v):
        if v is None:
            return "–"
        if "error" in v:
            return "error: " + v["error"][:40]
        if "ms" in v:  # PyTorch
            return f"{v['ms']:.3f} ms, {v['tflops']:.0f} TFLOP/s"
        if v.get("result") != "PASS":
            return "FAIL"
        ms = float(v.get("kernel_ms_per_iter", v.get("ms_per_iter", "nan")))
        timing = "kernel" if "kernel_ms_per_iter" in v else "entry"
        b, h, L, d, causal = (int(x) for x in v["note"].split())
        tflops = 4.0 * b * h * L * L * d / (2 if causal else 1) / ms / 1e9
        entry = f"; entry {float(v['ms_per_iter']):.3f} ms" if timing == "kernel" else ""
        return f"{ms:.3f} ms, {tflops:.1f} TFLOP/s ({timing}{entry})"

    if shapes:
        md += ["", "## Single-GPU kernel benchmark (P = 1), bf16",
               "", "TFLOP/s = 4·B·H·L²·D / time, halved when causal. ringc: "
               "`ring-run --bench --device=cuda`, kernel time by CUDA events "
               "where ring-run reports it (\"kernel\"), else the entry's "
               "wall time per call (\"entry\"). PyTorch: CUDA events around "
               "scaled_dot_product_attention.", "",
               "| B | H | L | D | causal | " + " | ".join(columns) + " |",
               "|---|---|---|---|---|" + "---|" * len(columns)]
        for key in sorted(shapes, key=lambda k: [int(x) for x in k.split()][::-1]):
            b, h, L, d, causal = key.split()
            md.append(f"| {b} | {h} | {L} | {d} | {causal} | " +
                      " | ".join(cell(shapes[key].get(col)) for col in columns) + " |")
    ring = [c for c in cases if c["stage"] == "ring"]
    for c in ring:
        p1 = next((x for x in cases if x["stage"] == "bench" and x["note"] == c["note"]
                   and x["id"].endswith(".sm_90a")), None)
        md += ["", "## Ring on one GPU", "",
               "| case | P | result | ms per call |", "|---|---|---|---|"]
        for x, p in ((p1, 1), (c, 2)):
            if x:
                md.append(f"| {x['id']} | {p} | {x['result']} | {x.get('ms_per_iter', '–')} |")

    passed = sum(c["result"] == "PASS" for c in cases)
    failed = len(cases) - passed + (machine.get("ldd_ok") != "1")
    md += ["", f"L5: {passed} passed, {failed} failed"]
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"machine": machine, "cases": cases, "sdpa": sdpa,
                   "skipped": [s for s in skipped.splitlines() if s],
                   "passed": passed, "failed": failed}, f, indent=1)
    print("\n".join(md[:-1]))


if __name__ == "__main__":
    main()
