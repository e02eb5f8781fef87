# packaging.install.install: builds the configured top-level tree, installs it to PREFIX with
# `cmake --install --prefix` (not the configured prefix, as a packager's staging step does), and
# checks what was installed.   cmake -DBUILD_DIR=... -DPREFIX=... -DRDKAFKA=ON|OFF -P install.cmake
file(REMOVE_RECURSE "${PREFIX}")
foreach(step "--build;${BUILD_DIR}" "--install;${BUILD_DIR};--prefix;${PREFIX}")
  execute_process(COMMAND "${CMAKE_COMMAND}" ${step} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake ${step} failed (${rc})")
  endif()
endforeach()

file(GLOB_RECURSE built_tests "${BUILD_DIR}/*mskiam-unit-tests*")
if(built_tests)
  message(FATAL_ERROR "a packaging build made mskiam's tests: ${built_tests}")
endif()

set(expected
  include/mskiam/mskiam.hpp include/mskiam/version.hpp include/mskiam/token.hpp
  share/cmake/mskiam/mskiam-config.cmake share/cmake/mskiam/mskiam-config-version.cmake
  share/cmake/mskiam/mskiam-targets.cmake share/cmake/mskiam/FindRdKafka.cmake
  share/pkgconfig/mskiam.pc)
if(RDKAFKA)
  list(APPEND expected include/mskiam/rdkafka.hpp)
endif()
foreach(file IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
# Header-only: nothing architecture-specific, no programs. Compiled: the static library alone.
if(COMPILED)
  file(GLOB_RECURSE archives "${PREFIX}/lib*/libmskiam_compiled.a")
  if(NOT archives)
    message(FATAL_ERROR "MSKIAM_COMPILED=ON installed no libmskiam_compiled.a")
  endif()
  set(forbidden bin)
else()
  set(forbidden bin lib lib64)
endif()
foreach(dir IN LISTS forbidden)
  if(EXISTS "${PREFIX}/${dir}")
    file(GLOB_RECURSE extra RELATIVE "${PREFIX}" "${PREFIX}/${dir}/*")
    message(FATAL_ERROR "a header-only install has ${dir}/: ${extra}")
  endif()
endforeach()
# The pkg-config file must not name the configured prefix (/usr/local), only its own location.
file(READ "${PREFIX}/share/pkgconfig/mskiam.pc" pc)
if(NOT pc MATCHES "prefix=\\\${pcfiledir}")
  message(FATAL_ERROR "mskiam.pc is not relocatable:\n${pc}")
endif()
message(STATUS "installed to ${PREFIX}")
