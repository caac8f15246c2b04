#include "scan/scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace sockit::scan {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// Before any host has answered, a probe counts against the window for this long at most:
// long enough for any answer on a real path, short enough that a dead network is swept at
// window / horizon probes a second (5,120 with the initial window), not one window a timeout.
constexpr microseconds kInitialHorizon = milliseconds(100);
constexpr microseconds kMinHorizon = milliseconds(1);
constexpr auto kWheelTick = milliseconds(1);
// Probes started in one go before the loop gets a turn. A window of tens of thousands sent
// at once has its first answers wait in the socket until the last probe is out: the
// scanner's own queue, which it would then time as the network's.
constexpr unsigned kBurst = 1024;
constexpr std::uint32_t kWheelSlots = 4096;
// Discovery sends several probes a host: one retry of each is enough (nmap's ping scan
// retries little too).
constexpr unsigned kDiscoveryRetries = 1;

std::uint32_t mix(std::uint64_t x) {  // splitmix64's finaliser: a host's port-order offset
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<std::uint32_t>(x ^ (x >> 31));
}

}  // namespace

Scheduler::Scheduler(const TargetSource& targets, const ScanOptions& options, ScanPlan plan,
                     ScanSink& sink, std::function<void(const ScanProgress&)> progress)
    : targets_(targets),
      o_(options),
      plan_(std::move(plan)),
      sink_(sink),
      progress_(std::move(progress)),
      host_count_(targets.size()),
      port_count_(static_cast<std::uint32_t>(options.ports.size())),
      host_order_(targets.size(), options.seed, !options.sequential),
      port_order_(options.ports.size(), options.seed ^ 0x5bd1e995u, !options.sequential),
      max_hosts_(options.max_hosts != 0 ? options.max_hosts : 65536),
      slots_(std::clamp<std::uint32_t>(plan_.max_in_flight, 1, kMaxSlots)),
      wheel_(static_cast<std::uint32_t>(slots_.size()), kWheelTick, kWheelSlots, Clock::now()),
      window_(static_cast<unsigned>(slots_.size()),
              std::min<Micros>(kInitialHorizon, options.timeout)),
      group_rtt_(options.timeout, options.min_timeout,
                 std::max(options.max_timeout, options.timeout)),
      rate_(options.rate) {
  free_slots_.reserve(slots_.size());
  for (std::size_t i = slots_.size(); i-- > 0;)
    free_slots_.push_back(static_cast<std::uint32_t>(i));
  if (options.resume) {
    next_host_ = options.resume->next_host;
    resumed_.assign(options.resume->hosts.begin(), options.resume->hosts.end());
  }
  total_ = remaining_probes();
}

// First tries still to decide: every port of the hosts not taken in yet, and what the
// resumed hosts have left.
std::uint64_t Scheduler::remaining_probes() const {
  std::uint64_t total = (host_count_ - std::min(next_host_, host_count_)) * port_count_;
  for (const auto& h : resumed_)
    total += h.discover ? port_count_ : port_count_ - h.issued + h.pending.size();
  return total;
}

Scheduler::~Scheduler() = default;

