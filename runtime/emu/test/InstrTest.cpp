//===- InstrTest.cpp - Per-instruction emulator tests ------------*- C++ -*-===//
//
// This file implements tests of single instructions against values derived
// from the PTX ISA definitions: integer and f32 arithmetic, cvt rounding,
// mov packing, setp/selp, shfl.sync modes, predication and divergence.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

#include <cmath>

using namespace emutest;

namespace {

std::vector<uint32_t> randomWords(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> v(n);
  for (auto &x : v)
    x = rng() | 1; // never zero
  return v;
}

TEST(Instr, IntegerArithmetic) {
  auto in = randomWords(64, 1);
  // out[j*32+lane] = op_j(a, b) with a = in[lane], b = in[32+lane].
  auto out = runWarp(R"(
  ld.global.u32 %r1, [%rd4];
  ld.global.u32 %r2, [%rd4+128];
  add.s32 %r3, %r1, %r2;      st.global.u32 [%rd5], %r3;
  sub.s32 %r3, %r1, %r2;      st.global.u32 [%rd5+128], %r3;
  mul.lo.s32 %r3, %r1, %r2;   st.global.u32 [%rd5+256], %r3;
  mul.hi.u32 %r3, %r1, %r2;   st.global.u32 [%rd5+384], %r3;
  mad.lo.s32 %r3, %r1, %r2, 7; st.global.u32 [%rd5+512], %r3;
  shl.b32 %r3, %r1, 5;        st.global.u32 [%rd5+640], %r3;
  shr.u32 %r3, %r1, 3;        st.global.u32 [%rd5+768], %r3;
  shr.s32 %r3, %r1, 3;        st.global.u32 [%rd5+896], %r3;
  and.b32 %r3, %r1, %r2;      st.global.u32 [%rd5+1024], %r3;
  or.b32 %r3, %r1, %r2;       st.global.u32 [%rd5+1152], %r3;
  xor.b32 %r3, %r1, %r2;      st.global.u32 [%rd5+1280], %r3;
  not.b32 %r3, %r1;           st.global.u32 [%rd5+1408], %r3;
  min.s32 %r3, %r1, %r2;      st.global.u32 [%rd5+1536], %r3;
  max.u32 %r3, %r1, %r2;      st.global.u32 [%rd5+1664], %r3;
  rem.u32 %r3, %r1, %r2;      st.global.u32 [%rd5+1792], %r3;
  div.s32 %r3, %r1, %r2;      st.global.u32 [%rd5+1920], %r3;
  mul.wide.s32 %rd6, %r1, %r2; cvt.u32.u64 %r3, %rd6;
  st.global.u32 [%rd5+2048], %r3;
  shr.u64 %rd7, %rd6, 32; cvt.u32.u64 %r3, %rd7; st.global.u32 [%rd5+2176], %r3;
  cvt.s64.s32 %rd8, %r2; mad.wide.u32 %rd9, %r1, 3, %rd8;
  shr.u64 %rd9, %rd9, 32; cvt.u32.u64 %r3, %rd9; st.global.u32 [%rd5+2304], %r3;
  cvt.u16.u32 %rs1, %r1; cvt.s32.s16 %r3, %rs1; st.global.u32 [%rd5+2432], %r3;
  prmt.b32 %r3, %r1, %r2, 0x5140; st.global.u32 [%rd5+2560], %r3;
)",
                     in, 32 * 21);
  for (unsigned l = 0; l < 32; ++l) {
    uint32_t a = in[l], b = in[32 + l];
    int32_t sa = int32_t(a), sb = int32_t(b);
    uint32_t expect[] = {
        a + b, a - b, a * b, uint32_t((uint64_t(a) * b) >> 32), a * b + 7,
        a << 5, a >> 3, uint32_t(sa >> 3), a & b, a | b, a ^ b, ~a,
        uint32_t(std::min(sa, sb)), std::max(a, b), a % b,
        uint32_t(sb == -1 ? -sa : sa / sb),
        uint32_t(int64_t(sa) * sb), uint32_t(uint64_t(int64_t(sa) * sb) >> 32),
        uint32_t((uint64_t(a) * 3 + uint64_t(int64_t(sb))) >> 32),
        uint32_t(int32_t(int16_t(a & 0xffff))),
        // prmt selectors 0,4,1,5 (low nibble first): a.b0, b.b0, a.b1, b.b1
        (a & 0xff) | ((b & 0xff) << 8) | (((a >> 8) & 0xff) << 16) |
            (((b >> 8) & 0xff) << 24)};
    for (unsigned j = 0; j < sizeof(expect) / 4; ++j)
      EXPECT_EQ(out[j * 32 + l], expect[j]) << "op " << j << " lane " << l;
  }
}

