// IpAddress: an IPv4 or IPv6 address (with its scope id), as a value.
//
// 20 bytes, trivially copyable, comparable and hashable; no allocation. Bytes are kept in
// network order inside and never handed out in host order by accident: `to_v4_uint()` says
// which order it returns. Parsing is strict and numeric only (names go through resolve()):
// "256.1.1.1", "1.2.3", "01.2.3.4" and "::g" are refused with a parse_category() error whose
// context quotes the input.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sockit/result.hpp"

namespace sockit {

enum class IpFamily : std::uint8_t { V4, V6 };

class IpAddress {
 public:
  // 0.0.0.0
  constexpr IpAddress() noexcept = default;

  // From four octets, most significant first: v4({127, 0, 0, 1}).
  static constexpr IpAddress v4(std::array<std::uint8_t, 4> octets) noexcept {
    IpAddress a;
    for (std::size_t i = 0; i < 4; ++i)
      a.bytes_[i] = octets[i];
    return a;
  }
  // From a 32-bit value in host order: v4_from_uint(0x7f000001) is 127.0.0.1.
  static constexpr IpAddress v4_from_uint(std::uint32_t host_order) noexcept {
    return v4({static_cast<std::uint8_t>(host_order >> 24),
               static_cast<std::uint8_t>(host_order >> 16),
               static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)});
  }
  static constexpr IpAddress v6(std::array<std::uint8_t, 16> bytes,
                                std::uint32_t scope_id = 0) noexcept {
    IpAddress a;
    a.family_ = IpFamily::V6;
    a.bytes_ = bytes;
    a.scope_id_ = scope_id;
    return a;
  }
  static constexpr IpAddress v4_any() noexcept { return {}; }
  static constexpr IpAddress v4_loopback() noexcept { return v4({127, 0, 0, 1}); }
  static constexpr IpAddress v6_any() noexcept { return v6({}); }
  static constexpr IpAddress v6_loopback() noexcept {
    return v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  }

  // "127.0.0.1", "::1", "fe80::1%eth0", "fe80::1%2". No brackets, no port.
  static Result<IpAddress> parse(std::string_view text);

  IpFamily family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == IpFamily::V4; }
  bool is_v6() const noexcept { return family_ == IpFamily::V6; }

  bool is_loopback() const noexcept;     // 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104
  bool is_unspecified() const noexcept;  // 0.0.0.0, ::
  bool is_multicast() const noexcept;    // 224.0.0.0/4, ff00::/8
  bool is_link_local() const noexcept;   // 169.254.0.0/16, fe80::/10
  bool is_v4_mapped() const noexcept;    // ::ffff:a.b.c.d

  // IPv4 as a host-order integer (0 for IPv6).
  std::uint32_t to_v4_uint() const noexcept;
  // The address bytes in network order: 4 for IPv4, 16 for IPv6.
  const std::uint8_t* bytes() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return is_v4() ? 4 : 16; }
  std::uint32_t scope_id() const noexcept { return scope_id_; }

  // "127.0.0.1", "::1", "fe80::1%lo" (the interface name when it exists, else its index).
  std::string to_string() const;

  friend constexpr bool operator==(const IpAddress&, const IpAddress&) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const IpAddress&,
                                                    const IpAddress&) noexcept = default;

 private:
  // Declaration order is comparison order: IPv4 sorts before IPv6.
  IpFamily family_ = IpFamily::V4;
  std::array<std::uint8_t, 16> bytes_{};  // network order; IPv4 uses the first 4
  std::uint32_t scope_id_ = 0;
};

std::size_t hash_value(const IpAddress& address) noexcept;

}  // namespace sockit

template <>
struct std::hash<sockit::IpAddress> {
  std::size_t operator()(const sockit::IpAddress& a) const noexcept {
    return sockit::hash_value(a);
  }
};
