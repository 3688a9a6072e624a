/* A shared object without brt_plugin_init_v1. */
int brt_test_not_a_plugin(void);
int brt_test_not_a_plugin(void) { return 42; }