TEST(Instr, FloatArithmetic) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> d(0.25f, 4.0f);
  std::vector<uint32_t> in(96);
  for (auto &x : in)
    x = fbits(d(rng) * (rng() & 1 ? 1 : -1));
  auto out = runWarp(R"(
  ld.global.f32 %f1, [%rd4];
  ld.global.f32 %f2, [%rd4+128];
  ld.global.f32 %f3, [%rd4+256];
  fma.rn.f32 %f4, %f1, %f2, %f3;  st.global.f32 [%rd5], %f4;
  mul.rn.f32 %f4, %f1, %f2;       st.global.f32 [%rd5+128], %f4;
  add.f32 %f4, %f1, 0f3F800000;   st.global.f32 [%rd5+256], %f4;
  sub.f32 %f4, %f1, %f2;          st.global.f32 [%rd5+384], %f4;
  max.f32 %f4, %f1, %f2;          st.global.f32 [%rd5+512], %f4;
  min.f32 %f4, %f1, %f2;          st.global.f32 [%rd5+640], %f4;
  neg.f32 %f4, %f1;               st.global.f32 [%rd5+768], %f4;
  abs.f32 %f4, %f1;               st.global.f32 [%rd5+896], %f4;
  div.rn.f32 %f4, %f1, %f2;       st.global.f32 [%rd5+1024], %f4;
  rcp.rn.f32 %f4, %f1;            st.global.f32 [%rd5+1152], %f4;
  ex2.approx.ftz.f32 %f4, %f1;    st.global.f32 [%rd5+1280], %f4;
  abs.f32 %f5, %f1;
  lg2.approx.f32 %f4, %f5;        st.global.f32 [%rd5+1408], %f4;
  setp.lt.f32 %p1, %f1, %f2;
  selp.f32 %f4, %f1, %f2, %p1;    st.global.f32 [%rd5+1536], %f4;
  sqrt.rn.f32 %f4, %f5;           st.global.f32 [%rd5+1664], %f4;
)",
                     in, 32 * 14);
  for (unsigned l = 0; l < 32; ++l) {
    float a = bitsf(in[l]), b = bitsf(in[32 + l]), c = bitsf(in[64 + l]);
    float expect[] = {std::fma(a, b, c), a * b, a + 1.0f, a - b,
                      std::max(a, b), std::min(a, b), -a, std::fabs(a),
                      a / b, 1.0f / a, std::exp2(a), std::log2(std::fabs(a)),
                      a < b ? a : b, std::sqrt(std::fabs(a))};
    for (unsigned j = 0; j < 14; ++j) {
      // ex2/lg2.approx: the ISA allows 2 ulp; the rest are exact.
      float tol = (j == 10 || j == 11) ? 4e-7f * std::fabs(expect[j]) : 0.0f;
      EXPECT_NEAR(bitsf(out[j * 32 + l]), expect[j], tol)
          << "op " << j << " lane " << l;
    }
  }
}

/// Round-to-nearest-even f32 -> bf16, written from the IEEE definition.
uint16_t refBF16(float f) {
  uint32_t b = fbits(f);
  uint32_t lsb = (b >> 16) & 1;
  return uint16_t((b + 0x7fff + lsb) >> 16);
}

