// mskiam-token: prints an MSK IAM authentication token, what is inside one, or a health report.
//
//   mskiam-token --region us-east-1              the token (base64url), for scripts
//   mskiam-token --region us-east-1 --decode     the presigned URL with secrets redacted
//   mskiam-token --region us-east-1 --json       {token, expires_at_ms, principal, source}
//   mskiam-token --region us-east-1 --check      a synthetic check for probes and pipelines
//   mskiam-token --region us-east-1 --check --prometheus   the same for node_exporter's textfile
//                                                collector (Prometheus text format)
//   mskiam-token --bootstrap b-1.name.abc123.c2.kafka.us-east-1.amazonaws.com:9098
//                                                the region read from the brokers' host names
//
// Credentials come from the default chain (environment, profile, web identity, container, IMDS),
// optionally chained into --role-arn with a fixed --session-name.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_probe.hpp"
#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/http.hpp"
#include "mskiam/mskiam.hpp"
#include "mskiam/prometheus.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/default_chain.hpp"
#include "mskiam/sts.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_warning = 3;

// SigV4 services refuse a signature more than 5 minutes off; warn well before that.
constexpr std::chrono::seconds skew_warning{60};
constexpr std::chrono::seconds skew_failure{300};

constexpr const char* usage_text = R"(usage: mskiam-token --region REGION | --bootstrap LIST [options]

Prints an AWS MSK IAM authentication token (SASL/OAUTHBEARER), signed with credentials from the
default chain: environment, profile (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE),
container endpoint (ECS, EKS Pod Identity), EC2 instance metadata.

credentials:
  --profile NAME        use this profile of ~/.aws/config and ~/.aws/credentials
  --role-arn ARN        assume this role with the chain's credentials (AssumeRole)
  --session-name NAME   pin the STS role session name, hence the IAM principal
  --external-id ID      external id for --role-arn
  --sts-endpoint URL    STS endpoint (default: regional, https://sts.REGION.amazonaws.com)
token:
  --region REGION       AWS region of the cluster (default: the region of --bootstrap's MSK
                        host names, then $AWS_REGION, then $AWS_DEFAULT_REGION)
  --bootstrap LIST      the cluster's comma-separated brokers (bootstrap.servers): their MSK
                        host names give the region; with --check, each is checked against
                        --region and MSK's IAM ports (9098 private, 9198 public, 20098 IPv6)
  --lifetime SECONDS    token lifetime, 1..900 (default 900; capped by credential expiry)
  --host HOST           host to sign for (default kafka.REGION.amazonaws.com[.cn])
output:
  --decode              the presigned URL (signature and session token redacted), expiry,
                        principal and source instead of the token
  --json                JSON instead of text (with or without --check)
  --prometheus          with --check: the Prometheus text format (mskiam/prometheus.hpp's
                        metrics and one mskiam_check_problem per warning or failure), for
                        node_exporter's textfile collector; see docs/alerts.md
  --label NAME=VALUE    with --prometheus: a label on every sample (repeatable)
check:
  --check               resolve credentials and sign a token, report the source, principal,
                        expiries and clock offset against STS, and warn about what causes
                        outages: an unpinned session name, credentials expiring within a token
                        lifetime, a region or port that does not fit the brokers, clock skew
  --whoami              ask STS GetCallerIdentity for the principal
  --broker HOST:PORT    also authenticate with the token at this broker (SASL/OAUTHBEARER)
  --plaintext           talk to --broker without TLS (test brokers)
  -h, --help            this text

exit codes: 0 ok; 1 failed (no token, or the check found a failure); 2 usage;
            3 the check passed with warnings
)";

