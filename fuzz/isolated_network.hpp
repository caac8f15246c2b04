// For fuzz targets whose input can reach the system resolver (a target spec that looks like
// a host name goes to getaddrinfo, and from there to a DNS server off this machine): make
// sure no lookup can leave the machine, by running in a network namespace of our own with
// nothing but a loopback interface (down). /etc/hosts still answers.
//
// The check asks the kernel (if_nameindex), not /sys/class/net: sysfs shows the namespace it
// was mounted in, not the caller's. As root, the process moves itself into a new, empty
// namespace (unshare(CLONE_NEWNET)); otherwise it exits 77, which ctest reports as skipped.
#pragma once

#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sockit::fuzz {

// True if the only network interface this process can see is "lo".
inline bool network_is_isolated() {
  struct if_nameindex* list = ::if_nameindex();  // "struct": the function has the same name
  if (list == nullptr) return false;
  bool only_lo = true;
  for (struct if_nameindex* i = list; i->if_index != 0; ++i)
    if (std::string(i->if_name) != "lo") only_lo = false;
  ::if_freenameindex(list);
  return only_lo;
}

inline void require_isolated_network(const char* target) {
  if (network_is_isolated()) return;
  if (::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0 && network_is_isolated()) return;
  std::fprintf(stderr,
               "%s: skipped: its inputs can reach the system resolver, so it runs only in a "
               "network namespace with no interface but lo; run it as root (it enters one "
               "itself) or under `unshare -rn` (unshare: %s)\n",
               target, std::strerror(errno));
  std::exit(77);
}

}  // namespace sockit::fuzz
