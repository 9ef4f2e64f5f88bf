//===- HostDataTest.cpp - inputs, slicing, npy, reference -------*- C++ -*-===//
//
// This file tests ring-run's host-side pieces: the seeded generator, the
// per-rank blocks covering a global tensor exactly once, the .npy writer
// and the reference/comparison rules (NaN and -inf handling).
//
//===----------------------------------------------------------------------===//

#include "HostData.h"
#include "Npy.h"
#include "Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

using namespace ringrun;

namespace {

TEST(HostData, PoisonTellsAnyWrittenNaNApart) {
  for (int32_t dt : {RINGRT_F32, RINGRT_BF16, RINGRT_F16}) {
    uint32_t buf[2] = {};
    storePoison(buf, dt, 1);
    float poison = loadElement(buf, dt, 1);
    EXPECT_TRUE(std::isnan(poison)) << dt;
    EXPECT_TRUE(isPoison(poison, dt)) << dt;
    EXPECT_EQ(a2aPaddingFailure("dk", 1, poison, dt), "") << dt;
    // What a kernel writes there: a canonical NaN (GPU arithmetic and the
    // emulator keep no payload; 0x7fff in 16 bits), the all-ones bytes of
    // unwritten device memory, a value. None is the poison.
    uint32_t written[] = {0x7fffffffu, 0x7fc00000u, 0xffffffffu};
    uint16_t written16[] = {0x7fff, 0xffff, 0xffc0};
    for (unsigned i = 0; i < 3; ++i) {
      float got = dt == RINGRT_F32 ? loadElement(&written[i], dt, 0)
                                   : loadElement(&written16[i], dt, 0);
      ASSERT_TRUE(std::isnan(got));
      EXPECT_FALSE(isPoison(got, dt)) << dt << " " << i;
      std::string why = a2aPaddingFailure("dk", 1, got, dt);
      EXPECT_NE(why.find("dk of rank 1 is nan (0x"), std::string::npos)
          << why;
      EXPECT_NE(why.find("must never be written"), std::string::npos) << why;
    }
    EXPECT_FALSE(isPoison(0.0f, dt));
  }
  EXPECT_EQ(describeFloat(1.5f), "1.500000");
  EXPECT_TRUE(sameBits(-0.0f, -0.0f));
  EXPECT_FALSE(sameBits(0.0f, -0.0f));
}

TEST(HostData, GeneratorIsSeededAndRounded) {
  auto a = generateInput(0, 0, {2, 3, 4}, RINGRT_BF16);
  auto b = generateInput(0, 0, {2, 3, 4}, RINGRT_BF16);
  auto c = generateInput(1, 0, {2, 3, 4}, RINGRT_BF16);
  auto k = generateInput(0, 1, {2, 3, 4}, RINGRT_BF16);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, k);
  for (float x : a) {
    EXPECT_GE(x, -1.0f);
    EXPECT_LE(x, 1.0f);
    EXPECT_EQ(x, roundToDType(x, RINGRT_BF16));
  }
  uint64_t st = 0;
  EXPECT_EQ(splitmix64(st), 0xE220A8397B1DCDAFull); // reference value
}

// inputElement jumps straight to element e; it must equal the e-th output
// of the documented sequential stream, so inputs are the same however a
// rank generates them.
TEST(HostData, ElementsMatchTheSequentialStream) {
  for (int which = 0; which < 3; ++which) {
    uint64_t state = 7 ^ (static_cast<uint64_t>(which + 1) *
                          0xD1B54A32D192ED03ull);
    for (int64_t e = 0; e < 1000; ++e) {
      uint64_t x = splitmix64(state);
      float u = static_cast<float>(x >> 40) * (1.0f / 8388608.0f) - 1.0f;
      ASSERT_EQ(inputElement(7, which, e, RINGRT_F32), u) << e;
    }
  }
  // --input-scale multiplies before rounding to the dtype.
  float u = inputElement(3, 0, 5, RINGRT_F32);
  EXPECT_EQ(inputElement(3, 0, 5, RINGRT_F32, 1e4), u * 1e4f);
  EXPECT_EQ(inputElement(3, 0, 5, RINGRT_BF16, 1e4),
            roundToDType(u * 1e4f, RINGRT_BF16));
}

