# One function makes every target of mskiam, so that mskiam::mskiam, mskiam::compiled and
# mskiam::rdkafka cannot drift apart in include directories, language level or export name.
#   mskiam_add_library(<name> [SOURCES <files...>] [DEFINES <macros...>] LINKS <targets...>)
# creates mskiam_<name> (mskiam for `mskiam`), its alias mskiam::<name>, and records it for export:
# an INTERFACE library (header-only) without SOURCES, a static library with them.
function(mskiam_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEFINES;LINKS" ${ARGN})
  if(name STREQUAL "mskiam")
    set(target mskiam)
  else()
    set(target mskiam_${name})
  endif()
  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES})
    set(scope PUBLIC)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  else()
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(mskiam::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_compile_features(${target} ${scope} cxx_std_17)
  target_include_directories(${target} ${scope}
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_definitions(${target} ${scope} ${ARG_DEFINES})
  target_link_libraries(${target} ${scope} ${ARG_LINKS})
  set_property(GLOBAL APPEND PROPERTY MSKIAM_EXPORTED_TARGETS ${target})
endfunction()
