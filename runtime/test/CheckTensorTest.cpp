//===- CheckTensorTest.cpp - ABI tensor validation --------------*- C++ -*-===//
//
// This file tests ringrt_check_tensor's verdicts and messages, and the
// scan of ringrt_check_logit_range.
//
//===----------------------------------------------------------------------===//

#include "ringrt/DType.h"
#include "ringrt/ringrt.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace {

struct CheckTensor : ::testing::Test {
  alignas(64) float data[1 * 8 * 4 * 4] = {};
  int64_t shape[4] = {1, 8, 4, 4};
  ringrt_tensor t;
  void SetUp() override {
    ASSERT_EQ(ringrt_tensor_init(&t, data, RINGRT_F32, 4, shape), RINGRT_OK);
  }
  std::string check(int32_t dtype = RINGRT_F32, int32_t rank = 4,
                    const int64_t *want = nullptr, int64_t align = 0) {
    if (ringrt_check_tensor(&t, "q", dtype, rank, want ? want : shape,
                            align) == RINGRT_OK)
      return "ok";
    return ringrt_last_error();
  }
};

TEST_F(CheckTensor, Accepts) {
  EXPECT_EQ(check(), "ok");
  EXPECT_EQ(check(RINGRT_F32, 4, nullptr, 64), "ok");
  EXPECT_EQ(t.strides[0], 128);
  EXPECT_EQ(t.strides[3], 1);
}

TEST_F(CheckTensor, Shape) {
  int64_t want[4] = {1, 8, 8, 4};
  EXPECT_EQ(check(RINGRT_F32, 4, want),
            "q: expected shape [1,8,8,4], got [1,8,4,4]");
}

TEST_F(CheckTensor, DTypeRankNull) {
  EXPECT_EQ(check(RINGRT_BF16), "q: expected dtype bf16, got f32 (0)");
  EXPECT_EQ(check(RINGRT_F32, 3), "q: expected rank 3, got 4");
  t.data = nullptr;
  EXPECT_EQ(check(), "q: data pointer is null");
  EXPECT_EQ(ringrt_check_tensor(nullptr, "k", RINGRT_F32, 4, shape, 0),
            RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(ringrt_last_error(), "k: tensor is null");
}

TEST_F(CheckTensor, Strides) {
  t.strides[2] = 8;
  EXPECT_EQ(check(), "q: expected dense row-major strides [128,16,4,1] (the "
                     "only layout supported for now), got [128,16,8,1]");
}

TEST_F(CheckTensor, Alignment) {
  t.data = reinterpret_cast<char *>(data) + 4;
  EXPECT_EQ(check(RINGRT_F32, 4, nullptr, 4), "ok");
  EXPECT_NE(check(RINGRT_F32, 4, nullptr, 16).find("not aligned to 16 bytes"),
            std::string::npos);
}

} // namespace

namespace {

/// ringrt_check_logit_range's one-pass scan (InputRange.cpp) in every
/// dtype: a NaN, an inf, a value just beyond the limit and −0 in the middle
/// of 1000 small values; the message names the element.
template <typename T>
std::string logitRange(int32_t dtype, T (*from)(float), float bad, int at) {
  std::vector<T> q(1000), k(1000);
  for (int i = 0; i < 1000; ++i)
    q[i] = k[i] = from(i % 2 ? 0.5f : -0.25f);
  q[3] = from(-0.0f);
  q[at] = from(bad);
  int64_t shape[4] = {1, 1, 1000, 1};
  ringrt_tensor tq, tk;
  ringrt_tensor_init(&tq, q.data(), dtype, 4, shape);
  ringrt_tensor_init(&tk, k.data(), dtype, 4, shape);
  if (ringrt_check_logit_range(&tq, &tk, 1.0, 8) == RINGRT_OK)
    return "ok";
  return ringrt_last_error();
}

float same(float f) { return f; }

TEST(LogitRange, ScanFindsNonFiniteAndLargeInEveryDtype) {
  // The limit for head_dim 8, scale 1: sqrt(FLT_MAX / 16) = 4.61e18.
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(logitRange<float>(RINGRT_F32, same, 4e18f, 500), "ok");
  EXPECT_EQ(logitRange<float>(RINGRT_F32, same, nan, 777),
            "q[777] (flat index) is nan: inputs must be finite");
  EXPECT_EQ(logitRange<float>(RINGRT_F32, same, -inf, 5),
            "q[5] (flat index) is -inf: inputs must be finite");
  EXPECT_NE(logitRange<float>(RINGRT_F32, same, -5e18f, 999).find(
                "q[999] (flat index) is -5e+18, beyond 4.612e+18"),
            std::string::npos);
  EXPECT_EQ(logitRange<uint16_t>(RINGRT_BF16, ringrt::floatToBF16, 1e18f, 9),
            "ok");
  EXPECT_EQ(logitRange<uint16_t>(RINGRT_BF16, ringrt::floatToBF16, nan, 10),
            "q[10] (flat index) is nan: inputs must be finite");
  EXPECT_NE(logitRange<uint16_t>(RINGRT_BF16, ringrt::floatToBF16, 1e19f, 11)
                .find("q[11] (flat index) is 1.0016e+19, beyond"),
            std::string::npos);
  // f16 has no value near the limit: only non-finite values fail.
  EXPECT_EQ(logitRange<uint16_t>(RINGRT_F16, ringrt::floatToF16, 65504.0f, 1),
            "ok");
  EXPECT_EQ(logitRange<uint16_t>(RINGRT_F16, ringrt::floatToF16, inf, 2),
            "q[2] (flat index) is inf: inputs must be finite");
}

} // namespace
