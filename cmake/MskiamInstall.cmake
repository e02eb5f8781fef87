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
# Header-only: the package fits any architecture.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mskiam-config-version.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/mskiam-config.cmake"
  "${PROJECT_BINARY_DIR}/mskiam-config-version.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindRdKafka.cmake"
  DESTINATION "${MSKIAM_CMAKE_DIR}")

configure_file("${PROJECT_SOURCE_DIR}/cmake/mskiam.pc.in" "${PROJECT_BINARY_DIR}/mskiam.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mskiam.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
