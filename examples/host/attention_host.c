/*===- attention_host.c - a host program that links a ringc artifact -----===*
 *
 * This file is an example of the user side of ringc: a host program that
 * includes the generated header, links the generated object and libringrt,
 * and is launched with `mpirun -np 4`, one rank per device (here: CPU).
 *
 * With CMake and an installed ringc, CMakeLists.txt beside this file does it
 * all (find_package(ringc), ringc_add_artifact, add_executable):
 *
 *   cmake -S examples/host -B /tmp/host -DCMAKE_PREFIX_PATH=<ringc prefix>
 *   cmake --build /tmp/host && mpirun -np 4 /tmp/host/attention_host
 *
 * Without CMake, compile the spec and build with mpicc (PREFIX: the install
 * prefix; from a build tree, -I runtime/include -L build/lib):
 *
 *   ringc examples/small_cpu.mlir --target=cpu -o /tmp/a
 *   mpicc -I/tmp/a -I$PREFIX/include examples/host/attention_host.c \
 *         /tmp/a/small_cpu.o -L$PREFIX/lib -lringrt -Wl,-rpath,$PREFIX/lib \
 *         -lm -o /tmp/host
 *   mpirun -np 4 /tmp/host
 *
 * Every rank fills its own share of Q, K and V from a formula of the global
 * position (so no data moves at start-up), runs the ring attention, and
 * checks its query rows against a float64 reference over the whole
 * sequence, which it can compute because K and V are formulas too.
 *
 *===----------------------------------------------------------------------===*/

#include "small_cpu.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

enum { B = 1, HQ = 4, HKV = 2, L = 256, D = 64, P = 4 };

/* The value of tensor `which` (0 q, 1 k, 2 v) at global [b, h, token, d]. */
static double value(int which, int b, int h, int token, int d) {
  return sin(0.37 * token + 1.3 * d + 2.1 * h + 0.7 * b + 3.1 * which) * 0.8;
}

/* The global token of local row i on ring rank p (zigzag: chunks p and
 * 2P-1-p of L/(2P) tokens), as the header documents. */
static int globalToken(int p, int i) {
  int c = L / (2 * P);
  return i < c ? p * c + i : (2 * P - 1 - p) * c + (i - c);
}

/* float -> bf16, round to nearest even (no NaN inputs here). */
static uint16_t toBf16(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static float fromBf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static int fail(int rank, const char *what, int32_t status) {
  fprintf(stderr, "host: rank %d: %s failed: %s: %s\n", rank, what,
          ringrt_status_string((ringrt_status)status), ringrt_last_error());
  return 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world);

  ringrt_context_options options;
  small_cpu_context_options(&options, "mpi", "cpu");
  ringrt_context *ctx = NULL;
  int32_t st = ringrt_context_create(&options, &ctx);
  if (st != RINGRT_OK) {
    fail(world, "ringrt_context_create", st);
    MPI_Finalize();
    return 1;
  }
  int p = ringrt_coord(ctx, RINGRT_AXIS_RING);
  const int Ll = L / P;

  uint16_t *q = malloc(sizeof(uint16_t) * B * HQ * Ll * D);
  uint16_t *k = malloc(sizeof(uint16_t) * B * HKV * Ll * D);
  uint16_t *v = malloc(sizeof(uint16_t) * B * HKV * Ll * D);
  uint16_t *o = malloc(sizeof(uint16_t) * B * HQ * Ll * D);
  float *lse = malloc(sizeof(float) * B * HQ * Ll);
  for (int h = 0; h < HQ; ++h)
    for (int i = 0; i < Ll; ++i)
      for (int d = 0; d < D; ++d) {
        q[(h * Ll + i) * D + d] = toBf16((float)value(0, 0, h, globalToken(p, i), d));
        if (h < HKV) {
          k[(h * Ll + i) * D + d] = toBf16((float)value(1, 0, h, globalToken(p, i), d));
          v[(h * Ll + i) * D + d] = toBf16((float)value(2, 0, h, globalToken(p, i), d));
        }
      }

  ringrt_tensor tq, tk, tv, to, tl;
  ringrt_tensor_init(&tq, q, RINGRT_BF16, 4, small_cpu_q_shape);
  ringrt_tensor_init(&tk, k, RINGRT_BF16, 4, small_cpu_kv_shape);
  ringrt_tensor_init(&tv, v, RINGRT_BF16, 4, small_cpu_kv_shape);
  ringrt_tensor_init(&to, o, RINGRT_BF16, 4, small_cpu_q_shape);
  ringrt_tensor_init(&tl, lse, RINGRT_F32, 3, small_cpu_lse_shape);
  st = small_cpu_attention(ctx, &tq, &tk, &tv, &to, &tl, /*workspace=*/NULL,
                           /*stream=*/NULL);
  if (st != RINGRT_OK)
    return fail(world, "small_cpu_attention", st);

  /* float64 reference for this rank's rows: causal, GQA (q head h reads kv
   * head h / 2), scale 1/sqrt(D), inputs rounded to bf16 as the kernel saw
   * them. */
  double err2 = 0, ref2 = 0;
  static double s[L];
  for (int h = 0; h < HQ; ++h)
    for (int i = 0; i < Ll; ++i) {
      int tq_ = globalToken(p, i), hk = h / (HQ / HKV);
      double m = -INFINITY, sum = 0;
      for (int j = 0; j <= tq_; ++j) {
        double dot = 0;
        for (int d = 0; d < D; ++d)
          dot += (double)fromBf16(toBf16((float)value(0, 0, h, tq_, d))) *
                 (double)fromBf16(toBf16((float)value(1, 0, hk, j, d)));
        s[j] = dot / sqrt((double)D);
        if (s[j] > m)
          m = s[j];
      }
      for (int j = 0; j <= tq_; ++j)
        sum += exp(s[j] - m);
      for (int d = 0; d < D; ++d) {
        double ref = 0;
        for (int j = 0; j <= tq_; ++j)
          ref += exp(s[j] - m) / sum *
                 (double)fromBf16(toBf16((float)value(2, 0, hk, j, d)));
        double got = fromBf16(o[(h * Ll + i) * D + d]);
        err2 += (got - ref) * (got - ref);
        ref2 += ref * ref;
      }
    }
  double totals[2] = {err2, ref2}, global[2];
  MPI_Reduce(totals, global, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  int ok = 1;
  if (world == 0) {
    double rel = sqrt(global[0] / global[1]);
    ok = rel <= 1e-2;
    printf("host: %d ranks, ring coordinate of rank 0 = %d, rel_err=%.3e: %s\n",
           ringrt_world_size(ctx), p, rel, ok ? "PASS" : "FAIL");
  }
  free(q); free(k); free(v); free(o); free(lse);
  ringrt_context_destroy(ctx);
  MPI_Finalize();
  return ok ? 0 : 1;
}
