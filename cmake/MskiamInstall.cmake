# install(): the headers, the exported targets, mskiam-config.cmake with its version file, the
# librdkafka find module (mskiam::rdkafka needs it on machines without librdkafka's CMake
# package), and mskiam.pc for pkg-config users.
include(CMakePackageConfigHelpers)

set(MSKIAM_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/mskiam" CACHE STRING
    "Where mskiam-config.cmake is installed")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/mskiam" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

get_property(_mskiam_targets GLOBAL PROPERTY MSKIAM_EXPORTED_TARGETS)
install(TARGETS ${_mskiam_targets} EXPORT mskiam-targets)
install(EXPORT mskiam-targets NAMESPACE mskiam:: DESTINATION "${MSKIAM_CMAKE_DIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/mskiam-config.cmake.in"
  "${PROJECT_BINARY_DIR}/mskiam-config.cmake"
  INSTALL_DESTINATION "${MSKIAM_CMAKE_DIR}")
# Header-only, the package fits any architecture; with the plugin or mskiam::compiled it holds
# binaries.
if(TARGET mskiam_rdkafka_plugin OR TARGET mskiam_compiled)
  set(_mskiam_arch "")
else()
  set(_mskiam_arch ARCH_INDEPENDENT)
endif()
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mskiam-config-version.cmake"
  COMPATIBILITY SameMinorVersion ${_mskiam_arch})
install(FILES
  "${PROJECT_BINARY_DIR}/mskiam-config.cmake"
  "${PROJECT_BINARY_DIR}/mskiam-config-version.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindRdKafka.cmake"
  DESTINATION "${MSKIAM_CMAKE_DIR}")

# Relative to the .pc file's own directory, so that `cmake --install --prefix <elsewhere>`, vcpkg
# and a moved tree all work; absolute only when the install directories are themselves absolute.
set(_mskiam_pc_dir "${CMAKE_INSTALL_DATADIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_DATADIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(MSKIAM_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(MSKIAM_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _mskiam_pc_up "/p/${_mskiam_pc_dir}" "/p")
  string(REGEX REPLACE "/$" "" _mskiam_pc_up "${_mskiam_pc_up}")
  set(MSKIAM_PC_PREFIX "\${pcfiledir}/${_mskiam_pc_up}")
  set(MSKIAM_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(MSKIAM_PC_REQUIRES "libcrypto")
if(MSKIAM_CURL)
  string(APPEND MSKIAM_PC_REQUIRES " libcurl")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/mskiam.pc.in" "${PROJECT_BINARY_DIR}/mskiam.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mskiam.pc" DESTINATION "${_mskiam_pc_dir}")