Result<ScanSummary> Scheduler::run() {
  start_ = Clock::now();
  auto loop = EventLoop::create();
  if (!loop) return std::move(loop).error();
  loop_ = std::move(*loop);
  // Signals first: the engine's threads, started in open(), inherit the blocked mask.
  for (int signo : o_.stop_signals) {
    auto watch = loop_->on_signal(signo, [this](int s) { stop(s); });
    if (!watch) return std::move(watch).error();
    signals_.push_back(std::move(*watch));
  }
  Result<void> opened;
  each_engine([&](Engine& e) {
    if (opened) opened = e.open(*loop_, *this, static_cast<std::uint32_t>(slots_.size()));
  });
  if (!opened) return std::move(opened).error();
  if (progress_) ticker_ = loop_->every(milliseconds(200), [this] { report_progress(); });
  tokens_ = rate_ > 0 ? 1.0 : 0.0;
  last_refill_ = start_;

  Result<void> ran;
  fill();
  if (!finished() && !stopped_) ran = loop_->run();
  if (!stopped_) each_engine([](Engine& e) { e.close(); });
  sink_.flush();
  ticker_.cancel();
  wheel_timer_.cancel();
  wake_timer_.cancel();
  signals_.clear();
  loop_.reset();
  if (fatal_) return *fatal_;
  if (!ran) return std::move(ran).error();

  ScanSummary summary;
  summary.hosts = hosts_done_;
  summary.ports = plan_.scan_ports ? port_count_ : 0;
  summary.probes_sent = probes_sent_;
  summary.open = open_;
  summary.hosts_up = hosts_up_;
  summary.hosts_down = hosts_down_;
  summary.discovered = plan_.discovery_engine != nullptr;
  summary.interrupted = stop_signal_ != 0;
  summary.signal = stop_signal_;
  summary.elapsed = Clock::now() - start_;
  summary.checkpoint = std::move(checkpoint_);
  if (progress_) {
    ScanProgress p{decided_, total_, open_, hosts_done_, host_count_, summary.elapsed};
    progress_(p);
  }
  return summary;
}

bool Scheduler::finished() const {
  return in_flight_ == 0 && retries_.empty() && ready_.empty() && active_hosts_ == 0 &&
         resumed_.empty() && next_host_ >= host_count_;
}

// Starts probes until the window is full, the rate says wait, or the work runs out.
void Scheduler::fill() {
  if (filling_ || stopped_ || fatal_) return;
  filling_ = true;
  const Clock::time_point now = Clock::now();
  age_young(now);
  unsigned started = 0;
  while (in_flight_ < slots_.size() && !free_slots_.empty()) {
    if (started == kBurst) {  // let the loop read the answers before sending on
      wake_at(now, now);
      break;
    }
    if (young_ >= window_.limit()) {
      if (!young_queue_.empty()) wake_at(young_queue_.front().at + horizon(), now);
      break;
    }
    if (rate_ > 0 && !take_token(now)) break;
    Work work;
    if (!next_work(work)) break;
    const StartStatus status = start(work, now);
    if (status == StartStatus::Started) {
      ++started;
      continue;
    }
    retries_.push_front(work);  // not sent: first in line next time
    if (status == StartStatus::NoDescriptors) {
      window_.out_of_descriptors(in_flight_);
      if (in_flight_ == 0) wake_at(now + milliseconds(10), now);
    } else if (status == StartStatus::NoPorts) {
      window_.out_of_ports();
      wake_at(now + milliseconds(20), now);
    } else {
      fatal_ = (work.discovery ? plan_.discovery_engine : plan_.port_engine)->error();
      loop_->stop();
    }
    break;
  }
  if (started > 0) each_engine([](Engine& e) { e.flush(); });
  filling_ = false;
  stats_.max_in_flight = std::max<std::size_t>(stats_.max_in_flight, in_flight_);
  stats_.max_retry_queue = std::max(stats_.max_retry_queue, retries_.size());
  stats_.max_young_queue = std::max(stats_.max_young_queue, young_queue_.size());
  arm_wheel(now);
  if (finished()) loop_->stop();
}

bool Scheduler::next_work(Work& work) {
  while (!retries_.empty()) {
    work = retries_.front();
    retries_.pop_front();
    const Host& host = hosts_[work.host];
    // A discovery retry for a host already found up (or gone) is no longer needed.
    if (!host.live || host.generation != work.host_generation) continue;
    if (work.discovery && host.phase != Phase::Discover) continue;
    return true;
  }
  while (ready_.size() < kSpread && admit()) {
  }
  while (!ready_.empty()) {
    const std::uint32_t index = ready_.front();
    ready_.pop_front();
    Host& host = hosts_[index];
    host.in_ready = false;
    if (!host.live) continue;
    if (host.phase == Phase::Discover) {
      const auto& probes = discovery_plan(host);
      if (host.discovery_issued >= probes.size()) continue;
      const std::uint8_t i = host.discovery_issued++;
      work = {index, host.generation, probes[i].port, 0, i, probes[i].kind, true};
      ++host.discovery_pending;
      if (host.discovery_issued < probes.size()) {
        ready_.push_back(index);
        host.in_ready = true;
      }
      return true;
    }
    if (host.issued >= port_count_) continue;
    const std::uint64_t position = (host.offset + host.issued) % port_count_;
    work = {index, host.generation, o_.ports[port_order_[position]], 0, 0, plan_.port_kind, false};
    ++host.issued;
    ++host.pending;
    if (host.issued < port_count_) {
      ready_.push_back(index);
      host.in_ready = true;
    }
    return true;
  }
  return false;
}

