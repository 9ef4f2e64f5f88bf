/*===- graph_host.c - capture a GPU entry point in a CUDA graph, replay it -===*\
|*                                                                            *|
|* A host program for test/Execution/gpu-cuda-graph*.test: it links a GPU     *|
|* artifact named `g` (bf16, comm "nccl", device "cuda"), calls g_attention   *|
|* once outside a capture on its own stream, captures a second call into a    *|
|* CUDA graph (cuStreamBeginCapture .. cuStreamEndCapture), and replays the   *|
|* graph with the output poisoned: the replay must write the uncaptured      *|
|* call's output bit for bit. Then it uploads new inputs to the same buffers, *|
|* and the replay must follow them (the graph recomputes; it does not keep   *|
|* an old result). Last, g_attention_sync inside a capture is refused         *|
|* (RINGRT_ERR_UNSUPPORTED: it would wait for the stream). The driver API is  *|
|* declared here by hand and loaded with dlopen, as ringrt does, so that no   *|
|* CUDA toolkit is needed to build it.                                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "g.h"

#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef void *CUstream, *CUgraph, *CUgraphExec;
static CUresult (*cuStreamCreate)(CUstream *, unsigned);
static CUresult (*cuStreamBeginCapture)(CUstream, int);
static CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
static CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph,
                                               unsigned long long);
static CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
static CUresult (*cuStreamSynchronize)(CUstream);
static CUresult (*cuGraphExecDestroy)(CUgraphExec);
static CUresult (*cuGraphDestroy)(CUgraph);

static int world;

static void fail(const char *what, long code) {
  fprintf(stderr, "graph: rank %d: %s failed (%ld): %s\n", world, what, code,
          ringrt_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}
#define CU(call)                                                              \
  do {                                                                        \
    CUresult r_ = (call);                                                     \
    if (r_ != 0)                                                              \
      fail(#call, r_);                                                        \
  } while (0)
#define RT(call)                                                              \
  do {                                                                        \
    int32_t s_ = (call);                                                      \
    if (s_ != RINGRT_OK)                                                      \
      fail(#call, s_);                                                        \
  } while (0)

static int64_t elements(const int64_t *shape, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

/* Fresh random bf16 values in [-1, 1) (the upper half of an f32). */
static void randomBf16(uint16_t *x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float f = 2.0f * (float)rand() / ((float)RAND_MAX + 1.0f) - 1.0f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    x[i] = (uint16_t)(bits >> 16);
  }
}

/* Fills device buffer `d` of `n` bf16 elements with fresh random values. */
static void newInputs(ringrt_context *ctx, void *d, int64_t n) {
  uint16_t *h = malloc(2 * n);
  randomBf16(h, n);
  RT(ringrt_memcpy_to_device(ctx, d, h, 2 * n));
  free(h);
}

static int allRanks(int ok) {
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  ringrt_context_options options;
  g_context_options(&options, "nccl", "cuda");
  ringrt_context *ctx = NULL;
  RT(ringrt_context_create(&options, &ctx));

  void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!cuda)
    fail("dlopen(libcuda.so.1)", 0);
