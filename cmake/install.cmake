# Install rule and package config, so that `find_package(sockit)` gives `sockit::sockit`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS sockit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS sockit EXPORT sockitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/sockit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT sockitTargets NAMESPACE sockit::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sockit)

configure_package_config_file(cmake/sockitConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/sockitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sockit)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/sockitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/sockitConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/sockitConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sockit)
