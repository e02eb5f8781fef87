// What a token costs: sign_token with a warm and a cold signing-key cache, with and without a
// session token; TokenProvider::token() from a warm cache on 1, 2 and 8 threads; the floor, the
// cheapest EVP calls that produce one token's SHA-256 of the canonical request and HMAC-SHA256 of
// the string to sign, over the very bytes sign_token hashes, with nothing around them (next to
// costlier OpenSSL paths, for scale); and the library's own SHA-256, HMAC and signature step.
//
// Every benchmark reports heap allocations per call: `allocs` counts global operator new (this
// binary replaces it with a counting one), `ossl_allocs` counts OpenSSL's own CRYPTO_malloc calls
// (through CRYPTO_set_mem_functions, set before OpenSSL allocates anything).
// Timings are never asserted; scripts/bench.sh turns them into a table against the targets.
//
//   mskiam-bench                                all benchmarks; Google Benchmark's flags apply
//   mskiam-bench --benchmark_filter=sign_token  a subset

// SHA256_Init and co. are deprecated in OpenSSL 3.0; one benchmark measures them all the same.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "mskiam/mskiam.hpp"
#include "support/presign_reference.hpp"

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
  mskiam::TokenCache cache;
  mskiam::TokenCache* cache_arg = cache_state == Cache::none ? nullptr : &cache;
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
      benchmark::Counter(static_cast<double>(cache.signing_keys().derivations()),
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

// ---- What the library hashes, and the OpenSSL floor ------------------------------------------
// The inputs are the exact bytes one sign_token call hashes: the canonical request and the string
// to sign are rebuilt from a token the library signed (decode_token, then sigv4's own canonical
// form), and self_check() proves it: their HMAC under the signing key is the token's signature.
// Each floor comes without and with the session token, as sign_token/warm_cache*.

struct SigningInputs {
  std::string amz_date, scope, canonical_request, string_to_sign, signature;
  mskiam::detail::Digest signing_key{};
};

SigningInputs make_signing_inputs(bool with_session_token) {
  constexpr const char* service = "kafka-cluster";  // MSK's SigV4 signing name
  const mskiam::Credentials creds = credentials(with_session_token);
  const mskiam::DecodedToken token =
      mskiam::decode_token(mskiam::sign_token(creds, token_options(), signing_time).value);
  SigningInputs in;
  std::vector<std::pair<std::string, std::string>> signed_params;
  for (const auto& [name, value] : token.params) {
    if (name == "X-Amz-Signature")
      in.signature = value;
    else if (name != "User-Agent")  // the one parameter added after signing
      signed_params.emplace_back(name, value);
  }
  in.amz_date = token.param("X-Amz-Date").value_or("");
  const std::string date = in.amz_date.substr(0, 8);
  in.scope = mskiam::sigv4::credential_scope(date, region, service);
  in.canonical_request = mskiam_test::presign_canonical_request(
      "/", mskiam_test::canonical_query(signed_params), token.host);
  in.string_to_sign = mskiam::sigv4::string_to_sign(in.amz_date, in.scope, in.canonical_request);
  in.signing_key =
      mskiam::sigv4::derive_signing_key(creds.secret_access_key, date, region, service);
  return in;
}

// Built on first use, in main(): after CRYPTO_set_mem_functions, like every OpenSSL call here.
const SigningInputs& signing_inputs(bool with_session_token) {
  static const SigningInputs without = make_signing_inputs(false);
  static const SigningInputs with = make_signing_inputs(true);
  return with_session_token ? with : without;
}

void report_sizes(benchmark::State& state, const SigningInputs& in) {
  state.counters["request_bytes"] = static_cast<double>(in.canonical_request.size());
  state.counters["string_to_sign_bytes"] = static_cast<double>(in.string_to_sign.size());
}

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
struct FetchedSha256 {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ~FetchedSha256() { EVP_MD_free(md); }
};
#else
struct FetchedSha256 {
  const EVP_MD* md = EVP_sha256();  // no provider store to search before 3.0
};
#endif

// The signing key's padded blocks: K ^ ipad and K ^ opad (RFC 2104).
struct PaddedKey {
  unsigned char ipad[64], opad[64];
  explicit PaddedKey(const mskiam::detail::Digest& key) {
    for (std::size_t i = 0; i < 64; ++i) {
      const unsigned char k = i < key.size() ? key[i] : 0;
      ipad[i] = static_cast<unsigned char>(k ^ 0x36);
      opad[i] = static_cast<unsigned char>(k ^ 0x5c);
    }
  }
};

// The floor: the cheapest way through OpenSSL's (non-deprecated) EVP API to the two results a
// token needs, SHA-256 of the canonical request and HMAC-SHA256 of the string to sign. SHA-256
// fetched once; one EVP_MD_CTX reused; the HMAC from the signing key's states after absorbing
// K ^ ipad and K ^ opad, prepared once (the key is fixed for a day) and copied per MAC. OpenSSL
// 3.0 still allocates the algorithm state at every init and copy: the ossl_allocs left.
void openssl_floor(benchmark::State& state, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  const FetchedSha256 sha;
  const PaddedKey padded(in.signing_key);
  EVP_MD_CTX* inner_state = EVP_MD_CTX_new();
  EVP_MD_CTX* outer_state = EVP_MD_CTX_new();
  EVP_DigestInit_ex(inner_state, sha.md, nullptr);
  EVP_DigestUpdate(inner_state, padded.ipad, sizeof padded.ipad);
  EVP_DigestInit_ex(outer_state, sha.md, nullptr);
  EVP_DigestUpdate(outer_state, padded.opad, sizeof padded.opad);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char hash[32], inner[32], mac[32];
  unsigned int size = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, sha.md, nullptr);
    EVP_DigestUpdate(ctx, in.canonical_request.data(), in.canonical_request.size());
    EVP_DigestFinal_ex(ctx, hash, &size);
    EVP_MD_CTX_copy_ex(ctx, inner_state);
    EVP_DigestUpdate(ctx, in.string_to_sign.data(), in.string_to_sign.size());
    EVP_DigestFinal_ex(ctx, inner, &size);
    EVP_MD_CTX_copy_ex(ctx, outer_state);
    EVP_DigestUpdate(ctx, inner, sizeof inner);
    EVP_DigestFinal_ex(ctx, mac, &size);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  report_sizes(state, in);
  EVP_MD_CTX_free(ctx);
  EVP_MD_CTX_free(inner_state);
  EVP_MD_CTX_free(outer_state);
}
BENCHMARK_CAPTURE(openssl_floor, no_session_token, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(openssl_floor, session_token, true)->ComputeStatistics("min", fastest);

// The same, the HMAC hashing both padded blocks at every call (no prepared key): SHA-256
// fetched once, one context reused, three inits per token.
void openssl_floor_reused_contexts(benchmark::State& state, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  const FetchedSha256 sha;
  const PaddedKey padded(in.signing_key);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char hash[32], inner[32], mac[32];
  unsigned int size = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, sha.md, nullptr);
    EVP_DigestUpdate(ctx, in.canonical_request.data(), in.canonical_request.size());
    EVP_DigestFinal_ex(ctx, hash, &size);
    EVP_DigestInit_ex(ctx, sha.md, nullptr);
    EVP_DigestUpdate(ctx, padded.ipad, sizeof padded.ipad);
    EVP_DigestUpdate(ctx, in.string_to_sign.data(), in.string_to_sign.size());
    EVP_DigestFinal_ex(ctx, inner, &size);
    EVP_DigestInit_ex(ctx, sha.md, nullptr);
    EVP_DigestUpdate(ctx, padded.opad, sizeof padded.opad);
    EVP_DigestUpdate(ctx, inner, sizeof inner);
    EVP_DigestFinal_ex(ctx, mac, &size);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  report_sizes(state, in);
  EVP_MD_CTX_free(ctx);
}
BENCHMARK_CAPTURE(openssl_floor_reused_contexts, no_session_token, false)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(openssl_floor_reused_contexts, session_token, true)
    ->ComputeStatistics("min", fastest);

