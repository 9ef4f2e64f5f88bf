//===- ManifestTest.cpp - JSON and manifest parsing -------------*- C++ -*-===//
//
// This file tests the JSON reader, manifest parsing (including the errors
// that name the missing or ill-typed key), the manifest round trip and the
// "K=V,..." spec syntax.
//
//===----------------------------------------------------------------------===//

#include "Json.h"
#include "Manifest.h"

#include <gtest/gtest.h>

using namespace ringrun;

namespace {

const char *kManifest = R"({ "format": "ringc-artifact-1", "name": "attn",
  "entry": "attn_attention", "library": "libattn.so", "target": "cpu",
  "spec": {"batch":1,"heads":8,"kv_heads":2,"seq":256,"head_dim":64,"ring":4,
           "head_groups":1,"dim_slices":1,"causal":1,"balance":"zigzag",
           "dtype":"bf16","scale":0.125},
  "grid": {"shape":[4,1,1], "ring_axis":0, "head_group_axis":1,
           "dim_slice_axis":2},
  "local": {"q":[1,8,64,64], "k":[1,2,64,64], "v":[1,2,64,64],
            "o":[1,8,64,64], "lse":[1,8,64]},
  "plan_hash": "0123456789abcdef" })";

std::string replace(std::string s, const std::string &from,
                    const std::string &to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

std::string parseError(const std::string &text) {
  Manifest m;
  std::string err;
  return parseManifest(text, m, err) ? "ok" : err;
}

TEST(Json, Values) {
  llvm::json::Value v(nullptr);
  std::string err;
  ASSERT_TRUE(parseJson(R"({"a":[1,-2.5e1,true,null,"x\u00e9\n"],"b":{}})", v,
                        err))
      << err;
  const llvm::json::Array *a = v.getAsObject()->getArray("a");
  ASSERT_TRUE(a && a->size() == 5);
  EXPECT_EQ((*a)[0].getAsInteger(), 1);
  EXPECT_EQ((*a)[1].getAsNumber(), -25.0);
  EXPECT_EQ((*a)[4].getAsString(), "x\xc3\xa9\n");
  EXPECT_STREQ(jsonKindName((*a)[3]), "null");
  EXPECT_EQ(v.getAsObject()->get("missing"), nullptr);
}

TEST(Json, Errors) {
  llvm::json::Value v(nullptr);
  std::string err;
  EXPECT_FALSE(parseJson("{\"a\": 1,\n \"b\" 2}", v, err));
  EXPECT_EQ(err.rfind("line 2, column 6: ", 0), 0u) << err;
  EXPECT_FALSE(parseJson("[1, 2", v, err));
  EXPECT_FALSE(parseJson("{} x", v, err));
  EXPECT_FALSE(parseJson("\"abc", v, err));
  EXPECT_FALSE(parseJson("tru", v, err));
}

// llvm::json keeps one of two equal keys; parseJson must refuse them, also
// when they are spelled differently, and name the object.
TEST(Json, DuplicateKeys) {
  llvm::json::Value v(nullptr);
  std::string err;
  EXPECT_FALSE(parseJson("{\"a\": 1,\n \"a\": 2}", v, err));
  EXPECT_EQ(err, "line 2, column 2: duplicate key \"a\" at the top level");
  EXPECT_FALSE(parseJson(R"({"s": {"x": [{"k": 1, "\u006b": 2}]}})", v, err));
  EXPECT_EQ(err, "line 1, column 23: duplicate key \"k\" in s.x[]");
  // The same key in sibling objects, or as a string value, is fine.
  EXPECT_TRUE(parseJson(R"({"a": {"k": "k"}, "b": {"k": 1}, "k": ["k"]})", v,
                        err))
      << err;
}

// Deep nesting is refused before llvm::json's recursive parser sees it.
TEST(Json, NestingBound) {
  llvm::json::Value v(nullptr);
  std::string err;
  std::string deep(100000, '[');
  EXPECT_FALSE(parseJson(deep, v, err));
  EXPECT_EQ(err, "line 1, column 65: nesting deeper than 64 levels");
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(parseJson(ok, v, err)) << err;
}

TEST(Manifest, Parses) {
  Manifest m;
  std::string err;
  ASSERT_TRUE(parseManifest(kManifest, m, err)) << err;
  EXPECT_EQ(m.entry, "attn_attention");
  EXPECT_EQ(m.spec.kvHeads, 2);
  EXPECT_TRUE(m.spec.causal);
  EXPECT_EQ(m.spec.balance, ringrt::layout::Balance::Zigzag);
  EXPECT_EQ(m.spec.dtype, RINGRT_BF16);
  EXPECT_EQ(m.gridRank, 3);
  EXPECT_EQ(m.axisOfRole[2], 2);
  EXPECT_EQ(m.planHash, 0x0123456789abcdefull);
  // Round trip through the writer.
  Manifest again;
  ASSERT_TRUE(parseManifest(writeManifest(m), again, err)) << err;
  EXPECT_EQ(writeManifest(again), writeManifest(m));
}

TEST(Manifest, ErrorsNameTheKey) {
  EXPECT_EQ(parseError(replace(kManifest, "\"heads\":8,", "")),
            "spec.heads: missing");
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256", "\"seq\":\"256\"")),
            "spec.seq: expected an integer, got a string");
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256", "\"seq\":25.5")),
            "spec.seq: expected an integer, got the number 25.5");
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256", "\"seq\":256,\"seq\":512")),
            "line 3, column 55: duplicate key \"seq\" in spec");
  // Sizes whose products overflow are refused before anything multiplies.
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256",
                               "\"seq\":288230376151711744")),
            "spec: batch x heads x seq x head_dim (1 x 8 x 288230376151711744 "
            "x 64) exceeds 2^56 elements");
  EXPECT_EQ(parseError(replace(kManifest, "\"shape\":[4,1,1]", "\"shape\":4")),
            "grid.shape: expected an array of 1 to 4 integers, got the number "
            "4");
  EXPECT_EQ(parseError(replace(kManifest, "\"lse\":[1,8,64]", "\"lse\":[1,8]")),
            "local.lse: expected an array of 3 integers, got an array of 2");
  EXPECT_EQ(parseError(replace(kManifest, "\"q\":[1,8,64,64]",
                               "\"q\":[1,8,128,64]")),
            "local.q: [1,8,128,64] disagrees with the spec, which implies "
            "[1,8,64,64]");
  EXPECT_EQ(parseError(replace(kManifest, "\"ring_axis\":0", "\"ring_axis\":1")),
            "grid.ring_axis: axis 1 has size 1 but the spec says 4");
  EXPECT_EQ(parseError(replace(kManifest, "0123456789abcdef", "xyz")),
            "plan_hash: expected 16 hex digits, got \"xyz\"");
  EXPECT_EQ(parseError(replace(kManifest, "ringc-artifact-1", "v0")),
            "format: expected \"ringc-artifact-1\", got \"v0\"");
  // Any length splits over the ring; local rows must be the padded parts
  // (zigzag: 8 chunks of 13 or 12 tokens, 2 x 13 rows).
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256", "\"seq\":100")),
            "local.q: [1,8,64,64] disagrees with the spec, which implies "
            "[1,8,26,64]");
  EXPECT_EQ(parseError(replace(kManifest, "\"entry\"", "\"entry_point\"")),
            "entry: missing");
}