// Takes the next host into the scan, if there is one and room for it: a resumed scan's
// unfinished hosts first, then the host order.
bool Scheduler::admit() {
  if (active_hosts_ >= max_hosts_) return false;
  if (port_count_ == 0 && plan_.scan_ports) return false;
  if (!resumed_.empty()) {
    const ScanCheckpoint::Host h = std::move(resumed_.front());
    resumed_.pop_front();
    take_in(h.position, h.discover ? 0 : h.issued, h.discover ? nullptr : &h.pending, h.discover);
    return true;
  }
  if (next_host_ >= host_count_) return false;
  take_in(next_host_++, 0, nullptr, plan_.discovery_engine != nullptr);
  return true;
}

// A host starts (or, resumed, goes on): `issued` ports of its order already handed out, of
// which `pending` are still to be probed; discovery first if `discover`.
void Scheduler::take_in(std::uint64_t position, std::uint32_t issued,
                        const std::vector<std::uint16_t>* pending, bool discover) {
  std::uint32_t index;
  if (!free_hosts_.empty()) {
    index = free_hosts_.back();
    free_hosts_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(hosts_.size());
    hosts_.push_back(Host{Target{}, 0, 0, group_rtt_});
  }
  Host& host = hosts_[index];
  const std::uint64_t target_index = host_order_[position];
  const auto generation = static_cast<std::uint16_t>(host.generation + 1);
  host = Host{targets_.at(target_index), target_index, position, group_rtt_};
  host.generation = generation;
  host.rtt = RttEstimator(o_.timeout, o_.min_timeout, std::max(o_.max_timeout, o_.timeout));
  host.offset = o_.sequential || port_count_ == 0 ? 0 : mix(position ^ o_.seed) % port_count_;
  host.phase = discover && plan_.discovery_engine != nullptr ? Phase::Discover : Phase::Scan;
  host.live = true;
  host.issued = issued;
  ++active_hosts_;
  stats_.max_active_hosts = std::max(stats_.max_active_hosts, active_hosts_);
  if (pending != nullptr) {  // ports handed out before the interruption and never decided
    for (std::uint16_t port : *pending)
      retries_.push_back({index, generation, port, 0, 0, plan_.port_kind, false});
    host.pending = static_cast<std::uint32_t>(pending->size());
  }
  if (host.phase == Phase::Discover || host.issued < port_count_) {
    ready_.push_back(index);
    host.in_ready = true;
  } else if (host.pending == 0) {
    finish_host(index, true);  // nothing was left of it
  }
}

StartStatus Scheduler::start(const Work& work, Clock::time_point now) {
  const std::uint32_t index = free_slots_.back();
  Slot& slot = slots_[index];
  const Host& host = hosts_[work.host];
  const auto generation = static_cast<std::uint16_t>((slot.generation + 1) & 0x3ff);
  const std::uint32_t id = (static_cast<std::uint32_t>(generation) << kSlotBits) | index;
  // The slot is live before the engine sees the probe: loopback can answer inside start().
  free_slots_.pop_back();
  slot.generation = generation;
  slot.sent = now;
  slot.host = work.host;
  slot.port = work.port;
  slot.attempt = work.attempt;
  slot.probe = work.probe;
  slot.kind = work.kind;
  slot.discovery = work.discovery;
  slot.live = true;
  slot.young = true;
  ++in_flight_;
  ++young_;
  if (work.discovery) hosts_[work.host].discovery_ids[work.probe] = id;
  const StartStatus status =
      engine_for(slot).start(Probe{id, host.target.address, work.port, work.attempt, work.kind});
  if (status != StartStatus::Started) {
    if (work.discovery) hosts_[work.host].discovery_ids[work.probe] = 0;
    free_slot(index);
    return status;
  }
  ++probes_sent_;
  if (slot.live && slot.generation == generation) {  // not answered already
    young_queue_.push_back({index, generation, now});
    wheel_.add(index, now + timeout_for(hosts_[work.host], work.attempt));
  }
  return status;
}