struct Args {
  std::string region, host, profile, role_arn, session_name, external_id, sts_endpoint;
  std::optional<long> lifetime;
  bool decode = false, json = false, check = false, whoami = false, plaintext = false;
  bool prometheus = false;
  mskiam::MetricLabels labels;
  std::string bootstrap, broker;
  std::vector<mskiam::BootstrapBroker> brokers;  // --bootstrap, parsed
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::int64_t ms_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int usage_error(const std::string& message) {
  std::cerr << "mskiam-token: " << message << "\n(try --help)\n";
  return exit_usage;
}

mskiam::StsOptions sts_options(const Args& args) {
  mskiam::StsOptions sts;
  sts.endpoint = args.sts_endpoint;
  return sts;
}

mskiam::SessionName session_name(const Args& args) {
  return args.session_name.empty() ? mskiam::SessionName{}
                                   : mskiam::SessionName::fixed(args.session_name);
}

// The credential source the options describe: the default chain, or a role assumed with it.
mskiam::AnySource make_source(const Args& args) {
  mskiam::DefaultChain::Options chain;
  chain.session_name = session_name(args);
  chain.sts = sts_options(args);
  chain.profile = args.profile;
  if (args.role_arn.empty()) return mskiam::DefaultChain(chain);
  mskiam::AssumeRole<mskiam::DefaultChain>::Options role;
  role.role_arn = args.role_arn;
  role.session_name = session_name(args);
  role.external_id = args.external_id;
  role.sts = sts_options(args);
  return mskiam::AssumeRole<mskiam::DefaultChain>(mskiam::DefaultChain(chain), role);
}

// The session name at the end of an assumed-role ARN, if it is one.
std::string session_of(const std::string& principal) {
  if (principal.find(":assumed-role/") == std::string::npos) return {};
  return principal.substr(principal.rfind('/') + 1);
}

// What --check says of --bootstrap's brokers: an MSK broker of another region than the tokens'
// (hosts that are not MSK brokers, test brokers, name none), a port that is no IAM listener's.
std::vector<std::string> bootstrap_warnings(const Args& args, const std::string& region) {
  std::vector<std::string> warnings;
  for (const mskiam::BootstrapBroker& b : args.brokers) {
    const auto in = mskiam::msk_broker_region(b.host);
    if (in && *in != region)
      warnings.push_back("region_mismatch: broker " + b.text + " is in " + *in +
                         " but tokens are signed for " + region);
    if (!b.port || !mskiam::is_msk_iam_port(*b.port))
      warnings.push_back("port_not_iam: broker " + b.text +
                         (b.port ? " uses port " + std::to_string(*b.port)
                                 : std::string(" has no port (librdkafka then uses 9092)")) +
                         "; MSK's IAM listeners are 9098 (private), 9198 (public) and 20098 "
                         "(IPv6)");
  }
  return warnings;
}

// RFC 7231 IMF-fixdate, as in the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& s) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 29) return std::nullopt;
  const std::string mon = s.substr(8, 3);
  int m = 0;
  while (m < 12 && mon != months[m]) ++m;
  if (m == 12) return std::nullopt;
  char iso[32];
  std::snprintf(iso, sizeof iso, "%s-%02d-%sT%sZ", s.substr(12, 4).c_str(), m + 1,
                s.substr(5, 2).c_str(), s.substr(17, 8).c_str());
  return mskiam::detail::parse_iso8601(iso);
}

struct Check {
  std::vector<std::string> warnings;
  std::vector<std::string> failures;
  std::string source, principal, principal_from;
  std::optional<std::chrono::system_clock::time_point> credential_expiration, token_expiration;
  std::optional<double> clock_offset_s;
  std::optional<probe::Result> broker;
  std::string broker_error;
  std::optional<mskiam::ProviderMetrics> metrics;  // of the provider that signed the token

  const char* status() const {
    return !failures.empty() ? "failed" : !warnings.empty() ? "warning" : "ok";
  }
  int exit_code() const {
    return !failures.empty() ? exit_failed : !warnings.empty() ? exit_warning : exit_ok;
  }
};

