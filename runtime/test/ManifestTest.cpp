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
  JsonValue v;
  std::string err;
  ASSERT_TRUE(parseJson(R"({"a":[1,-2.5e1,true,null,"x\u00e9\n"],"b":{}})", v,
                        err))
      << err;
  const JsonValue *a = v.get("a");
  ASSERT_TRUE(a && a->kind == JsonValue::Array && a->array.size() == 5);
  EXPECT_TRUE(a->array[0].isInteger);
  EXPECT_EQ(a->array[0].integer, 1);
  EXPECT_FALSE(a->array[1].isInteger);
  EXPECT_EQ(a->array[1].number, -25.0);
  EXPECT_EQ(a->array[4].string, "x\xc3\xa9\n");
  EXPECT_EQ(v.get("missing"), nullptr);
}

TEST(Json, Errors) {
  JsonValue v;
  std::string err;
  EXPECT_FALSE(parseJson("{\"a\": 1,\n \"b\" 2}", v, err));
  EXPECT_EQ(err, "line 2, column 6: expected ':' after key \"b\"");
  EXPECT_FALSE(parseJson("[1, 2", v, err));
  EXPECT_FALSE(parseJson("{} x", v, err));
  EXPECT_FALSE(parseJson("\"abc", v, err));
  EXPECT_FALSE(parseJson("tru", v, err));
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
  EXPECT_EQ(parseError(replace(kManifest, "\"shape\":[4,1,1]", "\"shape\":4")),
            "grid.shape: expected an array of 1 to 3 integers, got a number");
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
  EXPECT_EQ(parseError(replace(kManifest, "\"seq\":256", "\"seq\":100")),
            "spec: seq 100 is not divisible by 8 (2 x ring, zigzag chunks)");
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
