//===- PipelineTest.cpp - A warp-specialized TMA/wgmma pipeline ----*- C++ -*-===//
//
// This file runs inputs/pipeline.sm90a.ptx, a hand-written FA3-style
// pipeline (a producer warp TMA-loads tiles into a 2-stage ring of
// mbarriers; a consumer warpgroup runs wgmma with 128-byte swizzle and
// stores the result in f32 and, through stmatrix and a TMA store, in bf16),
// checks both results against a float64 GEMM under several seeds, checks
// that ptxas accepts the kernel, and checks that each broken variant fails
// with its specific error: a missing fence.proxy.async, a missing mbarrier
// wait, a missing wgmma.wait_group, a wrong expect_tx count (deadlock) and
// a missing barrier between warps (race).
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

#include <cstdlib>

using namespace emutest;

namespace {

struct alignas(64) MapBytes {
  uint8_t b[128];
};

/// bf16 of `f` rounded to nearest even (f is finite).
uint16_t toBF16(float f) {
  uint32_t b = fbits(f);
  b += 0x7fff + ((b >> 16) & 1);
  return uint16_t(b >> 16);
}

/// Removes the line holding `marker` from `ptx`.
std::string dropLine(std::string ptx, const std::string &marker) {
  size_t at = ptx.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  size_t b = ptx.rfind('\n', at) + 1, e = ptx.find('\n', at);
  return ptx.erase(b, e - b + 1);
}

struct Pipeline {
  static constexpr unsigned M = 64, N = 64, K = 256;
  std::vector<uint16_t> A = std::vector<uint16_t>(M * K),
                        B = std::vector<uint16_t>(N * K),
                        C16 = std::vector<uint16_t>(M * N, 0xffff);
  std::vector<float> C32 = std::vector<float>(M * N, bitsf(0xdeadbeef));
  std::vector<double> ref = std::vector<double>(M * N, 0.0);
  MapBytes mapA, mapB, mapC;

  explicit Pipeline(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(1, 63);
    auto value = [&] { return float(d(rng) * (rng() & 1 ? 1 : -1)) / 64; };
    std::vector<float> a(M * K), b(N * K);
    for (size_t i = 0; i < a.size(); ++i)
      A[i] = uint16_t(fbits(a[i] = value()) >> 16);
    for (size_t i = 0; i < b.size(); ++i)
      B[i] = uint16_t(fbits(b[i] = value()) >> 16);
    for (unsigned m = 0; m < M; ++m)
      for (unsigned n = 0; n < N; ++n)
        for (unsigned k = 0; k < K; ++k)
          ref[m * N + n] += double(a[m * K + k]) * double(b[n * K + k]);
    std::string err;
    uint64_t dims[2] = {K, M}, strides[1] = {K * 2};
    uint32_t box[2] = {64, 64}, es[2] = {1, 1};
    EXPECT_TRUE(encodeTensorMapTiled(&mapA, 9, 2, A.data(), dims, strides,
                                     box, es, 0, 3, 0, 0, err))
        << err;
    EXPECT_TRUE(encodeTensorMapTiled(&mapB, 9, 2, B.data(), dims, strides,
                                     box, es, 0, 3, 0, 0, err))
        << err;
    uint64_t cdims[2] = {N, M}, cstrides[1] = {N * 2};
    EXPECT_TRUE(encodeTensorMapTiled(&mapC, 9, 2, C16.data(), cdims,
                                     cstrides, box, es, 0, 3, 0, 0, err))
        << err;
  }

