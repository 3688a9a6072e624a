/* The bridgert command-line tool: internals shared between its files.
 *
 * options.c parses argv into cli_options without printing or exiting (so a
 * fuzzer can drive it); main.c dispatches; runtime.c opens the runtime and
 * loads the plugins; commands.c runs health, list and metrics, call.c
 * calls an algorithm, demo.c is the first minute, summary.c prints metrics
 * for people, serve.c serves HTTP (/metrics, /health, and serve_api.c's
 * algorithm API under /v1/); output.c formats tables, durations, sizes and
 * errors. */
#ifndef BRT_CLI_H
#define BRT_CLI_H

#include <bridgert.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes (docs/cli.md). 0-2 are also `bridgert health`'s levels. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_DEGRADED = 1,     /* health: DEGRADED */
  CLI_EXIT_UNHEALTHY = 2,    /* health: UNHEALTHY */
  CLI_EXIT_USAGE = 64,       /* bad command line */
  CLI_EXIT_DATA = 65,        /* bad input: params JSON, schema, argument values */
  CLI_EXIT_NO_INPUT = 66,    /* a file or directory named on the command line is missing */
  CLI_EXIT_UNAVAILABLE = 69, /* no such algorithm, or a plugin could not be loaded */
  CLI_EXIT_SOFTWARE = 70,    /* the algorithm failed (exception, panic, crash) or bridgert did */
  CLI_EXIT_OS = 71,          /* an operating-system call failed (e.g. the port is taken) */
  CLI_EXIT_IO = 74,          /* input/output error */
  CLI_EXIT_TEMPORARY = 75,   /* isolated, timed out, out of memory or over a limit: retry later */
  CLI_EXIT_PERMISSION = 77,  /* refused by ownership, mode or policy */
  CLI_EXIT_CONFIG = 78,      /* the configuration is invalid */
};

typedef enum cli_command {
  CLI_NONE = 0,
  CLI_HEALTH,
  CLI_LIST,
  CLI_CALL,
  CLI_METRICS,
  CLI_SERVE,
  CLI_DEMO,
} cli_command;

#define CLI_MAX_PLUGIN_DIRS 32

typedef struct cli_options {
  cli_command command;
  bool help, version, json;
  bool keep_going; /* --keep-going: a plugin that fails to load is a warning, not exit 69 */
  const char *config_path;
  int isolation; /* --isolation: a brt_isolation, or -1 for the config's */
  const char *plugin_dirs[CLI_MAX_PLUGIN_DIRS];
  size_t plugin_dir_count;
  const char *name;        /* call: the algorithm */
  const char *params;      /* call --params: JSON text, or "-" for stdin */
  const char *params_file; /* call --params-file */
  unsigned format;         /* metrics: BRT_FORMAT_PROMETHEUS (default), _JSON or CLI_FORMAT_SUMMARY */
  const char *listen;      /* serve --listen ADDRESS:PORT */
  unsigned max_connections;   /* serve --max-connections (0: CLI_SERVE_MAX_CONNECTIONS) */
  unsigned max_per_address;   /* serve --max-connections-per-address (0: the default) */
  unsigned header_timeout_ms; /* serve --header-timeout-ms (0: the default) */
  unsigned long max_body_bytes; /* serve --max-body-bytes (0: CLI_SERVE_MAX_BODY_BYTES) */
  const char *token_file;       /* serve --token-file: the bearer token's file, or NULL */
  bool watch;                   /* serve --watch: the config's plugin_watch on */
} cli_options;

/* serve's defaults and the bounds of their options (docs/cli.md). */
#define CLI_SERVE_MAX_CONNECTIONS 64
#define CLI_SERVE_MAX_PER_ADDRESS 16
#define CLI_SERVE_HEADER_TIMEOUT_MS 10000
#define CLI_SERVE_CONNECTIONS_CEILING 4096
#define CLI_SERVE_HEADER_TIMEOUT_MIN_MS 10
#define CLI_SERVE_HEADER_TIMEOUT_MAX_MS 3600000
#define CLI_SERVE_MAX_BODY_BYTES 1048576      /* 1 MiB */
#define CLI_SERVE_MAX_BODY_BYTES_MIN 16
#define CLI_SERVE_MAX_BODY_BYTES_MAX 268435456 /* 256 MiB */

