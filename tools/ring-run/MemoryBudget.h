//===- MemoryBudget.h - what a ring-run needs, what a node has --*- C++ -*-===//
//
// This file declares ring-run's memory estimate: the bytes each rank needs
// for its local tensors and, with --check, what rank 0 adds (the global
// inputs, the gathered outputs and the float64 reference), and the memory a
// node has available. ring-run refuses a run whose estimate exceeds what is
// available, with both figures, instead of dying in bad_alloc.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_MEMORYBUDGET_H
#define RINGRUN_MEMORYBUDGET_H

#include "Manifest.h"

#include <cstdint>
#include <string>

namespace ringrun {

/// Estimated bytes of one rank.
struct MemoryNeed {
  uint64_t local = 0;     ///< local tensors (and their float copies)
  uint64_t checkRoot = 0; ///< with a full --check, rank 0's extra
};

/// The estimate for `m` under --check (full when checkRows == 0) or --bench;
/// for a layer artifact (spec.d_model) the layer's tensors: X, Y, the
/// weights, and with --check rank 0's global inputs and float64 reference of
/// the whole layer (LayerCheck.h).
/// Saturates at UINT64_MAX rather than overflowing.
MemoryNeed estimateMemory(const Manifest &m, bool check, int64_t checkRows,
                          int worldSize);

/// Bytes available to this process: the least of MemAvailable
/// (/proc/meminfo), the cgroup v2 limit minus usage, and the environment
/// variable RINGRUN_MEMORY_LIMIT (bytes; a cap for shared machines). Sets
/// `source` to which one bounds it. Returns false with `error` set when
/// RINGRUN_MEMORY_LIMIT is not an integer in [1, 2^62].
bool availableMemory(uint64_t &bytes, std::string &source, std::string &error);

/// "1.50 GiB" and the like.
std::string formatBytes(uint64_t bytes);

} // namespace ringrun

#endif // RINGRUN_MEMORYBUDGET_H
