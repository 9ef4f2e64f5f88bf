//===- ClusterModel.cpp - the machine a plan is costed for -----*- C++ -*-===//
//
// This file implements the cluster presets and the cluster-file parser
// (llvm::json). Every preset constant says where it comes from: the issue's
// hardware description (link speeds), vendor datasheets, or bench/NOTES.md
// (the throughput of ringc's own kernels). Where a number is an assumption
// rather than a measurement, the comment says so.
//
//===----------------------------------------------------------------------===//

#include "passes/ClusterModel.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace mlir::ring;

static constexpr double GB = 1e9;
static constexpr double us = 1e-6;

const KernelModel *ClusterModel::kernelsFor(StringRef target) const {
  auto it = kernels.find(target);
  if (it != kernels.end())
    return &it->second;
  if (target.starts_with("sm_")) {
    StringRef num = target.drop_front(3).rtrim('a');
    for (const auto &entry : kernels)
      if (entry.getKey().starts_with("sm_") &&
          entry.getKey().drop_front(3).rtrim('a') == num)
        return &entry.getValue();
    it = kernels.find("gpu");
    if (it != kernels.end())
      return &it->second;
  }
  return nullptr;
}

StringRef mlir::ring::clusterPresetNames() {
  return "dgx-h100, dgx-a100, cpu-local";
}

