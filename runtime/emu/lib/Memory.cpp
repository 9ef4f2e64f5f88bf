//===- Memory.cpp - Registry of emulated device memory ------------*- C++ -*-===//
//
// This file implements Memory, the registry of global-memory ranges that the
// emulator checks every global and generic access against.
//
//===----------------------------------------------------------------------===//

#include "ringrt/emu/Emu.h"

#include <cstdlib>

using namespace ringrt::emu;

Memory::~Memory() {
  for (auto &entry : owned)
    std::free(entry.second);
}

void *Memory::alloc(size_t bytes) {
  size_t rounded = ((bytes ? bytes : 1) + 255) / 256 * 256;
  void *ptr = std::aligned_alloc(256, rounded);
  if (!ptr)
    return nullptr;
  owned[reinterpret_cast<uint64_t>(ptr)] = ptr;
  ranges[reinterpret_cast<uint64_t>(ptr)] = bytes;
  return ptr;
}

bool Memory::free(void *ptr) {
  auto it = owned.find(reinterpret_cast<uint64_t>(ptr));
  if (it == owned.end())
    return false;
  std::free(it->second);
  owned.erase(it);
  ranges.erase(reinterpret_cast<uint64_t>(ptr));
  return true;
}

void Memory::registerRange(const void *ptr, size_t bytes) {
  ranges[reinterpret_cast<uint64_t>(ptr)] = bytes;
}

bool Memory::unregisterRange(const void *ptr) {
  return ranges.erase(reinterpret_cast<uint64_t>(ptr)) != 0;
}

bool Memory::contains(uint64_t addr, uint64_t bytes) const {
  auto it = ranges.upper_bound(addr);
  if (it == ranges.begin())
    return false;
  --it;
  return addr + bytes >= addr && addr + bytes <= it->first + it->second;
}
