# cmake -P script run by the `package.find_package` test (see CMakeLists.txt for the -D
# variables): install -> configure the consumer -> build it -> run it.
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR CXX_COMPILER EXPECTED_VERSION)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consume_installed.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# Runs one step; on failure shows its output and stops the test.
function(step name)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test: ${name} failed (${rc}):\n  ${ARGN}\n${out}")
  endif()
  message(STATUS "package test: ${name}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(config_args "")
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()

# The install rules also install the CLI; should it be missing (the app target not built
# yet), build just it rather than fail on a file the consumer does not need.
if(CLI_FILE AND NOT EXISTS "${CLI_FILE}")
  step("build sockit_cli for install" ${CMAKE_COMMAND} --build ${BUILD_DIR} --target sockit_cli
       ${config_args})
endif()

# 1. Install the build tree to a scratch prefix.
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

# 2. Configure the consumer against it alone: same generator and compiler, no package
#    registry, so it cannot pick up the build tree or a sockit installed elsewhere.
set(build_type ${CONFIG})
if(NOT build_type)
  set(build_type Debug)
endif()
set(configure_args
  -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=${build_type}
  -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  -DSOCKIT_EXPECTED_VERSION=${EXPECTED_VERSION}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
step("configure consumer" ${CMAKE_COMMAND} ${configure_args})

# find_package must have found the package in the prefix, not somewhere else.
file(STRINGS ${consumer_build}/CMakeCache.txt found REGEX "^sockit_DIR:")
string(REGEX REPLACE "^sockit_DIR:[A-Z]+=" "" found "${found}")
if(NOT found)
  message(FATAL_ERROR "package test: no sockit_DIR in ${consumer_build}/CMakeCache.txt")
endif()
file(REAL_PATH "${found}" found)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "package test: sockit was found at '${found}', not under ${real_prefix}")
endif()

# 3. Build it.
step("build consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${config_args})

# 4. Run it: it must exit 0 and say ok.
set(exe ${consumer_build}/sockit_consumer)
if(CONFIG AND NOT EXISTS ${exe} AND EXISTS ${consumer_build}/${CONFIG}/sockit_consumer)
  set(exe ${consumer_build}/${CONFIG}/sockit_consumer)  # multi-config generators
endif()
step("run consumer" ${exe})
if(NOT step_output MATCHES "^ok")
  message(FATAL_ERROR "package test: consumer printed '${step_output}', expected 'ok'")
endif()
message(STATUS "package test: passed (sockit ${EXPECTED_VERSION} installed to ${prefix})")
