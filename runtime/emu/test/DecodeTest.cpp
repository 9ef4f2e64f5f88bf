//===- DecodeTest.cpp - Parser and decoder tests -----------------*- C++ -*-===//
//
// This file implements tests of PTX parsing: kernel signatures, directives
// LLVM prints, and errors that name the unsupported instruction or
// directive with its PTX line.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

TEST(Decode, KernelSignature) {
  auto m = parseOrDie(R"(
.version 8.0
.target sm_90a
.address_size 64
.extern .shared .align 16 .b8 dyn[];
.visible .entry a(
	.param .u64 .ptr .global .align 1 a_param_0,
	.param .u32 a_param_1,
	.param .align 8 .b8 a_param_2[24]
)
.maxntid 128, 1, 1
{
	.reg .b32 %r<3>;
	.shared .align 4 .b8 s[100];
	ret;
}
.visible .entry b() { { .reg .b32 %t; mov.u32 %t, 1; } ret; }
)");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->hasKernel("a"));
  EXPECT_TRUE(m->hasKernel("b"));
  EXPECT_FALSE(m->hasKernel("c"));
  auto *p = m->kernelParams("a");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].size, 8u);
  EXPECT_EQ((*p)[1].size, 4u);
  EXPECT_EQ((*p)[2].size, 24u);
  EXPECT_EQ((*p)[2].align, 8u);
  EXPECT_EQ(m->staticSharedBytes("a"), 100u);
}

void expectError(const std::string &ptx, const std::string &what,
                 unsigned line) {
  std::string err;
  auto m = Module::parse(ptx, err);
  EXPECT_FALSE(m);
  EXPECT_NE(err.find(what), std::string::npos) << err;
  EXPECT_NE(err.find("line " + std::to_string(line)), std::string::npos)
      << err;
}

TEST(Decode, UnsupportedInstructionNamesItAndLine) {
  expectError(".version 8.0\n.target sm_90a\n.address_size 64\n"
              ".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "mov.u32 %r1, 0;\n"
              "redux.sync.add.u32 %r2, %r1, 0xffffffff;\nret;\n}\n",
              "redux.sync.add.u32", 8);
  expectError(".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "add.cc.u32 %r1, %r2, %r3;\n}\n",
              "add.cc.u32", 4);
  expectError(".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
              "{%r1,%r1,%r1,%r1},{%r1,%r1},{%r1},{%r1,%r1,%r1,%r1};\n}\n",
              "m16n8k8", 4);
}

TEST(Decode, UnsupportedDirectiveNamesItAndLine) {
  expectError(".version 8.0\n.func f()\n{\nret;\n}\n", ".func", 2);
  expectError(".global .align 4 .b8 g[4] = {1, 2, 3, 4};\n", "g", 1);
  expectError(".visible .entry k()\n{\n.local .align 4 .b8 d[4];\n}\n",
              ".local", 3);
}

TEST(Decode, BadOperands) {
  expectError(".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "add.s32 %r1, %r9, 1;\n}\n",
              "unknown register", 4);
  expectError(".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "bra $L_nowhere;\n}\n",
              "undefined label", 4);
  expectError(".visible .entry k()\n{\n.reg .b32 %r<4>;\n"
              "add.s32 %r1, %r2;\n}\n",
              "wrong number of operands", 4);
}

} // namespace
