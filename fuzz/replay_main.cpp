// The driver that turns a fuzz target into a regression test in the normal build (no
// libFuzzer, any compiler): runs every file of the seed corpus, then a fixed, seeded batch
// of mutants of those files, through LLVMFuzzerTestOneInput. A violated invariant aborts,
// so ctest sees a crash; the same inputs give the same run on every machine.
//
//   <target>_replay [--mutants N] [--seed S] CORPUS_DIR_OR_FILE...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional, as in libFuzzer: a target that must set something up first defines it.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

using Input = std::vector<std::uint8_t>;

Input read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// xorshift64*: tiny, and the same sequence everywhere (std::mt19937's distributions are
// not specified bit for bit across standard libraries).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed | 1) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ULL;
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

// Bytes that mean something to sockit's parsers; mutants favour them over random bytes.
constexpr std::string_view kInteresting = "0123456789.:,-/[]%@\\\"\r\n\x18 \xc2\xe0\xed\xf0\xff";

Input mutate(Input in, const std::vector<Input>& corpus, Random& rng) {
  const std::size_t steps = 1 + rng.below(4);
  for (std::size_t s = 0; s < steps; ++s) {
    auto byte = [&] {
      return static_cast<std::uint8_t>(rng.below(2) ? kInteresting[rng.below(kInteresting.size())]
                                                    : rng.below(256));
    };
    switch (rng.below(6)) {
      case 0:  // replace a byte
        if (!in.empty()) in[rng.below(in.size())] = byte();
        break;
      case 1:  // insert a byte
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(rng.below(in.size() + 1)), byte());
        break;
      case 2:  // erase a run
        if (!in.empty()) {
          std::size_t at = rng.below(in.size());
          std::size_t n = 1 + rng.below(std::min<std::size_t>(8, in.size() - at));
          in.erase(in.begin() + static_cast<std::ptrdiff_t>(at),
                   in.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 3:  // repeat a run
        if (!in.empty()) {
          std::size_t at = rng.below(in.size());
          std::size_t n = 1 + rng.below(std::min<std::size_t>(16, in.size() - at));
          Input run(in.begin() + static_cast<std::ptrdiff_t>(at),
                    in.begin() + static_cast<std::ptrdiff_t>(at + n));
          in.insert(in.begin() + static_cast<std::ptrdiff_t>(at), run.begin(), run.end());
        }
        break;
      case 4:  // splice in the tail of another corpus file
        if (!corpus.empty()) {
          const Input& other = corpus[rng.below(corpus.size())];
          std::size_t at = rng.below(in.size() + 1);
          std::size_t from = rng.below(other.size() + 1);
          in.resize(at);
          in.insert(in.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        }
        break;
      default:  // flip a bit
        if (!in.empty()) in[rng.below(in.size())] ^= static_cast<std::uint8_t>(1u << rng.below(8));
        break;
    }
  }
  if (in.size() > 4096) in.resize(4096);
  return in;
}

void run(const Input& in) {
  LLVMFuzzerTestOneInput(in.data(), in.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mutants = 2000;
  std::uint64_t seed = 20240601;
  std::vector<std::filesystem::path> paths;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--mutants" && i + 1 < argc) {
      mutants = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      paths.emplace_back(arg);
    }
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::directory_iterator(p))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());  // directory order differs between machines
  std::vector<Input> corpus;
  for (const auto& f : files) {
    corpus.push_back(read_file(f));
    run(corpus.back());
  }
  run({});
  Random rng(seed);
  for (std::size_t i = 0; i < mutants; ++i) {
    Input base = corpus.empty() ? Input{} : corpus[rng.below(corpus.size())];
    run(mutate(std::move(base), corpus, rng));
  }
  std::printf("%s: %zu corpus files and %zu mutants (seed %llu) passed\n", argv[0], files.size(),
              mutants, static_cast<unsigned long long>(seed));
  return 0;
}
