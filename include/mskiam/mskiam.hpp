// Everything of mskiam except the librdkafka adapter (mskiam/rdkafka.hpp). Including single
// headers is cheaper: mskiam/token.hpp and mskiam/provider.hpp need neither curl nor a source.
#pragma once

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/events.hpp"
#include "mskiam/http.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/sigv4.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/container.hpp"
#include "mskiam/sources/default_chain.hpp"
#include "mskiam/sources/environment.hpp"
#include "mskiam/sources/imds.hpp"
#include "mskiam/sources/process.hpp"
#include "mskiam/sources/profile.hpp"
#include "mskiam/sources/static.hpp"
#include "mskiam/sources/web_identity.hpp"
#include "mskiam/sts.hpp"
#include "mskiam/token.hpp"
#include "mskiam/version.hpp"
