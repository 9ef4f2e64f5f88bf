//===- FragmentTest.cpp - mma and ldmatrix fragment layouts ------*- C++ -*-===//
//
// This file implements tests of the warp-wide matrix instructions against
// the fragment layouts documented in the PTX ISA, written out here
// independently of the emulator:
//
// mma.m16n8k16 (.f16/.bf16 A, B; .f32 C, D), groupID = laneid >> 2,
// threadID_in_group = laneid % 4:
//   A (a0..a7, two per .b32 register, lower index in the lower half):
//     row = groupID for a0,a1,a4,a5; groupID + 8 otherwise
//     col = threadID_in_group*2 + (i & 1), + 8 for i >= 4
//   B (b0..b3): row = threadID_in_group*2 + (i & 1), + 8 for i >= 2;
//     col = groupID
//   C/D (c0..c3): row = groupID for i < 2, groupID + 8 for i >= 2;
//     col = threadID_in_group*2 + (i & 1)
// ldmatrix.m8n8.b16: threads 8j..8j+7 give the row addresses of matrix j;
//   thread t receives, for each matrix j, register j = row t/4, elements
//   2*(t%4) and 2*(t%4)+1 (lower index in the lower half); with .trans the
//   matrix is transposed: elements (2*(t%4), t/4) and (2*(t%4)+1, t/4).
// stmatrix.m8n8.b16 is the inverse: thread t supplies, for each matrix j,
//   register j holding row t/4, elements 2*(t%4) and 2*(t%4)+1 (with
//   .trans they land at rows 2*(t%4), 2*(t%4)+1 of column t/4), and threads
//   8j..8j+7 give the row addresses of matrix j.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

struct Coord {
  unsigned row, col;
};
Coord aCoord(unsigned lane, unsigned i) {
  unsigned g = lane >> 2, t = lane % 4;
  return {(i < 2 || (i >= 4 && i < 6)) ? g : g + 8,
          t * 2 + (i & 1) + (i >= 4 ? 8 : 0)};
}
Coord bCoord(unsigned lane, unsigned i) {
  unsigned g = lane >> 2, t = lane % 4;
  return {t * 2 + (i & 1) + (i >= 2 ? 8 : 0), g};
}
Coord cCoord(unsigned lane, unsigned i) {
  unsigned g = lane >> 2, t = lane % 4;
  return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
}

/// Loads 4 A words, 2 B words, 4 C words per lane (in[j*32 + lane]) and
/// stores the 4 D words at out[j*32 + lane].
const char *kMmaBody = R"(
  ld.global.u32 %r1, [%rd4];
  ld.global.u32 %r2, [%rd4+128];
  ld.global.u32 %r3, [%rd4+256];
  ld.global.u32 %r4, [%rd4+384];
  ld.global.u32 %r5, [%rd4+512];
  ld.global.u32 %r6, [%rd4+640];
  ld.global.u32 %r7, [%rd4+768];
  ld.global.u32 %r8, [%rd4+896];
  ld.global.u32 %r9, [%rd4+1024];
  ld.global.u32 %r10, [%rd4+1152];
  mma.sync.aligned.m16n8k16.row.col.f32.TY.TY.f32
    {%r11, %r12, %r13, %r14}, {%r1, %r2, %r3, %r4}, {%r5, %r6},
    {%r7, %r8, %r9, %r10};
  st.global.u32 [%rd5], %r11;
  st.global.u32 [%rd5+128], %r12;
  st.global.u32 [%rd5+256], %r13;
  st.global.u32 [%rd5+384], %r14;
)";

