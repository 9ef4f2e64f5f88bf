//===- ClusterModel.h - the machine a plan is costed for -------*- C++ -*-===//
//
// This file declares ClusterModel: what the cost model (CostModel.h) needs
// to know about a cluster — how many devices share a node, the bandwidth and
// latency of the links inside and between nodes, device memory, and the
// sustained throughput of ringc's own kernels per target. It comes from a
// preset (dgx-h100, dgx-a100, cpu-local) or a JSON file (`ring-run
// --calibrate` writes one for this machine); the format is documented at
// parseClusterJson.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_CLUSTERMODEL_H
#define RINGC_PASSES_CLUSTERMODEL_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir::ring {

/// One kind of link: per-direction bandwidth of one device's port and the
/// one-message latency.
struct LinkModel {
  double bandwidth = 0; ///< bytes/s, per direction, per device
  double latency = 0;   ///< seconds per message
  /// Seconds to move `bytes` in `messages` messages over this link.
  double time(double bytes, double messages = 1) const {
    return messages * latency + bytes / bandwidth;
  }
};

/// Sustained throughput of ringc's generated kernels on one device of a
/// target (not the hardware peak).
struct KernelModel {
  /// The fused block-attention kernel (ring.block_attention), FLOP/s with
  /// FLOPs = 4·q·k·D per visible (query, key) pair.
  double attentionFlops = 0;
  /// On a target whose default attention kernel is wgmma (sm_90a): the
  /// mma.sync kernel's FLOP/s, which --gpu-kernel=auto runs where wgmma
  /// cannot take the blocks (a head_dim that is not a multiple of 16). 0:
  /// the same as attentionFlops.
  double mmaAttentionFlops = 0;
  /// The dim-slice kernels (ring.block_scores, ring.block_softmax_v), FLOP/s
  /// with FLOPs = 2·q·k·Dl each.
  double sliceFlops = 0;
  /// Memory bandwidth seen by the fp32 merge/fill/finalize kernels, bytes/s.
  double memoryBandwidth = 0;
  /// The layer's projection GEMMs (ring.project, ring.out_project), FLOP/s
  /// with FLOPs = 2·M·N·K; 0 when unknown (a layer cannot be explained).
  double gemmFlops = 0;
  /// Where the numbers come from (printed by --explain).
  std::string source;
};

struct ClusterModel {
  std::string name;
  int64_t nodes = 1;
  int64_t devicesPerNode = 1;
  /// Devices that compute at once on a node: ranks beyond it share them
  /// (cpu-local: the cores; a GPU node: its GPUs). 0 means devicesPerNode.
  int64_t computeUnitsPerNode = 0;
  LinkModel intraNode, interNode;
  /// All-to-all over the intra-node link, when measured separately
  /// (bandwidth 0: use intraNode).
  LinkModel intraAllToAll;
  double deviceMemory = 0; ///< bytes per device
  /// Whether a transfer progresses while the rank computes. False where
  /// nothing drives it between MPI calls (MPI over shared memory without a
  /// progress thread): then an overlapped shift costs as much as a blocking
  /// one.
  bool commOverlapsCompute = true;
  /// The target --explain assumes when none is given.
  std::string defaultTarget;
  llvm::StringMap<KernelModel> kernels; ///< per target name

  int64_t maxRanks() const { return nodes * devicesPerNode; }
  int64_t computeUnits() const {
    return computeUnitsPerNode > 0 ? computeUnitsPerNode : devicesPerNode;
  }
  /// The kernel model of `target`; "sm_NN[a]" falls back to any entry of
  /// the same sm number, then to "gpu".
  const KernelModel *kernelsFor(llvm::StringRef target) const;
};

/// The preset names, for help and errors: "dgx-h100, dgx-a100, cpu-local".
llvm::StringRef clusterPresetNames();

/// A preset by name, or an error naming the presets.
llvm::Expected<ClusterModel> getClusterPreset(llvm::StringRef name);

/// Parses a cluster file:
/// ```json
/// { "name": "my-cluster", "nodes": 2, "devices_per_node": 8,
///   "compute_units_per_node": 8,                       // optional
///   "intra_node": {"bandwidth_GBps": 450, "latency_us": 3},
///   "inter_node": {"bandwidth_GBps": 50, "latency_us": 5},
///   "intra_node_alltoall": {"bandwidth_GBps": 300, "latency_us": 5}, // opt.
///   "device_memory_GB": 80, "default_target": "sm_90a",
///   "comm_overlaps_compute": true,                     // optional
///   "kernels": {"sm_90a": {"attention_GFLOPs": 250000,
///                          "slice_GFLOPs": 30000, "memory_GBps": 3000,
///                          "gemm_GFLOPs": 400000,   // optional (layers)
///                          "mma_attention_GFLOPs": 250000, // optional:
///                          // mma.sync where auto cannot use wgmma
///                          "source": "..."}} }
/// ```
/// GB are 10^9 bytes. Errors name the member and what is expected.
llvm::Expected<ClusterModel> parseClusterJson(llvm::StringRef text,
                                              llvm::StringRef name);

/// A preset name or the path of a JSON file.
llvm::Expected<ClusterModel> loadCluster(llvm::StringRef nameOrPath);

} // namespace mlir::ring

#endif // RINGC_PASSES_CLUSTERMODEL_H