TEST(Instr, CvtBF16AndF16) {
  // Ties and near-ties: 1 + 2^-8 is a tie (even: down); 1 + 3*2^-8 ties up.
  std::vector<float> a = {1.0f, 1.00390625f, 1.01171875f, -3.14159f,
                          65504.0f, 1e-3f, 70000.0f, 0.1f};
  std::vector<uint32_t> in(64);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-8.f, 8.f);
  for (unsigned l = 0; l < 32; ++l) {
    in[l] = fbits(l < a.size() ? a[l] : d(rng));
    in[32 + l] = fbits(d(rng));
  }
  auto out = runWarp(R"(
  ld.global.f32 %f1, [%rd4];
  ld.global.f32 %f2, [%rd4+128];
  cvt.rn.bf16x2.f32 %r1, %f1, %f2;  st.global.u32 [%rd5], %r1;
  cvt.rn.f16x2.f32 %r2, %f1, %f2;   st.global.u32 [%rd5+128], %r2;
  mov.b32 {%rs1, %rs2}, %r1;
  cvt.f32.bf16 %f3, %rs2;           st.global.f32 [%rd5+256], %f3;
  mov.b32 {%rs3, %rs4}, %r2;
  cvt.f32.f16 %f4, %rs4;            st.global.f32 [%rd5+384], %f4;
  cvt.rn.bf16.f32 %rs5, %f1;
  mov.b32 %r3, {%rs5, %rs1};        st.global.u32 [%rd5+512], %r3;
  cvt.rzi.s32.f32 %r4, %f1;         st.global.u32 [%rd5+640], %r4;
  cvt.rn.f32.s32 %f5, %r4;          st.global.f32 [%rd5+768], %f5;
  cvt.rz.bf16.f32 %rs6, %f1;        cvt.u32.u16 %r5, %rs6;
  st.global.u32 [%rd5+896], %r5;
)",
                     in, 32 * 8);
  for (unsigned l = 0; l < 32; ++l) {
    float x = bitsf(in[l]), y = bitsf(in[32 + l]);
    // d = {cvt(a) in the upper half, cvt(b) in the lower half}.
    EXPECT_EQ(out[l], (uint32_t(refBF16(x)) << 16) | refBF16(y)) << l;
    uint32_t h = out[32 + l];
    // f16 of x: compare through the value (f16 grid is exact in float).
    float hx = std::ldexp(1.0f, int((h >> 26) & 0x1f) - 15) *
               (1.0f + float((h >> 16) & 0x3ff) / 1024.0f);
    if (((h >> 26) & 0x1f) == 0x1f) {
      EXPECT_GE(std::fabs(x), 65520.0f) << l; // overflow to inf
    } else if (std::fabs(x) >= 6.2e-5f) {
      EXPECT_NEAR(std::fabs(x), hx, std::fabs(x) / 2048.0f) << l;
    }
    EXPECT_EQ(bitsf(out[64 + l]), bf16f(refBF16(x))) << l;
    EXPECT_EQ(out[128 + l], uint32_t(refBF16(x)) | (uint32_t(refBF16(y)) << 16));
    EXPECT_EQ(int32_t(out[160 + l]), int32_t(std::trunc(x)));
    EXPECT_EQ(bitsf(out[192 + l]), float(int32_t(std::trunc(x))));
    EXPECT_EQ(out[224 + l], fbits(x) >> 16) << "rz truncates";
  }
  // Known encodings from the formats' definitions.
  EXPECT_EQ(out[0] >> 16, 0x3F80u);        // 1.0
  EXPECT_EQ(out[1] >> 16, 0x3F80u);        // tie to even (down)
  EXPECT_EQ(out[2] >> 16, 0x3F82u);        // tie to even (up)
  EXPECT_EQ(out[32 + 0] >> 16, 0x3C00u);   // f16 1.0
  EXPECT_EQ(out[32 + 4] >> 16, 0x7BFFu);   // f16 65504 (max finite)
  EXPECT_EQ(out[32 + 6] >> 16, 0x7C00u);   // 70000 -> +inf
  EXPECT_EQ(out[32 + 7] >> 16, 0x2E66u);   // f16 0.1
}