void checkMma(bool bf16) {
  std::mt19937 rng(bf16 ? 11 : 12);
  float A[16][16], B[16][8], C[16][8];
  uint16_t Ab[16][16], Bb[16][8];
  auto rand16 = [&](float &f) {
    uint16_t h = randomBF16(rng);
    f = bf16f(h);
    if (bf16)
      return h;
    // The same value in f16: |v| in [1/64, 4) with 8 significant bits.
    int e;
    float m = std::frexp(std::fabs(f), &e); // m in [0.5,1)
    uint16_t mant = uint16_t((m * 2 - 1) * 1024);
    return uint16_t((f < 0 ? 0x8000 : 0) | ((e - 1 + 15) << 10) | mant);
  };
  for (unsigned r = 0; r < 16; ++r)
    for (unsigned c = 0; c < 16; ++c)
      Ab[r][c] = rand16(A[r][c]);
  for (unsigned r = 0; r < 16; ++r)
    for (unsigned c = 0; c < 8; ++c) {
      Bb[r][c] = rand16(B[r][c]);
      C[r][c] = float(int(rng() % 200) - 100) / 16.0f + 0.5f;
    }
  std::vector<uint32_t> in(32 * 10);
  for (unsigned l = 0; l < 32; ++l) {
    for (unsigned i = 0; i < 8; ++i) {
      Coord a = aCoord(l, i);
      in[(i / 2) * 32 + l] |= uint32_t(Ab[a.row][a.col]) << (16 * (i & 1));
    }
    for (unsigned i = 0; i < 4; ++i) {
      Coord b = bCoord(l, i);
      in[(4 + i / 2) * 32 + l] |= uint32_t(Bb[b.row][b.col]) << (16 * (i & 1));
    }
    for (unsigned i = 0; i < 4; ++i) {
      Coord c = cCoord(l, i);
      in[(6 + i) * 32 + l] = fbits(C[c.row][c.col]);
    }
  }
  std::string body = kMmaBody;
  body.replace(body.find("TY.TY"), 5, bf16 ? "bf16.bf16" : "f16.f16");
  auto out = runWarp(body, in, 128);
  for (unsigned l = 0; l < 32; ++l)
    for (unsigned i = 0; i < 4; ++i) {
      Coord c = cCoord(l, i);
      double ref = C[c.row][c.col];
      for (unsigned k = 0; k < 16; ++k)
        ref += double(A[c.row][k]) * B[k][c.col];
      EXPECT_NEAR(bitsf(out[i * 32 + l]), ref, 1e-5 * (1 + std::fabs(ref)))
          << "lane " << l << " c" << i << " (" << c.row << "," << c.col << ")";
    }
}

TEST(Fragment, MmaM16N8K16BF16) { checkMma(true); }
TEST(Fragment, MmaM16N8K16F16) { checkMma(false); }

/// Shared tile of four 8x8 b16 matrices, element (j, r, c) = value(j, r, c);
/// lane t points at row t%8 of matrix t/8, whose rows are 16 bytes apart
/// with matrices 128 bytes apart (a 32-row x 8-col tile, row-major).
std::string ldmatrixBody(const char *shape) {
  return std::string(R"(
  mul.wide.u32 %rd6, %r0, 4;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.u32 %r1, [%rd7];
  ld.global.u32 %r2, [%rd7+128];
  ld.global.u32 %r3, [%rd7+256];
  ld.global.u32 %r4, [%rd7+384];
  mov.u64 %rd8, tile;
  add.s64 %rd9, %rd8, %rd6;
  st.shared.u32 [%rd9], %r1;
  st.shared.u32 [%rd9+128], %r2;
  st.shared.u32 [%rd9+256], %r3;
  st.shared.u32 [%rd9+384], %r4;
  bar.sync 0;
  mul.wide.u32 %rd10, %r0, 16;
  add.s64 %rd11, %rd8, %rd10;
  )") + shape + R"( {%r11, %r12, %r13, %r14}, [%rd11];
  st.global.u32 [%rd5], %r11;
  st.global.u32 [%rd5+128], %r12;
  st.global.u32 [%rd5+256], %r13;
  st.global.u32 [%rd5+384], %r14;
)";
}

void checkLdmatrix(unsigned num, bool trans) {
  std::mt19937 rng(20 + num + trans);
  std::vector<uint16_t> tile(32 * 8); // [matrix*8 + row][col]
  for (auto &v : tile)
    v = uint16_t(rng() | 1);
  std::vector<uint32_t> in(128);
  std::memcpy(in.data(), tile.data(), 512);
  std::string shape = "ldmatrix.sync.aligned.m8n8.x" + std::to_string(num) +
                      (trans ? ".trans" : "") + ".shared.b16";
  std::string body = ldmatrixBody(shape.c_str());
  if (num < 4) { // fewer destination registers; the others are stored too
    body.replace(body.find("{%r11, %r12, %r13, %r14}"), 24,
                 num == 1 ? "{%r11}" : "{%r11, %r12}");
    body = "mov.u32 %r12, 0;\nmov.u32 %r13, 0;\nmov.u32 %r14, 0;\n" + body;
  }
  std::vector<uint32_t> out =
      runWarp(body, in, 128, nullptr, ".shared .align 16 .b8 tile[512];");
  auto elem = [&](unsigned j, unsigned r, unsigned c) {
    return uint32_t(tile[(j * 8 + r) * 8 + c]);
  };
  for (unsigned t = 0; t < 32; ++t)
    for (unsigned j = 0; j < 4; ++j) {
      uint32_t got = out[j * 32 + t];
      if (j >= num)
        continue; // register not written by this shape
      unsigned r = t / 4, c = 2 * (t % 4);
      uint32_t expect = trans ? elem(j, c, r) | (elem(j, c + 1, r) << 16)
                              : elem(j, r, c) | (elem(j, r, c + 1) << 16);
      EXPECT_EQ(got, expect) << "x" << num << (trans ? ".trans" : "")
                             << " lane " << t << " matrix " << j;
    }
}

