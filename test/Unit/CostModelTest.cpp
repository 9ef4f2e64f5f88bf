//===- CostModelTest.cpp - tests of the cluster and cost models -*- C++ -*-===//
//
// This file tests ClusterModel (presets, the JSON file and its errors) and
// the cost model's formulas against hand-computed values: compute time of a
// balanced ring, the dim-slice score all-reduce of the two-level paper's
// layer, load imbalance of the contiguous causal layout, what overlap
// hides, the a2a rules, the whole layer's projections and Y all-reduce,
// and a sliding window's stages and visible pairs.
//
//===----------------------------------------------------------------------===//

#include "passes/ClusterModel.h"
#include "passes/CostModel.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>

using namespace mlir::ring;

namespace {
ProblemShape problem(int64_t heads, int64_t seq, int64_t dim, bool causal) {
  ProblemShape p;
  p.heads = p.kvHeads = heads;
  p.seq = seq;
  p.headDim = dim;
  p.causal = causal;
  return p;
}

TEST(ClusterModel, Presets) {
  auto h100 = getClusterPreset("dgx-h100");
  ASSERT_TRUE(static_cast<bool>(h100));
  EXPECT_EQ(h100->devicesPerNode, 8);
  EXPECT_DOUBLE_EQ(h100->intraNode.bandwidth, 450e9);
  EXPECT_DOUBLE_EQ(h100->interNode.bandwidth, 50e9); // 400 Gb/s
  EXPECT_DOUBLE_EQ(h100->deviceMemory, 80e9);
  EXPECT_NE(h100->kernelsFor("sm_90a"), nullptr);
  EXPECT_NE(h100->kernelsFor("sm_90"), nullptr);
  EXPECT_EQ(h100->kernelsFor("cpu"), nullptr);
  auto bad = getClusterPreset("dgx-b200");
  ASSERT_FALSE(static_cast<bool>(bad));
  std::string msg = llvm::toString(bad.takeError());
  EXPECT_NE(msg.find("dgx-h100, dgx-a100, cpu-local"), std::string::npos)
      << msg;
}

TEST(ClusterModel, JsonFile) {
  const char *text = R"({"nodes": 2, "devices_per_node": 4,
    "intra_node": {"bandwidth_GBps": 100, "latency_us": 2},
    "inter_node": {"bandwidth_GBps": 10, "latency_us": 8},
    "device_memory_GB": 16, "default_target": "cpu",
    "kernels": {"cpu": {"attention_GFLOPs": 50, "slice_GFLOPs": 5,
                        "memory_GBps": 8},
                "sm_90a": {"attention_GFLOPs": 600000, "slice_GFLOPs": 5,
                           "memory_GBps": 8,
                           "mma_attention_GFLOPs": 200000}}})";
  auto c = parseClusterJson(text, "x.json");
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->maxRanks(), 8);
  EXPECT_DOUBLE_EQ(c->interNode.latency, 8e-6);
  EXPECT_DOUBLE_EQ(c->kernelsFor("cpu")->attentionFlops, 50e9);
  // Optional: 0 (the attention rate) when absent.
  EXPECT_DOUBLE_EQ(c->kernelsFor("cpu")->mmaAttentionFlops, 0);
  EXPECT_DOUBLE_EQ(c->kernelsFor("sm_90a")->mmaAttentionFlops, 200e12);
  EXPECT_EQ(c->defaultTarget, "cpu");

  auto missing = parseClusterJson(R"({"nodes": 1, "devices_per_node": 2})",
                                  "y.json");
  ASSERT_FALSE(static_cast<bool>(missing));
  std::string msg = llvm::toString(missing.takeError());
  EXPECT_NE(msg.find("y.json: missing member 'intra_node'"),
            std::string::npos)
      << msg;

  auto negative = parseClusterJson(
      R"({"nodes": 1, "devices_per_node": 2, "device_memory_GB": 1,
          "intra_node": {"bandwidth_GBps": -1, "latency_us": 1}})",
      "z.json");
  ASSERT_FALSE(static_cast<bool>(negative));
  msg = llvm::toString(negative.takeError());
  EXPECT_NE(msg.find("'intra_node.bandwidth_GBps' must be a positive"),
            std::string::npos)
      << msg;
}

