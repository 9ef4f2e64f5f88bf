//===- Calibrate.h - measure this machine for the cost model ---*- C++ -*-===//
//
// This file declares `ring-run --calibrate -o FILE.json`: it measures what
// ringc's cost model (passes/CostModel.h) needs to know about the machine
// the MPI ranks run on — the generated kernels' GFLOP/s at a few sizes, the
// memory bandwidth of one rank, MPI point-to-point (ring shift) and
// all-to-all bandwidth and latency — and writes a cluster file that
// `ringc --cluster=FILE.json` reads (format: passes/ClusterModel.h).
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_CALIBRATE_H
#define RINGRUN_CALIBRATE_H

#include <functional>
#include <string>

namespace ringrun {

/// Collective over MPI_COMM_WORLD: runs the artifact in `dir` with
/// `ring-run --bench` semantics (warm-up, then timed iterations) and returns
/// the milliseconds per iteration of the slowest rank, on every rank; on
/// failure returns a negative number and sets `error` (on every rank).
using BenchArtifactFn =
    std::function<double(const std::string &dir, std::string &error)>;

/// Collective: measures and, on rank 0, writes the cluster file `outPath`.
/// `ringcPath` compiles the kernels' artifacts (empty: the ringc next to
/// this executable). Needs an even number of ranks, at least 2. Returns the
/// process exit code; rank 0 prints `ring-run: CALIBRATED FILE ...` or
/// `ring-run: FAIL <why>`.
int runCalibrate(const std::string &outPath, const std::string &ringcPath,
                 const BenchArtifactFn &bench);

} // namespace ringrun

#endif // RINGRUN_CALIBRATE_H
