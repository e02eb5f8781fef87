// An STS answer of arbitrary content, as a 200 and as a 400, through StsClient::assume_role
// (error document detection, XML element extraction, credentials parsing): either Credentials
// or an mskiam::Error, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mskiam/sts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  mskiam::Credentials base;
  base.access_key_id = "AKIDFUZZ";
  base.secret_access_key = "fuzz-secret";
  mskiam::AssumeRoleRequest request;
  request.role_arn = "arn:aws:iam::123456789012:role/Fuzz";
  request.session_name = "fuzz";
  for (long status : {200L, 400L}) {
    mskiam::StsOptions options;
    options.region = "us-east-1";
    options.retry.max_attempts = 1;
    options.transport = [&body, status](const mskiam::HttpRequest&) {
      mskiam::HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    };
    try {
      mskiam::StsClient sts(options);
      (void)sts.assume_role(base, request);
    } catch (const mskiam::Error&) {
    }
  }
  return 0;
}