void Scheduler::answered(const Reply& reply) {
  const std::uint32_t index = slot_of(reply.id);
  if (index >= slots_.size()) return;
  Slot& slot = slots_[index];
  if (!slot.live || slot.generation != reply.id >> kSlotBits) return;  // stale: already decided
  wheel_.remove(index);
  const bool aged = !slot.young;
  if (slot.young) {
    slot.young = false;
    --young_;
  }
  Host& host = hosts_[slot.host];
  const auto rtt = std::max(Micros(0), duration_cast<Micros>(reply.at - slot.sent));
  // Every try is a probe of its own (a socket, or a source port and sequence number), so
  // its answer times exactly that try: retries are sampled too. Not sampling them would
  // freeze the timing a burst of loss left behind for as long as retries are all that is
  // sent.
  if (reply.answer != Answer::Unreachable) sample(host, rtt);
  // Well over the host's smallest round trip (a quarter more, and 2 ms for a busy machine's
  // jitter): the answer waited in a queue.
  const bool delayed = host.min_rtt_us != 0 && rtt.count() > host.min_rtt_us * 5 / 4 + 2000;
  window_.answered(reply.at, {.retry = slot.attempt > 0, .delayed = delayed, .aged = aged});
  if (stats_.min_window == 0 || window_.window() < stats_.min_window)
    stats_.min_window = window_.window();
  if (slot.discovery) return discovered(index, reply, static_cast<std::uint32_t>(rtt.count()));
  PortState state = PortState::Filtered;
  if (reply.answer == Answer::Open) state = PortState::Open;
  if (reply.answer == Answer::Closed) state = PortState::Closed;
  conclude(index, state, static_cast<std::uint32_t>(rtt.count()), reply.banner);
}

void Scheduler::lost(std::uint32_t id) {
  const std::uint32_t index = slot_of(id);
  if (index >= slots_.size()) return;
  Slot& slot = slots_[index];
  if (!slot.live || slot.generation != id >> kSlotBits) return;
  wheel_.remove(index);
  if (slot.young) {  // a horizon longer than the timeout: it ages now
    slot.young = false;
    --young_;
    window_.aged(Clock::now(), horizon());
  }
  // Silence: no word on the window. Try again, or call it filtered (or the host down).
  const unsigned retries = slot.discovery ? std::min(o_.retries, kDiscoveryRetries) : o_.retries;
  if (slot.attempt < retries) {
    retries_.push_back({slot.host, hosts_[slot.host].generation, slot.port,
                        static_cast<std::uint8_t>(slot.attempt + 1), slot.probe, slot.kind,
                        slot.discovery});
    free_slot(index);
    return;
  }
  if (slot.discovery) {
    const std::uint32_t host = slot.host;
    hosts_[host].discovery_ids[slot.probe] = 0;
    free_slot(index);
    --hosts_[host].discovery_pending;
    return discovery_failed(host);
  }
  conclude(index, PortState::Filtered, 0, {});
}

void Scheduler::replies_done() {
  sink_.flush();
  if (!expiring_) fill();
}

void Scheduler::failed(Error error) {
  if (!fatal_) fatal_ = std::move(error);
  if (loop_) loop_->stop();
}

