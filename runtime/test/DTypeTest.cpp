//===- DTypeTest.cpp - bf16/f16 rounding ------------------------*- C++ -*-===//
//
// This file tests the float <-> bf16/f16 conversions: round to nearest even
// at ties, subnormals, overflow, NaN and exact round trips.
//
//===----------------------------------------------------------------------===//

#include "ringrt/DType.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace ringrt;

namespace {

TEST(DType, BF16RoundToNearestEven) {
  EXPECT_EQ(floatToBF16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(floatToBF16(1.0f + 1.0f / 256), 0x3f80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6: rounds up.
  EXPECT_EQ(floatToBF16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_EQ(floatToBF16(1.0f + 1.5f / 256), 0x3f81); // above half
  EXPECT_EQ(floatToBF16(-2.0f), 0xc000);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBF16(std::nanf("")))));
  EXPECT_EQ(bf16ToFloat(floatToBF16(3.4e38f)),
            std::numeric_limits<float>::infinity());
  for (uint32_t h = 0; h < 0x7f80; h += 7)
    EXPECT_EQ(floatToBF16(bf16ToFloat(static_cast<uint16_t>(h))), h);
}

TEST(DType, F16) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00); // ties to even -> infinity
  EXPECT_EQ(floatToF16(65519.0f), 0x7bff);
  EXPECT_EQ(floatToF16(1.0f + 1.0f / 2048), 0x3c00); // tie -> even
  EXPECT_EQ(floatToF16(1.0f + 3.0f / 2048), 0x3c02); // tie -> even (up)
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -25)), 0x0000); // tie -> even (0)
  EXPECT_EQ(floatToF16(std::ldexp(3.0f, -25)), 0x0002); // tie -> even (2)
  EXPECT_EQ(floatToF16(-0.0f), 0x8000);
  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16ToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(std::nanf("")))));
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    EXPECT_EQ(floatToF16(f16ToFloat(static_cast<uint16_t>(h))), h);
    EXPECT_EQ(floatToF16(f16ToFloat(static_cast<uint16_t>(h | 0x8000))),
              h | 0x8000);
  }
}

} // namespace
