# One function makes every INTERFACE target of mskiam, so that mskiam::mskiam and
# mskiam::rdkafka cannot drift apart in include directories, language level or export name.
#   mskiam_add_header_library(<name> LINKS <targets...>)
# creates mskiam_<name> (mskiam for `mskiam`), its alias mskiam::<name>, and records it for export.
function(mskiam_add_header_library name)
  cmake_parse_arguments(ARG "" "" "LINKS" ${ARGN})
  if(name STREQUAL "mskiam")
    set(target mskiam)
  else()
    set(target mskiam_${name})
  endif()
  add_library(${target} INTERFACE)
  add_library(mskiam::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_compile_features(${target} INTERFACE cxx_std_17)
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} INTERFACE ${ARG_LINKS})
  set_property(GLOBAL APPEND PROPERTY MSKIAM_EXPORTED_TARGETS ${target})
endfunction()
