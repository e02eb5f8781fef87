# Header-only: one release configuration is enough; nothing is compiled.
set(VCPKG_BUILD_TYPE release)

vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO mskiam/mskiam
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        curl    MSKIAM_CURL
)
# MSKIAM_RDKAFKA is a tri-state (AUTO/ON/OFF): never AUTO here, so that a librdkafka installed by
# another port cannot turn the adapter on behind the manifest's back.
if("rdkafka" IN_LIST FEATURES)
    list(APPEND FEATURE_OPTIONS -DMSKIAM_RDKAFKA=ON)
else()
    list(APPEND FEATURE_OPTIONS -DMSKIAM_RDKAFKA=OFF)
endif()

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DMSKIAM_BUILD_TESTS=OFF
        -DMSKIAM_BUILD_EXAMPLES=OFF
        -DMSKIAM_BUILD_PLUGIN=OFF
        -DMSKIAM_CMAKE_DIR=share/mskiam
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup()
vcpkg_fixup_pkgconfig()

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