/* options.c */
/* Parses argv (argv[0] is the program). Returns 0, or CLI_EXIT_USAGE with a
 * message naming the offending word and pointing to --help in `error`. */
int cli_parse(int argc, char **argv, cli_options *options, char *error, size_t error_size);
const char *cli_command_name(cli_command command);
/* Parses "A.B.C.D:PORT" (an IPv4 address, PORT 0..65535) for --listen. */
#define CLI_DEFAULT_LISTEN "127.0.0.1:9464"
bool cli_parse_listen(const char *text, struct sockaddr_in *address);
/* Whether an address of --listen is in 127.0.0.0/8 (no token needed there). */
bool cli_listen_is_loopback(const struct sockaddr_in *address);
/* The --help text of a command (CLI_NONE: the overview). */
const char *cli_help(cli_command command);

/* output.c */
/* "850 ns", "12.3 µs", "4.56 ms", "1.20 s". */
void cli_format_duration(char *buf, size_t size, double ns);
/* "512 B", "12.0 KiB", "3.50 MiB", "1.00 GiB". */
void cli_format_bytes(char *buf, size_t size, double bytes);
/* A table printed with aligned columns (widths in characters, not bytes). */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t columns, const char *const *headers);
/* Adds a row of `columns` cells (copied); returns false when out of memory. */
bool cli_table_add(cli_table *table, const char *const *cells);
void cli_table_print(const cli_table *table, FILE *out);
void cli_table_free(cli_table *table);
/* Writes an error's code, origin, type, OS code, message, then each cause. */
void cli_describe_error(FILE *out, const brt_error *error);
/* Prints the calling thread's last error with code, origin, type, message
 * and each cause, after "bridgert: <context>". */
void cli_print_error(const char *context);
/* The exit code for a failed call's status (docs/cli.md). */
int cli_exit_code(brt_status status);
/* Checks that standard output reached its destination: fflush, and ferror
 * for a write that failed earlier (glibc then drops the buffer, so a later
 * fflush succeeds). On failure an answer's exit code (0, 1 or 2) becomes
 * CLI_EXIT_IO, reported on standard error; other codes stand (their error
 * is reported already). */
int cli_check_output(int code);

/* runtime.c */
/* Opens the runtime and loads the plugins; prints what went wrong and
 * returns its exit code, or 0 with *rt set. A plugin that fails to load
 * from a directory the user named (--plugin-dir or the config's
 * plugin_dirs) is CLI_EXIT_UNAVAILABLE with the errors, unless
 * --keep-going makes it a warning (the others stay usable). */
int cli_open_runtime(const cli_options *options, brt_runtime **rt);
/* BUILD_ROOT/relative in `buf` when this executable runs from the build
 * tree it was built in and that directory exists, else NULL: where the
 * examples are found before installation. */
const char *cli_build_tree_dir(const char *relative, char *buf, size_t size);

/* commands.c: opens the runtime, runs the command, closes the runtime. */
int cli_run(const cli_options *options);

/* summary.c: the metrics as tables (--format summary, the demo). */
#define CLI_FORMAT_SUMMARY 100
int cli_print_summary(brt_runtime *rt);

/* commands.c: an algorithm as the JSON object of `list --json` and of
 * serve's GET /v1/algorithms; NULL when out of memory. */
struct cJSON;
struct cJSON *cli_algorithm_json(const brt_algorithm *algorithm);

/* commands.c: the health report as a table (also the demo's). */
int cli_print_health(const char *report, brt_health_level level);

/* demo.c */
int cli_demo(const cli_options *options, brt_runtime *rt);

/* call.c */
int cli_call(brt_runtime *rt, const cli_options *options);


/* serve.c */
int cli_serve(brt_runtime *rt, const cli_options *options);

#endif /* BRT_CLI_H */