void checkStmatrix(unsigned num, bool trans) {
  // Registers: lane t, matrix j holds 0x<j><t>0 | 0x<j><t>1 << 16.
  std::vector<uint32_t> in(128);
  for (unsigned t = 0; t < 32; ++t)
    for (unsigned j = 0; j < 4; ++j)
      in[j * 32 + t] = (0x1000 * j + 0x10 * t) | ((0x1000 * j + 0x10 * t + 1)
                                                   << 16);
  std::string regs = num == 1 ? "{%r11}" : num == 2 ? "{%r11, %r12}"
                                                    : "{%r11, %r12, %r13, %r14}";
  std::string body = R"(
  mul.wide.u32 %rd6, %r0, 4;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.u32 %r11, [%rd7];
  ld.global.u32 %r12, [%rd7+128];
  ld.global.u32 %r13, [%rd7+256];
  ld.global.u32 %r14, [%rd7+384];
  mov.u64 %rd8, tile;
  mul.wide.u32 %rd10, %r0, 16;
  add.s64 %rd11, %rd8, %rd10;
  stmatrix.sync.aligned.m8n8.x)" + std::to_string(num) +
                     (trans ? ".trans" : "") + ".shared.b16 [%rd11], " +
                     regs + R"(;
  add.s64 %rd9, %rd8, %rd6;
  ld.shared.u32 %r1, [%rd9];
  ld.shared.u32 %r2, [%rd9+128];
  ld.shared.u32 %r3, [%rd9+256];
  ld.shared.u32 %r4, [%rd9+384];
  st.global.u32 [%rd5], %r1;
  st.global.u32 [%rd5+128], %r2;
  st.global.u32 [%rd5+256], %r3;
  st.global.u32 [%rd5+384], %r4;
)";
  // The tile is filled first so the unwritten matrices read back as 0.
  body.insert(body.find("  mul.wide.u32 %rd6"),
              "  mov.u64 %rd12, tile;\n  mul.wide.u32 %rd13, %r0, 16;\n"
              "  add.s64 %rd14, %rd12, %rd13;\n  mov.u32 %r20, 0;\n"
              "  st.shared.v4.u32 [%rd14], {%r20, %r20, %r20, %r20};\n");
  std::vector<uint32_t> out =
      runWarp(body, in, 128, nullptr, ".shared .align 16 .b8 tile[512];");
  // Element (r, c) of matrix j in the tile (row r of matrix j at
  // (8j + r) * 16 bytes): from lane 4r + c/2 (half c%2), or with .trans
  // from lane 4c + r/2 (half r%2).
  std::vector<uint16_t> tile(256);
  std::memcpy(tile.data(), out.data(), 512);
  for (unsigned j = 0; j < 4; ++j)
    for (unsigned r = 0; r < 8; ++r)
      for (unsigned c = 0; c < 8; ++c) {
        unsigned lane = trans ? 4 * c + r / 2 : 4 * r + c / 2;
        unsigned half = trans ? r % 2 : c % 2;
        uint16_t expect =
            j < num ? uint16_t(0x1000 * j + 0x10 * lane + half) : 0;
        EXPECT_EQ(tile[(8 * j + r) * 8 + c], expect)
            << "x" << num << (trans ? ".trans" : "") << " matrix " << j
            << " (" << r << "," << c << ")";
      }
}

TEST(Fragment, StmatrixX1) { checkStmatrix(1, false); }
TEST(Fragment, StmatrixX2Trans) { checkStmatrix(2, true); }
TEST(Fragment, StmatrixX4) { checkStmatrix(4, false); }
TEST(Fragment, StmatrixX4Trans) { checkStmatrix(4, true); }

TEST(Fragment, LdmatrixX1) { checkLdmatrix(1, false); }
TEST(Fragment, LdmatrixX2) { checkLdmatrix(2, false); }
TEST(Fragment, LdmatrixX4) { checkLdmatrix(4, false); }
TEST(Fragment, LdmatrixX4Trans) { checkLdmatrix(4, true); }
TEST(Fragment, LdmatrixX2Trans) { checkLdmatrix(2, true); }

} // namespace