TEST(CostModel, BalancedRingCompute) {
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  ProblemShape pb = problem(8, 4096, 128, /*causal=*/false);
  PlanShape plan{4, 1, 1, 1, Balance::none};
  Prediction p = predictPlan(pb, plan, c, k, /*overlap=*/true);
  // 4·H·L²·D / 4 ranks at 250 TFLOP/s, plus 4 fp32 merges fused into the
  // kernel (read and write the accumulator: 2 × 8 heads × 1024 rows ×
  // (128 + 1) floats) and the fill + finalize (2·128 + 2 floats a row).
  double flops = 4.0 * 8 * 4096.0 * 4096 * 128 / 4;
  double mergeBytes = 4 * (4.0 * 8 * 1024 * 2 * 129) + 4.0 * 8 * 1024 * 258;
  EXPECT_NEAR(p.computeTime,
              flops / k.attentionFlops + mergeBytes / k.memoryBandwidth,
              1e-12);
  // A separate ring.merge (--no-fuse-merge) moves the rows twice as often.
  Prediction unfused = predictPlan(pb, plan, c, k, true, /*fuseMerge=*/false);
  EXPECT_NEAR(unfused.computeTime - p.computeTime,
              4 * (4.0 * 8 * 1024 * 2 * 129) / k.memoryBandwidth, 1e-12);
  EXPECT_DOUBLE_EQ(p.imbalance, 1.0);
  // 3 shifts of K and V: 2 · 8 · 1024 · 128 · 2 bytes each.
  EXPECT_DOUBLE_EQ(p.commBytes, 3 * 2.0 * 8 * 1024 * 128 * 2);
  EXPECT_FALSE(p.ringCrossesNodes);
}

TEST(CostModel, TwoLevelPaperAllReduce) {
  // examples/two_level_paper.mlir: 32 heads × 128, L = 10000, n = 4, m = 4:
  // 8 heads × 10000² fp32 scores = 3.2 GB, a ring all-reduce sends 2·3/4 of
  // it: 4.8 GB per rank (the number the issue quotes).
  auto c = *getClusterPreset("dgx-h100");
  ProblemShape pb = problem(32, 10000, 128, false);
  Prediction p = predictPlan(pb, {1, 1, 4, 4, Balance::none}, c,
                             *c.kernelsFor("sm_90a"), true);
  EXPECT_NEAR(p.allReduceBytes, 4.8e9, 1e6);
  EXPECT_GT(p.exposedComm, 0.9 * (4.8e9 / 450e9));
  // The score buffer alone is 3.2 GB.
  EXPECT_GT(p.peakMemory, 3.2e9);
}

TEST(CostModel, CausalLayouts) {
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  ProblemShape pb = problem(4, 8192, 64, true);
  Prediction none = predictPlan(pb, {4, 1, 1, 1, Balance::none}, c, k, true);
  Prediction zig = predictPlan(pb, {4, 1, 1, 1, Balance::zigzag}, c, k, true);
  // Contiguous: rank r does r + 1/2 blocks of work, the mean is 2; a GPU
  // per rank waits for the slowest.
  EXPECT_NEAR(none.imbalance, 3.5 / 2.0, 0.01);
  EXPECT_NEAR(zig.imbalance, 1.0, 0.01);
  EXPECT_GT(none.computeTime, 1.5 * zig.computeTime);
}

TEST(CostModel, SharedCoresAbsorbImbalance) {
  // cpu-local: 4 ranks on 2 cores. A waiting rank yields its core, so the
  // node's total work over 2 cores bounds the time: 2·(mean 2 blocks) = 4
  // blocks of one core's time against the slowest rank's 3.5.
  auto c = *getClusterPreset("cpu-local");
  const KernelModel &k = *c.kernelsFor("cpu");
  ProblemShape pb = problem(4, 8192, 64, true);
  Prediction none = predictPlan(pb, {4, 1, 1, 1, Balance::none}, c, k, true);
  Prediction zig = predictPlan(pb, {4, 1, 1, 1, Balance::zigzag}, c, k, true);
  EXPECT_NEAR(none.computeTime / zig.computeTime, 1.0, 0.02);
  EXPECT_NEAR(none.imbalance, 1.75, 0.01);
}

