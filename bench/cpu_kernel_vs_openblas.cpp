//===- cpu_kernel_vs_openblas.cpp - generated kernel vs OpenBLAS -*- C++ -*-===//
//
// This file implements a benchmark (not a test) of the single-rank CPU
// artifact that ringc generates against an unfused OpenBLAS baseline:
// S = Q·Kᵀ (cblas_sgemm), a row softmax, O = P·V (cblas_sgemm), f32,
// B = H = 1, no mask. One mode per process so that the peak RSS
// (getrusage) belongs to one method:
//   cpu_kernel_vs_openblas ringc ARTIFACT_DIR L D ITERS
//   cpu_kernel_vs_openblas openblas L D ITERS [causal]
// prints one line: method L D ms gflops peak_rss_mib. FLOPs = 4·L²·D
// (also under the causal mask: the unfused baseline computes every score).
//
//===----------------------------------------------------------------------===//

#include "ringrt/ringrt.h"

#include <cblas.h>
#include <dlfcn.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double peakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

void fillRandom(std::vector<float> &x, unsigned seed) {
  for (auto &v : x) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<float>(seed >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
}

template <typename Fn> double timeMs(int iters, Fn fn) {
  fn(); // warm-up
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i)
    fn();
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count() /
         iters;
}

/// The row softmax of S in place; under `causal` row i keeps keys 0..i and
/// the rest become 0 (what masked_fill with −inf and a softmax give).
void softmaxRows(std::vector<float> &s, long L, bool causal) {
  for (long i = 0; i < L; ++i) {
    float *row = &s[i * L], m = -INFINITY, sum = 0;
    long n = causal ? i + 1 : L;
    for (long j = 0; j < n; ++j)
      m = std::fmax(m, row[j]);
    for (long j = 0; j < n; ++j)
      sum += row[j] = std::exp(row[j] - m);
    for (long j = 0; j < n; ++j)
      row[j] /= sum;
    for (long j = n; j < L; ++j)
      row[j] = 0;
  }
}

/// Unfused f32 attention on OpenBLAS: S = scale·Q·Kᵀ (the full square, as
/// an unfused user computes it, also under a causal mask), softmax,
/// O = P·V. (Debian's OpenBLAS 0.3.21 is built without cblas_sbgemm, so
/// there is no bf16 OpenBLAS baseline: a bf16 user of it widens to f32.)
int runOpenBlas(long L, long D, int iters, bool causal) {
  std::vector<float> q(L * D), k(L * D), v(L * D), o(L * D), s(L * L);
  fillRandom(q, 1), fillRandom(k, 2), fillRandom(v, 3);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  double ms = timeMs(iters, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, scale,
                q.data(), D, k.data(), D, 0.0f, s.data(), L);
    softmaxRows(s, L, causal);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, 1.0f,
                s.data(), L, v.data(), D, 0.0f, o.data(), D);
  });
  std::printf("openblas %ld %ld %.3f %.2f %.1f\n", L, D, ms,
              4.0 * L * L * D / (ms * 1e6), peakRssMiB());
  return 0;
}

int runRingc(const std::string &dir, long L, long D, int iters) {
  std::string lib = dir + "/libbench.so";
  void *handle = dlopen(lib.c_str(), RTLD_NOW);
  if (!handle) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  auto entry = reinterpret_cast<ringrt_attention_entry>(
      dlsym(handle, "bench_attention"));
  if (!entry) {
    std::fprintf(stderr, "no bench_attention in %s\n", lib.c_str());
    return 1;
  }
  ringrt_context_options opts{};
  opts.comm = "self";
  opts.grid_rank = 1;
  opts.grid_shape[0] = 1;
  opts.axis_of_role[0] = 0;
  opts.axis_of_role[1] = opts.axis_of_role[2] = -1;
  const char *hash = std::getenv("RINGC_PLAN_HASH");
  opts.plan_hash = hash ? std::strtoull(hash, nullptr, 16) : 0;
  ringrt_context *ctx = nullptr;
  if (ringrt_context_create(&opts, &ctx) != RINGRT_OK) {
    std::fprintf(stderr, "context: %s\n", ringrt_last_error());
    return 1;
  }
  std::vector<float> q(L * D), k(L * D), v(L * D), o(L * D), lse(L);
  fillRandom(q, 1), fillRandom(k, 2), fillRandom(v, 3);
  int64_t shape[4] = {1, 1, L, D}, lseShape[3] = {1, 1, L};
  ringrt_tensor tq, tk, tv, to, tl;
  ringrt_tensor_init(&tq, q.data(), RINGRT_F32, 4, shape);
  ringrt_tensor_init(&tk, k.data(), RINGRT_F32, 4, shape);
  ringrt_tensor_init(&tv, v.data(), RINGRT_F32, 4, shape);
  ringrt_tensor_init(&to, o.data(), RINGRT_F32, 4, shape);
  ringrt_tensor_init(&tl, lse.data(), RINGRT_F32, 3, lseShape);
  int32_t status = 0;
  double ms = timeMs(iters, [&] {
    status |= entry(ctx, &tq, &tk, &tv, &to, &tl, /*workspace=*/nullptr, nullptr);
  });
  if (status) {
    std::fprintf(stderr, "entry failed: %s\n", ringrt_last_error());
    return 1;
  }
  std::printf("ringc %ld %ld %.3f %.2f %.1f\n", L, D, ms,
              4.0 * L * L * D / (ms * 1e6), peakRssMiB());
  ringrt_context_destroy(ctx);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "openblas" && (argc == 5 || argc == 6))
    return runOpenBlas(std::atol(argv[2]), std::atol(argv[3]),
                       std::atoi(argv[4]),
                       argc == 6 && std::string(argv[5]) == "causal");
  if (mode == "ringc" && argc == 6)
    return runRingc(argv[2], std::atol(argv[3]), std::atol(argv[4]),
                    std::atoi(argv[5]));
  std::fprintf(stderr,
               "usage: %s ringc ARTIFACT_DIR L D ITERS | openblas L D ITERS "
               "[causal]\n",
               argv[0]);
  return 2;
}
