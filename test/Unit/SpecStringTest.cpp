//===- SpecStringTest.cpp - tests of the --spec parser ----------*- C++ -*-===//
//
// This file tests parsing of `ringc --spec "K=V,..."`: defaults, every
// value kind, and the error for each kind of malformed input.
//
//===----------------------------------------------------------------------===//

#include "tools/ringc/SpecString.h"

#include "gtest/gtest.h"

using namespace mlir::ring;

namespace {
std::string errorOf(llvm::StringRef text) {
  auto spec = parseSpecString(text);
  if (spec)
    return "";
  return llvm::toString(spec.takeError());
}

TEST(SpecString, Defaults) {
  auto spec = parseSpecString("heads=8,seq=256,head_dim=64");
  ASSERT_TRUE(!!spec) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->batch, 1);
  EXPECT_EQ(spec->heads, 8);
  EXPECT_EQ(spec->effectiveKvHeads(), 8);
  EXPECT_EQ(spec->ring, 1);
  EXPECT_EQ(spec->headGroups, 1);
  EXPECT_EQ(spec->dimSlices, 1);
  EXPECT_FALSE(spec->causal);
  EXPECT_EQ(spec->dtype, "bf16");
  EXPECT_EQ(spec->effectiveBalance(), "none");
  EXPECT_FALSE(spec->scale.has_value());
}

TEST(SpecString, EveryKey) {
  auto spec = parseSpecString(
      " batch=2, heads=32,kv_heads=8,seq=4096,head_dim=128,ring=4,"
      "head_groups=2,dim_slices=2,causal=1,balance=striped,dtype=f16,"
      "scale=0.25 ");
  ASSERT_TRUE(!!spec) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->batch, 2);
  EXPECT_EQ(spec->effectiveKvHeads(), 8);
  EXPECT_EQ(spec->seq, 4096);
  EXPECT_EQ(spec->headDim, 128);
  EXPECT_EQ(spec->ring, 4);
  EXPECT_EQ(spec->headGroups, 2);
  EXPECT_EQ(spec->dimSlices, 2);
  EXPECT_TRUE(spec->causal);
  EXPECT_EQ(spec->effectiveBalance(), "striped");
  EXPECT_EQ(spec->dtype, "f16");
  EXPECT_DOUBLE_EQ(*spec->scale, 0.25);
}

TEST(SpecString, CausalDefaultsToZigzag) {
  auto spec = parseSpecString("heads=8,seq=256,head_dim=64,causal=1");
  ASSERT_TRUE(!!spec);
  EXPECT_EQ(spec->effectiveBalance(), "zigzag");
}

TEST(SpecString, GradIsItsOwnBool) {
  auto spec = parseSpecString("heads=8,seq=256,head_dim=64,grad=1");
  ASSERT_TRUE(!!spec) << llvm::toString(spec.takeError());
  EXPECT_TRUE(spec->grad);
  EXPECT_FALSE(spec->causal); // grad=1 must not set causal
  EXPECT_NE(renderSpecModule(*spec, "f").find(" grad :"), std::string::npos);
  EXPECT_NE(errorOf("heads=8,seq=256,head_dim=64,grad=2")
                .find("spec key 'grad' needs 0 or 1, got '2'"),
            std::string::npos);
}

TEST(SpecString, Errors) {
  EXPECT_NE(errorOf("heds=8,seq=256,head_dim=64").find("did you mean 'heads'"),
            std::string::npos);
}
} // namespace

namespace {
struct ErrorCase {
  const char *spec;
  const char *expected;
};

class SpecStringErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SpecStringErrors, NamesTheProblem) {
  std::string error = errorOf(GetParam().spec);
  ASSERT_FALSE(error.empty()) << "accepted: " << GetParam().spec;
  EXPECT_NE(error.find(GetParam().expected), std::string::npos)
      << "error was: " << error;
}

INSTANTIATE_TEST_SUITE_P(
    All, SpecStringErrors,
    ::testing::Values(
        ErrorCase{"", "empty --spec"},
        ErrorCase{"heads=8,seq=256", "'head_dim' is required"},
        ErrorCase{"heads=8,seq=256,head_dim=64,foo=1", "unknown spec key 'foo'"},
        ErrorCase{"heads=8,seq=256,head_dim=64,foo=1", "Valid keys: batch"},
        ErrorCase{"heads=x,seq=256,head_dim=64",
                  "'heads' needs a positive integer, got 'x'"},
        ErrorCase{"heads=0,seq=256,head_dim=64", "positive integer, got '0'"},
        ErrorCase{"heads=-4,seq=256,head_dim=64", "got '-4'"},
        ErrorCase{"heads=8,seq=256,head_dim=64,causal=yes",
                  "'causal' needs 0 or 1"},
        ErrorCase{"heads=8,seq=256,head_dim=64,balance=spiral",
                  "needs zigzag, striped or none, got 'spiral'"},
        ErrorCase{"heads=8,seq=256,head_dim=64,dtype=f64",
                  "needs bf16, f16 or f32, got 'f64'"},
        ErrorCase{"heads=8,seq=256,head_dim=64,scale=-1",
                  "'scale' needs a positive finite number"},
        ErrorCase{"heads=8,seq=256,head_dim=64,scale=inf",
                  "'scale' needs a positive finite number"},
        ErrorCase{"heads=8,heads=4,seq=256,head_dim=64", "given twice"},
        ErrorCase{"heads=8,seq,head_dim=64", "not of the form key=value"},
        ErrorCase{"heads=8,seq=,head_dim=64", "not of the form key=value"}));
} // namespace
