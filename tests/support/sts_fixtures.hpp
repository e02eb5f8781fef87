// Test helpers for the STS client and the sources that call it: a scripted HttpTransport that
// records every request, the sample response bodies of credentials.md §6, and form/header
// readers. Shared by sts_test.cpp, web_identity_test.cpp and assume_role_test.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mskiam/detail/encoding.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"
#include "mskiam/sts.hpp"

namespace mskiam_test {

// The value of `name` in a form-encoded body, decoded; "" when absent.
inline std::string form_value(const std::string& body, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.compare(0, eq, name) == 0 && eq == name.size())
      return mskiam::detail::uri_decode(pair.substr(eq + 1)).value_or("<bad escape>");
    pos = end + 1;
  }
  return "";
}

inline bool form_has(const std::string& body, const std::string& name) {
  return ("&" + body).find("&" + name + "=") != std::string::npos;
}

// A request header by case-insensitive name; "" when absent.
inline std::string header_value(const mskiam::HttpRequest& r, std::string name) {
  auto lower = [](std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  name = lower(name);
  for (const auto& [n, v] : r.headers)
    if (lower(n) == name) return v;
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One scripted answer: a response, or an Error the transport throws (timeout, transport...).
struct Answer {
  long status = 200;
  std::string body;
  std::optional<mskiam::ErrorKind> throw_kind;

  static Answer ok(std::string body) { return Answer{200, std::move(body), std::nullopt}; }
  static Answer status_only(long status, std::string body = {}) { return Answer{status, std::move(body), std::nullopt}; }
  static Answer fail(mskiam::ErrorKind kind) { return Answer{0, {}, kind}; }
};

// Answers from a queue (the last answer repeats once the queue is down to it) and records
// every request. Copies share the queue and the record, so the transport given to StsOptions
// and the one the test inspects are the same.
class ScriptedTransport {
 public:
  explicit ScriptedTransport(std::vector<Answer> answers = {})
      : state_(std::make_shared<State>()) {
    for (auto& a : answers) state_->answers.push_back(std::move(a));
  }

  void push(Answer a) { state_->answers.push_back(std::move(a)); }
  void set(std::vector<Answer> answers) {
    state_->answers.clear();
    for (auto& a : answers) state_->answers.push_back(std::move(a));
  }

  const std::vector<mskiam::HttpRequest>& requests() const { return state_->requests; }
  std::size_t calls() const { return state_->requests.size(); }
  const mskiam::HttpRequest& last() const { return state_->requests.back(); }

  mskiam::HttpTransport transport() const {
    auto state = state_;
    return [state](const mskiam::HttpRequest& r) {
      state->requests.push_back(r);
      if (state->answers.empty())
        throw mskiam::Error(mskiam::ErrorKind::internal, r.source, "ScriptedTransport: no answer left");
      Answer a = state->answers.front();
      if (state->answers.size() > 1) state->answers.pop_front();
      if (a.throw_kind) throw mskiam::Error(*a.throw_kind, r.source, r.method + " " + r.url + " failed (scripted)");
      mskiam::HttpResponse response;
      response.status = a.status;
      response.body = a.body;
      return response;
    };
  }

  // StsOptions pointing at this transport: region us-east-1, fast retries.
  mskiam::StsOptions options(int max_attempts = 3) const {
    mskiam::StsOptions o;
    o.region = "us-east-1";
    o.transport = transport();
    o.retry.max_attempts = max_attempts;
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(2);
    return o;
  }

 private:
  struct State {
    std::deque<Answer> answers;
    std::vector<mskiam::HttpRequest> requests;
  };
  std::shared_ptr<State> state_;
};

inline const std::string sample_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
inline const std::string sample_token_wrapped =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
    "LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd"
    "QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU"
    "9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
    "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

// credentials.md §6.1 (API_AssumeRole example), token wrapped over indented lines.
inline const std::string assume_role_sample = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
  <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>
       AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW
       LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd
       QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU
       9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz
       +scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==
      </SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>)";

// credentials.md §6.2 (API_AssumeRoleWithWebIdentity example): Credentials children reordered.
inline const std::string web_identity_sample = R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2014-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>www.amazon.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";

// credentials.md §6.3, assumed-role caller.
inline const std::string caller_identity_sample = R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name</Arn>
    <UserId>ARO123EXAMPLE123:my-role-session-name</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>)";

// A one-line answer like real STS, for `action` (AssumeRole / AssumeRoleWithWebIdentity), whose
// principal ends with `session_name`.
inline std::string sts_answer(const std::string& action, const std::string& role, const std::string& session_name,
                              const std::string& access_key_id = "ASIAFAKEEXAMPLE0001",
                              const std::string& expiration = "2030-01-01T00:00:00Z") {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/" + role + "/" + session_name +
         "</Arn><AssumedRoleId>AROAFAKE:" + session_name + "</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>" +
         access_key_id + "</AccessKeyId><SecretAccessKey>issued-secret-" + role +
         "</SecretAccessKey><SessionToken>issued-token-" + role + "</SessionToken><Expiration>" + expiration +
         "</Expiration></Credentials></" + action + "Result><ResponseMetadata><RequestId>req-1</RequestId>"
         "</ResponseMetadata></" + action + "Response>";
}

// ErrorResponse in each shape STS and its proxies use (credentials.md §6.4).
enum class ErrorShape { error_response, no_namespace, root_error, response_errors };

inline std::string sts_error(const std::string& code, const std::string& message,
                             ErrorShape shape = ErrorShape::error_response) {
  const std::string inner = "<Type>Sender</Type><Code>" + code + "</Code><Message>" + message + "</Message>";
  switch (shape) {
    case ErrorShape::error_response:
      return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    " + inner +
             "\n  </Error>\n  <RequestId>req-err-1</RequestId>\n</ErrorResponse>\n";
    case ErrorShape::no_namespace:
      return "<ErrorResponse><Error>" + inner + "</Error><RequestId>req-err-1</RequestId></ErrorResponse>";
    case ErrorShape::root_error:
      return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
             "</Message><Resource>/</Resource><RequestId>req-err-1</RequestId></Error>";
    case ErrorShape::response_errors:
      return "<Response><Errors><Error>" + inner + "</Error></Errors><RequestID>req-err-1</RequestID></Response>";
  }
  return "";
}

}  // namespace mskiam_test
