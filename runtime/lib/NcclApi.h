//===- NcclApi.h - the slice of the NCCL C API ringrt uses ------*- C++ -*-===//
//
// This file declares, by hand, the few NCCL types and entry points that the
// NCCL communicator backend (NcclComm.cpp) calls, and the table of function
// pointers that the loader fills from libnccl.so.2 with dlsym. ringrt never
// includes nccl.h nor links libnccl, so it builds and runs where NCCL is
// absent; comm "nccl" then fails cleanly at context creation.
//
// Every declaration mirrors NCCL's public header nccl.h (NCCL 2.x; checked
// against NCCL 2.28 as shipped with CUDA 13.0), which is the stable C ABI of
// libnccl.so.2:
//
//   ncclResult_t ncclGetUniqueId(ncclUniqueId *uniqueId);
//   ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks,
//                                 ncclUniqueId commId, int rank);
//   ncclResult_t ncclCommDestroy(ncclComm_t comm);
//   ncclResult_t ncclCommAbort(ncclComm_t comm);
//   ncclResult_t ncclCommGetAsyncError(ncclComm_t comm,
//                                      ncclResult_t *asyncError);
//   const char  *ncclGetErrorString(ncclResult_t result);
//   ncclResult_t ncclGroupStart(void);
//   ncclResult_t ncclGroupEnd(void);
//   ncclResult_t ncclSend(const void *sendbuff, size_t count,
//                         ncclDataType_t datatype, int peer, ncclComm_t comm,
//                         cudaStream_t stream);
//   ncclResult_t ncclRecv(void *recvbuff, size_t count,
//                         ncclDataType_t datatype, int peer, ncclComm_t comm,
//                         cudaStream_t stream);
//   ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff,
//                              size_t count, ncclDataType_t datatype,
//                              ncclRedOp_t op, ncclComm_t comm,
//                              cudaStream_t stream);
//   ncclResult_t ncclReduce(const void *sendbuff, void *recvbuff,
//                           size_t count, ncclDataType_t datatype,
//                           ncclRedOp_t op, int root, ncclComm_t comm,
//                           cudaStream_t stream);
//
// cudaStream_t is the same type as the driver API's CUstream (a pointer to
// the opaque CUstream_st), so a stream made with cuStreamCreate is passed
// as is. When nccl.h is available at build time, NcclApiAbiTest.cpp checks
// these declarations against it.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_NCCLAPI_H
#define RINGRT_LIB_NCCLAPI_H

#include <cstddef>

namespace ringrt {
namespace nccl {

/// Mirrors `ncclComm_t` (a pointer to the opaque `struct ncclComm`).
struct OpaqueComm;
using Comm = OpaqueComm *;

/// Mirrors `cudaStream_t` / `CUstream` (a pointer to `struct CUstream_st`).
struct OpaqueStream;
using Stream = OpaqueStream *;

/// Mirrors `NCCL_UNIQUE_ID_BYTES` and `ncclUniqueId`.
constexpr std::size_t kUniqueIdBytes = 128;
struct UniqueId {
  char internal[kUniqueIdBytes];
};

/// Mirrors `ncclResult_t`.
enum Result : int {
  Success = 0,
  UnhandledCudaError = 1,
  SystemError = 2,
  InternalError = 3,
  InvalidArgument = 4,
  InvalidUsage = 5,
  RemoteError = 6,
  InProgress = 7,
};

/// Mirrors `ncclDataType_t` (the values ringrt uses).
enum DataType : int { Int8 = 0, Float32 = 7 };

/// Mirrors `ncclRedOp_t` (the value ringrt uses).
enum RedOp : int { Sum = 0 };

using GetUniqueIdFn = Result (*)(UniqueId *uniqueId);
using CommInitRankFn = Result (*)(Comm *comm, int nranks, UniqueId commId,
                                  int rank);
using CommDestroyFn = Result (*)(Comm comm);
using CommAbortFn = Result (*)(Comm comm);
using CommGetAsyncErrorFn = Result (*)(Comm comm, Result *asyncError);
using GetErrorStringFn = const char *(*)(Result result);
using GroupStartFn = Result (*)();
using GroupEndFn = Result (*)();
using SendFn = Result (*)(const void *sendbuff, std::size_t count,
                          DataType datatype, int peer, Comm comm,
                          Stream stream);
using RecvFn = Result (*)(void *recvbuff, std::size_t count, DataType datatype,
                          int peer, Comm comm, Stream stream);
using AllReduceFn = Result (*)(const void *sendbuff, void *recvbuff,
                               std::size_t count, DataType datatype, RedOp op,
                               Comm comm, Stream stream);

using ReduceFn = Result (*)(const void *sendbuff, void *recvbuff,
                            std::size_t count, DataType datatype, RedOp op,
                            int root, Comm comm, Stream stream);

} // namespace nccl

/// The NCCL entry points of one loaded libnccl (or of a fake, in tests).
/// `handle` is the dlopen handle (null for a fake); see loadNcclApi.
struct NcclApi {
  void *handle = nullptr;
  nccl::GetUniqueIdFn getUniqueId = nullptr;
  nccl::CommInitRankFn commInitRank = nullptr;
  nccl::CommDestroyFn commDestroy = nullptr;
  nccl::CommAbortFn commAbort = nullptr;
  nccl::CommGetAsyncErrorFn commGetAsyncError = nullptr;
  nccl::GetErrorStringFn getErrorString = nullptr;
  nccl::GroupStartFn groupStart = nullptr;
  nccl::GroupEndFn groupEnd = nullptr;
  nccl::SendFn send = nullptr;
  nccl::RecvFn recv = nullptr;
  nccl::AllReduceFn allReduce = nullptr;
  nccl::ReduceFn reduce = nullptr;
};

} // namespace ringrt

#endif // RINGRT_LIB_NCCLAPI_H
