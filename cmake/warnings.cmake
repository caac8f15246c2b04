# Warnings for sockit's own targets (not for consumers of the installed package).
function(sockit_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  # GCC 12 at -O2/-O3 warns -Wrestrict inside libstdc++'s string operator+ (a false
  # positive, GCC bug 105329, fixed in 13): silence that one check there, keep the rest.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(SOCKIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