TEST(Manifest, CompactGrid) {
  std::string text = replace(kManifest, "\"shape\":[4,1,1], \"ring_axis\":0, "
                                        "\"head_group_axis\":1,\n           "
                                        "\"dim_slice_axis\":2",
                             "\"shape\":[4], \"ring_axis\":0, "
                             "\"head_group_axis\":-1, \"dim_slice_axis\":-1");
  Manifest m;
  std::string err;
  ASSERT_TRUE(parseManifest(text, m, err)) << err;
  EXPECT_EQ(m.gridRank, 1);
  EXPECT_EQ(m.axisOfRole[1], -1);
}

TEST(Spec, KeyValues) {
  AttentionSpec s;
  std::string err;
  ASSERT_TRUE(parseSpecKeyValues("heads=4,seq=64,head_dim=16,ring=2,causal=1",
                                 s, err))
      << err;
  EXPECT_EQ(s.kvHeads, 4);
  EXPECT_EQ(s.balance, ringrt::layout::Balance::Zigzag);
  EXPECT_EQ(s.dtype, RINGRT_BF16);
  EXPECT_DOUBLE_EQ(s.scale, 0.25);
  LocalShapes l = deriveLocalShapes(s);
  EXPECT_EQ(l.q[2], 32);
  EXPECT_FALSE(parseSpecKeyValues("heads=4,colour=red", s, err));
  EXPECT_EQ(err, "unknown spec key 'colour'");
  EXPECT_FALSE(parseSpecKeyValues("heads=6,kv_heads=4", s, err));
  EXPECT_EQ(err, "heads 6 is not divisible by kv_heads 4");
}

} // namespace
