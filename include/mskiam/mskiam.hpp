// Everything of mskiam except the librdkafka adapter (mskiam/rdkafka.hpp).
#pragma once

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/events.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/sigv4.hpp"
#include "mskiam/sources/environment.hpp"
#include "mskiam/sources/static.hpp"
#include "mskiam/token.hpp"
#include "mskiam/version.hpp"
