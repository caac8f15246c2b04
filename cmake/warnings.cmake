# Warnings for sockit's own targets (not for consumers of the installed package).
function(sockit_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(SOCKIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
