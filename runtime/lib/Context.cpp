//===- Context.cpp - ringrt context creation and queries --------*- C++ -*-===//
//
// This file implements the context part of the ringrt C API: option
// validation, the grid description (row-major world rank <-> coordinates),
// timeout resolution, backend selection, and the coordinate queries.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"
#include "NcclComm.h"
#include "ringrt/Layout.h"

#include <cstdlib>
#include <cstring>
#include <new>

using namespace ringrt;

namespace {
const char *const kRolePlurals[kNumRoles] = {"ring", "head_groups",
                                             "dim_slices", "a2a"};
} // namespace

int64_t GridInfo::size() const {
  int64_t n = 1;
  for (int a = 0; a < gridRank; ++a)
    n *= shape[a];
  return n;
}

int64_t GridInfo::roleSize(int role) const {
  int a = axisOfRole[role];
  return a < 0 ? 1 : shape[a];
}

int64_t GridInfo::roleCoord(int role) const {
  int a = axisOfRole[role];
  return a < 0 ? 0 : coords[a];
}

int64_t GridInfo::worldRankAlong(int role, int64_t c) const {
  int a = axisOfRole[role];
  if (a < 0)
    return worldRank;
  int64_t other[kMaxGridRank] = {coords[0], coords[1], coords[2], coords[3]};
  other[a] = c;
  return layout::gridLinear(shape, gridRank, other);
}

void GridInfo::place(int64_t rank) {
  worldRank = rank;
  layout::gridCoords(shape, gridRank, rank, coords);
}

std::string GridInfo::describe() const {
  std::string s = formatShape(shape, gridRank) + " (";
  for (int r = 0; r < kNumRoles; ++r)
    if (r < 3 || axisOfRole[r] >= 0)
      s += formatv("%s%s axis %d", r ? ", " : "", kRoleNames[r],
                   axisOfRole[r]);
  return s + ")";
}

std::string GridInfo::describeRoles() const {
  std::string s;
  for (int r = 0; r < kNumRoles; ++r)
    if (r < 3 || axisOfRole[r] >= 0)
      s += formatv("%s%s %lld", r ? " x " : "", kRolePlurals[r],
                   static_cast<long long>(roleSize(r)));
  return s;
}

ringrt_status ringrt::parseGridOptions(const ringrt_context_options &o,
                                       GridInfo &grid) {
  if (o.grid_rank < 1 || o.grid_rank > kMaxGridRank)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_context_create: grid_rank %d is not in 1..%d",
                     o.grid_rank, kMaxGridRank);
  grid.gridRank = o.grid_rank;
  for (int a = 0; a < kMaxGridRank; ++a)
    grid.shape[a] = a < o.grid_rank ? o.grid_shape[a] : 1;
  for (int a = 0; a < o.grid_rank; ++a)
    if (grid.shape[a] < 1)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "ringrt_context_create: grid_shape[%d] = %lld must be "
                       ">= 1",
                       a, static_cast<long long>(grid.shape[a]));
  bool used[kMaxGridRank] = {false, false, false, false};
  for (int r = 0; r < kNumRoles; ++r) {
    int a = r < 3 ? o.axis_of_role[r] : o.has_a2a_axis ? o.a2a_axis : -1;
    grid.axisOfRole[r] = a;
    if (a == -1)
      continue;
    if (a < 0 || a >= o.grid_rank)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "ringrt_context_create: %s axis %d is not -1 or in "
                       "[0, %d)",
                       kRoleNames[r], a, o.grid_rank);
    if (used[a])
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "ringrt_context_create: grid axis %d plays two roles",
                       a);
    used[a] = true;
  }
  for (int a = 0; a < o.grid_rank; ++a)
    if (!used[a] && grid.shape[a] != 1)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "ringrt_context_create: grid axis %d has size %lld but "
                       "no role (ring, head_group, dim_slice, a2a); replicated "
                       "axes are not supported",
                       a, static_cast<long long>(grid.shape[a]));
  return RINGRT_OK;
}

ringrt_status ringrt::resolveTimeoutMs(int64_t fromOptions, int64_t &out) {
  if (fromOptions < 0 || fromOptions > RINGRT_MAX_TIMEOUT_MS)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_context_create: timeout_ms %lld is not in [1, "
                     "%d] (0 = RINGRT_TIMEOUT_MS or the default 300000)",
                     static_cast<long long>(fromOptions),
                     RINGRT_MAX_TIMEOUT_MS);
  if (fromOptions > 0) {
    out = fromOptions;
    return RINGRT_OK;
  }
  return ringrt_timeout_from_env(&out);
}

