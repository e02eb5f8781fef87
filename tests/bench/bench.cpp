// What a token costs: sign_token with a warm and a cold signing-key cache, with and without a
// session token; TokenProvider::token() from a warm cache on 1, 2 and 8 threads; and the floor,
// the same OpenSSL calls the library makes for one token (one SHA-256 of a ~300-byte canonical
// request, one HMAC-SHA256 of a ~120-byte string to sign) with nothing around them.
//
// Every benchmark reports heap allocations per token: `allocs` counts global operator new (this
// binary replaces it with a counting one), `ossl_allocs` counts OpenSSL's own CRYPTO_malloc calls
// (through CRYPTO_set_mem_functions, set before OpenSSL allocates anything).
// Timings are never asserted; scripts/bench.sh turns them into a table against the targets.
//
//   mskiam-bench                                all benchmarks; Google Benchmark's flags apply
//   mskiam-bench --benchmark_filter=sign_token  a subset
#include <benchmark/benchmark.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "mskiam/mskiam.hpp"

// ---- Counting allocators ---------------------------------------------------------------------
// Per-thread counts, so that a multi-threaded benchmark counts the calls of its own threads and
// Google Benchmark sums them; no atomics on the allocation path of the code being measured.

namespace {

thread_local std::uint64_t cxx_allocations = 0;
thread_local std::uint64_t ossl_allocations = 0;
bool ossl_counting = false;

void* counted_malloc(std::size_t size) {
  ++cxx_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* counted_aligned(std::size_t size, std::align_val_t align) {
  ++cxx_allocations;
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

extern "C" {
void* ossl_malloc(std::size_t size, const char*, int) {
  ++ossl_allocations;
  return std::malloc(size);
}
void* ossl_realloc(void* p, std::size_t size, const char*, int) {
  if (p == nullptr) ++ossl_allocations;
  return std::realloc(p, size);
}
void ossl_free(void* p, const char*, int) { std::free(p); }
}

}  // namespace

void* operator new(std::size_t size) { return counted_malloc(size); }
void* operator new[](std::size_t size) { return counted_malloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++cxx_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  ++cxx_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_aligned(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

// Allocations made by this thread between construction and report(), per iteration.
class AllocationMeter {
 public:
  AllocationMeter() : cxx_(cxx_allocations), ossl_(ossl_allocations) {}
  void report(benchmark::State& state) const {
    const auto per_iteration = benchmark::Counter::kAvgIterations;
    state.counters["allocs"] =
        benchmark::Counter(static_cast<double>(cxx_allocations - cxx_), per_iteration);
    if (ossl_counting)
      state.counters["ossl_allocs"] =
          benchmark::Counter(static_cast<double>(ossl_allocations - ossl_), per_iteration);
  }

 private:
  std::uint64_t cxx_, ossl_;
};

// Best of the repetitions, next to Google Benchmark's mean and median: on a loaded machine the
// fastest repetition is the one least disturbed, which is what comparisons across signers use.
double fastest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// ---- Fixed inputs: the same as scripts/bench.sh gives the JS signer and botocore --------------

constexpr const char* access_key_id = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
// An STS session token is ~400-1000 bytes of base64; this one is 444, full of + / = to encode.
const std::string session_token = [] {
  std::string s = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+";
  while (s.size() < 440) s += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3=";
  s.resize(440);
  return s + "Zz==";
}();
constexpr const char* region = "us-east-1";
// 2026-11-23T10:00:00Z: a fixed instant keeps the day, so a warm cache stays warm.
const auto signing_time = std::chrono::system_clock::time_point(std::chrono::seconds(1795428000));

mskiam::Credentials credentials(bool with_session_token) {
  mskiam::Credentials c;
  c.access_key_id = access_key_id;
  c.secret_access_key = secret_access_key;
  if (with_session_token) c.session_token = session_token;
  return c;
}

mskiam::TokenOptions token_options() {
  mskiam::TokenOptions options;
  options.region = region;
  return options;
}

// ---- sign_token ----------------------------------------------------------------------------

enum class Cache { warm, cold, none };

void sign_token(benchmark::State& state, Cache cache_state, bool with_session_token) {
  const mskiam::Credentials creds = credentials(with_session_token);
  const mskiam::TokenOptions options = token_options();
  mskiam::sigv4::SigningKeyCache cache;
  mskiam::sigv4::SigningKeyCache* cache_arg = cache_state == Cache::none ? nullptr : &cache;
  benchmark::DoNotOptimize(mskiam::sign_token(creds, options, signing_time, cache_arg));
  std::size_t token_size = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    if (cache_state == Cache::cold) cache.reset();
    mskiam::AuthToken token = mskiam::sign_token(creds, options, signing_time, cache_arg);
    token_size = token.value.size();
    benchmark::DoNotOptimize(token);
  }
  meter.report(state);
  state.counters["token_bytes"] = static_cast<double>(token_size);
  state.counters["derivations"] =
      benchmark::Counter(static_cast<double>(cache.derivations()),
                         benchmark::Counter::kAvgIterations);
}

BENCHMARK_CAPTURE(sign_token, warm_cache, Cache::warm, false)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(sign_token, warm_cache_session_token, Cache::warm, true)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(sign_token, cold_cache, Cache::cold, false)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(sign_token, cold_cache_session_token, Cache::cold, true)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(sign_token, no_cache, Cache::none, false)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(sign_token, no_cache_session_token, Cache::none, true)
    ->ComputeStatistics("min", fastest);

// ---- TokenProvider::token() from a warm cache ----------------------------------------------
// One provider shared by every thread, as librdkafka's SASL threads of several clients would.
// `latency_ns` is what one caller waits per call (its own wall time over its own calls, averaged
// over threads); Google Benchmark's Time column is wall time over all threads' calls.

mskiam::TokenProvider<mskiam::StaticCredentials>& shared_provider() {
  static mskiam::TokenProvider<mskiam::StaticCredentials> provider{
      mskiam::StaticCredentials{credentials(true)}, token_options()};
  return provider;
}

void provider_token_warm(benchmark::State& state) {
  auto& provider = shared_provider();
  if (state.thread_index() == 0) benchmark::DoNotOptimize(provider.token());  // warm the cache
  const auto issued_before = provider.counters().tokens;
  const AllocationMeter meter;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    mskiam::AuthToken token = provider.token();
    benchmark::DoNotOptimize(token);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  meter.report(state);
  state.counters["latency_ns"] = benchmark::Counter(
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
          static_cast<double>(state.iterations()),
      benchmark::Counter::kAvgThreads);
  // Tokens signed during the run: ~0 (one every 90 s of token reuse), else the cache was not warm.
  if (state.thread_index() == 0)
    state.counters["signed"] = static_cast<double>(provider.counters().tokens - issued_before);
}

BENCHMARK(provider_token_warm)
    ->Threads(1)
    ->Threads(2)
    ->Threads(8)
    ->UseRealTime()
    ->ComputeStatistics("min", fastest)
    ->Repetitions(7)
    ->ReportAggregatesOnly(true);

// ---- The OpenSSL floor -----------------------------------------------------------------------
// Exactly the calls of mskiam/detail/crypto.hpp: EVP_Digest(EVP_sha256()) and the HMAC() one-shot.

const std::string canonical_request = [] {
  std::string s = "GET\n/\n";
  while (s.size() < 236) s += "Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&";
  s.resize(236);
  s += "\nhost:kafka.us-east-1.amazonaws.com\n\nhost\n";
  s.resize(300, 'e');
  return s;
}();
const std::string string_to_sign = [] {
  std::string s =
      "AWS4-HMAC-SHA256\n20261123T100000Z\n20261123/us-east-1/kafka-cluster/aws4_request\n";
  s.resize(120, 'a');
  return s;
}();

void openssl_floor(benchmark::State& state) {
  unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  unsigned char hash[32], mac[32];
  unsigned int size = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    EVP_Digest(canonical_request.data(), canonical_request.size(), hash, &size, EVP_sha256(),
               nullptr);
    HMAC(EVP_sha256(), key, static_cast<int>(sizeof key),
         reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(), mac,
         &size);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  state.counters["request_bytes"] = static_cast<double>(canonical_request.size());
  state.counters["string_to_sign_bytes"] = static_cast<double>(string_to_sign.size());
}
BENCHMARK(openssl_floor)->ComputeStatistics("min", fastest);

// The two halves of the floor, to see which one costs.
void openssl_sha256_300(benchmark::State& state) {
  unsigned char hash[32];
  unsigned int size = 0;
  for (auto _ : state) {
    EVP_Digest(canonical_request.data(), canonical_request.size(), hash, &size, EVP_sha256(),
               nullptr);
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(openssl_sha256_300)->ComputeStatistics("min", fastest);

void openssl_hmac_oneshot_120(benchmark::State& state) {
  unsigned char key[32] = {7};
  unsigned char mac[32];
  unsigned int size = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), key, static_cast<int>(sizeof key),
         reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(), mac,
         &size);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(openssl_hmac_oneshot_120)->ComputeStatistics("min", fastest);

// What the floor could be: the digest fetched once and one context reused per thread (OpenSSL 3:
// EVP_MD_fetch; 1.1: EVP_sha256() costs nothing). For the library-change proposal in the report.
void openssl_floor_reused_contexts(benchmark::State& state) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
#else
  const EVP_MD* md = EVP_sha256();
#endif
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  unsigned char hash[32], mac[32];
  unsigned int size = 0;
  // HMAC by hand over the reused digest context: H((K^opad) || H((K^ipad) || m)).
  unsigned char ipad[64], opad[64];
  for (std::size_t i = 0; i < 64; ++i) {
    const unsigned char k = i < sizeof key ? key[i] : 0;
    ipad[i] = static_cast<unsigned char>(k ^ 0x36);
    opad[i] = static_cast<unsigned char>(k ^ 0x5c);
  }
  const AllocationMeter meter;
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, canonical_request.data(), canonical_request.size());
    EVP_DigestFinal_ex(ctx, hash, &size);
    unsigned char inner[32];
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, ipad, sizeof ipad);
    EVP_DigestUpdate(ctx, string_to_sign.data(), string_to_sign.size());
    EVP_DigestFinal_ex(ctx, inner, &size);
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, opad, sizeof opad);
    EVP_DigestUpdate(ctx, inner, sizeof inner);
    EVP_DigestFinal_ex(ctx, mac, &size);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  EVP_MD_CTX_free(ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD_free(md);
#endif
}
BENCHMARK(openssl_floor_reused_contexts)->ComputeStatistics("min", fastest);

// Fails the run (not a timing: a broken setup) when the paths measured disagree or the counters
// count nothing, so that bench.smoke proves the numbers mean something.
bool self_check() {
  bool ok = true;
  for (bool with_session_token : {false, true}) {
    const mskiam::Credentials creds = credentials(with_session_token);
    mskiam::sigv4::SigningKeyCache cache;
    const auto before = cxx_allocations;
    const std::string cold = mskiam::sign_token(creds, token_options(), signing_time, &cache).value;
    const std::string warm = mskiam::sign_token(creds, token_options(), signing_time, &cache).value;
    const std::string none = mskiam::sign_token(creds, token_options(), signing_time).value;
    if (cold != warm || cold != none || cache.derivations() != 1) {
      std::fprintf(stderr, "mskiam-bench: warm, cold and uncached tokens differ\n");
      ok = false;
    }
    if (cxx_allocations == before) {
      std::fprintf(stderr, "mskiam-bench: the counting operator new counted nothing\n");
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything makes OpenSSL allocate; it refuses (returns 0) once it has.
  ossl_counting = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
  if (!self_check()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("mskiam", MSKIAM_VERSION_STRING);
  benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