  std::string run(const std::string &ptx, uint64_t seed,
                  Profile *prof = nullptr) {
    std::string err;
    auto m = Module::parse(ptx, err);
    if (!m)
      return "parse: " + err;
    Memory mem;
    mem.registerRange(A.data(), A.size() * 2);
    mem.registerRange(B.data(), B.size() * 2);
    mem.registerRange(C16.data(), C16.size() * 2);
    mem.registerRange(C32.data(), C32.size() * 4);
    uint64_t out = uint64_t(C32.data());
    void *params[] = {mapA.b, mapB.b, mapC.b, &out};
    LaunchOptions o;
    o.seed = seed;
    if (!launch(*m, "pipeline", {1, 1, 1}, {160, 1, 1}, 40992, params, mem,
                err, prof, o))
      return err;
    return "";
  }
};

const std::string &kernel() {
  static const std::string text = readInput("pipeline.sm90a.ptx");
  return text;
}

TEST(Pipeline, PtxasAcceptsTheKernel) {
#ifdef EMU_PTXAS
  std::string cmd = std::string(EMU_PTXAS) + " -arch=sm_90a " +
                    EMU_TEST_INPUTS + "/pipeline.sm90a.ptx -o /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
#else
  GTEST_SKIP() << "ptxas not found at configure time";
#endif
}

TEST(Pipeline, ComputesTheGemmUnderEverySeed) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Pipeline p{unsigned(seed)};
    Profile prof;
    ASSERT_EQ(p.run(kernel(), seed, &prof), "") << "seed " << seed;
    for (unsigned i = 0; i < 64 * 64; ++i) {
      ASSERT_EQ(double(p.C32[i]), p.ref[i]) << "element " << i;
      ASSERT_EQ(p.C16[i], toBF16(float(p.ref[i]))) << "element " << i;
    }
    EXPECT_EQ(prof.wgmma, 16u);
    EXPECT_EQ(prof.wgmmaFlops, 2ull * 64 * 64 * 256);
    EXPECT_EQ(prof.tmaLoadBytes, 2u * 64 * 256 * 2);
    EXPECT_EQ(prof.tmaStoreBytes, 64u * 64 * 2);
    EXPECT_EQ(prof.stmatrix, 16u);
  }
}

TEST(Pipeline, MissingProxyFence) {
  Pipeline p(5);
  std::string err = p.run(dropLine(kernel(), "@PROXYFENCE"), 1);
  expectAll(err, {"the async proxy (TMA store source read) reads shared "
                  "memory",
                  "written through the generic proxy by thread",
                  "stmatrix.sync.aligned.m8n8.x4.shared.b16",
                  "which executed no fence.proxy.async after that write"});
}

TEST(Pipeline, MissingMbarrierWait) {
  Pipeline p(6);
  std::string ptx = dropLine(dropLine(kernel(), "@FULLWAIT"),
                             "@!%p3 bra CWAIT;");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    std::string err = p.run(ptx, seed);
    EXPECT_TRUE(err.find("data race") != std::string::npos ||
                err.find("overwrites an operand of the in-flight") !=
                    std::string::npos)
        << err;
    EXPECT_NE(err.find("TMA"), std::string::npos) << err;
  }
}

TEST(Pipeline, MissingWgmmaWaitGroup) {
  Pipeline p(7);
  std::string err = p.run(dropLine(kernel(), "@RETIRE"), 1);
  EXPECT_NE(err.find("in-flight PTX line"), std::string::npos) << err;
  EXPECT_NE(err.find("wgmma.mma_async.sync.aligned.m64n64k16"),
            std::string::npos)
      << err;
}

TEST(Pipeline, WrongExpectTxDeadlocks) {
  Pipeline p(8);
  std::string ptx = kernel();
  ptx.replace(ptx.find("[%r14], 16384; // @EXPECT"), 14, "[%r14], 16000;");
  std::string err = p.run(ptx, 1);
  // The consumers are parked in try_wait; the producer's elected lane
  // spins on empty[0] (its other lanes wait to exit), so the report says
  // that only spinners are left.
  expectAll(err, {"deadlock: the only runnable warps spin",
                  "mbarrier at shared address 0xa000 (current phase 0, "
                  "parity 0: 0 of 1 arrivals pending, tx-count -384)",
                  "warp 0 (threads 0-31) waits at"});
}

TEST(Pipeline, MissingEpilogueBarrierIsARace) {
  Pipeline p(9);
  std::string err = p.run(dropLine(kernel(), "@EPIBAR"), 1);
  // Whether the store reads before or after the other warps' stmatrix.
  expectAll(err, {"data race on shared memory address",
                  "cp.async.bulk.tensor.2d.global.shared::cta",
                  "stmatrix.sync.aligned"});
}

} // namespace