Expected<ClusterModel> mlir::ring::getClusterPreset(StringRef name) {
  ClusterModel c;
  c.name = name.str();
  if (name == "dgx-h100") {
    // DGX H100: 8 H100 SXM per node; NVLink 4 at 450 GB/s per direction per
    // GPU; one 400 Gb/s (50 GB/s) InfiniBand NDR port per GPU (issue 12's
    // description). Latencies are typical NCCL point-to-point figures
    // (assumed, not measured here).
    c.nodes = 64;
    c.devicesPerNode = 8;
    c.intraNode = {450 * GB, 3 * us};
    c.interNode = {50 * GB, 6 * us};
    c.deviceMemory = 80 * GB;
    c.defaultTarget = "sm_90a";
    KernelModel k;
    // The default sm_90a kernel is the wgmma ping-pong kernel
    // (--gpu-kernel=auto). bench/NOTES.md's model of it predicts 729-779
    // TFLOP/s at D = 128 (causal, non-causal) and calls that an upper bound
    // (no bank conflicts or TMA/L2 stalls); FA3's published 616-700 at
    // D = 128 bounds what such a kernel reaches, so we take 650. Not
    // measured (no GPU where we work).
    k.attentionFlops = 650e12;
    // Where auto falls back to mma.sync (D % 16 != 0): bench/NOTES.md's
    // "H100 prediction" of that kernel, ~200-300 TFLOP/s at D = 128 (not
    // measured).
    k.mmaAttentionFlops = 250e12;
    // The dim-slice softmax·V kernel is SIMT (bench/NOTES.md, "Dim slices on
    // GPU targets"); assumed half the H100 SXM fp32 SIMT peak of 67 TFLOP/s
    // (datasheet). The score kernel is on mma.sync and much faster, so the
    // softmax·V rate bounds the pair.
    k.sliceFlops = 33e12;
    // bench/NOTES.md, "H100 prediction": 3.35 TB/s HBM3.
    k.memoryBandwidth = 3350 * GB;
    // bench/NOTES.md, "Layer costs in --explain": the mma.sync projection
    // GEMM (128x128x32 CTA tiles, 64 FLOP per L2 byte) is bound by L2 at
    // ~5.5 TB/s x 64 = 350 TFLOP/s and by mma.sync issue at ~590; ~300
    // predicted. Not measured.
    k.gemmFlops = 300e12;
    k.source = "bench/NOTES.md wgmma model (650 TFLOP/s, below its 729-779 "
               "upper bound; not measured)";
    c.kernels["sm_90a"] = k;
    return c;
  }
  if (name == "dgx-a100") {
    // DGX A100: 8 A100 SXM 80 GB per node; NVLink 3 at 300 GB/s per
    // direction per GPU; one 200 Gb/s (25 GB/s) HDR InfiniBand port per GPU
    // (datasheet). Latencies as for dgx-h100 (assumed).
    c.nodes = 64;
    c.devicesPerNode = 8;
    c.intraNode = {300 * GB, 3 * us};
    c.interNode = {25 * GB, 6 * us};
    c.deviceMemory = 80 * GB;
    c.defaultTarget = "sm_80";
    KernelModel k;
    // Scaled from bench/NOTES.md's H100 prediction: there our kernel is put
    // at ~0.68 of FA2 (250 vs 370 TFLOP/s); FA2 reaches ~200 TFLOP/s forward
    // on A100 (its paper: up to 72% of 312), so ~140 TFLOP/s. An estimate.
    k.attentionFlops = 140e12;
    // Half the A100 fp32 SIMT peak of 19.5 TFLOP/s (datasheet; assumed).
    k.sliceFlops = 10e12;
    // A100 SXM 80 GB HBM2e: 2.04 TB/s (datasheet).
    k.memoryBandwidth = 2040 * GB;
    // bench/NOTES.md, "Layer costs in --explain": the same GEMM is bound by
    // the tensor cores on A100 (312 TFLOP/s peak); ~200 predicted with the
    // 2-stage pipeline's exposed latency. Not measured.
    k.gemmFlops = 200e12;
    k.source = "scaled from bench/NOTES.md H100 prediction (~140 TFLOP/s, "
               "not measured)";
    c.kernels["sm_80"] = k;
    return c;
  }
  if (name == "cpu-local") {
    // This machine (bench/NOTES.md "cpu-local calibration"): one node whose MPI
    // ranks share 2 cores over shared memory. `mpirun -np 2 ring-run
    // --calibrate -o FILE.json` measures these again; the defaults are the
    // numbers recorded there.
    c.nodes = 1;
    c.devicesPerNode = 64; // ranks that may share the node (oversubscribed)
    c.computeUnitsPerNode = 2;
    // bench/NOTES.md, "cpu-local calibration": ring shift 1.8 GB/s per
    // direction, 2.5 us; all-to-all 1.1 GB/s, 3.2 us per message.
    c.intraNode = {1.8 * GB, 2.5 * us};
    c.intraAllToAll = {1.1 * GB, 3.2 * us};
    c.interNode = c.intraNode;
    c.deviceMemory = 12 * GB; // half of the 24 GiB the machine has
    // bench/NOTES.md, overlap_vs_blocking: with progress calls in the
    // kernels the shifts complete during the compute, but the copy itself
    // is CPU work (the receiver copies through CMA) on the cores that
    // compute, so the model charges the transfer in full.
    c.commOverlapsCompute = false;
    c.defaultTarget = "cpu";
    KernelModel k;
    // bench/NOTES.md, "CPU kernel v6": one rank's whole entry per core,
    // bf16 (the default dtype; the avx512bf16 variant this CPU picks), in
    // cpu_vs_baselines at L = 1k-16k, D = 64/128, causal and not
    // (session 5's kernel read 91-113 GFLOP/s there, and this was 100).
    constexpr double fused = 180e9;
    k.attentionFlops = fused;
    // The two rates below were measured against the fused kernel of
    // session 5 (100 GFLOP/s), whose code they do not share, so they stay
    // fixed as that kernel got faster.
    // bench/NOTES.md, "cpu-local calibration": the dim-slice kernels ran
    // 10.3x slower than the fused kernel under the same load.
    k.sliceFlops = 100e9 / 10.3;
    // bench/NOTES.md, cpu_kernel_vs_openblas: ~10 GB/s DRAM for one core.
    k.memoryBandwidth = 10 * GB;
    // bench/NOTES.md, "Whole layer with projections": side by side under
    // the same load the projection GEMMs ran at 0.68x the attention kernel's
    // rate (23 vs 33.7 GFLOP/s per rank), applied to session 5's 100.
    k.gemmFlops = 0.68 * 100e9;
    k.source = "bench/NOTES.md CPU kernel v6 (bf16, 180 GFLOP/s/core)";
    c.kernels["cpu"] = k;
    return c;
  }
  return createStringError(inconvertibleErrorCode(),
                           "unknown cluster '" + name +
                               "'; valid presets: " + clusterPresetNames() +
                               ", or the path of a .json cluster file");
}

namespace {
/// Reads members of one JSON object, collecting the first error with the
/// path of the member ("kernels.cpu.attention_GFLOPs").
struct Reader {
  std::string error;