TEST(Instr, NaNResultsAreCanonical) {
  // A GPU keeps no NaN payload through f32 arithmetic or conversions; only
  // the sign-bit operations pass the bits on. Lane inputs: a payload NaN
  // (ring-run's poison) and 0.
  std::vector<uint32_t> in(64, 0);
  for (unsigned l = 0; l < 32; ++l)
    in[l] = 0x7fe5a5a5u;
  auto out = runWarp(R"(
  ld.global.f32 %f1, [%rd4];
  ld.global.f32 %f2, [%rd4+128];
  add.f32 %f3, %f1, %f2;            st.global.f32 [%rd5], %f3;
  fma.rn.f32 %f3, %f2, %f2, %f1;    st.global.f32 [%rd5+128], %f3;
  max.NaN.f32 %f3, %f2, %f1;        st.global.f32 [%rd5+256], %f3;
  cvt.rn.bf16.f32 %rs1, %f1;        cvt.u32.u16 %r1, %rs1;
  st.global.u32 [%rd5+384], %r1;
  cvt.rn.f16.f32 %rs2, %f1;         cvt.u32.u16 %r2, %rs2;
  st.global.u32 [%rd5+512], %r2;
  neg.f32 %f3, %f1;                 st.global.f32 [%rd5+640], %f3;
  mov.b32 %r3, %f1;                 st.global.u32 [%rd5+768], %r3;
)",
                     in, 32 * 7);
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(out[l], 0x7fffffffu) << l;
    EXPECT_EQ(out[32 + l], 0x7fffffffu) << l;
    EXPECT_EQ(out[64 + l], 0x7fffffffu) << l;
    EXPECT_EQ(out[96 + l], 0x7fffu) << l;
    EXPECT_EQ(out[128 + l], 0x7fffu) << l;
    EXPECT_EQ(out[160 + l], 0xffe5a5a5u) << l;
    EXPECT_EQ(out[192 + l], 0x7fe5a5a5u) << l;
  }
}

/// Expected shfl.sync source lane, from the PTX ISA pseudo-code.
int shflSource(int mode, int lane, int b, int c) {
  int cval = c & 0x1f, segmask = (c >> 8) & 0x1f;
  int maxLane = (lane & segmask) | (cval & ~segmask);
  int minLane = lane & segmask;
  int j = lane;
  bool p = false;
  if (mode == 0) { j = lane - b; p = j >= maxLane; }
  if (mode == 1) { j = lane + b; p = j <= maxLane; }
  if (mode == 2) { j = lane ^ b; p = j <= maxLane; }
  if (mode == 3) { j = minLane | (b & ~segmask); p = j <= maxLane; }
  return p ? j : lane;
}

