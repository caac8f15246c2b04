// InlineFunction<R(Args...)>: a move-only callable kept inside the object, never on the heap.
//
// The event loop stores one per watched descriptor and per timer; registering a lambda that
// captures a pointer and an id costs no allocation, and calling it is one indirect call.
// A callable larger than the capacity is a compile error (static_assert), not a silent
// allocation: capture a pointer to your state instead.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace sockit {

template <typename Signature, std::size_t Capacity = 48>
class InlineFunction;

template <typename R, typename... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}

  template <typename F, typename Fn = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<Fn, InlineFunction> &&
                                        std::is_invocable_r_v<R, Fn&, Args...>>>
  InlineFunction(F&& f) noexcept(std::is_nothrow_constructible_v<Fn, F&&>) {  // NOLINT
    static_assert(sizeof(Fn) <= Capacity, "callable too large for InlineFunction: capture less");
    static_assert(alignof(Fn) <= alignof(std::max_align_t), "callable over-aligned");
    static_assert(std::is_nothrow_move_constructible_v<Fn>, "callable must move without throwing");
    ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
    invoke_ = [](void* self, Args... args) -> R {
      return (*static_cast<Fn*>(self))(std::forward<Args>(args)...);
    };
    manage_ = [](void* dst, void* src) noexcept {
      if (dst != nullptr) ::new (dst) Fn(std::move(*static_cast<Fn*>(src)));
      static_cast<Fn*>(src)->~Fn();
    };
  }

  InlineFunction(InlineFunction&& other) noexcept { take(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const noexcept { return invoke_ != nullptr; }

  R operator()(Args... args) { return invoke_(storage_, std::forward<Args>(args)...); }

  void reset() noexcept {
    if (manage_ != nullptr) manage_(nullptr, storage_);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

 private:
  void take(InlineFunction& other) noexcept {
    if (other.manage_ == nullptr) return;
    other.manage_(storage_, other.storage_);  // move-construct here, destroy there
    invoke_ = std::exchange(other.invoke_, nullptr);
    manage_ = std::exchange(other.manage_, nullptr);
  }

  alignas(std::max_align_t) unsigned char storage_[Capacity];
  R (*invoke_)(void*, Args...) = nullptr;
  void (*manage_)(void* dst, void* src) noexcept = nullptr;
};

}  // namespace sockit
