// HostInfo: everything the resolver knows about one name or address — the course's getip,
// grown up — and lookup_hosts() to do many at once.
//
// lookup_host("localhost") is a forward lookup: canonical name, aliases, every address.
// lookup_host("127.0.0.1") is a reverse lookup: the address's name and aliases.
// Both block on the system resolver; lookup_hosts() runs several on worker threads and
// reports in input order, so output stays deterministic however the answers race.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sockit/resolve.hpp"

namespace sockit {

struct HostInfo {
  std::string query;
  bool reverse = false;              // the query was an address
  std::string name;                  // canonical name, or the address's name
  std::vector<std::string> aliases;  // other names (the query, if a CNAME led away)
  std::vector<IpAddress> addresses;  // every address (the query itself when reverse)
};

Result<HostInfo> lookup_host(std::string_view query, Family family = Family::Any);

// Looks up every query, at most `parallel` at a time, calling `on_result(index, result)`
// on the calling thread in input order as soon as each result and all before it are in.
void lookup_hosts(std::span<const std::string> queries, Family family, unsigned parallel,
                  const std::function<void(std::size_t, Result<HostInfo>&)>& on_result);

}  // namespace sockit