// An answer to a discovery probe. Anything from the host itself means it is up; an ICMP
// unreachable from a router on the way means this probe learned nothing more.
void Scheduler::discovered(std::uint32_t index, const Reply& reply, std::uint32_t rtt_us) {
  const Slot slot = slots_[index];
  Host& host = hosts_[slot.host];
  host.discovery_ids[slot.probe] = 0;
  free_slot(index);
  --host.discovery_pending;
  if (host.phase != Phase::Discover) return;
  if (reply.answer == Answer::Unreachable && !reply.from_target) return discovery_failed(slot.host);
  const char* reason = "reset";
  switch (reply.answer) {
    case Answer::Open:
      reason = slot.kind == ProbeKind::TcpConnect ? "connected" : "syn-ack";
      break;
    case Answer::Closed:
      reason = slot.kind == ProbeKind::TcpConnect ? "refused" : "reset";
      break;
    case Answer::Alive:
      reason = slot.kind == ProbeKind::IcmpEcho        ? "echo-reply"
               : slot.kind == ProbeKind::IcmpTimestamp ? "timestamp-reply"
                                                       : "reset";
      break;
    case Answer::Unreachable:
      reason = "unreachable";
      break;
  }
  host_up(slot.host, reason, rtt_us);
}

// Every discovery probe of a host got no answer, or only a router's: it is down.
void Scheduler::discovery_failed(std::uint32_t host_index) {
  Host& host = hosts_[host_index];
  if (host.phase != Phase::Discover || host.discovery_pending > 0 ||
      host.discovery_issued < discovery_plan(host).size()) {
    return;
  }
  host.status = HostStatus::Down;
  ++hosts_down_;
  finish_host(host_index, true);
}

// The host answered: stop its other discovery probes, then scan its ports (or, with
// discovery only, write it).
void Scheduler::host_up(std::uint32_t host_index, const char* reason, std::uint32_t rtt_us) {
  Host& host = hosts_[host_index];
  host.status = HostStatus::Up;
  host.reason = reason;
  host.latency_us = rtt_us;
  ++hosts_up_;
  for (std::uint32_t& id : host.discovery_ids) {
    if (id == 0) continue;
    const std::uint32_t index = slot_of(id);
    Slot& slot = slots_[index];
    if (slot.live && slot.generation == id >> kSlotBits) {
      engine_for(slot).cancel(id);
      wheel_.remove(index);
      free_slot(index);
    }
    id = 0;
  }
  host.discovery_pending = 0;
  host.phase = Phase::Scan;
  if (!plan_.scan_ports) return finish_host(host_index, true);
  if (!host.in_ready) {
    ready_.push_back(host_index);
    host.in_ready = true;
  }
}

const std::vector<DiscoveryProbe>& Scheduler::discovery_plan(const Host& host) const {
  return host.target.address.is_v4() ? plan_.discover_v4 : plan_.discover_v6;
}

template <class Fn>
void Scheduler::each_engine(Fn&& fn) {
  fn(*plan_.port_engine);
  if (plan_.discovery_engine != nullptr && plan_.discovery_engine != plan_.port_engine)
    fn(*plan_.discovery_engine);
}

void Scheduler::conclude(std::uint32_t index, PortState state, std::uint32_t rtt_us,
                         std::string_view banner) {
  const Slot slot = slots_[index];
  free_slot(index);
  Host& host = hosts_[slot.host];
  record(host, slot.host, slot.port, state, state == PortState::Filtered ? 0 : rtt_us, banner);
  --host.pending;
  if (host.pending == 0 && host.issued == port_count_) finish_host(slot.host, true);
}

void Scheduler::record(Host& host, std::uint32_t, std::uint16_t port, PortState state,
                       std::uint32_t rtt_us, std::string_view banner) {
  ++decided_;
  switch (state) {
    case PortState::Open:
      ++host.open;
      ++open_;
      break;
    case PortState::Closed:
      ++host.closed;
      break;
    case PortState::Filtered:
      ++host.filtered;
      break;
  }
  if (state != PortState::Closed || o_.keep_closed) {
    sink_.port(host.index, host.target, PortResult{port, state, rtt_us, std::string(banner)});
  }
}

