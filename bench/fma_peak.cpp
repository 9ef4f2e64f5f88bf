//===- bench/fma_peak.cpp - single-core FMA peak of this machine ------------===//
//
// Measures the FMA throughput of one core for AVX2 (ymm) and AVX-512 (zmm):
// 12 independent FMA chains (enough to cover a 4–5 cycle FMA latency on two
// pipes, and with the two operands 14 of the 16 ymm registers: 16 chains
// would spill under AVX2), 20 million FMAs, best of REPS runs. The peak the CPU kernels are compared with in NOTES.md: never
// an assumed clock times a datasheet width.
//
// Also the AVX512_BF16 dot-product peak (vdpbf16ps, 64 FLOPs per zmm
// instruction), which the avx512bf16 kernel variant is compared with.
//
// Usage: fma_peak [REPS]; prints `fma_peak isa=<avx2|avx512|avx512bf16>
// gflops=<x>` (avx512bf16 only where the CPU has it).
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr long kIters = 20'000'000; // FMAs per run (of one vector each)

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// One body per ISA (GCC does not let lambdas inherit a target attribute);
// 12 named accumulators so that they live in registers.
#define FMA_PEAK_CHAINS(X)                                                     \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define FMA_PEAK_BODY(LANES)                                                   \
  V x = SET1(0.999f), y = SET1(1e-7f);                                         \
  _Pragma("GCC diagnostic ignored \"-Wunused-variable\"")                      \
  FMA_PEAK_CHAINS(FMA_PEAK_DECL)                                               \
  auto t0 = std::chrono::steady_clock::now();                                  \
  for (long i = 0; i < kIters / 12; ++i) {                                     \
    FMA_PEAK_CHAINS(FMA_PEAK_STEP)                                             \
    __asm__ volatile("" ::: "memory");                                         \
  }                                                                            \
  double s = seconds(t0);                                                      \
  V sum = a0;                                                                  \
  FMA_PEAK_CHAINS(FMA_PEAK_SUM)                                                \
  volatile float sink = reinterpret_cast<float *>(&sum)[0];                    \
  (void)sink;                                                                  \
  return 2.0 * LANES * static_cast<double>(kIters / 12 * 12) / s / 1e9;
#define FMA_PEAK_DECL(n) V a##n = SET1(0.5f + n);
#define FMA_PEAK_STEP(n) a##n = FMA(a##n, x, y);
#define FMA_PEAK_SUM(n) sum = ADD(sum, a##n);

#define V __m256
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
__attribute__((target("avx2,fma"))) double avx2() { FMA_PEAK_BODY(8) }
#undef V
#undef SET1
#undef FMA
#undef ADD

#define V __m512
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
__attribute__((target("avx512f"))) double avx512() { FMA_PEAK_BODY(16) }
#undef V
#undef SET1
#undef FMA
#undef ADD

// vdpbf16ps (AVX512_BF16): 32 bf16 products summed in pairs into 16 fp32
// lanes, counted as 64 FLOPs (the kernels count a multiply-add as 2), as
// an FMA body with 2·16 lanes per step.
#define V __m512
#define SET1 _mm512_set1_ps
#define FMA(a, x, y) _mm512_dpbf16_ps(a, (__m512bh)(x), (__m512bh)(y))
#define ADD _mm512_add_ps
__attribute__((target("avx512f,avx512bf16"))) double avx512bf16() {
  FMA_PEAK_BODY(32)
}
#undef V
#undef SET1
#undef FMA
#undef ADD

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  __builtin_cpu_init();
  double best2 = 0, best512 = 0, bestBf16 = 0;
  for (int r = 0; r < reps; ++r) {
    double g = avx2();
    best2 = g > best2 ? g : best2;
    if (__builtin_cpu_supports("avx512f")) {
      g = avx512();
      best512 = g > best512 ? g : best512;
    }
    if (__builtin_cpu_supports("avx512bf16")) {
      g = avx512bf16();
      bestBf16 = g > bestBf16 ? g : bestBf16;
    }
  }
  std::printf("fma_peak isa=avx2 gflops=%.1f\n", best2);
  if (best512 > 0)
    std::printf("fma_peak isa=avx512 gflops=%.1f\n", best512);
  if (bestBf16 > 0)
    std::printf("fma_peak isa=avx512bf16 gflops=%.1f\n", bestBf16);
  return 0;
}
