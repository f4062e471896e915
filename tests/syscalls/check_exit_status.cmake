# Runs a command and checks its exit status (CTest only checks for zero).
# Usage: cmake -DEXPECTED=<status> -P check_exit_status.cmake -- <cmd> [args...]
if(NOT DEFINED EXPECTED)
  message(FATAL_ERROR "check_exit_status: -DEXPECTED=<status> is required")
endif()

set(cmd)
set(in_cmd FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(in_cmd)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(in_cmd TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "check_exit_status: no command after --")
endif()

list(JOIN cmd " " shown)
execute_process(COMMAND ${cmd} RESULT_VARIABLE status)
# RESULT_VARIABLE holds the exit code, or a message such as "Child aborted".
if(NOT "${status}" STREQUAL "${EXPECTED}")
  message(FATAL_ERROR "`${shown}` exited with '${status}', expected ${EXPECTED}")
endif()
message(STATUS "`${shown}` exited with ${status} as expected")