  Error fail() const {
    return createStringError(inconvertibleErrorCode(), error);
  }
  bool number(const json::Object &o, StringRef path, StringRef key,
              double &out, bool required, double scale = 1) {
    const json::Value *v = o.get(key);
    if (!v) {
      if (required && error.empty())
        error = ("missing member '" + path + key + "' (a positive number)")
                    .str();
      return !required;
    }
    std::optional<double> d = v->getAsNumber();
    if (!d || !(*d > 0)) {
      if (error.empty())
        error = ("member '" + path + key + "' must be a positive number")
                    .str();
      return false;
    }
    out = *d * scale;
    return true;
  }
  bool integer(const json::Object &o, StringRef key, int64_t &out,
               bool required) {
    const json::Value *v = o.get(key);
    if (!v) {
      if (required && error.empty())
        error = ("missing member '" + key + "' (a positive integer)").str();
      return !required;
    }
    std::optional<int64_t> i = v->getAsInteger();
    if (!i || *i < 1) {
      if (error.empty())
        error = ("member '" + key + "' must be a positive integer").str();
      return false;
    }
    out = *i;
    return true;
  }
  bool link(const json::Object &o, StringRef key, LinkModel &out,
            bool required) {
    const json::Value *v = o.get(key);
    if (!v) {
      if (required && error.empty())
        error = ("missing member '" + key +
                 "' ({\"bandwidth_GBps\": X, \"latency_us\": Y})")
                    .str();
      return !required;
    }
    const json::Object *lo = v->getAsObject();
    if (!lo) {
      if (error.empty())
        error = ("member '" + key +
                 "' must be an object {\"bandwidth_GBps\": X, "
                 "\"latency_us\": Y}")
                    .str();
      return false;
    }
    std::string path = (key + ".").str();
    return number(*lo, path, "bandwidth_GBps", out.bandwidth, true, GB) &&
           number(*lo, path, "latency_us", out.latency, true, us);
  }
};
} // namespace

Expected<ClusterModel> mlir::ring::parseClusterJson(StringRef text,
                                                    StringRef name) {
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return createStringError(inconvertibleErrorCode(),
                             "cluster file " + name + ": " +
                                 toString(parsed.takeError()));
  const json::Object *o = parsed->getAsObject();
  if (!o)
    return createStringError(inconvertibleErrorCode(),
                             "cluster file " + name +
                                 ": the top level must be a JSON object");
  ClusterModel c;
  c.name = o->getString("name").value_or(sys::path::stem(name)).str();
  Reader r;
  double memGB = 0;
  bool ok = r.integer(*o, "nodes", c.nodes, true) &&
            r.integer(*o, "devices_per_node", c.devicesPerNode, true) &&
            r.integer(*o, "compute_units_per_node", c.computeUnitsPerNode,
                      false) &&
            r.link(*o, "intra_node", c.intraNode, true) &&
            r.link(*o, "inter_node", c.interNode, c.nodes > 1) &&
            r.link(*o, "intra_node_alltoall", c.intraAllToAll, false) &&
            r.number(*o, "", "device_memory_GB", memGB, true, GB);
  c.deviceMemory = memGB;
  if (ok)
    if (const json::Value *v = o->get("comm_overlaps_compute")) {
      std::optional<bool> b = v->getAsBoolean();
      if (!b) {
        r.error = "member 'comm_overlaps_compute' must be true or false";
        ok = false;
      } else {
        c.commOverlapsCompute = *b;
      }
    }
  if (ok && c.interNode.bandwidth == 0)
    c.interNode = c.intraNode;
  const json::Object *kernels = o->getObject("kernels");
  if (ok && (!kernels || kernels->empty())) {
    r.error = "missing member 'kernels' (an object: target -> "
              "{\"attention_GFLOPs\", \"slice_GFLOPs\", \"memory_GBps\"})";
    ok = false;
  }
  if (ok)
    for (const auto &[target, value] : *kernels) {
      const json::Object *ko = value.getAsObject();
      std::string path = ("kernels." + target.str() + ".");
      if (!ko) {
        r.error = "member 'kernels." + target.str() + "' must be an object";
        ok = false;
        break;
      }
      KernelModel k;
      ok = r.number(*ko, path, "attention_GFLOPs", k.attentionFlops, true,
                    1e9) &&
           r.number(*ko, path, "slice_GFLOPs", k.sliceFlops, true, 1e9) &&
           r.number(*ko, path, "memory_GBps", k.memoryBandwidth, true, GB) &&
           r.number(*ko, path, "gemm_GFLOPs", k.gemmFlops, false, 1e9) &&
           r.number(*ko, path, "mma_attention_GFLOPs", k.mmaAttentionFlops,
                    false, 1e9);
      if (!ok)
        break;
      k.source = ko->getString("source").value_or(name).str();
      c.kernels[target] = k;
    }
  if (!ok)
    return createStringError(inconvertibleErrorCode(),
                             "cluster file " + name + ": " + r.error);
  c.defaultTarget = o->getString("default_target")
                        .value_or(c.kernels.begin()->getKey())
                        .str();
  return c;
}

Expected<ClusterModel> mlir::ring::loadCluster(StringRef nameOrPath) {
  if (!nameOrPath.ends_with(".json"))
    return getClusterPreset(nameOrPath);
  auto buf = MemoryBuffer::getFile(nameOrPath);
  if (!buf)
    return createStringError(inconvertibleErrorCode(),
                             "cannot read cluster file " + nameOrPath + ": " +
                                 buf.getError().message());
  return parseClusterJson((*buf)->getBuffer(), nameOrPath);
}
