/* libFuzzer target: the `bridgert` command-line parser (cli/options.c).
 * The input is split at NUL bytes into argv words. The parser must never
 * crash, print or exit; it returns 0 or the usage exit code with a
 * NUL-terminated message, and a success names a command (unless --help or
 * --version was asked). Build: compile with cli/options.c and -Icli. */
#include "cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  char *argv[MAX_WORDS + 2] = {"bridgert"};
  int argc = 1;
  for (size_t start = 0; start <= size && argc <= MAX_WORDS; ) {
    argv[argc++] = copy + start;
    start += strlen(copy + start) + 1;
  }
  argv[argc] = NULL;
  cli_options options;
  char error[256];
  int code = cli_parse(argc, argv, &options, error, sizeof error);
  if (code != 0 && code != CLI_EXIT_USAGE) abort();
  if (memchr(error, '\0', sizeof error) == NULL) abort();
  if (code == CLI_EXIT_USAGE && error[0] == '\0') abort();
  if (code == 0 && !options.help && !options.version && options.command == CLI_NONE) abort();
  if (code == 0 && options.command == CLI_CALL && !options.help && !options.version && !options.name)
    abort();
  free(copy);
  return 0;
}
