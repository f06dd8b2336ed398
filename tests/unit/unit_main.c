/*
** unit_main.c: CUnit runner for the reclaiming allocator's unit suites.
** Runs every suite in basic mode (verbose), or only the suites named on the
** command line (`unit purge os`), prints CUnit's summary and exits non-zero
** if any assertion or test failed, a suite could not run or a name is not a
** suite.
*/
#include "unit_util.h"

#include <CUnit/Basic.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
  unsigned failures;
  int i;
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  if (tu_register_class() || tu_register_alloc() || tu_register_purge() || tu_register_os() ||
      tu_register_config() || tu_register_bg() || tu_register_harden() ||
      tu_register_registry() || tu_register_cgroup() || tu_register_mesh() ||
      tu_register_backing() || tu_register_mesh_core()) {
    fprintf(stderr, "unit: suite registration failed: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  if (argc > 1) {
    CU_pSuite s;
    for (s = CU_get_registry()->pSuite; s; s = s->pNext) CU_set_suite_active(s, CU_FALSE);
    for (i = 1; i < argc; i++) {
      if (!(s = CU_get_suite(argv[i]))) {
        fprintf(stderr, "unit: no suite named '%s'\n", argv[i]);
        CU_cleanup_registry();
        return 2;
      }
      CU_set_suite_active(s, CU_TRUE);
    }
  }
  CU_basic_run_tests();
  failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
             CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
