/*
** unit_main.c: CUnit runner for the reclaiming allocator's unit suites.
** Runs every suite in basic mode (verbose), prints CUnit's summary and
** exits non-zero if any assertion or test failed or a suite could not run.
*/
#include "unit_util.h"

#include <CUnit/Basic.h>
#include <stdlib.h>

int main(void)
{
  unsigned failures;
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  if (tu_register_class() || tu_register_alloc() || tu_register_purge() || tu_register_os() ||
      tu_register_config() || tu_register_bg() || tu_register_harden() ||
      tu_register_registry() || tu_register_cgroup() || tu_register_mesh()) {
    fprintf(stderr, "unit: suite registration failed: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
             CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
