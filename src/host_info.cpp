#include "sockit/host_info.hpp"

#include <netdb.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "sockit/endpoint.hpp"

namespace sockit {
namespace {

// gethostbyaddr_r's aliases for an address (best effort: empty on any failure).
std::vector<std::string> address_aliases(const IpAddress& address) {
  std::vector<std::string> out;
  std::vector<char> scratch(4096);
  hostent entry{};
  hostent* found = nullptr;
  int herr = 0;
  int rc;
  while ((rc = ::gethostbyaddr_r(address.bytes(), static_cast<socklen_t>(address.size()),
                                 address.is_v4() ? AF_INET : AF_INET6, &entry, scratch.data(),
                                 scratch.size(), &found, &herr)) == ERANGE &&
         scratch.size() < (1u << 20)) {
    scratch.resize(scratch.size() * 2);
  }
  if (rc != 0 || found == nullptr) return out;
  for (char** a = found->h_aliases; a != nullptr && *a != nullptr; ++a)
    out.emplace_back(*a);
  return out;
}

// Aliases are the other names: never the canonical name itself, each once.
void tidy_aliases(std::vector<std::string>& names, const std::string& canonical) {
  std::erase_if(names, [&](const std::string& n) { return n == canonical; });
  std::vector<std::string> unique;
  for (auto& n : names)
    if (std::find(unique.begin(), unique.end(), n) == unique.end()) unique.push_back(std::move(n));
  names = std::move(unique);
}

// The families to ask for aliases: only those the name has addresses in. Each alias lookup
// is a whole NSS pass (a scan of /etc/hosts, or a DNS query), and one for a family the name
// has no address in finds nothing: with /etc/hosts of 2000 names, skipping it made a batch
// lookup 1.5x faster (bench/resolve_bench.sh).
Family families_of(const std::vector<IpAddress>& addresses, Family asked) {
  const bool v4 =
      std::any_of(addresses.begin(), addresses.end(), [](auto& a) { return a.is_v4(); });
  const bool v6 =
      std::any_of(addresses.begin(), addresses.end(), [](auto& a) { return !a.is_v4(); });
  if (asked != Family::Any || v4 == v6) return asked;
  return v4 ? Family::V4 : Family::V6;
}

}  // namespace

Result<HostInfo> lookup_host(std::string_view query, Family family) {
  HostInfo info;
  info.query = std::string(query);
  auto address = IpAddress::parse(query);
  // Not an address at all (a name, or nothing): resolve() deals with it.
  const bool name_like = !address && (address.error().code() == ParseErrc::not_numeric ||
                                      address.error().code() == ParseErrc::empty);
  if (!address && !name_like) {
    return std::move(address).error();
  }
  if (address) {
    info.reverse = true;
    auto name = reverse(*address);
    if (!name) return std::move(name).error();
    info.name = std::move(*name);
    info.aliases = address_aliases(*address);
    info.addresses.push_back(*address);
  } else {
    auto resolved = resolve(query, family);
    if (!resolved) return std::move(resolved).error();
    info.name = std::move(resolved->canonical_name);
    info.addresses = std::move(resolved->addresses);
    // The query is itself an alias when the resolver followed a CNAME away from it.
    info.aliases.push_back(info.query);
    for (auto& alias : aliases(query, families_of(info.addresses, family)))
      info.aliases.push_back(std::move(alias));
  }
  tidy_aliases(info.aliases, info.name);
  return info;
}

void lookup_hosts(std::span<const std::string> queries, Family family, unsigned parallel,
                  const std::function<void(std::size_t, Result<HostInfo>&)>& on_result) {
  const std::size_t n = queries.size();
  if (n == 0) return;
  std::vector<std::optional<Result<HostInfo>>> results(n);
  std::mutex mutex;
  std::condition_variable ready;
  std::atomic<std::size_t> next{0};

  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      auto result = lookup_host(queries[i], family);
      std::lock_guard lock(mutex);
      results[i].emplace(std::move(result));
      ready.notify_one();
    }
  };
  const unsigned threads =
      std::clamp<unsigned>(parallel, 1, static_cast<unsigned>(std::min<std::size_t>(n, 64)));
  std::vector<std::jthread> pool;
  // With one query (or one thread) there is nothing to overlap: look up on this thread.
  if (threads > 1) {
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back(worker);
  } else {
    worker();
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return results[i].has_value(); });
    Result<HostInfo> result = std::move(*results[i]);
    results[i].reset();
    lock.unlock();
    on_result(i, result);
  }
}

}  // namespace sockit
