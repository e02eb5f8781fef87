// error_of(f): the mskiam::Error that f throws, for tests that check what an error says (its kind,
// its source, that it names the cause and carries no secret). When f throws nothing, error_of
// throws a std::runtime_error that says so, and the test fails with that message.
#pragma once

#include <stdexcept>
#include <utility>

#include "mskiam/error.hpp"

namespace mskiam_test {

template <class F>
mskiam::Error error_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const mskiam::Error& e) {
    return e;
  }
  throw std::runtime_error("expected an mskiam::Error, none was thrown");
}

}  // namespace mskiam_test
