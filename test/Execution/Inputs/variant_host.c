/*===- variant_host.c - a failed CPU variant selection leaves no call open -===*\
|*                                                                            *|
|* A host program for test/Execution/cpu-variant-failure.test: it links the   *|
|* multi-variant artifact `vs` (ring 2, f32, [1,2,64,32] per rank), runs one  *|
|* call, then one with RINGRT_CPU_VARIANT naming a variant the artifact does  *|
|* not have (it must fail with that diagnostic), then, with the variable      *|
|* unset, more calls on the same context: they must succeed and write the    *|
|* first call's output bit for bit (outputs are poisoned before each call),  *|
|* and the stage statistics must count only the calls that ran.              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "vs.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kN = 1 * 2 * 64 * 32 };
static float q[kN], k[kN], v[kN], o[kN], first[kN], lse[1 * 2 * 64];

static int32_t call(ringrt_context *ctx) {
  ringrt_tensor tq, tk, tv, to, tl;
  ringrt_tensor_init(&tq, q, RINGRT_F32, 4, vs_q_shape);
  ringrt_tensor_init(&tk, k, RINGRT_F32, 4, vs_kv_shape);
  ringrt_tensor_init(&tv, v, RINGRT_F32, 4, vs_kv_shape);
  ringrt_tensor_init(&to, o, RINGRT_F32, 4, vs_q_shape);
  ringrt_tensor_init(&tl, lse, RINGRT_F32, 3, vs_lse_shape);
  for (int i = 0; i < kN; ++i)
    o[i] = NAN; /* poison: unwritten outputs show up */
  return vs_attention_sync(ctx, &tq, &tk, &tv, &to, &tl, NULL, NULL);
}

/* Whether every rank's `ok` holds. */
static int allRanks(int ok) {
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  ringrt_context_options options;
  vs_context_options(&options, "mpi", "cpu");
  ringrt_context *ctx = NULL;
  if (ringrt_context_create(&options, &ctx) != RINGRT_OK) {
    fprintf(stderr, "vs: %s\n", ringrt_last_error());
    return 1;
  }
  srand(7 + (unsigned)world);
  for (int i = 0; i < kN; ++i) {
    q[i] = (float)rand() / RAND_MAX - 0.5f;
    k[i] = (float)rand() / RAND_MAX - 0.5f;
    v[i] = (float)rand() / RAND_MAX - 0.5f;
  }
  ringrt_stage_stats_enable(ctx, 1);
  int32_t st = call(ctx);
  int finite = 1;
  for (int i = 0; i < kN; ++i)
    finite &= isfinite(o[i]) != 0;
  memcpy(first, o, sizeof o);
  if (world == 0)
    printf("vs: first status=%d finite=%d variant=%s\n", (int)st,
           allRanks(finite), ringrt_cpu_variant(ctx));
  else
    allRanks(finite);

  setenv("RINGRT_CPU_VARIANT", "sse2", 1);
  st = call(ctx);
  if (world == 0)
    printf("vs: forced status=%s: %s\n",
           ringrt_status_string((ringrt_status)st), ringrt_last_error());
  unsetenv("RINGRT_CPU_VARIANT");

  int same = 1;
  for (int rep = 0; rep < 2; ++rep) {
    st = call(ctx);
    same &= st == RINGRT_OK && memcmp(o, first, sizeof o) == 0;
  }
  same = allRanks(same);
  ringrt_stage_stats stats[4];
  int32_t count = 0;
  ringrt_stage_stats_get(ctx, stats, 4, &count);
  if (world == 0)
    printf("vs: after status=%d same=%d stats=%d calls=%lld\n", (int)st,
           same, (int)count, count > 0 ? (long long)stats[0].calls : -1LL);
  ringrt_context_destroy(ctx);
  MPI_Finalize();
  return 0;
}