// Not a floor: the obvious OpenSSL 3 one-shots, EVP_Digest(EVP_sha256()) and HMAC(), which look
// SHA-256 (and HMAC) up in the provider store at every call. What a signer pays that does not
// fetch once; the "floor" of earlier versions of this benchmark.
void openssl_oneshots(benchmark::State& state, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  unsigned char hash[32], mac[32];
  unsigned int size = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    EVP_Digest(in.canonical_request.data(), in.canonical_request.size(), hash, &size,
               EVP_sha256(), nullptr);
    HMAC(EVP_sha256(), in.signing_key.data(), static_cast<int>(in.signing_key.size()),
         reinterpret_cast<const unsigned char*>(in.string_to_sign.data()),
         in.string_to_sign.size(), mac, &size);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  report_sizes(state, in);
}
BENCHMARK_CAPTURE(openssl_oneshots, no_session_token, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(openssl_oneshots, session_token, true)->ComputeStatistics("min", fastest);

#if !defined(OPENSSL_NO_DEPRECATED_3_0)
// Not a floor either: SHA256_Init/Update/Final, deprecated in OpenSSL 3.0, with the HMAC states
// prepared once and copied as plain structs. No allocation, no dispatch, but it bypasses the
// providers (a FIPS provider would not be used), so the library stays on EVP; this measures what
// that choice costs.
void openssl_deprecated_sha256_api(benchmark::State& state, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  const PaddedKey padded(in.signing_key);
  SHA256_CTX inner_state, outer_state;
  SHA256_Init(&inner_state);
  SHA256_Update(&inner_state, padded.ipad, sizeof padded.ipad);
  SHA256_Init(&outer_state);
  SHA256_Update(&outer_state, padded.opad, sizeof padded.opad);
  unsigned char hash[32], inner[32], mac[32];
  const AllocationMeter meter;
  for (auto _ : state) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, in.canonical_request.data(), in.canonical_request.size());
    SHA256_Final(hash, &ctx);
    ctx = inner_state;
    SHA256_Update(&ctx, in.string_to_sign.data(), in.string_to_sign.size());
    SHA256_Final(inner, &ctx);
    ctx = outer_state;
    SHA256_Update(&ctx, inner, sizeof inner);
    SHA256_Final(mac, &ctx);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(mac);
  }
  meter.report(state);
  report_sizes(state, in);
}
BENCHMARK_CAPTURE(openssl_deprecated_sha256_api, no_session_token, false)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(openssl_deprecated_sha256_api, session_token, true)
    ->ComputeStatistics("min", fastest);
