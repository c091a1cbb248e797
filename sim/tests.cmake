# SPDX-License-Identifier: BSD-2-Clause
# The simulator's tests, label "sim": four in-process groups of
# sim/tests/test_sim.c, and one run of the homa-sim binary whose exit
# status says whether every end-of-run check passed.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SIM_CMOCKA REQUIRED IMPORTED_TARGET cmocka)
add_executable(test_sim ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_sim.c)
target_link_libraries(test_sim PRIVATE homa_sim PkgConfig::SIM_CMOCKA)
set_target_properties(test_sim PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/tests)
foreach(group determinism analytic conservation faults)
  add_test(NAME sim_${group} COMMAND test_sim ${group})
  set_tests_properties(sim_${group} PROPERTIES LABELS sim TIMEOUT 120
                       ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout")
endforeach()
add_test(NAME sim_cli
         COMMAND homa-sim --topo rack:6 --workload w3 --load 0.5
                 --window-ms 2 --loss 0.001 --quiet --no-progress
                 --json ${CMAKE_CURRENT_BINARY_DIR}/sim_cli.json
                 --csv ${CMAKE_CURRENT_BINARY_DIR}/sim_cli.csv)
set_tests_properties(sim_cli PROPERTIES LABELS sim TIMEOUT 120)
