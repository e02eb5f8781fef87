// mskiam-token: prints an MSK IAM authentication token, or what is inside one.
//
//   mskiam-token --region us-east-1              the token (base64url), for scripts and kcat
//   mskiam-token --region us-east-1 --decode     the presigned URL with secrets redacted
//   mskiam-token --region us-east-1 --json       {token, expires_at_ms, principal, source}
//
// Exit codes: 0 ok, 1 no token (credentials or signing failed; the message says why), 2 usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/mskiam.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

constexpr const char* usage_text = R"(usage: mskiam-token --region REGION [options]

Prints an AWS MSK IAM authentication token (SASL/OAUTHBEARER) signed with the credentials
found in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION).

options:
  --region REGION     AWS region of the cluster (required; default: $AWS_REGION)
  --lifetime SECONDS  token lifetime, 1..900 (default 900; capped by credential expiry)
  --host HOST         host to sign for (default kafka.REGION.amazonaws.com[.cn])
  --decode            print the presigned URL (signature and session token redacted),
                      expiry and principal instead of the token
  --json              print {"token", "expires_at_ms", "principal", "source"}
  -h, --help          this text

exit codes: 0 ok, 1 no token could be made (the message names the source and cause), 2 usage
)";

struct Args {
  std::string region;
  std::optional<long> lifetime;
  std::string host;
  bool decode = false;
  bool json = false;
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

int usage_error(const std::string& message) {
  std::cerr << "mskiam-token: " << message << "\n(try --help)\n";
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (const char* r = std::getenv("AWS_REGION")) args.region = r;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      std::cout << usage_text;
      return exit_ok;
    } else if (arg == "--region") {
      if (!value(args.region)) return usage_error("--region needs a value");
    } else if (arg == "--host") {
      if (!value(args.host)) return usage_error("--host needs a value");
    } else if (arg == "--lifetime") {
      if (!value(v)) return usage_error("--lifetime needs a value");
      char* end = nullptr;
      const long seconds = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0') return usage_error("--lifetime takes whole seconds");
      args.lifetime = seconds;
    } else if (arg == "--decode") {
      args.decode = true;
    } else if (arg == "--json") {
      args.json = true;
    } else {
      return usage_error("unknown argument " + std::string(arg));
    }
  }
  if (args.region.empty()) return usage_error("--region is required (or set AWS_REGION)");
  if (args.decode && args.json) return usage_error("--decode and --json exclude each other");

  try {
    mskiam::TokenOptions options;
    options.region = args.region;
    options.host = args.host;
    if (args.lifetime) options.lifetime = std::chrono::seconds(*args.lifetime);
    mskiam::TokenProvider<mskiam::EnvironmentCredentials> provider{mskiam::EnvironmentCredentials{},
                                                                    options};
    const mskiam::AuthToken token = provider.token();
    const std::string source = provider.credentials().source;
    const auto expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                token.expires_at.time_since_epoch())
                                .count();
    if (args.json) {
      std::cout << "{\"token\":" << json_string(token.value) << ",\"expires_at_ms\":" << expires_ms
                << ",\"principal\":" << json_string(token.principal)
                << ",\"source\":" << json_string(source) << "}\n";
    } else if (args.decode) {
      const mskiam::DecodedToken decoded = mskiam::decode_token(token.value);
      std::cout << "url:        " << decoded.redacted_url() << "\n"
                << "signed at:  " << mskiam::detail::iso8601(decoded.signed_at) << "\n"
                << "expires at: " << mskiam::detail::iso8601(token.expires_at) << " (" << expires_ms
                << " ms, lifetime " << decoded.lifetime.count() << " s)\n"
                << "principal:  " << token.principal << "\n"
                << "source:     " << source << "\n";
    } else {
      std::cout << token.value << "\n";
    }
    return exit_ok;
  } catch (const mskiam::Error& e) {
    std::cerr << "mskiam-token: " << e.what() << "\n";
    return exit_failed;
  }
}
