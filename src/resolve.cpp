#include "sockit/resolve.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "sockit/endpoint.hpp"

namespace sockit {
namespace {

Error gai_error(int rc, const std::string& context) {
  // EAI_SYSTEM means "look at errno": report the system error itself.
  if (rc == EAI_SYSTEM) return Error::from_errno(context);
  return Error(std::error_code(rc, gai_category()), context);
}

int to_af(Family family) {
  switch (family) {
    case Family::V4:
      return AF_INET;
    case Family::V6:
      return AF_INET6;
    case Family::Any:
      break;
  }
  return AF_UNSPEC;
}

bool wanted(const IpAddress& a, Family family) {
  return family == Family::Any || (family == Family::V4) == a.is_v4();
}

}  // namespace

Result<std::string> hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) < 0) return Error::from_errno("gethostname");
  return std::string(buf);
}

Result<Resolution> resolve(std::string_view host, Family family) {
  const std::string name(host);
  if (name.empty()) return Error(ParseErrc::empty, "resolve ''");
  const std::string context = "resolve " + name;

  // A numeric address is its own answer: no resolver, no network. Something that looks
  // numeric but isn't valid ("256.1.1.1", "1.2.3", "::g") is refused here: getaddrinfo would
  // read "1.2.3" as 1.2.0.3 (inet_aton) or send the rest to DNS as a name.
  auto literal = IpAddress::parse(name);
  if (literal) {
    if (!wanted(*literal, family)) return gai_error(EAI_ADDRFAMILY, context);
    return Resolution{name, {*literal}};
  }
  if (literal.error().code() != ParseErrc::not_numeric) return std::move(literal).error();

  addrinfo hints{};
  hints.ai_family = to_af(family);
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  hints.ai_flags = AI_CANONNAME;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) return gai_error(rc, context);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, ::freeaddrinfo);

  Resolution out;
  out.canonical_name = list->ai_canonname != nullptr ? list->ai_canonname : name;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto endpoint = Endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!endpoint) continue;
    IpAddress a = endpoint->address();
    if (std::find(out.addresses.begin(), out.addresses.end(), a) == out.addresses.end()) {
      out.addresses.push_back(a);
    }
  }
  if (out.addresses.empty()) return gai_error(EAI_NODATA, context);
  return out;
}

Result<std::string> reverse(const IpAddress& address) {
  Endpoint e(address, 0);
  char host[NI_MAXHOST];
  int rc = ::getnameinfo(e.data(), e.size(), host, sizeof host, nullptr, 0, NI_NAMEREQD);
  if (rc != 0) return gai_error(rc, "reverse " + address.to_string());
  return std::string(host);
}

std::vector<std::string> aliases(std::string_view host, Family family) {
  std::vector<std::string> out;
  std::string name(host);
  std::vector<char> scratch(4096);
  for (int af : {AF_INET, AF_INET6}) {
    if ((family == Family::V4 && af != AF_INET) || (family == Family::V6 && af != AF_INET6)) {
      continue;
    }
    hostent entry{};
    hostent* found = nullptr;
    int herr = 0;
    int rc;
    // gethostbyname2_r asks for a bigger buffer with ERANGE; grow until it fits.
    while ((rc = ::gethostbyname2_r(name.c_str(), af, &entry, scratch.data(), scratch.size(),
                                    &found, &herr)) == ERANGE &&
           scratch.size() < (1u << 20)) {
      scratch.resize(scratch.size() * 2);
    }
    if (rc != 0 || found == nullptr) continue;
    for (char** a = found->h_aliases; a != nullptr && *a != nullptr; ++a) {
      std::string alias(*a);
      if (alias != name && std::find(out.begin(), out.end(), alias) == out.end()) {
        out.push_back(std::move(alias));
      }
    }
  }
  return out;
}

bool is_unknown_host(const std::error_code& code) noexcept {
  if (code.category() != gai_category()) return false;
  int v = code.value();
  return v == EAI_NONAME || v == EAI_NODATA || v == EAI_ADDRFAMILY || v == EAI_FAIL;
}

}  // namespace sockit