Check run_check(const Args& args, const mskiam::TokenOptions& options) {
  Check c;
  const auto now = std::chrono::system_clock::now();
  std::optional<mskiam::TokenProvider<mskiam::AnySource>> provider;
  try {
    provider.emplace(make_source(args), options);
    const mskiam::AuthToken token = provider->token();
    const mskiam::Credentials creds = provider->credentials();
    c.source = creds.source;
    c.principal = creds.principal;
    c.principal_from = creds.principal.empty() ? "" : "credentials";
    c.credential_expiration = creds.expiration;
    c.token_expiration = token.expires_at;

    if (args.whoami) {
      try {
        mskiam::StsOptions sts = sts_options(args);
        c.principal = mskiam::StsClient(sts).get_caller_identity(creds);
        c.principal_from = "GetCallerIdentity";
      } catch (const mskiam::Error& e) {
        c.warnings.push_back(std::string("whoami: ") + e.what());
      }
    }

    // A second, independent fetch shows a source that names each session anew.
    const std::string session = session_of(c.principal);
    if (args.role_arn.empty() && c.source == "container")
      c.warnings.push_back(
          "session_name_unpinned: container credentials (ECS, EKS Pod Identity) carry a session "
          "name chosen by the server, new at each renewal; every renewal changes the principal "
          "and MSK refuses re-authentication. Chain a role with a fixed name: --role-arn ARN "
          "--session-name NAME (AssumeRole<ContainerCredentials> in code)");
    else if (args.session_name.empty() && !session.empty() &&
             session.rfind(std::string(mskiam::default_session_prefix), 0) == 0 &&
             !mskiam::detail::getenv_nonempty(mskiam::role_session_name_env))
      c.warnings.push_back(
          "session_name_default: the session name is the host-derived default \"" + session +
          "\": stable for this process, but not pinned by the application; set it in code "
          "(SessionName::fixed) or AWS_ROLE_SESSION_NAME");
    if (!c.principal.empty() && c.principal_from == "credentials") {
      try {
        mskiam::AnySource again = make_source(args);
        const std::string second = again.fetch().principal;
        if (!second.empty() && second != c.principal)
          c.warnings.push_back("principal_unstable: a second fetch returned principal " + second +
                               " instead of " + c.principal +
                               ": the next credential refresh changes the principal");
      } catch (const mskiam::Error&) {
      }
    }

    if (creds.expiration && *creds.expiration - now < options.lifetime)
      c.warnings.push_back("credentials_expiring: the credentials expire at " +
                           mskiam::detail::iso8601(*creds.expiration) +
                           ", within one token lifetime; sessions will be cut short");

    try {  // Clock offset: the Date header of any STS answer.
      mskiam::HttpRequest request;
      request.source = "sts";
      request.url = args.sts_endpoint.empty()
                        ? mskiam::sts_endpoint(mskiam::resolve_sts_region({}), false)
                        : args.sts_endpoint;
      request.timeout = std::chrono::seconds(5);
      const auto before = std::chrono::system_clock::now();
      const mskiam::HttpResponse response = mskiam::curl_transport(request);
      const auto after = std::chrono::system_clock::now();
      if (const auto date = response.header("date")) {
        if (const auto server = parse_http_date(*date)) {
          const auto local = before + (after - before) / 2;
          c.clock_offset_s = std::chrono::duration<double>(local - *server).count();
          const auto skew = std::chrono::duration<double>(std::abs(*c.clock_offset_s));
          if (skew > skew_failure)
            c.failures.push_back("clock_skew: this clock is " + std::to_string(*c.clock_offset_s) +
                                 " s off STS; MSK refuses tokens signed more than 5 minutes off");
          else if (skew > skew_warning)
            c.warnings.push_back("clock_skew: this clock is " + std::to_string(*c.clock_offset_s) +
                                 " s off STS; tokens are refused beyond 5 minutes");
        }
      }
    } catch (const mskiam::Error& e) {
      c.warnings.push_back(std::string("clock_unchecked: ") + e.what());
    }

    for (std::string& w : bootstrap_warnings(args, options.region)) c.warnings.push_back(std::move(w));

    if (!args.broker.empty()) {
      try {
        c.broker = probe::authenticate(args.broker, token.value, !args.plaintext);
        if (!c.broker->authenticated)
          c.failures.push_back("broker_refused: " + args.broker + " refused the token: " +
                               c.broker->error_message);
      } catch (const std::exception& e) {
        c.broker_error = e.what();
        c.failures.push_back("broker_unreachable: " + args.broker + ": " + e.what());
      }
    }
  } catch (const mskiam::Error& e) {
    c.failures.push_back(std::string("no_token: ") + e.what());
  }
  if (provider) c.metrics = provider->metrics();
  return c;
}

// The part of a check result before its colon: `clock_skew`, `no_token`...
std::string kind_of(const std::string& problem) { return problem.substr(0, problem.find(':')); }