TEST(CostModel, OverlapHidesShifts) {
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  // 16 ranks: the ring crosses nodes.
  ProblemShape pb = problem(8, 16384, 128, false);
  PlanShape plan{16, 1, 1, 1, Balance::none};
  Prediction on = predictPlan(pb, plan, c, k, true);
  Prediction off = predictPlan(pb, plan, c, k, false);
  EXPECT_TRUE(on.ringCrossesNodes);
  EXPECT_DOUBLE_EQ(on.commTime, off.commTime);
  EXPECT_NEAR(off.exposedComm, off.commTime, 1e-12);
  EXPECT_LT(on.exposedComm, off.exposedComm);
  EXPECT_LT(on.totalTime, off.totalTime);
}

TEST(CostModel, WindowRunsAHaloExchangeAndCountsVisiblePairs) {
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  // Causal, window of 256 tokens to the left, L = 8192 on a contiguous ring
  // of 8 (1024 tokens a rank): every query sees keys of its own block or of
  // its predecessor's only, so 2 stages and 1 shift instead of 8 and 7.
  ProblemShape pb = problem(8, 8192, 128, true);
  ProblemShape windowed = pb;
  windowed.windowLeft = 256;
  PlanShape plan{8, 1, 1, 1, Balance::none};
  Prediction full = predictPlan(pb, plan, c, k, true);
  Prediction win = predictPlan(windowed, plan, c, k, true);
  EXPECT_EQ(full.ringStages, 8);
  EXPECT_EQ(win.ringStages, 2);
  EXPECT_DOUBLE_EQ(full.commBytes, 7 * 2.0 * 8 * 1024 * 128 * 2);
  EXPECT_DOUBLE_EQ(win.commBytes, 1 * 2.0 * 8 * 1024 * 128 * 2);
  // One ring rank (P = 1): the kernel time is that of the exact visible
  // pairs, sum over queries i of min(i, 256) + 1; the merges differ by the
  // same one block, so the difference to the unwindowed plan is all kernel.
  PlanShape one{1, 1, 1, 1, Balance::none};
  double visible = 0, causal = 0;
  for (int64_t i = 0; i < 8192; ++i) {
    visible += std::min<int64_t>(i, 256) + 1;
    causal += i + 1;
  }
  double perPair = 4.0 * 8 * 128 / k.attentionFlops;
  Prediction wholeCausal = predictPlan(pb, one, c, k, true);
  Prediction wholeWindow = predictPlan(windowed, one, c, k, true);
  // The unwindowed causal block counts (n + 1) / 2n of n² (visibleFraction),
  // which is exactly the causal pairs.
  EXPECT_NEAR(wholeCausal.computeTime - wholeWindow.computeTime,
              (causal - visible) * perPair, 1e-9 * wholeCausal.computeTime);
  // Zigzag: rank r holds chunks r and 15 − r (512 tokens each); the window
  // reaches into chunk r − 1 (rank r − 1) and chunk 14 − r (rank r + 1), so
  // the ring runs one stage each way: 3 stages.
  Prediction zig =
      predictPlan(windowed, {8, 1, 1, 1, Balance::zigzag}, c, k, true);
  EXPECT_EQ(zig.ringStages, 3);
  EXPECT_DOUBLE_EQ(zig.commBytes, 2 * 2.0 * 8 * 1024 * 128 * 2);
}

