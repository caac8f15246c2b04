// ConstBuffer / MutableBuffer: a pointer and a length, built implicitly from the things
// people already hold (string_view, std::string, spans and arrays of char or std::byte), so
// that send("hello") and recv(array) need no casts. They never own memory.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace sockit {

class ConstBuffer {
 public:
  constexpr ConstBuffer() noexcept = default;
  constexpr ConstBuffer(const void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  constexpr ConstBuffer(std::string_view s) noexcept : data_(s.data()), size_(s.size()) {}
  ConstBuffer(const std::string& s) noexcept : data_(s.data()), size_(s.size()) {}
  ConstBuffer(const char* s) noexcept : ConstBuffer(std::string_view(s)) {}
  template <typename T, std::size_t N>
  requires(sizeof(T) == 1) constexpr ConstBuffer(std::span<T, N> s) noexcept
      : data_(s.data()), size_(s.size()) {}
  template <typename T, std::size_t N>
  requires(sizeof(T) == 1) constexpr ConstBuffer(const std::array<T, N>& a) noexcept
      : data_(a.data()), size_(N) {}

  constexpr const void* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr std::string_view view() const noexcept {
    return {static_cast<const char*>(data_), size_};
  }

 private:
  const void* data_ = nullptr;
  std::size_t size_ = 0;
};

class MutableBuffer {
 public:
  constexpr MutableBuffer() noexcept = default;
  constexpr MutableBuffer(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <typename T, std::size_t N>
  requires(sizeof(T) == 1 &&
           !std::is_const_v<T>) constexpr MutableBuffer(std::span<T, N> s) noexcept
      : data_(s.data()), size_(s.size()) {}
  template <typename T, std::size_t N>
  requires(sizeof(T) == 1) constexpr MutableBuffer(std::array<T, N>& a) noexcept
      : data_(a.data()), size_(N) {}
  template <typename T, std::size_t N>
  requires(sizeof(T) == 1) constexpr MutableBuffer(T (&a)[N]) noexcept : data_(a), size_(N) {}
  // The string's current size (resize it first to choose how much may be received).
  MutableBuffer(std::string& s) noexcept : data_(s.data()), size_(s.size()) {}

  constexpr void* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sockit
