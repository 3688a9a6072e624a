/* bridgert: the operations CLI (docs/cli.md). Parses the command line,
 * answers --help and --version, and runs the command. Every exit goes
 * through finish(): output that did not reach standard output is an I/O
 * error (74), never a silent success. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int finish(int code) {
  code = cli_check_output(code);
  errno = 0;
  if (fclose(stdout) != 0 && code <= CLI_EXIT_UNHEALTHY) {
    fprintf(stderr, "bridgert: writing the output failed: %s\n",
            errno ? strerror(errno) : "closing standard output failed");
    code = CLI_EXIT_IO;
  }
  return code;
}

int main(int argc, char **argv) {
  cli_options options;
  char error[512];
  int code = cli_parse(argc, argv, &options, error, sizeof error);
  if (code) {
    fprintf(stderr, "%s\n", error);
    return finish(code);
  }
  if (options.help) {
    fputs(cli_help(options.command), stdout);
    return finish(CLI_EXIT_OK);
  }
  if (options.version) {
    printf("bridgert %s (library %s, ABI %u)\n", BRT_CLI_VERSION, brt_version_string(),
           brt_abi_version());
    return finish(CLI_EXIT_OK);
  }
  return finish(cli_run(&options));
}
