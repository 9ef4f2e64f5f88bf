#===- RingcArtifact.cmake - compile a ringc spec at build time -------------===#
#
# ringc_add_artifact(NAME
#                    SPEC <"K=V,..." spec string | path/to/spec.mlir>
#                    TARGET <cpu | sm_90a | sm_80>
#                    [OPTIONS <more ringc flags>...])
#
# runs ringc at build time into ${CMAKE_CURRENT_BINARY_DIR}/ringc/NAME and
# defines a static library target NAME that holds the artifact's object
# (NAME.o: host code, CPU kernels or embedded PTX), links ringc::ringrt (and
# with it MPI) and puts the directory with the generated header on its
# include path. The artifact is rebuilt when the spec (string, options or
# file) or the ringc executable changes.
#
# The artifact (its header, C symbols and object) is named:
#   - with a spec string: NAME (passed to ringc as --name=NAME);
#   - with a .mlir file: the spec's func.func symbol, which must then be the
#     file's only func.func; the header is <that symbol>.h.
# The target's RINGC_ARTIFACT_DIR and RINGC_ARTIFACT_NAME properties give
# the directory (with manifest.json, and NAME.ptx for GPU targets) and name.
#
#===----------------------------------------------------------------------===#

function(ringc_add_artifact name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SPEC;TARGET" "OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ringc_add_artifact(${name}): unknown arguments "
      "'${arg_UNPARSED_ARGUMENTS}'; valid: SPEC <spec>, TARGET <target>, "
      "OPTIONS <ringc flags...>")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "ringc_add_artifact: the name '${name}' is not a C "
      "identifier (it names the artifact's C symbols)")
  endif()
  if(NOT arg_SPEC)
    message(FATAL_ERROR "ringc_add_artifact(${name}): SPEC is required: a "
      "spec string \"heads=..,seq=..,head_dim=..\" or a .mlir file")
  endif()
  if(NOT arg_TARGET)
    message(FATAL_ERROR "ringc_add_artifact(${name}): TARGET is required: "
      "cpu, sm_90a or sm_80")
  endif()
  # ringc itself diagnoses other sm_NN[a] targets precisely.
  if(NOT arg_TARGET MATCHES "^(cpu|sm_[0-9]+a?)$")
    message(FATAL_ERROR "ringc_add_artifact(${name}): TARGET '${arg_TARGET}' "
      "is not a ringc target; valid: cpu, sm_90a, sm_80")
  endif()
  if(NOT TARGET ringc::ringc)
    message(FATAL_ERROR "ringc_add_artifact: ringc::ringc is not defined; "
      "call find_package(ringc) first")
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/ringc/${name}")
  set(depends "$<TARGET_FILE:ringc::ringc>")
  if(arg_SPEC MATCHES "\\.mlir$")
    get_filename_component(spec "${arg_SPEC}" ABSOLUTE
      BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${spec}")
      message(FATAL_ERROR "ringc_add_artifact(${name}): the spec file "
        "'${spec}' does not exist")
    endif()
    # The artifact takes the spec function's name; reconfigure when the
    # file changes so that a renamed function is picked up.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${spec}")
    file(READ "${spec}" text)
    string(REGEX MATCHALL "func\\.func[ \t]+(public[ \t]+|private[ \t]+)?@[A-Za-z_][A-Za-z0-9_]*"
      funcs "${text}")
    list(LENGTH funcs count)
    if(NOT count EQUAL 1)
      message(FATAL_ERROR "ringc_add_artifact(${name}): '${spec}' holds "
        "${count} func.func definitions; an artifact's spec holds exactly one")
    endif()
    string(REGEX REPLACE ".*@" "" artifact "${funcs}")
    set(input "${spec}")
    list(APPEND depends "${spec}")
  else()
    set(artifact "${name}")
    set(input --spec "${arg_SPEC}" "--name=${name}")
  endif()

  set(command $<TARGET_FILE:ringc::ringc> ${input} "--target=${arg_TARGET}"
    -o "${dir}" ${arg_OPTIONS})
  # The command line is part of the inputs: a stamp rewritten only when it
  # changes makes every generator rebuild on a new spec, target or option.
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/ringc/${name}.command")
  file(CONFIGURE OUTPUT "${stamp}" CONTENT "${command}\n" @ONLY)
  list(APPEND depends "${stamp}")

  set(object "${dir}/${artifact}.o")
  set(header "${dir}/${artifact}.h")
  add_custom_command(
    OUTPUT "${object}" "${header}" "${dir}/manifest.json"
    COMMAND ${command}
    DEPENDS ${depends}
    COMMENT "ringc: compiling artifact ${name} for ${arg_TARGET}"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${name} STATIC "${object}" "${header}")
  set_target_properties(${name} PROPERTIES
    LINKER_LANGUAGE C
    RINGC_ARTIFACT_DIR "${dir}"
    RINGC_ARTIFACT_NAME "${artifact}")
  target_include_directories(${name} PUBLIC "${dir}")
  target_link_libraries(${name} PUBLIC ringc::ringrt)
endfunction()