TEST(Instr, ShflSync) {
  auto in = randomWords(32, 4);
  auto out = runWarp(R"(
  ld.global.u32 %r1, [%rd4];
  shfl.sync.up.b32 %r2, %r1, 3, 0, -1;      st.global.u32 [%rd5], %r2;
  shfl.sync.down.b32 %r2, %r1, 5, 31, -1;   st.global.u32 [%rd5+128], %r2;
  shfl.sync.bfly.b32 %r2, %r1, 6, 31, -1;   st.global.u32 [%rd5+256], %r2;
  shfl.sync.idx.b32 %r2, %r1, 7, 31, -1;    st.global.u32 [%rd5+384], %r2;
  shfl.sync.down.b32 %r2, %r1, 2, 0x181f, -1; st.global.u32 [%rd5+512], %r2;
  shfl.sync.idx.b32 %r2, %r1, %r0, 0x101f, -1; st.global.u32 [%rd5+640], %r2;
  shfl.sync.bfly.b32 %r2|%p1, %r1, 16, 31, -1;
  selp.u32 %r3, 1, 0, %p1;                  st.global.u32 [%rd5+768], %r3;
)",
                     in, 32 * 7);
  struct { int mode, b, c; } cases[] = {{0, 3, 0},  {1, 5, 31},    {2, 6, 31},
                                       {3, 7, 31}, {1, 2, 0x181f}};
  for (int l = 0; l < 32; ++l) {
    for (unsigned i = 0; i < 5; ++i)
      EXPECT_EQ(out[i * 32 + l],
                in[shflSource(cases[i].mode, l, cases[i].b, cases[i].c)])
          << "case " << i << " lane " << l;
    EXPECT_EQ(out[5 * 32 + l], in[shflSource(3, l, l, 0x101f)]) << l;
    EXPECT_EQ(out[6 * 32 + l], 1u);
  }
  // Spot values: down 5 with c=31 keeps lanes 27..31; up 3 keeps 0..2.
  EXPECT_EQ(out[32 + 30], in[30]);
  EXPECT_EQ(out[32 + 3], in[8]);
  EXPECT_EQ(out[2], in[2]);
  EXPECT_EQ(out[10], in[7]);
}

TEST(Instr, PredicationAndDivergence) {
  auto in = randomWords(32, 5);
  // Odd lanes loop (lane % 5) times adding 3; even lanes take another path;
  // all reconverge before the warp-wide shfl.
  auto out = runWarp(R"(
  ld.global.u32 %r1, [%rd4];
  and.b32 %r2, %r0, 1;
  setp.eq.s32 %p1, %r2, 0;
  @%p1 bra $EVEN;
  rem.u32 %r3, %r0, 5;
  mov.u32 %r4, %r1;
$LOOP:
  setp.eq.s32 %p2, %r3, 0;
  @%p2 bra $JOIN;
  add.s32 %r4, %r4, 3;
  sub.s32 %r3, %r3, 1;
  bra.uni $LOOP;
$EVEN:
  mul.lo.s32 %r4, %r1, 2;
$JOIN:
  shfl.sync.bfly.b32 %r5, %r4, 1, 31, -1;
  st.global.u32 [%rd5], %r4;
  st.global.u32 [%rd5+128], %r5;
  @!%p1 st.global.u32 [%rd5+256], %r0;
)",
                     in, 96);
  auto val = [&](unsigned l) {
    return l % 2 == 0 ? in[l] * 2 : in[l] + 3 * (l % 5);
  };
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(out[l], val(l)) << l;
    EXPECT_EQ(out[32 + l], val(l ^ 1)) << l;
    EXPECT_EQ(out[64 + l], l % 2 ? l : 0xdeadbeefu) << l;
  }
}

TEST(Instr, VectorLoadStoreAndPack) {
  auto in = randomWords(32 * 4, 6);
  auto out = runWarp(R"(
  mul.wide.u32 %rd6, %r0, 16;
  add.s64 %rd7, %rd1, %rd6;
  add.s64 %rd8, %rd2, %rd6;
  ld.global.nc.v4.u32 {%r1, %r2, %r3, %r4}, [%rd7];
  st.global.v4.u32 [%rd8], {%r4, %r3, %r2, %r1};
  mov.b64 %rd9, {%r1, %r2};
  mov.b64 {%r5, %r6}, %rd9;
  st.global.v2.b32 [%rd8+512], {%r6, %r5};
)",
                     in, 32 * 8);
  for (unsigned l = 0; l < 32; ++l) {
    for (unsigned j = 0; j < 4; ++j)
      EXPECT_EQ(out[4 * l + j], in[4 * l + 3 - j]);
    EXPECT_EQ(out[128 + 4 * l], in[4 * l + 1]);
    EXPECT_EQ(out[128 + 4 * l + 1], in[4 * l]);
    EXPECT_EQ(out[128 + 4 * l + 2], 0xdeadbeefu);
  }
}

} // namespace
