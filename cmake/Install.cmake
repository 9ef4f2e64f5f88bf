#===- Install.cmake - install rules and the ringc CMake package ------------===#
#
# `cmake --install BUILD --prefix DIR` installs:
#   bin/      ringc, ring-opt, ring-run
#   lib/      libringrt.so.<version> (+ SONAME link), cmake/ringc/ (the
#             package: ringcConfig.cmake, ringcConfigVersion.cmake,
#             ringcTargets.cmake, RingcArtifact.cmake), pkgconfig/ringrt.pc
#   include/  ringrt/ (the runtime's public headers)
#   share/doc/ringc/  the dialect and pass docs (generated from ODS)
# (`--component runtime`: libringrt and ring-run alone.)
# Installed executables find libringrt through $ORIGIN/../lib and LLVM/MLIR
# where they were linked from (the system's libMLIR.so).
#
#===----------------------------------------------------------------------===#

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RINGC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ringc")
file(RELATIVE_PATH _ringc_bin_to_lib "/prefix/${CMAKE_INSTALL_BINDIR}"
  "/prefix/${CMAKE_INSTALL_LIBDIR}")

foreach(tool ringc ring-opt ring-run)
  if(TARGET ${tool})
    set_target_properties(${tool} PROPERTIES
      INSTALL_RPATH "\$ORIGIN/${_ringc_bin_to_lib}"
      INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
endforeach()

# Component "runtime" (ringrt and ring-run) is what a machine that only runs
# artifacts needs: scripts/gpu-bundle.sh installs just that.
# (Guarded: RINGC_EXCLUDE_DIRS may leave the tools out.)
set(_ringc_runtime ringrt)
set(_ringc_compiler)
foreach(tool ring-run)
  if(TARGET ${tool})
    list(APPEND _ringc_runtime ${tool})
  endif()
endforeach()
foreach(tool ringc ring-opt)
  if(TARGET ${tool})
    list(APPEND _ringc_compiler ${tool})
  endif()
endforeach()
install(TARGETS ${_ringc_runtime}
  EXPORT ringcTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(_ringc_compiler)
  install(TARGETS ${_ringc_compiler}
    EXPORT ringcTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/ringrt
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT ringcTargets
  NAMESPACE ringc::
  DESTINATION ${RINGC_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/ringcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/ringcConfig.cmake
  INSTALL_DESTINATION ${RINGC_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/ringcConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/ringcConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/ringcConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/RingcArtifact.cmake
  DESTINATION ${RINGC_INSTALL_CMAKEDIR})

# pkg-config: the prefix is computed from the .pc file's own directory, so the
# file stays right whatever --prefix `cmake --install` is given.
file(RELATIVE_PATH RINGC_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
  "/prefix")
string(REGEX REPLACE "/$" "" RINGC_PC_TO_PREFIX "${RINGC_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/ringrt.pc.in
  ${PROJECT_BINARY_DIR}/cmake/ringrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/ringrt.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The dialect and pass docs that add_mlir_doc generates; built with `all`
# so that the install finds them.
if(TARGET mlir-doc)
  add_custom_target(ringc-docs ALL DEPENDS mlir-doc)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/docs/Ring/
    DESTINATION ${CMAKE_INSTALL_DOCDIR}
    FILES_MATCHING PATTERN "*.md")
endif()
