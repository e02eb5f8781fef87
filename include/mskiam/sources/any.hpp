// AnySource: any credential source behind one type, for choices made at run time (a profile
// whose `source_profile` names another kind of profile, a chain of different sources). Templates
// are the first choice (`AssumeRole<ContainerCredentials>`); this is for when the type is not
// known at compile time.
#pragma once

#include <memory>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE

class AnySource {
 public:
  template <class Source, class = std::enable_if_t<is_credential_source_v<Source> &&
                                                   !std::is_same_v<std::decay_t<Source>, AnySource>>>
  AnySource(Source source)  // NOLINT: implicit, like std::function
      : self_(std::make_shared<Model<Source>>(std::move(source))) {}

  Credentials fetch() { return self_->fetch(); }
  std::string_view name() const { return self_->name(); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Credentials fetch() = 0;
    virtual std::string_view name() const = 0;
  };
  template <class Source>
  struct Model final : Concept {
    explicit Model(Source s) : source(std::move(s)) {}
    Credentials fetch() override { return source.fetch(); }
    std::string_view name() const override {
      if constexpr (detail::has_source_name<Source>::value)
        return source.name();
      else
        return detail::unnamed_source;
    }
    Source source;
  };
  std::shared_ptr<Concept> self_;
};

MSKIAM_END_NAMESPACE
