//===- AttentionPlanTest.cpp - tests of plan derivation ---------*- C++ -*-===//
//
// This file tests AttentionPlan: the roles and sizes derived from a rendered
// spec module, the local shapes, and that the plan hash tells plans apart.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "tools/ringc/SpecString.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/SourceMgr.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::ring;

namespace {
class AttentionPlanTest : public ::testing::Test {
protected:
  AttentionPlanTest() {
    registry.insert<RingDialect, shard::ShardDialect, func::FuncDialect>();
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }

  /// Derives the plan of the one attention of the module built from `text`.
  FailureOr<AttentionPlan> plan(StringRef text) {
    auto spec = parseSpecString(text);
    EXPECT_TRUE(!!spec);
    if (!spec)
      return failure();
    module = parseSpecModule(*spec, "attn", sourceMgr, context.get());
    EXPECT_TRUE(!!module);
    if (!module)
      return failure();
    AttentionOp op;
    module->walk([&](AttentionOp a) { op = a; });
    SymbolTableCollection symbols;
    return deriveAttentionPlan(op, symbols);
  }

  DialectRegistry registry;
  std::unique_ptr<MLIRContext> context;
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module;
};

TEST_F(AttentionPlanTest, TwoLevelPaperLayer) {
  auto p = plan("heads=32,seq=10000,head_dim=128,ring=1,head_groups=4,"
                "dim_slices=4");
  ASSERT_TRUE(succeeded(p));
  EXPECT_EQ(p->numRanks(), 16);
  EXPECT_EQ(p->headGroups(), 4);
  EXPECT_EQ(p->dimSlices(), 4);
  EXPECT_EQ(p->localQShape(), (SmallVector<int64_t>{1, 8, 10000, 32}));
  EXPECT_EQ(p->localLseShape(), (SmallVector<int64_t>{1, 8, 10000}));
}

TEST_F(AttentionPlanTest, CausalGqaZigzag) {
  auto p = plan("heads=32,kv_heads=8,seq=1024,head_dim=128,ring=4,"
                "head_groups=2,dim_slices=2,causal=1,dtype=f16");
  ASSERT_TRUE(succeeded(p));
  EXPECT_EQ(p->ring(), 4);
  EXPECT_EQ(p->balance, Balance::zigzag);
  EXPECT_TRUE(p->isCausal());
  EXPECT_EQ(p->dtypeName(), "f16");
  EXPECT_EQ(p->localQShape(), (SmallVector<int64_t>{1, 16, 256, 64}));
  EXPECT_EQ(p->localKVShape(), (SmallVector<int64_t>{1, 4, 256, 64}));
  EXPECT_DOUBLE_EQ(p->scale, 1.0 / std::sqrt(128.0));
  EXPECT_EQ(p->axisOfRole[static_cast<int>(GridRole::Ring)], 0);
  EXPECT_EQ(p->axisOfRole[static_cast<int>(GridRole::HeadGroup)], 1);
  EXPECT_EQ(p->axisOfRole[static_cast<int>(GridRole::DimSlice)], 2);
}

TEST_F(AttentionPlanTest, HashTellsPlansApart) {
  auto a = plan("heads=8,seq=256,head_dim=64,ring=4,causal=1");
  ASSERT_TRUE(succeeded(a));
  uint64_t ha = a->hash();
  auto a2 = plan("heads=8,seq=256,head_dim=64,ring=4,causal=1");
  ASSERT_TRUE(succeeded(a2));
  EXPECT_EQ(ha, a2->hash());
  for (const char *other :
       {"heads=8,seq=256,head_dim=64,ring=4,causal=1,balance=striped",
        "heads=8,seq=256,head_dim=64,ring=4,causal=0",
        "heads=8,seq=512,head_dim=64,ring=4,causal=1",
        "heads=8,seq=256,head_dim=64,ring=4,causal=1,dtype=f32",
        "heads=8,seq=256,head_dim=64,ring=4,causal=1,scale=0.5",
        "heads=8,seq=256,head_dim=64,ring=2,head_groups=2,causal=1"}) {
    auto b = plan(other);
    ASSERT_TRUE(succeeded(b)) << other;
    EXPECT_NE(ha, b->hash()) << other;
  }
}

TEST_F(AttentionPlanTest, RejectsIndivisibleHeads) {
  // The diagnostic text is checked by the lit suite; here only that the
  // derivation fails rather than producing a plan.
  context->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  EXPECT_TRUE(failed(plan("heads=6,seq=256,head_dim=64,head_groups=4")));
  EXPECT_TRUE(failed(plan("heads=8,seq=256,head_dim=64,dim_slices=3")));
}

// Any sequence length splits over the ring (issue 11): near-equal parts,
// padded to the largest.
TEST_F(AttentionPlanTest, UnevenSequences) {
  auto none = plan("heads=8,seq=250,head_dim=64,ring=4");
  ASSERT_TRUE(succeeded(none));
  EXPECT_EQ(none->localSeq(), 63);
  EXPECT_TRUE(none->hasSeqPadding());
  EXPECT_EQ(none->rankTokens(0), 63);
  EXPECT_EQ(none->rankTokens(3), 62);
  EXPECT_EQ(none->globalToken(1, 0), 63);
  EXPECT_EQ(none->globalToken(3, 62), -1);
  auto zz = plan("heads=8,seq=260,head_dim=64,ring=4,causal=1");
  ASSERT_TRUE(succeeded(zz));
  EXPECT_EQ(zz->localSeq(), 66); // 8 chunks of 33 or 32
  EXPECT_EQ(zz->rankTokens(0), 33 + 32);
  auto even = plan("heads=8,seq=256,head_dim=64,ring=4,causal=1");
  ASSERT_TRUE(succeeded(even));
  EXPECT_FALSE(even->hasSeqPadding());
  EXPECT_EQ(even->localSeq(), 64);
}
} // namespace

// A whole-number scale prints as "1" with %.17g, which the attribute parser
// refuses as an f64; the spec module sets it with a builder instead.
TEST_F(AttentionPlanTest, WholeNumberScales) {
  for (auto [text, want] : {std::pair<const char *, double>{"scale=1", 1.0},
                            {"scale=1.0", 1.0},
                            {"scale=3e2", 300.0},
                            {"scale=2", 2.0}}) {
    auto p = plan(std::string("heads=8,seq=256,head_dim=64,") + text);
    ASSERT_TRUE(succeeded(p)) << text;
    EXPECT_DOUBLE_EQ(p->scale, want) << text;
  }
}

// Hints are computed in bounded time, even for a huge prime-like head_dim.
TEST(DivisorsHint, Bounded) {
  EXPECT_EQ(divisorsHint(64, 64), "1, 2, 4, 8, 16, 32, 64");
  EXPECT_EQ(divisorsHint(6, 4), "1, 2");
  // 94143178827 = 3^3 * 3486784401 / ... ; whatever its factors, the list
  // comes back at once and starts with 1.
  std::string h = divisorsHint(94143178827, 94143178827);
  EXPECT_EQ(h.rfind("1, ", 0), 0u) << h;
  // A prime near 2^62 hits the trial bound: the list ends with "...".
  std::string big = divisorsHint(4611686018427387847, 4611686018427387847);
  EXPECT_EQ(big, "1, ...");
}
