/* bridgert-exec: runs one external program for a host (options and
 * descriptors: isolation/worker/exec.c, docs/isolation.md). A program of
 * its own that links only libc and libseccomp: a call of an external
 * program starts it once per call, so it must not pay for loading bridgert
 * and the C++ runtime, which it does not use. */
#include "worker.h"

int main(int argc, char **argv) { return worker_exec_main(argc, argv); }
