// A minimal Kafka client for one question: does this broker accept this token? Connects (TLS by
// default, as MSK IAM listens on 9098 with TLS), sends SaslHandshake v1 for OAUTHBEARER and
// SaslAuthenticate v1 with the token, and reports the broker's answer. Used by
// `mskiam-token --check --broker HOST:PORT`; not part of the library.
#pragma once

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace probe {

constexpr std::int16_t sasl_handshake_key = 17;
constexpr std::int16_t sasl_authenticate_key = 36;
constexpr const char* client_id = "mskiam-token";
constexpr std::int32_t max_response = 1 << 20;

struct Result {
  bool authenticated = false;
  std::int16_t error_code = 0;
  std::string error_message;      // the broker's text when it refused
  std::int64_t session_lifetime_ms = 0;
};

class Connection {
 public:
  Connection(const std::string& host, const std::string& port, bool tls,
             std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr)
      throw std::runtime_error("cannot resolve " + host);
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ < 0) continue;
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect() on Linux
      if (connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      close(fd_);
      fd_ = -1;
    }
    if (fd_ < 0) throw std::runtime_error("cannot connect to " + host + ":" + port);
    if (tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_default_verify_paths(ctx_);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      ssl_ = SSL_new(ctx_);
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      SSL_set1_host(ssl_, host.c_str());
      SSL_set_fd(ssl_, fd_);
      if (SSL_connect(ssl_) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        throw std::runtime_error("TLS handshake with " + host + " failed: " + buf);
      }
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }

  // Sends one request and returns the response body after its correlation id.
  std::string call(std::int16_t api_key, std::int16_t version, const std::string& body) {
    std::string frame;
    put16(frame, api_key);
    put16(frame, version);
    put32(frame, ++correlation_);
    put_string(frame, client_id);
    frame += body;
    std::string sized;
    put32(sized, static_cast<std::int32_t>(frame.size()));
    write_all(sized + frame);
    const std::string size_bytes = read_exact(4);
    const std::int32_t size = get32(size_bytes, 0);
    if (size < 4 || size > max_response) throw std::runtime_error("broker sent a malformed frame");
    const std::string response = read_exact(static_cast<std::size_t>(size));
    if (get32(response, 0) != correlation_) throw std::runtime_error("correlation id mismatch");
    return response.substr(4);
  }

  static void put16(std::string& out, std::int16_t v) {
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
  }
  static void put32(std::string& out, std::int32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
  }
  static void put_string(std::string& out, const std::string& s) {
    put16(out, static_cast<std::int16_t>(s.size()));
    out += s;
  }
  static std::int16_t get16(const std::string& in, std::size_t at) {
    need(in, at, 2);
    return static_cast<std::int16_t>((static_cast<unsigned char>(in[at]) << 8) |
                                     static_cast<unsigned char>(in[at + 1]));
  }
  static std::int32_t get32(const std::string& in, std::size_t at) {
    need(in, at, 4);
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    return static_cast<std::int32_t>(v);
  }
  static std::int64_t get64(const std::string& in, std::size_t at) {
    need(in, at, 8);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    return static_cast<std::int64_t>(v);
  }
  static void need(const std::string& in, std::size_t at, std::size_t n) {
    if (at + n > in.size()) throw std::runtime_error("broker sent a truncated response");
  }

 private:
  void write_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const long n = ssl_ ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                          : ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("broker closed the connection while sending");
      done += static_cast<std::size_t>(n);
    }
  }
  std::string read_exact(std::size_t size) {
    std::string out(size, '\0');
    std::size_t done = 0;
    while (done < size) {
      const long n = ssl_ ? SSL_read(ssl_, &out[done], static_cast<int>(size - done))
                          : ::recv(fd_, &out[done], size - done, 0);
      if (n <= 0) throw std::runtime_error("broker closed the connection or did not answer in time");
      done += static_cast<std::size_t>(n);
    }
    return out;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::int32_t correlation_ = 0;
};

// Authenticates `token` with SASL/OAUTHBEARER at host:port. Throws std::runtime_error for
// network and protocol failures; a refusal by the broker is a Result, not an exception.
inline Result authenticate(const std::string& host_port, const std::string& token, bool tls,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size())
    throw std::runtime_error("--broker takes HOST:PORT");
  Connection c(host_port.substr(0, colon), host_port.substr(colon + 1), tls, timeout);

  std::string handshake;
  Connection::put_string(handshake, "OAUTHBEARER");
  const std::string hs = c.call(sasl_handshake_key, 1, handshake);
  Result r;
  r.error_code = Connection::get16(hs, 0);
  if (r.error_code != 0) {
    r.error_message = "SaslHandshake refused OAUTHBEARER (error " + std::to_string(r.error_code) + ")";
    return r;
  }

  const std::string client_first = "n,,\x01" "auth=Bearer " + token + "\x01\x01";
  std::string auth;
  Connection::put32(auth, static_cast<std::int32_t>(client_first.size()));
  auth += client_first;
  const std::string resp = c.call(sasl_authenticate_key, 1, auth);
  r.error_code = Connection::get16(resp, 0);
  std::size_t at = 2;
  const std::int16_t message_size = Connection::get16(resp, at);
  at += 2;
  if (message_size > 0) {
    Connection::need(resp, at, static_cast<std::size_t>(message_size));
    r.error_message = resp.substr(at, static_cast<std::size_t>(message_size));
    at += static_cast<std::size_t>(message_size);
  }
  const std::int32_t bytes_size = Connection::get32(resp, at);
  at += 4 + static_cast<std::size_t>(bytes_size > 0 ? bytes_size : 0);
  if (r.error_code == 0) r.session_lifetime_ms = Connection::get64(resp, at);
  r.authenticated = r.error_code == 0;
  return r;
}

}  // namespace probe