void Scheduler::finish_host(std::uint32_t index, bool complete) {
  Host& host = hosts_[index];
  HostResult result;
  result.index = host.index;
  result.target = std::move(host.target);
  result.open = host.open;
  result.closed = host.closed;
  result.filtered = host.filtered;
  result.ports = plan_.scan_ports ? port_count_ : 0;
  result.complete = complete;
  result.status = host.status;
  result.latency_us = host.latency_us;
  result.reason = host.reason;
  sink_.host(result);
  window_.host_left(Micros(host.min_rtt_us));
  host.live = false;
  free_hosts_.push_back(index);
  --active_hosts_;
  ++hosts_done_;
}

void Scheduler::free_slot(std::uint32_t index) {
  Slot& slot = slots_[index];
  slot.live = false;
  if (slot.young) {
    slot.young = false;
    --young_;
  }
  free_slots_.push_back(index);
  --in_flight_;
}

// Probes older than the horizon leave the window: a host that was going to answer has.
void Scheduler::age_young(Clock::time_point now) {
  const Micros h = horizon();
  while (!young_queue_.empty()) {
    const Sent& front = young_queue_.front();
    Slot& slot = slots_[front.slot];
    if (slot.live && slot.generation == front.generation && slot.young) {
      if (front.at + h > now) break;
      slot.young = false;
      --young_;
      window_.aged(now, h);
    }
    young_queue_.pop_front();
  }
}

void Scheduler::on_wheel() {
  wheel_armed_ = Clock::time_point::max();
  each_engine([](Engine& e) { e.poll(); });  // answers already in are answers, not timeouts
  const Clock::time_point now = Clock::now();
  expiring_ = true;
  wheel_.expire(now, [this](std::uint32_t index) {
    const Slot& slot = slots_[index];
    if (!slot.live) return;
    engine_for(slot).expire((static_cast<std::uint32_t>(slot.generation) << kSlotBits) | index);
  });
  expiring_ = false;
  sink_.flush();
  fill();
  arm_wheel(Clock::now());
}

void Scheduler::arm_wheel(Clock::time_point now) {
  if (!loop_ || stopped_) return;
  const Clock::time_point next = wheel_.next_deadline();
  if (next == Clock::time_point::max() || next >= wheel_armed_) return;
  wheel_armed_ = next;
  wheel_timer_ = loop_->after(std::max(Clock::duration(0), next - now), [this] { on_wheel(); });
}

void Scheduler::wake_at(Clock::time_point when, Clock::time_point now) {
  if (when >= wake_armed_ && wake_timer_.active()) return;
  wake_armed_ = when;
  wake_timer_ = loop_->after(std::max(Clock::duration(0), when - now), [this] {
    wake_armed_ = Clock::time_point::max();
    fill();
  });
}

bool Scheduler::take_token(Clock::time_point now) {
  const double seconds = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(tokens_ + seconds * rate_, std::max(1.0, rate_ / 50));
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  const auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_);
  wake_at(now + duration_cast<Clock::duration>(wait), now);
  return false;
}

// An interruption: nothing more is sent; every host being scanned is written with what it
// has so far, and the loop ends.
void Scheduler::stop(int signo) {
  if (stopped_) return;
  stopped_ = true;
  stop_signal_ = signo;
  each_engine([](Engine& e) { e.close(); });
  if (!finished()) checkpoint_ = checkpoint();
  // Hosts still being discovered are neither up nor down: they are left for a rerun.
  for (std::uint32_t i = 0; i < hosts_.size(); ++i) {
    if (hosts_[i].live && hosts_[i].phase == Phase::Scan) finish_host(i, false);
  }
  sink_.flush();
  loop_->stop();
}