#define LOAD(fn, sym)                                                         \
  if (!(*(void **)&fn = dlsym(cuda, sym)))                                    \
    fail("dlsym(" sym ")", 0);
  LOAD(cuStreamCreate, "cuStreamCreate")
  LOAD(cuStreamBeginCapture, "cuStreamBeginCapture_v2")
  LOAD(cuStreamEndCapture, "cuStreamEndCapture")
  LOAD(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags")
  LOAD(cuGraphLaunch, "cuGraphLaunch")
  LOAD(cuStreamSynchronize, "cuStreamSynchronize")
  LOAD(cuGraphExecDestroy, "cuGraphExecDestroy")
  LOAD(cuGraphDestroy, "cuGraphDestroy")

  int64_t nq = elements(g_q_shape, 4), nkv = elements(g_kv_shape, 4),
          nl = elements(g_lse_shape, 3);
  uint16_t *ho = malloc(2 * nq), *first = malloc(2 * nq),
           *second = malloc(2 * nq), *poison = malloc(2 * nq);
  float *hl = malloc(4 * nl), *firstLse = malloc(4 * nl);
  memset(poison, 0xff, 2 * nq); /* bf16 NaN */
  void *dq, *dk, *dv, *dout, *dl;
  RT(ringrt_device_alloc(ctx, 2 * nq, &dq));
  RT(ringrt_device_alloc(ctx, 2 * nkv, &dk));
  RT(ringrt_device_alloc(ctx, 2 * nkv, &dv));
  RT(ringrt_device_alloc(ctx, 2 * nq, &dout));
  RT(ringrt_device_alloc(ctx, 4 * nl, &dl));
  ringrt_tensor tq, tk, tv, to, tl;
  ringrt_tensor_init(&tq, dq, RINGRT_BF16, 4, g_q_shape);
  ringrt_tensor_init(&tk, dk, RINGRT_BF16, 4, g_kv_shape);
  ringrt_tensor_init(&tv, dv, RINGRT_BF16, 4, g_kv_shape);
  ringrt_tensor_init(&to, dout, RINGRT_BF16, 4, g_q_shape);
  ringrt_tensor_init(&tl, dl, RINGRT_F32, 3, g_lse_shape);

  srand(11 + (unsigned)world);
  newInputs(ctx, dq, nq);
  newInputs(ctx, dk, nkv);
  newInputs(ctx, dv, nkv);

  CUstream s;
  CU(cuStreamCreate(&s, 1 /* CU_STREAM_NON_BLOCKING */));
  /* Outside a capture: kernels loaded, workspace allocated. */
  RT(g_attention_sync(ctx, &tq, &tk, &tv, &to, &tl, NULL, s));
  RT(ringrt_memcpy_to_host(ctx, first, dout, 2 * nq));
  RT(ringrt_memcpy_to_host(ctx, firstLse, dl, 4 * nl));

  /* Captured: returns at once, nothing runs. */
  CUgraph graph;
  CUgraphExec exec;
  CU(cuStreamBeginCapture(s, 0 /* CU_STREAM_CAPTURE_MODE_GLOBAL */));
  RT(g_attention(ctx, &tq, &tk, &tv, &to, &tl, NULL, s));
  CU(cuStreamEndCapture(s, &graph));
  CU(cuGraphInstantiateWithFlags(&exec, graph, 0));

  /* Replay 1: the same output, bit for bit. */
  RT(ringrt_memcpy_to_device(ctx, dout, poison, 2 * nq));
  CU(cuGraphLaunch(exec, s));
  CU(cuStreamSynchronize(s));
  RT(ringrt_memcpy_to_host(ctx, ho, dout, 2 * nq));
  RT(ringrt_memcpy_to_host(ctx, hl, dl, 4 * nl));
  int same1 = allRanks(memcmp(ho, first, 2 * nq) == 0 &&
                       memcmp(hl, firstLse, 4 * nl) == 0);

  /* New inputs in the same buffers: the uncaptured call's output, then
     the replay's, which must match it and differ from the first. */
  newInputs(ctx, dq, nq);
  newInputs(ctx, dk, nkv);
  newInputs(ctx, dv, nkv);
  RT(g_attention_sync(ctx, &tq, &tk, &tv, &to, &tl, NULL, s));
  RT(ringrt_memcpy_to_host(ctx, second, dout, 2 * nq));
  RT(ringrt_memcpy_to_device(ctx, dout, poison, 2 * nq));
  for (int rep = 0; rep < 3; ++rep)
    CU(cuGraphLaunch(exec, s));
  CU(cuStreamSynchronize(s));
  RT(ringrt_memcpy_to_host(ctx, ho, dout, 2 * nq));
  int same2 = allRanks(memcmp(ho, second, 2 * nq) == 0);
  int changed = allRanks(memcmp(second, first, 2 * nq) != 0);

  /* _sync cannot be captured: it would wait for the stream. */
  CUgraph discarded;
  CU(cuStreamBeginCapture(s, 0));
  int32_t st = g_attention_sync(ctx, &tq, &tk, &tv, &to, &tl, NULL, s);
  CU(cuStreamEndCapture(s, &discarded));
  CU(cuGraphDestroy(discarded));
  if (world == 0) {
    printf("graph: replay same=%d\n", same1);
    printf("graph: new inputs replay same=%d changed=%d\n", same2, changed);
    printf("graph: captured _sync status=%s\n",
           ringrt_status_string((ringrt_status)st));
  }
  CU(cuGraphExecDestroy(exec));
  CU(cuGraphDestroy(graph));
  ringrt_context_destroy(ctx);
  MPI_Finalize();
  return 0;
}
