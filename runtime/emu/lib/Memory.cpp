//===- Memory.cpp - Registry of emulated device memory ------------*- C++ -*-===//
//
// This file implements Memory, the registry of global-memory ranges that the
// emulator checks every global and generic access against, and the
// initialization shadow of the ranges it allocates. The shadow is a byte per
// byte (not a bit): loads and stores touch it with a memchr/memset of the
// access's width, and copies move it with the same memmove as the data.
//
//===----------------------------------------------------------------------===//

#include "ringrt/emu/Emu.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

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
  Range &r = ranges[reinterpret_cast<uint64_t>(ptr)];
  r.size = bytes;
  r.init.assign(bytes ? bytes : 1, 0);
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
  Range &r = ranges[reinterpret_cast<uint64_t>(ptr)];
  r.size = bytes;
  r.init.clear();
}

bool Memory::unregisterRange(const void *ptr) {
  return ranges.erase(reinterpret_cast<uint64_t>(ptr)) != 0;
}

bool Memory::locate(uint64_t addr, uint64_t bytes, Where &out) const {
  auto it = ranges.upper_bound(addr);
  if (it == ranges.begin())
    return false;
  --it;
  if (addr + bytes < addr || addr + bytes > it->first + it->second.size)
    return false;
  out.base = it->first;
  out.size = it->second.size;
  out.init = it->second.init.empty()
                 ? nullptr
                 : const_cast<uint8_t *>(it->second.init.data()) +
                       (addr - it->first);
  return true;
}

bool Memory::contains(uint64_t addr, uint64_t bytes) const {
  Where w;
  return locate(addr, bytes, w);
}

/// The shadow of [ptr, ptr + bytes), or null (not alloc() memory).
static uint8_t *shadowOf(const Memory &m, const void *ptr, size_t bytes) {
  Memory::Where w;
  return m.locate(reinterpret_cast<uint64_t>(ptr), bytes, w) ? w.init
                                                             : nullptr;
}

void Memory::markInitialized(const void *ptr, size_t bytes) {
  if (uint8_t *s = shadowOf(*this, ptr, bytes))
    std::memset(s, 1, bytes);
}

void Memory::markUninitialized(const void *ptr, size_t bytes) {
  if (uint8_t *s = shadowOf(*this, ptr, bytes))
    std::memset(s, 0, bytes);
}

void Memory::write(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  markInitialized(dst, bytes);
}

void Memory::fill(void *dst, int byte, size_t bytes) {
  std::memset(dst, byte, bytes);
  markInitialized(dst, bytes);
}

void Memory::copy(void *dst, const void *src, size_t bytes) {
  std::memmove(dst, src, bytes);
  uint8_t *d = shadowOf(*this, dst, bytes);
  if (!d)
    return;
  if (const uint8_t *s = shadowOf(*this, src, bytes))
    std::memmove(d, s, bytes);
  else
    std::memset(d, 1, bytes);
}

size_t Memory::firstUninitialized(const void *ptr, size_t bytes) const {
  const uint8_t *s = shadowOf(*this, ptr, bytes);
  if (!s)
    return bytes;
  const void *hole = std::memchr(s, 0, bytes);
  return hole ? size_t(static_cast<const uint8_t *>(hole) - s) : bytes;
}

std::string Memory::describe(uint64_t addr) const {
  Where w;
  if (!locate(addr, 0, w))
    return "no device allocation";
  char buf[96];
  std::snprintf(buf, sizeof(buf), "allocation 0x%llx + %llu (of %llu bytes)",
                (unsigned long long)w.base,
                (unsigned long long)(addr - w.base),
                (unsigned long long)w.size);
  return buf;
}
