//===- CheckTensorTest.cpp - ABI tensor validation --------------*- C++ -*-===//
//
// This file tests ringrt_check_tensor's verdicts and messages.
//
//===----------------------------------------------------------------------===//

#include "ringrt/ringrt.h"

#include <gtest/gtest.h>

#include <string>

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
