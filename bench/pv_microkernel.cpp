//===- bench/pv_microkernel.cpp - shapes of the bf16 P·V micro-kernel -------===//
//
// Microbenchmark (not a test) of the loop shapes of the avx512bf16 CPU
// attention kernel's dot products, one query tile of 16 rows against a key
// block (by default 256 keys at D = 64, 128 at D = 128: the kernel's
// 128 KiB block; BYTES/(8·D) keys), hot in L1/L2, best of REPS runs. Each shape does the work of one key tile
// per step and is counted in vdpbf16ps FLOPs (64 per instruction):
//   s     the S = Q·Kᵀ loop: QsT[e] (one vector load) times a broadcast of
//         Kp[e][j] for 16 keys j, St[j] accumulated in registers over e;
//   pv4   v4's P·V: per 16-column chunk of O, its 16 row accumulators
//         Acc[row][d:d+16] loaded, 8 key pairs × (one Vp[pair][d:d+16] load,
//         16 broadcasts of P[pair][row] from memory, 16 vdpbf16ps), stored;
//   pv5   v5's P·V with O transposed (row lanes): per chunk of 16 columns d,
//         the accumulators OT[d][0:16] loaded, 8 key pairs × 16 vdpbf16ps of
//         the P pair vector (a register: the softmax's output) with a
//         broadcast of Vp[pair][d] (folded into the instruction), stored;
//   pv5x2 the same over two key tiles per accumulator load and store (the
//         kernel defers the P·V of a whole key block: 8–16 tiles).
// The peak they are compared with is fma_peak's vdpbf16ps figure.
//
// Usage: pv_microkernel [REPS [BYTES]]; prints `pv_microkernel
// shape=<s|pv4|pv5|pv5x2> d=<64|128> gflops=<x>`. Build with clang++ -O3
// (GCC -O2 keeps the accumulator arrays in memory).
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kRows = 16, kKeys = 16, kPairs = kKeys / 2;

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

#define TARGET __attribute__((target("avx512f,avx512bf16")))

/// Everything one query tile touches: Q pairs transposed, K pairs tile-major,
/// V pairs, the P pairs of one tile and the accumulators (both layouts).
struct Buffers {
  explicit Buffers(int d, int keys)
      : qst(d / 2 * kRows), kp(keys / kKeys * d / 2 * kKeys),
        vp(keys / 2 * d), ps(kPairs * kRows), acc(kRows * d) {
    auto fill = [](std::vector<int> &v, int seed) {
      // bf16 pairs of small finite values: 0x3f80 (1.0) with low noise.
      for (size_t i = 0; i < v.size(); ++i) {
        unsigned lo = 0x3f00u + ((i * 7 + seed) & 0x7f);
        v[i] = static_cast<int>(lo | (lo << 16));
      }
    };
    fill(qst, 1), fill(kp, 2), fill(vp, 3), fill(ps, 4);
  }
  std::vector<int> qst, kp, vp, ps;
  std::vector<float> acc;
};

TARGET void shapeS(Buffers &b, int d, int keys) {
  for (int t = 0; t < keys / kKeys; ++t) {
    const int *kt = &b.kp[t * d / 2 * kKeys];
    __m512 s[kKeys];
    for (int j = 0; j < kKeys; ++j)
      s[j] = _mm512_setzero_ps();
    for (int e = 0; e < d / 2; ++e) {
      __m512bh qv = (__m512bh)_mm512_loadu_si512(&b.qst[e * kRows]);
      for (int j = 0; j < kKeys; ++j)
        s[j] = _mm512_dpbf16_ps(
            s[j], qv, (__m512bh)_mm512_set1_epi32(kt[e * kKeys + j]));
    }
    __m512 m = s[0];
    for (int j = 1; j < kKeys; ++j)
      m = _mm512_max_ps(m, s[j]);
    _mm512_storeu_ps(b.acc.data(), m);
  }
}