// The labels of one mskiam_check_problem sample.
mskiam::MetricLabels problem_labels(const Args& args, const std::string& kind, const char* severity) {
  mskiam::MetricLabels labels = args.labels;
  labels.emplace_back("kind", kind);
  labels.emplace_back("severity", severity);
  return labels;
}

// The provider's metrics with the check's principal and clock offset, then one sample per problem.
// Throws mskiam::Error for labels the format refuses.
std::string check_prometheus(const Check& c, const Args& args, const mskiam::TokenOptions& options) {
  mskiam::PrometheusEntry entry;
  entry.metrics = c.metrics.value_or(mskiam::ProviderMetrics{});
  if (!c.principal.empty()) entry.metrics.principal = c.principal;  // GetCallerIdentity's, if asked
  entry.labels = args.labels;
  entry.token_lifetime = options.lifetime;
  entry.clock_offset_seconds = c.clock_offset_s;
  std::string text;
  mskiam::write_prometheus(text, {entry}, std::chrono::system_clock::now());
  std::string problems;
  for (const char* severity : {"warning", "failure"}) {
    for (const auto& problem : std::string(severity) == "warning" ? c.warnings : c.failures) {
      problems += "mskiam_check_problem" +
                  mskiam::prometheus_labels(problem_labels(args, kind_of(problem), severity)) +
                  " 1\n";
    }
  }
  if (!problems.empty())
    text += "# HELP mskiam_check_problem A warning or failure of mskiam-token --check, by kind.\n"
            "# TYPE mskiam_check_problem gauge\n" +
            problems;
  return text;
}

