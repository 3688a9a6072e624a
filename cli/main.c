/* bridgert: the operations CLI (docs/cli.md). Parses the command line,
 * answers --help and --version, and runs the command. */
#include "cli.h"

#include <stdio.h>

int main(int argc, char **argv) {
  cli_options options;
  char error[512];
  int code = cli_parse(argc, argv, &options, error, sizeof error);
  if (code) {
    fprintf(stderr, "%s\n", error);
    return code;
  }
  if (options.help) {
    fputs(cli_help(options.command), stdout);
    return CLI_EXIT_OK;
  }
  if (options.version) {
    printf("bridgert %s (library %s, ABI %u)\n", BRT_CLI_VERSION, brt_version_string(),
           brt_abi_version());
    return CLI_EXIT_OK;
  }
  return cli_run(&options);
}
