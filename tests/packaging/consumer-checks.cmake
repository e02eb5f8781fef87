# Included by the add_subdirectory and FetchContent consumers after mskiam is added: a subproject
# gets mskiam's header-only targets and nothing else (no tests, no examples, no Catch2, no
# compiled plugin), and the targets it gets match what was asked for.
foreach(_unwanted mskiam-unit-tests mskiam-header-hygiene mskiam-random-tokens mskiam-token
                  mskiam_rdkafka_plugin)
  if(TARGET ${_unwanted})
    message(FATAL_ERROR "mskiam as a subproject defined its target ${_unwanted}")
  endif()
endforeach()
if(MSKIAM_BUILD_TESTS OR MSKIAM_BUILD_EXAMPLES OR MSKIAM_BUILD_PLUGIN)
  message(FATAL_ERROR "mskiam as a subproject turned on MSKIAM_BUILD_TESTS, _EXAMPLES or _PLUGIN")
endif()
if(NOT TARGET mskiam::mskiam)
  message(FATAL_ERROR "mskiam::mskiam is missing")
endif()
if(MSKIAM_TEST_RDKAFKA AND NOT TARGET mskiam::rdkafka)
  message(FATAL_ERROR "mskiam::rdkafka is missing (MSKIAM_RDKAFKA=${MSKIAM_RDKAFKA})")
endif()
get_target_property(_mskiam_links mskiam::mskiam INTERFACE_LINK_LIBRARIES)
if(DEFINED MSKIAM_CURL AND NOT MSKIAM_CURL AND "CURL::libcurl" IN_LIST _mskiam_links)
  message(FATAL_ERROR "MSKIAM_CURL=OFF but mskiam::mskiam links CURL::libcurl")
endif()
