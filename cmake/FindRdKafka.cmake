# Finds librdkafka and provides RdKafka::rdkafka (C) and RdKafka::rdkafka++ (C++).
#
# vcpkg and Conan install a CMake config package that already defines these targets; it is used
# when present. Debian and most distributions ship only pkg-config files (rdkafka.pc,
# rdkafka++.pc), which are the fallback. Point PKG_CONFIG_PATH or CMAKE_PREFIX_PATH at another
# prefix to use a librdkafka built elsewhere.
include(FindPackageHandleStandardArgs)

if(NOT TARGET RdKafka::rdkafka)
  find_package(RdKafka CONFIG QUIET)
endif()

if(TARGET RdKafka::rdkafka AND TARGET RdKafka::rdkafka++)
  set(RdKafka_FOUND TRUE)
  if(NOT RdKafka_VERSION AND DEFINED RdKafka_CONFIG_VERSION)
    set(RdKafka_VERSION ${RdKafka_CONFIG_VERSION})
  endif()
else()
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_RDKAFKA QUIET IMPORTED_TARGET rdkafka)
    pkg_check_modules(PC_RDKAFKAXX QUIET IMPORTED_TARGET rdkafka++)
  endif()
  find_package_handle_standard_args(RdKafka
    REQUIRED_VARS PC_RDKAFKA_FOUND PC_RDKAFKAXX_FOUND
    VERSION_VAR PC_RDKAFKA_VERSION)
  if(RdKafka_FOUND)
    set(RdKafka_VERSION ${PC_RDKAFKA_VERSION})
    if(NOT TARGET RdKafka::rdkafka)
      add_library(RdKafka::rdkafka INTERFACE IMPORTED)
      target_link_libraries(RdKafka::rdkafka INTERFACE PkgConfig::PC_RDKAFKA)
    endif()
    if(NOT TARGET RdKafka::rdkafka++)
      add_library(RdKafka::rdkafka++ INTERFACE IMPORTED)
      target_link_libraries(RdKafka::rdkafka++ INTERFACE PkgConfig::PC_RDKAFKAXX RdKafka::rdkafka)
    endif()
  endif()
endif()
