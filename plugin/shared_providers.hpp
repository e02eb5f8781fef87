// One token provider per distinct settings per process: clients created with the same
// sasl.oauthbearer.config and the same environment share it, so that N clients cost one
// credential fetch (one STS call) per refresh instead of N, and a fleet of processes with
// many clients each stays clear of STS throttling. It is freed with the last client using it.
//
// The environment counts because the sources read it (AWS_* variables, HOME for ~/.aws): a
// client created after the application changed them gets a provider of its own. The key
// keeps only a SHA-256 digest of those variables, never their values (secrets among them).
//
// Events of a shared provider are printed once, labelled with the client.id of every client
// sharing it that asked for that severity (debug, log_level: see rdkafka_plugin.cpp).
//
// Plugin-private: only plugin/rdkafka_plugin.cpp includes it.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/crypto.hpp"
#include "mskiam/events.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/sources/any.hpp"

extern "C" char** environ;

namespace mskiam_plugin {

using Provider = mskiam::TokenProvider<mskiam::AnySource>;

// The clients of one provider, as far as its events are concerned.
class Audience {
 public:
  struct Member {
    std::string client_id;
    int max_level;  // librdkafka's syslog levels: events up to this severity are printed
  };
  using Handle = std::list<Member>::iterator;

  Handle join(Member member) {
    std::lock_guard<std::mutex> lock(mutex_);
    return members_.insert(members_.end(), std::move(member));
  }
  void leave(Handle handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    members_.erase(handle);
  }
  // The distinct client.ids of the members that print an event of `level`, joined by ','.
  std::string wanting(int level) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string_view> ids;
    for (const Member& m : members_)
      if (level <= m.max_level && std::find(ids.begin(), ids.end(), m.client_id) == ids.end())
        ids.push_back(m.client_id);
    std::string out;
    for (std::string_view id : ids) out.append(out.empty() ? "" : ",").append(id);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::list<Member> members_;
};

// A provider and the clients listening to it.
struct SharedProvider {
  std::shared_ptr<Audience> audience = std::make_shared<Audience>();
  std::unique_ptr<Provider> provider;  // its on_event tells `audience`
};

// What a client holds: its share of the provider, and its seat in the audience.
class ProviderShare {
 public:
  ProviderShare(std::shared_ptr<SharedProvider> shared, Audience::Member member)
      : shared_(std::move(shared)), seat_(shared_->audience->join(std::move(member))) {}
  ~ProviderShare() { shared_->audience->leave(seat_); }
  ProviderShare(const ProviderShare&) = delete;
  ProviderShare& operator=(const ProviderShare&) = delete;

  Provider& provider() const { return *shared_->provider; }

 private:
  std::shared_ptr<SharedProvider> shared_;
  Audience::Handle seat_;
};

// The settings' text and a digest of the environment the sources read.
inline std::string sharing_key(std::string_view settings) {
  std::vector<std::string_view> read;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    if (entry.compare(0, 4, "AWS_") == 0 || entry.compare(0, 5, "HOME=") == 0)
      read.push_back(entry);
  }
  std::sort(read.begin(), read.end());
  std::string joined;
  for (std::string_view entry : read) joined.append(entry).push_back('\0');
  const auto digest = mskiam::detail::sha256(joined);
  mskiam::detail::cleanse(joined);
  return std::string(settings) + '\n' + mskiam::detail::hex(digest);
}

// The provider for `key`, made by `make(audience)` if no live client shares one.
// Never destroyed: clients may refresh on librdkafka's threads after static destructors.
inline std::shared_ptr<SharedProvider> shared_provider(
    const std::string& key,
    const std::function<std::unique_ptr<Provider>(std::shared_ptr<Audience>)>& make) {
  static auto* mutex = new std::mutex;
  static auto* providers = new std::unordered_map<std::string, std::weak_ptr<SharedProvider>>;
  std::lock_guard<std::mutex> lock(*mutex);
  for (auto it = providers->begin(); it != providers->end();)
    it = it->second.expired() ? providers->erase(it) : std::next(it);
  if (auto it = providers->find(key); it != providers->end())
    if (auto live = it->second.lock()) return live;  // else its last client is going: a new one
  auto shared = std::make_shared<SharedProvider>();
  shared->provider = make(shared->audience);  // may throw: nothing is registered then
  (*providers)[key] = shared;
  return shared;
}

}  // namespace mskiam_plugin
