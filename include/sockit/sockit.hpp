// Everything in one include.
#pragma once

#include "sockit/buffer.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/host_info.hpp"
#include "sockit/ip_address.hpp"
#include "sockit/resolve.hpp"
#include "sockit/result.hpp"
#include "sockit/socket.hpp"
#include "sockit/tcp.hpp"
#include "sockit/udp.hpp"
#include "sockit/unique_fd.hpp"
#include "sockit/unix.hpp"
#include "sockit/version.hpp"
