# hygiene.compiled_mode_includes: in the compiled mode (MSKIAM_COMPILED_LIB), the umbrella header
# and the librdkafka adapter reach none of what only the definitions need: OpenSSL, libcurl, the
# POSIX process and socket headers, <thread>, and mskiam's parsers. This is what keeps a
# translation unit's compile cost low (scripts/compile-cost.sh measures it); a stray include in
# a declarations part fails here instead of silently costing every user's build.
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<include> -DWORK_DIR=<dir> [-DRDKAFKA=ON] -P compiled_mode_includes.cmake
set(headers "mskiam/mskiam.hpp")
if(RDKAFKA)
  list(APPEND headers "mskiam/rdkafka.hpp")
endif()
set(forbidden "/openssl/" "/curl/" "/spawn\\.h" "/poll\\.h" "/arpa/inet\\.h" "/sys/wait\\.h"
              "/c\\+\\+/[0-9]+/thread" "mskiam/detail/(json|xml|ini|profile_plan|credential_document|crypto)\\.hpp")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(failed "")
foreach(header IN LISTS headers)
  string(MAKE_C_IDENTIFIER "${header}" id)
  file(WRITE "${WORK_DIR}/${id}.cpp" "#include <${header}>\n")
  execute_process(
    COMMAND "${CXX}" -std=c++17 -DMSKIAM_COMPILED_LIB -I "${INCLUDE_DIR}" -M "${WORK_DIR}/${id}.cpp"
    OUTPUT_VARIABLE deps ERROR_VARIABLE errors RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${header} does not compile in the compiled mode:\n${errors}")
  endif()
  string(REGEX REPLACE "[ \\\\\n]+" ";" deps "${deps}")
  foreach(pattern IN LISTS forbidden)
    foreach(dep IN LISTS deps)
      if(dep MATCHES "${pattern}")
        string(APPEND failed "  ${header} includes ${dep}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "in the compiled mode, declarations reach what only definitions need:\n${failed}")
endif()
message(STATUS "compiled mode: ${headers} include none of: ${forbidden}")