// What is left, for a resumed scan: hosts not taken in, hosts being discovered (redone),
// and for each host being scanned the ports handed out but not decided — in flight or
// waiting for a retry.
ScanCheckpoint Scheduler::checkpoint() const {
  ScanCheckpoint c;
  c.seed = o_.seed;
  c.next_host = next_host_;
  std::vector<std::uint32_t> entry(hosts_.size(), ~0u);  // host slot -> its entry in c.hosts
  for (std::uint32_t i = 0; i < hosts_.size(); ++i) {
    const Host& host = hosts_[i];
    if (!host.live) continue;
    entry[i] = static_cast<std::uint32_t>(c.hosts.size());
    const bool discover = host.phase == Phase::Discover;
    c.hosts.push_back({host.position, discover, discover ? 0 : host.issued, {}});
  }
  auto undecided = [&](std::uint32_t host, std::uint16_t generation, std::uint16_t port) {
    if (entry[host] == ~0u || hosts_[host].generation != generation) return;
    ScanCheckpoint::Host& h = c.hosts[entry[host]];
    if (!h.discover) h.pending.push_back(port);
  };
  for (const Slot& slot : slots_)
    if (slot.live && !slot.discovery) undecided(slot.host, hosts_[slot.host].generation, slot.port);
  for (const Work& work : retries_)
    if (!work.discovery) undecided(work.host, work.host_generation, work.port);
  c.hosts.insert(c.hosts.end(), resumed_.begin(), resumed_.end());
  return c;
}

// A host that has answered backs off from its second retry on: one lost try is most often
// the path's random loss, and the first retry waits no longer than the try it repeats; a
// second loss in a row may be a queue or a round trip that jumped, so it doubles from
// there. A host that never answered gets the same timeout every try: its silence says
// nothing about any path (silence is not congestion), and doubling would only make a dead
// range cost 1 + 2 + 4 timeouts instead of 3.
std::chrono::microseconds probe_timeout(const RttEstimator& host, const RttEstimator& group,
                                        const ScanOptions& o, unsigned attempt) {
  using Micros = std::chrono::microseconds;
  if (host.samples() == 0) return group.samples() > 0 ? group.timeout() : Micros(o.timeout);
  Micros t = host.timeout();
  for (unsigned i = 1; i < attempt; ++i)
    t *= 2;
  return std::min(t, Micros(std::max(o.max_timeout, o.timeout)) * 2);
}

Scheduler::Micros Scheduler::timeout_for(const Host& host, unsigned attempt) const {
  return probe_timeout(host.rtt, group_rtt_, o_, attempt);
}

// How long the hosts that answer take to: the group's srtt + 4·rttvar (2·srtt at least), within
// [kMinHorizon, the first-try timeout].
Scheduler::Micros Scheduler::horizon() const {
  if (group_rtt_.samples() == 0) return std::min<Micros>(kInitialHorizon, o_.timeout);
  // Twice the round trip at least, as the timeout: with thousands of agreeing samples
  // rttvar is ~0, and a probe sent while a queue fills takes longer than the srtt of now.
  // Aging it early would free its place for one more probe into that queue.
  const Micros h = std::max(group_rtt_.srtt() + 4 * group_rtt_.rttvar(), 2 * group_rtt_.srtt());
  return std::clamp<Micros>(h, kMinHorizon, std::max<Micros>(kMinHorizon, o_.timeout));
}

// An unambiguous round trip: the answer to one try.
void Scheduler::sample(Host& host, Micros rtt) {
  const bool first = group_rtt_.samples() == 0;
  host.rtt.sample(rtt);
  group_rtt_.sample(rtt);
  if (first) retime_in_flight();
  const auto us = static_cast<std::uint32_t>(std::max<std::int64_t>(1, rtt.count()));
  if (host.min_rtt_us == 0 || us < host.min_rtt_us) {
    window_.host_min_rtt(Micros(host.min_rtt_us), Micros(us));
    host.min_rtt_us = us;
  }
}

// The scan's first answer. The probes already out were given the configured timeout (no
// round trip was known); give them the one this answer teaches, or a probe lost among the
// first few would hold the end of the scan for a whole --timeout.
void Scheduler::retime_in_flight() {
  const Clock::time_point now = Clock::now();
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (!slot.live || !wheel_.scheduled(i)) continue;
    wheel_.remove(i);
    wheel_.add(i, std::max(now, slot.sent + timeout_for(hosts_[slot.host], slot.attempt)));
  }
}

void Scheduler::report_progress() {
  ScanProgress p{decided_, total_, open_, hosts_done_, host_count_, Clock::now() - start_};
  progress_(p);
}

}  // namespace sockit::scan