extern "C" {

ringrt_status ringrt_timeout_from_env(int64_t *outMs) {
  if (!outMs)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_timeout_from_env: out_ms is null");
  *outMs = 300000;
  const char *env = std::getenv("RINGRT_TIMEOUT_MS");
  if (!env)
    return RINGRT_OK;
  // Digits only: "abc", "-5", "1e3", " 7" and values past the range are all
  // refused, never replaced by the default.
  bool digits = *env != '\0' && std::strlen(env) <= 12;
  for (const char *c = env; *c && digits; ++c)
    digits = *c >= '0' && *c <= '9';
  long long v = digits ? std::strtoll(env, nullptr, 10) : 0;
  if (!digits || v < 1 || v > RINGRT_MAX_TIMEOUT_MS)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "RINGRT_TIMEOUT_MS='%s' is not an integer number of "
                     "milliseconds in [1, %d]",
                     env, RINGRT_MAX_TIMEOUT_MS);
  *outMs = v;
  return RINGRT_OK;
}

ringrt_status ringrt_context_create(const ringrt_context_options *options,
                                    ringrt_context **out) {
  if (!out)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_context_create: out is null");
  *out = nullptr;
  if (!options)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_context_create: options is null");
  const char *comm = options->comm ? options->comm : "mpi";
  const char *device = options->device ? options->device : "cpu";
  int64_t timeoutMs = 300000;
  GridInfo grid;
  // A bad timeout is a local error like a bad grid: it still takes part in
  // the handshake (with the default timeout) so that every rank fails.
  ringrt_status local = resolveTimeoutMs(options->timeout_ms, timeoutMs);
  if (local == RINGRT_OK)
    local = parseGridOptions(*options, grid);
  if (local == RINGRT_OK)
    local = injectFault("create", -1);
  std::unique_ptr<DeviceBackend> deviceBackend;
  if (local == RINGRT_OK)
    local = createDeviceBackend(device, deviceBackend);

  std::unique_ptr<CommBackend> backend;
  ringrt_status st;
  if (std::strcmp(comm, "mpi") == 0) {
    st = createMpiComm(grid, local, options->plan_hash, timeoutMs, backend);
  } else if (std::strcmp(comm, "self") == 0) {
    st = local != RINGRT_OK ? local : createSelfComm(grid, backend);
  } else if (std::strcmp(comm, "nccl") == 0) {
    // NCCL moves device memory on CUDA streams that the device backend hands
    // over through ringrt::StreamProvider (NcclComm.h): device "cuda" gives
    // its CudaStreams; the others give none, and creation fails cleanly on
    // every rank.
    std::shared_ptr<StreamProvider> streams =
        deviceBackend ? deviceBackend->streamProvider() : nullptr;
    st = createNcclComm(grid, local, options->plan_hash, timeoutMs, device,
                        std::move(streams), backend);
  } else {
    st = setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "ringrt_context_create: unknown comm '%s' (expected mpi, "
                   "nccl or self)",
                   comm);
  }
  if (st != RINGRT_OK)
    return st;

  auto *ctx = new (std::nothrow) ringrt_context();
  if (!ctx)
    return setError(RINGRT_ERR_OUT_OF_MEMORY,
                    "ringrt_context_create: out of memory");
  ctx->grid = grid;
  ctx->timeoutMs = timeoutMs;
  ctx->planHash = options->plan_hash;
  // RINGRT_PROGRESS=0 turns ringrt_cg_progress off: the behaviour before
  // it existed, for benchmarks that measure what it buys.
  const char *progress = std::getenv("RINGRT_PROGRESS");
  ctx->progressCalls = !(progress && std::string(progress) == "0");
  ctx->device = device;
  ctx->comm = std::move(backend);
  ctx->deviceBackend = std::move(deviceBackend);
  *out = ctx;
  return RINGRT_OK;
}

void ringrt_context_destroy(ringrt_context *ctx) { delete ctx; }

ringrt_context::~ringrt_context() {
  if (!workspace)
    return;
  if (deviceBackend) {
    (void)deviceBackend->synchronize();
    (void)deviceBackend->free(workspace);
  } else {
    std::free(workspace);
  }
}

int32_t ringrt_coord(const ringrt_context *ctx, ringrt_axis role) {
  if (!ctx || role < 0 || role >= kNumRoles)
    return 0;
  return static_cast<int32_t>(ctx->grid.roleCoord(role));
}

int32_t ringrt_size(const ringrt_context *ctx, ringrt_axis role) {
  if (!ctx || role < 0 || role >= kNumRoles)
    return 1;
  return static_cast<int32_t>(ctx->grid.roleSize(role));
}

int32_t ringrt_world_rank(const ringrt_context *ctx) {
  return ctx ? static_cast<int32_t>(ctx->grid.worldRank) : 0;
}

int32_t ringrt_world_size(const ringrt_context *ctx) {
  return ctx ? static_cast<int32_t>(ctx->grid.worldSize) : 1;
}

int64_t ringrt_timeout_ms(const ringrt_context *ctx) {
  return ctx ? ctx->timeoutMs : 0;
}

} // extern "C"