TEST(HostData, BlocksCoverGlobalOnce) {
  AttentionSpec s;
  std::string err;
  ASSERT_TRUE(parseSpecKeyValues("batch=2,heads=4,kv_heads=2,seq=24,"
                                 "head_dim=8,ring=3,head_groups=2,"
                                 "dim_slices=2,causal=1,balance=zigzag",
                                 s, err))
      << err;
  for (bool withDim : {true, false}) {
    int64_t n = s.batch * s.heads * s.seq * (withDim ? s.headDim : 1);
    std::vector<int> seen(static_cast<size_t>(n), 0);
    for (int64_t p = 0; p < 3; ++p)
      for (int64_t g = 0; g < 2; ++g)
        for (int64_t d = 0; d < (withDim ? 2 : 1); ++d) {
          int64_t count = 0;
          forEachLocal(s, s.heads, withDim, RankCoords{p, g, d},
                       [&](int64_t l, int64_t gi) {
                         EXPECT_EQ(l, count++);
                         ++seen[static_cast<size_t>(gi)];
                       });
        }
    for (int c : seen)
      EXPECT_EQ(c, 1);
  }
}

TEST(Npy, HeaderAndData) {
  std::string h = npyHeaderF32({1, 8, 64});
  EXPECT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(h.find("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(1, 8, 64), }"),
            std::string::npos);
  EXPECT_EQ(h.back(), '\n');
  EXPECT_NE(npyHeaderF32({5}).find("(5,)"), std::string::npos);
  std::string path = ::testing::TempDir() + "/ringrt_npy_test.npy";
  float data[3] = {1.0f, -2.0f, 0.5f};
  std::string err;
  ASSERT_TRUE(writeNpyF32(path, data, {3}, err)) << err;
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
  size_t headerSize = npyHeaderF32({3}).size();
  ASSERT_EQ(bytes.size(), headerSize + 12u);
  float back[3];
  std::memcpy(back, bytes.data() + headerSize, 12);
  EXPECT_EQ(back[1], -2.0f);
  std::remove(path.c_str());
}

TEST(Reference, TinyAttention) {
  AttentionSpec s;
  std::string err;
  ASSERT_TRUE(parseSpecKeyValues("heads=1,seq=2,head_dim=1,causal=1,dtype=f32",
                                 s, err));
  std::vector<float> q = {1, 1}, k = {0, std::log(3.0f)}, v = {2, 6};
  std::vector<double> o, lse;
  referenceAttention(s, q, k, v, o, lse);
  // Row 0 sees key 0 only; row 1 sees scores 0 and log 3 -> weights 1/4, 3/4.
  EXPECT_DOUBLE_EQ(o[0], 2.0);
  EXPECT_NEAR(o[1], 0.25 * 2 + 0.75 * 6, 1e-6);
  EXPECT_DOUBLE_EQ(lse[0], 0.0);
  EXPECT_NEAR(lse[1], std::log(4.0), 1e-6);
}

TEST(Reference, CompareRules) {
  double inf = std::numeric_limits<double>::infinity();
  std::vector<double> ref = {1.0, -inf, 2.0};
  float out[3] = {1.0f, -std::numeric_limits<float>::infinity(), 2.0f};
  Comparison c = compareOutput("lse", out, ref.data(), {1, 3});
  EXPECT_TRUE(c.ok);
  EXPECT_EQ(c.relErr, 0.0);
  out[2] = std::nanf("");
  c = compareOutput("lse", out, ref.data(), {1, 3});
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.why.find("lse[0,2] is nan"), std::string::npos) << c.why;
  out[2] = 2.0f;
  out[1] = 0.0f;
  c = compareOutput("lse", out, ref.data(), {1, 3});
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.why.find("lse[0,1]"), std::string::npos);
  out[1] = -std::numeric_limits<float>::infinity();
  out[0] = 2.0f;
  c = compareOutput("lse", out, ref.data(), {1, 3});
  EXPECT_TRUE(c.ok);
  EXPECT_NEAR(c.relErr, 1.0 / std::sqrt(5.0), 1e-12);
}

} // namespace