#endif

// ---- The library's crypto on the same inputs -------------------------------------------------
// mskiam::detail's SHA-256 and HMAC alone, then the signature step of sign_token (string to
// sign, signature, hex) as sigv4 does it today (HMAC from the raw signing key) and with the key
// prepared once (detail::HmacKey, which a SigningKeyCache can keep next to the key).

void crypto_sha256(benchmark::State& state, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  const AllocationMeter meter;
  for (auto _ : state) benchmark::DoNotOptimize(mskiam::detail::sha256(in.canonical_request));
  meter.report(state);
  report_sizes(state, in);
}
BENCHMARK_CAPTURE(crypto_sha256, canonical_request, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(crypto_sha256, canonical_request_session_token, true)
    ->ComputeStatistics("min", fastest);

void crypto_hmac_sha256(benchmark::State& state, bool prepared_key) {
  const SigningInputs& in = signing_inputs(false);
  const mskiam::detail::HmacKey key(in.signing_key);
  const AllocationMeter meter;
  for (auto _ : state) {
    if (prepared_key)
      benchmark::DoNotOptimize(mskiam::detail::hmac_sha256(key, in.string_to_sign));
    else
      benchmark::DoNotOptimize(mskiam::detail::hmac_sha256(in.signing_key, in.string_to_sign));
  }
  meter.report(state);
  report_sizes(state, in);
}
BENCHMARK_CAPTURE(crypto_hmac_sha256, raw_key, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(crypto_hmac_sha256, prepared_key, true)->ComputeStatistics("min", fastest);

void signature_step(benchmark::State& state, bool prepared_key, bool with_session_token) {
  const SigningInputs& in = signing_inputs(with_session_token);
  const mskiam::detail::HmacKey key(in.signing_key);
  const AllocationMeter meter;
  for (auto _ : state) {
    const std::string to_sign =
        mskiam::sigv4::string_to_sign(in.amz_date, in.scope, in.canonical_request);
    std::string sig = prepared_key ? mskiam::detail::hex(mskiam::detail::hmac_sha256(key, to_sign))
                                   : mskiam::sigv4::signature(in.signing_key, to_sign);
    benchmark::DoNotOptimize(sig);
  }
  meter.report(state);
  report_sizes(state, in);
}
BENCHMARK_CAPTURE(signature_step, raw_key, false, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(signature_step, prepared_key, true, false)->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(signature_step, raw_key_session_token, false, true)
    ->ComputeStatistics("min", fastest);
BENCHMARK_CAPTURE(signature_step, prepared_key_session_token, true, true)
    ->ComputeStatistics("min", fastest);

// Fails the run (not a timing: a broken setup) when the paths measured disagree or the counters
// count nothing, so that bench.smoke proves the numbers mean something.
bool self_check() {
  bool ok = true;
  for (bool with_session_token : {false, true}) {
    const mskiam::Credentials creds = credentials(with_session_token);
    mskiam::TokenCache cache;
    const auto before = cxx_allocations;
    const std::string cold = mskiam::sign_token(creds, token_options(), signing_time, &cache).value;
    const std::string warm = mskiam::sign_token(creds, token_options(), signing_time, &cache).value;
    const std::string none = mskiam::sign_token(creds, token_options(), signing_time).value;
    if (cold != warm || cold != none || cache.signing_keys().derivations() != 1) {
      std::fprintf(stderr, "mskiam-bench: warm, cold and uncached tokens differ\n");
      ok = false;
    }
    if (cxx_allocations == before) {
      std::fprintf(stderr, "mskiam-bench: the counting operator new counted nothing\n");
      ok = false;
    }
    // The floors' inputs are the bytes sign_token signs: their HMAC is the token's signature,
    // from the raw key and from the prepared one.
    const SigningInputs& in = signing_inputs(with_session_token);
    const std::string from_raw = mskiam::sigv4::signature(in.signing_key, in.string_to_sign);
    const std::string from_prepared = mskiam::detail::hex(
        mskiam::detail::hmac_sha256(mskiam::detail::HmacKey(in.signing_key), in.string_to_sign));
    if (in.signature.size() != 64 || from_raw != in.signature || from_prepared != in.signature) {
      std::fprintf(stderr, "mskiam-bench: the floor's inputs are not what sign_token signs\n");
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
