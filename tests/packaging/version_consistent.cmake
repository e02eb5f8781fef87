# packaging.version_consistent: include/mskiam/version.hpp is the only place the version is
# written; everything that repeats it must agree.   cmake -DSOURCE_DIR=... -DPREFIX=... -P ...
file(STRINGS "${SOURCE_DIR}/include/mskiam/version.hpp" lines
     REGEX "^#define MSKIAM_VERSION_(MAJOR|MINOR|PATCH) [0-9]+$")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^#define MSKIAM_VERSION_([A-Z]+) ([0-9]+)$" "\\1;\\2" pair "${line}")
  list(GET pair 0 part)
  list(GET pair 1 value)
  set(${part} ${value})
endforeach()
if(NOT DEFINED MAJOR OR NOT DEFINED MINOR OR NOT DEFINED PATCH)
  message(FATAL_ERROR "version.hpp lacks MSKIAM_VERSION_MAJOR/MINOR/PATCH")
endif()
set(version "${MAJOR}.${MINOR}.${PATCH}")

set(failures "")
function(expect what file regex)
  if(NOT EXISTS "${file}")
    set(failures "${failures}\n  ${what}: ${file} is missing" PARENT_SCOPE)
    return()
  endif()
  file(READ "${file}" text)
  if(NOT text MATCHES "${regex}")
    set(failures "${failures}\n  ${what}: ${file} does not match ${regex}" PARENT_SCOPE)
  elseif(NOT CMAKE_MATCH_1 STREQUAL version)
    set(failures "${failures}\n  ${what}: ${CMAKE_MATCH_1} in ${file}" PARENT_SCOPE)
  endif()
endfunction()

expect("config version file" "${PREFIX}/share/cmake/mskiam/mskiam-config-version.cmake"
       "set\\(PACKAGE_VERSION \"([0-9.]+)\"\\)")
expect("pkg-config file" "${PREFIX}/share/pkgconfig/mskiam.pc" "\nVersion: ([0-9.]+)\n")
expect("vcpkg port" "${SOURCE_DIR}/ports/mskiam/vcpkg.json" "\"version\": \"([0-9.]+)\"")
expect("FetchContent consumer GIT_TAG" "${SOURCE_DIR}/tests/packaging/fetch_content/CMakeLists.txt"
       "GIT_TAG +v([0-9.]+)")
expect("CHANGELOG" "${SOURCE_DIR}/CHANGELOG.md" "\n## \\[([0-9.]+)\\]")
# The Conan recipe reads version.hpp itself (set_version); it must not carry a literal version.
file(READ "${SOURCE_DIR}/conanfile.py" conan)
if(conan MATCHES "\n +version *= *\"")
  set(failures "${failures}\n  conanfile.py: a literal version; it must come from set_version()")
endif()

if(failures)
  message(FATAL_ERROR "version.hpp says ${version}, but:${failures}")
endif()
message(STATUS "mskiam ${version} everywhere")
