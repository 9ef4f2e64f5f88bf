//===- NcclApiAbiTest.cpp - NcclApi.h against nccl.h ------------*- C++ -*-===//
//
// This file implements a compile-time check, built only where nccl.h is
// available, that the hand-written declarations of lib/NcclApi.h (which
// ringrt uses so that it builds without NCCL) agree with NCCL's own header:
// the unique id's size, the enum values ringrt passes, and for every entry
// point the return type's and each parameter's size, in order. A mismatch
// fails the build of ringrt-unittests.
//
//===----------------------------------------------------------------------===//

#include "NcclApi.h"

#include <nccl.h>

#include <gtest/gtest.h>

#include <cstddef>

namespace {

using namespace ringrt;

/// The sizes of a function pointer type's return value and parameters.
template <typename Fn> struct Shape;
template <typename R, typename... Args> struct Shape<R (*)(Args...)> {
  static constexpr std::size_t arity = sizeof...(Args);
  static constexpr std::size_t sizes[] = {sizeof(R), sizeof(Args)...};
};

/// True when `Mine` and `Theirs` take and return values of the same sizes.
template <typename Mine, typename Theirs> constexpr bool sameShape() {
  if (Shape<Mine>::arity != Shape<Theirs>::arity)
    return false;
  for (std::size_t i = 0; i <= Shape<Mine>::arity; ++i)
    if (Shape<Mine>::sizes[i] != Shape<Theirs>::sizes[i])
      return false;
  return true;
}

static_assert(sizeof(nccl::UniqueId) == sizeof(ncclUniqueId) &&
                  nccl::kUniqueIdBytes == NCCL_UNIQUE_ID_BYTES,
              "ncclUniqueId");
static_assert(sizeof(nccl::Comm) == sizeof(ncclComm_t) &&
                  sizeof(nccl::Stream) == sizeof(cudaStream_t),
              "handles");
/// Compares enumerators of two different enums by value.
constexpr bool same(int mine, int theirs) { return mine == theirs; }

static_assert(sizeof(nccl::Result) == sizeof(ncclResult_t) &&
                  same(nccl::Success, ncclSuccess) &&
                  same(nccl::UnhandledCudaError, ncclUnhandledCudaError) &&
                  same(nccl::SystemError, ncclSystemError) &&
                  same(nccl::InternalError, ncclInternalError) &&
                  same(nccl::InvalidArgument, ncclInvalidArgument) &&
                  same(nccl::InvalidUsage, ncclInvalidUsage) &&
                  same(nccl::RemoteError, ncclRemoteError) &&
                  same(nccl::InProgress, ncclInProgress),
              "ncclResult_t");
static_assert(sizeof(nccl::DataType) == sizeof(ncclDataType_t) &&
                  same(nccl::Int8, ncclInt8) &&
                  same(nccl::Float32, ncclFloat32),
              "ncclDataType_t");
static_assert(sizeof(nccl::RedOp) == sizeof(ncclRedOp_t) &&
                  same(nccl::Sum, ncclSum),
              "ncclRedOp_t");

#define RINGRT_CHECK_SHAPE(mine, theirs)                                       \
  static_assert(sameShape<nccl::mine, decltype(&::theirs)>(), #theirs)
RINGRT_CHECK_SHAPE(GetUniqueIdFn, ncclGetUniqueId);
RINGRT_CHECK_SHAPE(CommInitRankFn, ncclCommInitRank);
RINGRT_CHECK_SHAPE(CommDestroyFn, ncclCommDestroy);
RINGRT_CHECK_SHAPE(CommAbortFn, ncclCommAbort);
RINGRT_CHECK_SHAPE(CommGetAsyncErrorFn, ncclCommGetAsyncError);
RINGRT_CHECK_SHAPE(GetErrorStringFn, ncclGetErrorString);
RINGRT_CHECK_SHAPE(GroupStartFn, ncclGroupStart);
RINGRT_CHECK_SHAPE(GroupEndFn, ncclGroupEnd);
RINGRT_CHECK_SHAPE(SendFn, ncclSend);
RINGRT_CHECK_SHAPE(RecvFn, ncclRecv);
RINGRT_CHECK_SHAPE(AllReduceFn, ncclAllReduce);
RINGRT_CHECK_SHAPE(ReduceFn, ncclReduce);
#undef RINGRT_CHECK_SHAPE

TEST(NcclApiAbiTest, DeclarationsMatchNcclHeader) {
  // The checks above are static; this records that they were compiled.
  SUCCEED() << "NcclApi.h checked against NCCL " << NCCL_MAJOR << "."
            << NCCL_MINOR;
}

} // namespace
