//===- HostCpu.cpp - check the host CPU against an artifact -----*- C++ -*-===//
//
// This file implements ringrt_cg_check_cpu: the entry point of a CPU
// artifact (and the host code of a GPU one) first checks that the running
// CPU has the x86 features the object was compiled for, so that an artifact
// built for AVX2 on another machine fails with a message instead of dying
// of SIGILL in the middle of a ring.
//
//===----------------------------------------------------------------------===//

#include "Error.h"
#include "ringrt/codegen_abi.h"

#include <cstdlib>
#include <string>

namespace {

/// Whether the comma-separated environment variable RINGRT_PRETEND_CPU_LACKS
/// names `f`: a testing hook that makes the check fail as it would on an
/// older CPU, since the test machines have every feature ringc targets.
bool pretendLacks(const std::string &f) {
  const char *env = std::getenv("RINGRT_PRETEND_CPU_LACKS");
  if (!env)
    return false;
  std::string list = std::string(",") + env + ",";
  return list.find("," + f + ",") != std::string::npos;
}

/// Whether the running CPU has `feature` (an LLVM x86 feature name);
/// -1 when ringrt does not know the name. __builtin_cpu_supports takes only
/// literal strings, hence the table.
int hostHas(const std::string &f) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define RINGRT_FEATURE(NAME)                                                   \
  if (f == NAME)                                                               \
    return __builtin_cpu_supports(NAME) ? 1 : 0;
  RINGRT_FEATURE("sse3")
  RINGRT_FEATURE("ssse3")
  RINGRT_FEATURE("sse4.1")
  RINGRT_FEATURE("sse4.2")
  RINGRT_FEATURE("popcnt")
  RINGRT_FEATURE("avx")
  RINGRT_FEATURE("avx2")
  RINGRT_FEATURE("fma")
  RINGRT_FEATURE("f16c")
  RINGRT_FEATURE("bmi")
  RINGRT_FEATURE("bmi2")
  RINGRT_FEATURE("avx512f")
  RINGRT_FEATURE("avx512bw")
  RINGRT_FEATURE("avx512dq")
  RINGRT_FEATURE("avx512vl")
  RINGRT_FEATURE("avx512cd")
  RINGRT_FEATURE("avx512vnni")
  RINGRT_FEATURE("avx512bf16")
  RINGRT_FEATURE("avx512fp16")
#undef RINGRT_FEATURE
#endif
  return -1;
}

} // namespace

extern "C" int32_t ringrt_cg_check_cpu(const char *features) {
  if (!features)
    return RINGRT_OK;
  std::string list(features), missing, unknown;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos)
      end = list.size();
    std::string f = list.substr(start, end - start);
    start = end + 1;
    if (f.empty())
      continue;
    int has = hostHas(f);
    if (has > 0 && pretendLacks(f))
      has = 0;
    std::string &into = has < 0 ? unknown : missing;
    if (has <= 0)
      into += (into.empty() ? "" : ",") + f;
  }
  if (!unknown.empty())
    return ringrt::setError(
        RINGRT_ERR_UNSUPPORTED,
        "this artifact's host code needs x86 features ringrt cannot check (" +
            unknown + "); rebuild ringrt and ringc together");
  if (!missing.empty())
    return ringrt::setError(
        RINGRT_ERR_UNSUPPORTED,
        "this artifact's host code was compiled for x86 features " + list +
            ", but this CPU lacks " + missing +
            "; recompile it with ringc --cpu=native (this machine) or "
            "--cpu=x86-64 (any x86-64)");
  return RINGRT_OK;
}