TEST(CostModel, AllToAllRules) {
  ProblemShape pb = problem(8, 4096, 64, false);
  EXPECT_EQ(checkAllToAll(pb, {1, 16, 1, 1, Balance::none}),
            "a2a 16 > 8 heads");
  EXPECT_EQ(checkAllToAll(pb, {1, 3, 1, 1, Balance::none}),
            "a2a 3 does not divide 8 heads");
  EXPECT_EQ(checkAllToAll(pb, {2, 4, 1, 1, Balance::none}), "");
  // Any length: 4095 over ring 2 x a2a 4 (local block 2048, shares of 512;
  // the bytes count the largest share, never fewer than the even split's).
  ProblemShape odd = problem(8, 4095, 64, false);
  EXPECT_EQ(checkAllToAll(odd, {2, 4, 1, 1, Balance::none}), "");
  {
    auto c = *getClusterPreset("dgx-h100");
    Prediction even = predictPlan(pb, {2, 4, 1, 1, Balance::none}, c,
                                  *c.kernelsFor("sm_90a"), true);
    ProblemShape odd2 = problem(8, 4090, 64, false); // block 2045: 512/511
    Prediction uneven = predictPlan(odd2, {2, 4, 1, 1, Balance::none}, c,
                                    *c.kernelsFor("sm_90a"), true);
    EXPECT_GT(uneven.allToAllBytes, 0);
    EXPECT_DOUBLE_EQ(uneven.allToAllBytes, even.allToAllBytes);
    EXPECT_TRUE(std::isfinite(uneven.totalTime));
  }
  // GQA with 2 K/V heads and a2a 4: K/V heads are replicated.
  pb.kvHeads = 2;
  auto c = *getClusterPreset("dgx-h100");
  Prediction p = predictPlan(pb, {1, 4, 1, 1, Balance::none}, c,
                             *c.kernelsFor("sm_90a"), true);
  EXPECT_TRUE(p.kvReplicated);
  EXPECT_GT(p.allToAllBytes, 0);
}
TEST(CostModel, LayerProjectionsAndOutputAllReduce) {
  // The two-level paper's layer: 32 heads x 128, d_model 4096, L 10,000,
  // n = 4 head groups x m = 4 dim slices: 16 ranks, two dgx-h100 nodes, so
  // the head-group all-reduce crosses nodes.
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  ASSERT_GT(k.gemmFlops, 0);
  ProblemShape pb = problem(32, 10000, 128, false);
  pb.dModel = 4096;
  Prediction attn = predictPlan(problem(32, 10000, 128, false),
                                {1, 1, 4, 4, Balance::none}, c, k, true);
  Prediction p = predictPlan(pb, {1, 1, 4, 4, Balance::none}, c, k, true);
  // Each rank: 10,000 tokens, 8 heads x 32 columns; QKV 2·T·M·(3·8·32) and
  // output 2·T·(8·32)·M FLOPs.
  double flops = 2.0 * 10000 * 4096 * (3 * 8 * 32) + 2.0 * 10000 * 256 * 4096;
  EXPECT_NEAR(p.projectionTime, flops / k.gemmFlops, 1e-12);
  // fp32 Y [1, 10000, 4096] = 163.84 MB, over m = 4 then n = 4: 2·3/4 each.
  double y = 4.0 * 10000 * 4096;
  EXPECT_NEAR(p.outputReduceBytes, 2 * (1.5 * y), 1);
  double reduceTime = c.intraNode.time(1.5 * y, 6) +
                      c.interNode.time(1.5 * y, 6); // n·m = 16 > 8
  EXPECT_NEAR(p.outputReduceTime, reduceTime, 1e-12);
  EXPECT_NEAR(p.totalTime, attn.totalTime + p.projectionTime + reduceTime,
              1e-9);
  EXPECT_NEAR(p.commBytes, attn.commBytes + p.outputReduceBytes, 1);
  // Memory: X, Y (bf16), fp32 Y, and a 16th of the four 4096² weights.
  double extra = 2 * (2.0 * 10000 * 4096) + y + 4.0 * 4096 * 4096 * 2 / 16;
  EXPECT_NEAR(p.peakMemory, attn.peakMemory + extra, 1);

  // A ring plan splits the same projection FLOPs by tokens and has no Y to
  // reduce; tensor parallelism (ring 1, 16 head groups) all-reduces Y.
  Prediction ring = predictPlan(pb, {16, 1, 1, 1, Balance::none}, c, k, true);
  EXPECT_NEAR(ring.projectionTime, p.projectionTime, 1e-12);
  EXPECT_EQ(ring.outputReduceBytes, 0);
  Prediction tp = predictPlan(pb, {1, 1, 16, 1, Balance::none}, c, k, true);
  EXPECT_NEAR(tp.outputReduceBytes, 2.0 * 15 / 16 * y, 1);

  // The layer has no a2a plans; the attention alone does.
  EXPECT_NE(checkLayer(pb, {2, 2, 1, 1, Balance::none}), "");
  EXPECT_EQ(checkLayer(pb, {2, 1, 2, 1, Balance::none}), "");
  EXPECT_EQ(checkLayer(problem(32, 10000, 128, false),
                       {2, 2, 1, 1, Balance::none}),
            "");
}

