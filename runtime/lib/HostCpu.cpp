//===- HostCpu.cpp - check the host CPU against an artifact -----*- C++ -*-===//
//
// This file implements ringrt_cg_check_cpu: the entry point of a CPU
// artifact (and the host code of a GPU one) first checks that the running
// CPU has the x86 features the object was compiled for, so that an artifact
// built for AVX2 on another machine fails with a message instead of dying
// of SIGILL in the middle of a ring.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"
#include "ringrt/codegen_abi.h"

#include <cstdlib>
#include <string>
#include <vector>

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

/// Splits "a,b,c" (or with another separator).
std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos)
      end = s.size();
    if (end > start)
      out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// Whether the running CPU has every feature of the comma-separated list
/// (RINGRT_PRETEND_CPU_LACKS applies; unknown names count as missing).
bool hostHasAll(const std::string &list) {
  for (const std::string &f : split(list, ','))
    if (hostHas(f) <= 0 || pretendLacks(f))
      return false;
  return true;
}

} // namespace

extern "C" int32_t ringrt_cg_select_cpu_variant(ringrt_context *ctx,
                                                int32_t *status,
                                                const char *table) {
  if (!status || *status != RINGRT_OK)
    return -1;
  auto fail = [&](ringrt_status st, const std::string &msg) {
    *status = ringrt::setError(st, msg);
    return -1;
  };
  if (!ctx || !table)
    return fail(RINGRT_ERR_INVALID_ARGUMENT,
                "ringrt_cg_select_cpu_variant: null context or table");
  std::vector<std::string> names, supported;
  std::vector<bool> ok;
  for (const std::string &entry : split(table, ';')) {
    size_t colon = entry.find(':');
    names.push_back(entry.substr(0, colon));
    ok.push_back(hostHasAll(colon == std::string::npos
                                ? ""
                                : entry.substr(colon + 1)));
    if (ok.back())
      supported.push_back(names.back());
  }
  std::string all;
  for (const std::string &n : names)
    all += (all.empty() ? "" : ", ") + n;
  const char *forced = std::getenv("RINGRT_CPU_VARIANT");
  for (size_t i = 0; i < names.size(); ++i) {
    if (forced && *forced && names[i] != forced)
      continue;
    if (!ok[i]) {
      if (forced && *forced)
        return fail(RINGRT_ERR_UNSUPPORTED,
                    "RINGRT_CPU_VARIANT=" + names[i] +
                        ": this CPU lacks features of that variant");
      continue;
    }
    ctx->cpuVariant = names[i];
    return static_cast<int32_t>(i);
  }
  if (forced && *forced)
    return fail(RINGRT_ERR_INVALID_ARGUMENT,
                std::string("RINGRT_CPU_VARIANT=") + forced +
                    ": this artifact's CPU variants are " + all);
  return fail(RINGRT_ERR_UNSUPPORTED,
              "this CPU supports none of the artifact's CPU variants (" + all +
                  "); recompile it with ringc --cpu=native");
}

extern "C" const char *ringrt_cpu_variant(const ringrt_context *ctx) {
  return ctx ? ctx->cpuVariant.c_str() : "";
}

extern "C" int32_t ringrt_cg_check_cpu(const char *features) {
  if (!features)
    return RINGRT_OK;
  std::string list(features), missing, unknown;
  for (const std::string &f : split(list, ',')) {
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
