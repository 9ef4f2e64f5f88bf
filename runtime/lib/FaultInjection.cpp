//===- FaultInjection.cpp - the RINGRT_FAULT testing hook -------*- C++ -*-===//
//
// This file implements RINGRT_FAULT=RANK:STAGE:KIND, which makes one world
// rank die (SIGKILL, like kill -9), freeze (sleep forever, like a hung
// process), fail (RINGRT_ERR_COMM) or arrive 3 s late (delay, then go on)
// at context creation (STAGE "create") or when it starts the ring shift of
// a numbered stage. Tests use it to
// check that every such fault ends the whole job with a message naming the
// rank, the stage and the peer, and that no rank is left running.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"

#include <mpi.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>

using namespace ringrt;

ringrt_status ringrt::injectFault(const char *where, int64_t shiftStage) {
  const char *env = std::getenv("RINGRT_FAULT");
  if (!env || !*env)
    return RINGRT_OK;
  char stage[32] = {}, kind[32] = {};
  long long rank = -1;
  int used = 0;
  if (std::sscanf(env, "%lld:%31[^:]:%31s%n", &rank, stage, kind, &used) != 3 ||
      env[used] != '\0' || rank < 0 ||
      (std::strcmp(kind, "die") && std::strcmp(kind, "freeze") &&
       std::strcmp(kind, "fail") && std::strcmp(kind, "delay")))
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "RINGRT_FAULT='%s' is not RANK:STAGE:KIND (STAGE create "
                     "or a shift stage number, KIND die, freeze, fail or delay)",
                     env);
  bool atCreate = std::strcmp(stage, "create") == 0;
  if (atCreate != (std::strcmp(where, "create") == 0))
    return RINGRT_OK;
  if (!atCreate) {
    char *end = nullptr;
    long long s = std::strtoll(stage, &end, 10);
    if (*end || s != shiftStage)
      return RINGRT_OK;
  }
  int initialized = 0, me = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me != rank)
    return RINGRT_OK;
  std::fprintf(stderr, "ringrt: RINGRT_FAULT: world rank %d: %s at %s%s\n",
               me, kind, atCreate ? "context creation" : "the shift of stage ",
               atCreate ? "" : stage);
  std::fflush(stderr);
  if (!std::strcmp(kind, "die"))
    ::kill(::getpid(), SIGKILL);
  if (!std::strcmp(kind, "freeze"))
    for (;;)
      std::this_thread::sleep_for(std::chrono::seconds(1));
  if (!std::strcmp(kind, "delay")) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    return RINGRT_OK;
  }
  return setErrorf(RINGRT_ERR_COMM,
                   "world rank %d: injected failure (RINGRT_FAULT=%s) at %s%s",
                   me, env, atCreate ? "context creation" : "the shift of stage ",
                   atCreate ? "" : stage);
}
