/* bridgert-worker: the program a host starts (posix_spawn + exec, never a
 * fork of the host) to run a plugin's code outside its own address space. Not meant to be run by hand: the host passes its
 * descriptors and options on the command line (docs/isolation.md). */
#include "worker.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return worker_serve_main(argc - 1, argv + 1);
  fprintf(stderr,
          "bridgert-worker: the worker program of bridgert, started by a host process.\n"
          "usage: bridgert-worker serve OPTIONS (external programs run in bridgert-exec)\n"
          "(docs/isolation.md describes the options)\n");
  return 64; /* EX_USAGE */
}
