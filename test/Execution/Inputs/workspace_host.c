/*===- workspace_host.c - no buffer allocation per call ------------------===*\
|*                                                                            *|
|* A host program for test/Execution/workspace-no-alloc.test: it links the    *|
|* artifact `ws` (ring 2, f32, [1,2,64,32] per rank) and interposes malloc    *|
|* and friends (the executable's definitions win over glibc's for every      *|
|* library, libringrt and libmpi included) to count buffer-sized requests    *|
|* (>= 4 KiB; the artifact's smallest scratch buffer, a K/V block, is 8 KiB)  *|
|* during each call of ws_attention. Small requests (ringrt's per-shift      *|
|* request objects) are not buffers and are not counted, and neither are     *|
|* the MPI library's own (its buffers for unexpected messages grow when a    *|
|* loaded machine delays one rank), told apart by the caller's object file.  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "ws.h"

#include <dlfcn.h>
#include <string.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);

enum { kBig = 4096 };
static int counting;
static long bigAllocs;

/* Whether the code at `caller` belongs to the MPI implementation. */
static int fromMpi(void *caller) {
  Dl_info info;
  if (!dladdr(caller, &info) || !info.dli_fname)
    return 0;
  static const char *const mpi[] = {"libmpi", "libopen-", "mca_", "pmix",
                                    "libevent", "hwloc", "libuc", "libfabric"};
  for (size_t i = 0; i < sizeof mpi / sizeof mpi[0]; ++i)
    if (strstr(info.dli_fname, mpi[i]))
      return 1;
  return 0;
}

#define note(n) noteFrom((n), __builtin_return_address(0))
static void noteFrom(size_t n, void *caller) {
  if (!counting || n < kBig)
    return;
  counting = 0; /* dladdr must not count itself */
  if (!fromMpi(caller))
    ++bigAllocs;
  counting = 1;
}
void *malloc(size_t n) { note(n); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(a * b); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(n); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { note(n); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { note(n); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  note(n);
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12 /* ENOMEM */;
}

static float q[1 * 2 * 64 * 32], k[1 * 2 * 64 * 32], v[1 * 2 * 64 * 32];
static float o[1 * 2 * 64 * 32], lse[1 * 2 * 64];

/* One call; returns the buffer-sized allocations it made, -1 on failure. */
static long call(ringrt_context *ctx, void *workspace, int32_t *status) {
  ringrt_tensor tq, tk, tv, to, tl;
  ringrt_tensor_init(&tq, q, RINGRT_F32, 4, ws_q_shape);
  ringrt_tensor_init(&tk, k, RINGRT_F32, 4, ws_kv_shape);
  ringrt_tensor_init(&tv, v, RINGRT_F32, 4, ws_kv_shape);
  ringrt_tensor_init(&to, o, RINGRT_F32, 4, ws_q_shape);
  ringrt_tensor_init(&tl, lse, RINGRT_F32, 3, ws_lse_shape);
  for (size_t i = 0; i < sizeof o / sizeof o[0]; ++i)
    o[i] = NAN; /* poison: unwritten outputs show up */
  bigAllocs = 0;
  counting = 1;
  *status = ws_attention(ctx, &tq, &tk, &tv, &to, &tl, workspace, NULL);
  counting = 0;
  for (size_t i = 0; i < sizeof o / sizeof o[0]; ++i)
    if (*status == RINGRT_OK && !isfinite(o[i]))
      return -1;
  return bigAllocs;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  ringrt_context_options options;
  ws_context_options(&options, "mpi", "cpu");
  ringrt_context *ctx = NULL;
  if (ringrt_context_create(&options, &ctx) != RINGRT_OK) {
    fprintf(stderr, "ws: %s\n", ringrt_last_error());
    return 1;
  }
  for (size_t i = 0; i < sizeof q / sizeof q[0]; ++i) {
    q[i] = (float)sin(0.37 * i + world);
    k[i] = (float)sin(1.3 * i + 2 * world);
    v[i] = (float)cos(0.7 * i + 3 * world);
  }
  int32_t st;
  /* The context's workspace: allocated by the first call only. */
  long first = call(ctx, NULL, &st);
  long later = 0;
  for (int i = 0; i < 4 && st == RINGRT_OK; ++i) {
    long n = call(ctx, NULL, &st);
    later = n < 0 || later < 0 ? -1 : later + n;
  }
  if (world == 0)
    printf("ws: bytes=%lld first=%ld later=%ld status=%d\n",
           (long long)ws_workspace_bytes(), first, later, (int)st);
  /* A caller-owned workspace: no allocation at all. */
  void *mine = aligned_alloc(256, (size_t)ws_workspace_bytes());
  long owned = call(ctx, mine, &st);
  if (world == 0)
    printf("ws: caller-owned first=%ld status=%d\n", owned, (int)st);
  /* A misaligned one: a precise error, nothing run. */
  call(ctx, (char *)mine + 8, &st);
  if (world == 0)
    printf("ws: misaligned status=%s: %s\n",
           ringrt_status_string((ringrt_status)st), ringrt_last_error());
  free(mine);
  ringrt_context_destroy(ctx);
  MPI_Finalize();
  return 0;
}
