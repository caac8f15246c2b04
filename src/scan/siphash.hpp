// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed hash
// whose output cannot be predicted without the 128-bit key. Internal to the scanner, which
// uses it to derive each probe's TCP sequence number from (key, addresses, ports), so a reply
// is matched to its probe without keeping state per probe, and an off-path host that cannot
// see our probes cannot forge answers to them.
//
// A pure function: no state, no allocation, callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sockit::scan {

// The 64-bit SipHash-2-4 of `len` bytes at `data` (any alignment) under the key (k0, k1). As in
// the paper, the key's 16 bytes and the message's 8-byte words are read little-endian: the
// paper's key 00 01 .. 0f is k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, const void* data,
                        std::size_t len) noexcept;

}  // namespace sockit::scan