TEST(CostModel, LayerOutputReduceScatterSendsHalfTheAllReduce) {
  // The same two-level layer (n = 4 x m = 4) with Y reduce-scattered onto
  // the sequence: (m−1)/m·Y over the dim slices in m−1 messages, then
  // (n−1)/n of the dim slice's Y/m over the head groups in n−1: (k−1)/k·Y
  // in all, half the all-reduce's 2(k−1)/k.
  auto c = *getClusterPreset("dgx-h100");
  const KernelModel &k = *c.kernelsFor("sm_90a");
  ProblemShape pb = problem(32, 10000, 128, false);
  pb.dModel = 4096;
  ProblemShape rs = pb;
  rs.scatterOutput = true;
  double y = 4.0 * 10000 * 4096;
  Prediction all = predictPlan(pb, {1, 1, 4, 4, Balance::none}, c, k, true);
  Prediction p = predictPlan(rs, {1, 1, 4, 4, Balance::none}, c, k, true);
  EXPECT_TRUE(p.outputScattered);
  EXPECT_FALSE(all.outputScattered);
  EXPECT_NEAR(p.outputReduceBytes, 0.75 * y + 0.75 * y / 4, 1);
  EXPECT_NEAR(p.outputReduceBytes, 15.0 / 16 * y, 1);
  double reduceTime = c.intraNode.time(0.75 * y, 3) +
                      c.interNode.time(0.75 * y / 4, 3); // n·m = 16 > 8
  EXPECT_NEAR(p.outputReduceTime, reduceTime, 1e-12);
  EXPECT_NEAR(p.totalTime - all.totalTime,
              reduceTime - all.outputReduceTime, 1e-9);
  // Y holds a 16th of the rows: X and fp32 Y stay, Y (bf16) shrinks.
  EXPECT_NEAR(all.peakMemory - p.peakMemory,
              2.0 * 10000 * 4096 - 2.0 * 625 * 4096, 1);
  // Tensor parallelism over 16 head groups: 15/16 of Y, not 2·15/16.
  Prediction tp = predictPlan(rs, {1, 1, 16, 1, Balance::none}, c, k, true);
  EXPECT_NEAR(tp.outputReduceBytes, 15.0 / 16 * y, 1);
  // Nothing to reduce without head groups or dim slices.
  EXPECT_EQ(predictPlan(rs, {16, 1, 1, 1, Balance::none}, c, k, true)
                .outputReduceBytes,
            0);
}

TEST(ClusterModel, GemmRateIsOptionalAndChecked) {
  const char *text = R"({"nodes": 1, "devices_per_node": 2,
    "intra_node": {"bandwidth_GBps": 1, "latency_us": 2},
    "device_memory_GB": 16,
    "kernels": {"cpu": {"attention_GFLOPs": 50, "slice_GFLOPs": 5,
                        "memory_GBps": 8%s}}})";
  char buf[512];
  std::snprintf(buf, sizeof(buf), text, "");
  auto none = parseClusterJson(buf, "a.json");
  ASSERT_TRUE(static_cast<bool>(none)) << llvm::toString(none.takeError());
  EXPECT_EQ(none->kernelsFor("cpu")->gemmFlops, 0);
  std::snprintf(buf, sizeof(buf), text, R"(, "gemm_GFLOPs": 30)");
  auto some = parseClusterJson(buf, "b.json");
  ASSERT_TRUE(static_cast<bool>(some)) << llvm::toString(some.takeError());
  EXPECT_DOUBLE_EQ(some->kernelsFor("cpu")->gemmFlops, 30e9);
  std::snprintf(buf, sizeof(buf), text, R"(, "gemm_GFLOPs": 0)");
  auto zero = parseClusterJson(buf, "c.json");
  ASSERT_FALSE(static_cast<bool>(zero));
  std::string msg = llvm::toString(zero.takeError());
  EXPECT_NE(msg.find("'kernels.cpu.gemm_GFLOPs' must be a positive"),
            std::string::npos)
      << msg;
}
} // namespace