void print_check(const Check& c, bool json) {
  auto time_or_null = [](const auto& t) {
    return t ? std::to_string(ms_of(*t)) : std::string("null");
  };
  if (json) {
    std::cout << "{\"status\":" << json_string(c.status()) << ",\"source\":" << json_string(c.source)
              << ",\"principal\":" << json_string(c.principal)
              << ",\"principal_from\":" << json_string(c.principal_from)
              << ",\"credential_expires_at_ms\":" << time_or_null(c.credential_expiration)
              << ",\"token_expires_at_ms\":" << time_or_null(c.token_expiration)
              << ",\"clock_offset_s\":"
              << (c.clock_offset_s ? std::to_string(*c.clock_offset_s) : std::string("null"));
    if (c.broker)
      std::cout << ",\"broker\":{\"authenticated\":" << (c.broker->authenticated ? "true" : "false")
                << ",\"error\":" << json_string(c.broker->error_message)
                << ",\"session_lifetime_ms\":" << c.broker->session_lifetime_ms << "}";
    for (const char* key : {"warnings", "failures"}) {
      const auto& list = std::string(key) == "warnings" ? c.warnings : c.failures;
      std::cout << ",\"" << key << "\":[";
      for (std::size_t i = 0; i < list.size(); ++i) std::cout << (i ? "," : "") << json_string(list[i]);
      std::cout << "]";
    }
    std::cout << "}\n";
    return;
  }
  std::cout << "status:      " << c.status() << "\n"
            << "source:      " << (c.source.empty() ? "-" : c.source) << "\n"
            << "principal:   " << (c.principal.empty() ? "unknown (use --whoami)" : c.principal)
            << (c.principal_from.empty() ? "" : " (from " + c.principal_from + ")") << "\n"
            << "credentials: "
            << (c.credential_expiration ? "expire " + mskiam::detail::iso8601(*c.credential_expiration)
                                        : std::string("do not expire"))
            << "\n";
  if (c.token_expiration) std::cout << "token:       expires " << mskiam::detail::iso8601(*c.token_expiration) << "\n";
  if (c.clock_offset_s) std::cout << "clock:       " << *c.clock_offset_s << " s off STS\n";
  if (c.broker)
    std::cout << "broker:      "
              << (c.broker->authenticated ? "authenticated, session " +
                                                std::to_string(c.broker->session_lifetime_ms) + " ms"
                                          : "refused: " + c.broker->error_message)
              << "\n";
  for (const auto& w : c.warnings) std::cout << "WARNING " << w << "\n";
  for (const auto& f : c.failures) std::cout << "FAILED  " << f << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  struct Flag {
    const char* name;
    std::string* value;
  };
  const Flag flags[] = {{"--region", &args.region},           {"--host", &args.host},
                        {"--profile", &args.profile},         {"--role-arn", &args.role_arn},
                        {"--session-name", &args.session_name}, {"--external-id", &args.external_id},
                        {"--sts-endpoint", &args.sts_endpoint}, {"--bootstrap", &args.bootstrap},
                        {"--broker", &args.broker}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << usage_text;
      return exit_ok;
    }
    const auto flag = std::find_if(std::begin(flags), std::end(flags),
                                   [&](const Flag& f) { return arg == f.name; });
    if (flag != std::end(flags)) {
      if (i + 1 >= argc) return usage_error(std::string(arg) + " needs a value");
      *flag->value = argv[++i];
    } else if (arg == "--lifetime") {
      if (i + 1 >= argc) return usage_error("--lifetime needs a value");
      const std::string v = argv[++i];
      char* end = nullptr;
      const long seconds = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0') return usage_error("--lifetime takes whole seconds");
      args.lifetime = seconds;
    } else if (arg == "--decode") {
      args.decode = true;
    } else if (arg == "--json") {
      args.json = true;
    } else if (arg == "--prometheus") {
      args.prometheus = true;
    } else if (arg == "--label") {
      if (i + 1 >= argc) return usage_error("--label needs NAME=VALUE");
      const std::string label = argv[++i];
      const std::size_t eq = label.find('=');
      if (eq == std::string::npos) return usage_error("--label takes NAME=VALUE");
      args.labels.emplace_back(label.substr(0, eq), label.substr(eq + 1));
    } else if (arg == "--check") {
      args.check = true;
    } else if (arg == "--whoami") {
      args.whoami = true;
    } else if (arg == "--plaintext") {
      args.plaintext = true;
    } else {
      return usage_error("unknown argument " + std::string(arg));
    }
  }
  try {  // --region, else the brokers', else the environment's, as the SDKs read it; a region
         // that cannot exist is refused before any source is asked
    std::string origin = "--region";
    if (!args.bootstrap.empty()) args.brokers = mskiam::parse_bootstrap(args.bootstrap, "--bootstrap");
    if (args.region.empty() && !args.brokers.empty()) {
      args.region = mskiam::region_from_bootstrap(args.bootstrap, "--bootstrap");
      origin = "--bootstrap";
    }
    if (args.region.empty()) {
      auto setting = mskiam::region_from_environment("mskiam-token");
      if (!setting) return usage_error("--region is required (or --bootstrap, or set AWS_REGION)");
      args.region = std::move(setting->region);
      origin = std::move(setting->origin);
    }
    mskiam::validate_region(args.region, "mskiam-token", origin);
  } catch (const mskiam::Error& e) {
    return usage_error(e.what());
  }
  if (args.decode && (args.json || args.check)) return usage_error("--decode goes alone");
  if ((args.whoami || !args.broker.empty()) && !args.check)
    return usage_error("--whoami and --broker go with --check");
  if (args.prometheus && (!args.check || args.json))
    return usage_error("--prometheus goes with --check, without --json");
  if (!args.labels.empty() && !args.prometheus) return usage_error("--label goes with --prometheus");
  try {  // the labels, checked before anything is asked of a source
    std::string ignored;
    mskiam::write_prometheus(ignored, {mskiam::PrometheusEntry{{}, args.labels, {}, {}}}, {});
    mskiam::prometheus_labels(problem_labels(args, "kind", "warning"));
  } catch (const mskiam::Error& e) {
    return usage_error(e.what());
  }

  mskiam::TokenOptions options;
  options.region = args.region;
  options.host = args.host;
  if (args.lifetime) options.lifetime = std::chrono::seconds(*args.lifetime);

  if (args.check) {
    const Check c = run_check(args, options);
    if (args.prometheus)
      std::cout << check_prometheus(c, args, options);
    else
      print_check(c, args.json);
    return c.exit_code();
  }
  try {
    mskiam::TokenProvider<mskiam::AnySource> provider{make_source(args), options};
    const mskiam::AuthToken token = provider.token();
    const std::string source = provider.credentials().source;
    const auto expires_ms = ms_of(token.expires_at);
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