TARGET void shapePv4(Buffers &b, int d, int keys) {
  for (int t = 0; t < keys / kKeys; ++t) {
    const int *vp = &b.vp[t * kPairs * d];
    for (int c = 0; c < d; c += 16) {
      __m512 a[kRows];
      for (int r = 0; r < kRows; ++r)
        a[r] = _mm512_loadu_ps(&b.acc[r * d + c]);
      for (int jp = 0; jp < kPairs; ++jp) {
        __m512bh v = (__m512bh)_mm512_loadu_si512(&vp[jp * d + c]);
        for (int r = 0; r < kRows; ++r)
          a[r] = _mm512_dpbf16_ps(
              a[r], (__m512bh)_mm512_set1_epi32(b.ps[jp * kRows + r]), v);
      }
      for (int r = 0; r < kRows; ++r)
        _mm512_storeu_ps(&b.acc[r * d + c], a[r]);
    }
  }
}

TARGET void shapePv5(Buffers &b, int d, int keys) {
  for (int t = 0; t < keys / kKeys; ++t) {
    const int *vp = &b.vp[t * kPairs * d];
    __m512bh p[kPairs];
    for (int jp = 0; jp < kPairs; ++jp)
      p[jp] = (__m512bh)_mm512_loadu_si512(&b.ps[jp * kRows]);
    for (int c = 0; c < d; c += 16) {
      __m512 a[16];
      for (int i = 0; i < 16; ++i)
        a[i] = _mm512_loadu_ps(&b.acc[(c + i) * kRows]);
      for (int jp = 0; jp < kPairs; ++jp)
        for (int i = 0; i < 16; ++i)
          a[i] = _mm512_dpbf16_ps(
              a[i], p[jp], (__m512bh)_mm512_set1_epi32(vp[jp * d + c + i]));
      for (int i = 0; i < 16; ++i)
        _mm512_storeu_ps(&b.acc[(c + i) * kRows], a[i]);
    }
  }
}

/// pv5 over two key tiles per step (16 key pairs): the accumulators are
/// loaded and stored once per 32 keys.
TARGET void shapePv5x2(Buffers &b, int d, int keys) {
  for (int t = 0; t < keys / kKeys; t += 2) {
    const int *vp = &b.vp[t * kPairs * d];
    for (int c = 0; c < d; c += 16) {
      __m512 a[16];
      for (int i = 0; i < 16; ++i)
        a[i] = _mm512_loadu_ps(&b.acc[(c + i) * kRows]);
      for (int jp = 0; jp < 2 * kPairs; ++jp) {
        __m512bh p = (__m512bh)_mm512_loadu_si512(&b.ps[(jp % kPairs) * kRows]);
        for (int i = 0; i < 16; ++i)
          a[i] = _mm512_dpbf16_ps(
              a[i], p, (__m512bh)_mm512_set1_epi32(vp[jp * d + c + i]));
      }
      for (int i = 0; i < 16; ++i)
        _mm512_storeu_ps(&b.acc[(c + i) * kRows], a[i]);
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) {
    std::printf("pv_microkernel: this CPU has no avx512bf16\n");
    return 0;
  }
  struct Shape {
    const char *name;
    void (*fn)(Buffers &, int, int);
  } shapes[] = {{"s", shapeS}, {"pv4", shapePv4}, {"pv5", shapePv5}, {"pv5x2", shapePv5x2}};
  for (int d : {64, 128}) {
    int keys = (argc > 2 ? std::atoi(argv[2]) : 128 * 1024) / (8 * d);
    Buffers b(d, keys);
    // One key tile is 16 rows × 16 keys × d multiply-adds.
    double flops = 2.0 * kRows * keys * d;
    long calls = static_cast<long>(2e10 / flops / 8);
    for (const Shape &s : shapes) {
      double best = 0;
      for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < calls; ++i) {
          s.fn(b, d, keys);
          __asm__ volatile("" ::: "memory");
        }
        double g = flops * calls / seconds(t0) / 1e9;
        best = g > best ? g : best;
      }
      std::printf("pv_microkernel shape=%s d=%d gflops=%.1f\n", s.name, d,
                  best);
    }
  }
  return 0;
}
