/* Command-line parsing: argv -> cli_options, with no output and no exit, so
 * it is testable and fuzzable. Global options (--config, --plugin-dir,
 * --help, --version) are accepted before or after the command; each
 * command accepts its own options; "--name=value" and "--name value" are
 * both accepted; "--" ends the options. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const command_names[] = {"", "health", "list", "call", "metrics", "serve", "demo"};

const char *cli_command_name(cli_command command) {
  return (unsigned)command < sizeof command_names / sizeof *command_names ? command_names[command] : "";
}

static const char overview_help[] =
    "Usage: bridgert [OPTIONS] COMMAND [COMMAND OPTIONS]\n"
    "\n"
    "Operate a bridgert runtime: load algorithm plugins, call them, and check\n"
    "their health and metrics.\n"
    "\n"
    "Commands:\n"
    "  health    check the runtime's health (exit 0 healthy, 1 degraded, 2 unhealthy)\n"
    "  list      list the algorithms the plugins register\n"
    "  call      call an algorithm with JSON parameters and print its result\n"
    "  metrics   print the metrics (Prometheus text or JSON)\n"
    "  serve     call the algorithms over HTTP; /metrics and /health for Prometheus\n"
    "  demo      load the example plugins, make a few calls, show health and metrics\n"
    "\n"
    "Options (accepted with every command):\n"
    "  --config FILE       apply this JSON configuration file (see docs/config.md);\n"
    "                      without it, BRT_CONFIG names one; BRT_* variables override both\n"
    "  --plugin-dir DIR    load every *.so plugin in DIR (repeatable); default: the\n"
    "                      config's plugin_dirs, else the example plugins (the build\n"
    "                      tree's, or the installed LIBDIR/bridgert/plugins)\n"
    "  --keep-going        a plugin that fails to load is a warning: go on with\n"
    "                      the others (without it: exit 69 with the errors)\n"
    "  --isolation MODE    run plugins 'none' (in this process), 'process' (in worker\n"
    "                      processes) or 'sandbox' (workers in a sandbox); default: the\n"
    "                      config's isolation (docs/isolation.md)\n"
    "  -h, --help          show help (of a command: bridgert COMMAND --help)\n"
    "  -V, --version       print the version of bridgert and of its library\n"
    "\n"
    "Exit codes: 0 success, 1 degraded, 2 unhealthy, 64 usage, 65 bad input,\n"
    "66 missing file or directory, 69 algorithm or plugin unavailable,\n"
    "70 the algorithm failed, 71 OS error, 74 I/O error, 75 retry later\n"
    "(isolated, timeout, memory), 77 permission, 78 bad configuration.\n";

static const char health_help[] =
    "Usage: bridgert health [--json] [OPTIONS]\n"
    "\n"
    "Runs every health check of the runtime (after loading the plugins) and\n"
    "prints each check with its status and reason.\n"
    "\n"
    "  --json    print the report as JSON: {\"status\", \"uptime_seconds\",\n"
    "            \"checks\": [{\"name\", \"subject\", \"status\", \"reason\"}]}\n"
    "\n"
    "Exit code: 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY (or another code when the\n"
    "runtime cannot be opened).\n";

static const char list_help[] =
    "Usage: bridgert list [--json] [OPTIONS]\n"
    "\n"
    "Lists the registered algorithms: name, version, kind (value, native or\n"
    "both), native signature, a summary of the input schema, description.\n"
    "\n"
    "  --json    print a JSON array of {\"name\", \"version\", \"kind\",\n"
    "            \"signature\", \"input_schema\", \"timeout_ms\", \"description\"}\n";

static const char call_help[] =
    "Usage: bridgert call NAME [--params JSON | --params-file FILE | --params -] [OPTIONS]\n"
    "\n"
    "Calls algorithm NAME (\"name\" for the highest version, \"name@1.2.0\" for\n"
    "one) and prints its result as JSON. A value algorithm takes a JSON\n"
    "object; a native one a JSON array of its arguments: integers, exact and\n"
    "within their type's range (i8..i64, u8..u64); numbers; booleans; strings\n"
    "without NUL (they are passed as C strings). Pointers cannot be given on\n"
    "the command line. A NaN or infinite float result prints null, with a\n"
    "warning on standard error (JSON has no such numbers).\n"
    "\n"
    "  --params JSON        the parameters as JSON text (default: {} or [])\n"
    "  --params -           read the parameters from standard input\n"
    "  --params-file FILE   read the parameters from FILE\n"
    "\n"
    "On failure the error (code, origin, exception type, message, causes) goes\n"
    "to standard error and the exit code tells its category: 65 bad input,\n"
    "69 no such algorithm, 70 the algorithm failed, 75 isolated or timed out.\n";

static const char metrics_help[] =
    "Usage: bridgert metrics [--format prometheus|json|summary] [OPTIONS]\n"
    "\n"
    "Prints the runtime's metrics after loading the plugins: calls by status,\n"
    "latency histograms, circuit states, memory and errors.\n"
    "\n"
    "  --format prometheus  the Prometheus text exposition format 0.0.4 (default)\n"
    "  --format json        the same content as one JSON object (docs/monitor.md)\n"
    "  --format summary     tables for people: calls, latency, memory, errors\n";

#define STR_(x) #x
#define STR(x) STR_(x)

static const char serve_help[] =
    "Usage: bridgert serve [--listen ADDRESS:PORT] [LIMITS] [OPTIONS]\n"
    "\n"
    "Serves the runtime over HTTP until SIGINT or SIGTERM:\n"
    "  POST /v1/algorithms/NAME:call  calls value algorithm NAME (or NAME@VERSION)\n"
    "                 with the JSON body as parameters; 200 with the result,\n"
    "                 or the typed error with its causes and a status: 400 bad\n"
    "                 input, 404 unknown, 408 timeout, 429 isolated, 503 crashed,\n"
    "                 500 others\n"
    "  GET /v1/algorithms  the algorithms: names, versions, schemas\n"
    "  GET /metrics   Prometheus text (for a Prometheus server to scrape)\n"
    "  GET /health    the health report as JSON; HTTP 200 when HEALTHY or\n"
    "                 DEGRADED, 503 when UNHEALTHY\n"
    "\n"
    "  --listen ADDRESS:PORT   an IPv4 address and port (default 127.0.0.1:9464;\n"
    "                          port 0 picks a free one). The bound address is\n"
    "                          printed on the first line of standard output.\n"
    "  --token-file FILE       /v1/ requests need 'Authorization: Bearer TOKEN',\n"
    "                          TOKEN the file's first line; required unless the\n"
    "                          address is loopback (127.0.0.0/8). The file must\n"
    "                          not be readable or writable by others (exit 77)\n"
    "\n"
    "Limits, so that slow or many clients cannot hold the server:\n"
    "  --max-connections N     connections open at once (default "
    STR(CLI_SERVE_MAX_CONNECTIONS) ", 1.." STR(CLI_SERVE_CONNECTIONS_CEILING) ");\n"
    "                          more wait unaccepted until one closes\n"
    "  --max-connections-per-address N\n"
    "                          connections from one IP address (default "
    STR(CLI_SERVE_MAX_PER_ADDRESS) ",\n"
    "                          1.." STR(CLI_SERVE_CONNECTIONS_CEILING) "); more are closed at once\n"
    "  --header-timeout-ms MS  close a connection whose request headers are not\n"
    "                          complete MS ms after it opened (or after its\n"
    "                          previous response), however steadily they\n"
    "                          trickle in (default " STR(CLI_SERVE_HEADER_TIMEOUT_MS) ", "
    STR(CLI_SERVE_HEADER_TIMEOUT_MIN_MS) ".." STR(CLI_SERVE_HEADER_TIMEOUT_MAX_MS) ");\n"
    "                          an idle connection is closed after MS rounded\n"
    "                          up to whole seconds; a request's body must be\n"
    "                          complete MS ms after its headers\n"
    "  --max-body-bytes N      the largest request body (default "
    STR(CLI_SERVE_MAX_BODY_BYTES) ", " STR(CLI_SERVE_MAX_BODY_BYTES_MIN) "..\n"
    "                          " STR(CLI_SERVE_MAX_BODY_BYTES_MAX) "); a larger one is answered 413\n"
    "  --watch                 load, reload and unload the plugins that appear,\n"
    "                          change or go in the plugin directories while\n"
    "                          serving (the config's plugin_watch; docs/plugins.md)\n";

static const char demo_help[] =
    "Usage: bridgert demo [OPTIONS]\n"
    "\n"
    "The first minute with bridgert: loads the example plugins (from the build\n"
    "tree, or --plugin-dir), calls `dot` on vectors in bridgert's memory through\n"
    "a prepared handle, calls `fail` so a C++ exception comes back as a typed\n"
    "error, then prints the health report and a metrics summary.\n";

const char *cli_help(cli_command command) {
  switch (command) {
    case CLI_HEALTH: return health_help;
    case CLI_LIST: return list_help;
    case CLI_CALL: return call_help;
    case CLI_METRICS: return metrics_help;
    case CLI_SERVE: return serve_help;
    case CLI_DEMO: return demo_help;
    case CLI_NONE: break;
  }
  return overview_help;
}

bool cli_parse_listen(const char *text, struct sockaddr_in *address) {
  const char *colon = strrchr(text, ':');
  if (!colon || colon == text || colon - text >= INET_ADDRSTRLEN) return false;
  char host[INET_ADDRSTRLEN];
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  if (colon[1] < '0' || colon[1] > '9') return false; /* strtol would take " 1" or "-1" */
  char *end;
  errno = 0;
  long port = strtol(colon + 1, &end, 10);
  if (errno || *end || port < 0 || port > 65535) return false;
  memset(address, 0, sizeof *address);
  address->sin_family = AF_INET;
  address->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &address->sin_addr) == 1;
}

bool cli_listen_is_loopback(const struct sockaddr_in *address) {
  return (ntohl(address->sin_addr.s_addr) >> 24) == 127;
}

typedef struct parser {
  int argc;
  char **argv;
  int index;
  cli_options *options;
  char *error;
  size_t error_size;
} parser;

static int usage_error(parser *p, const char *format, ...) BRT_PRINTF(2, 3);
static int usage_error(parser *p, const char *format, ...) {
  const char *command = cli_command_name(p->options->command);
  int used = snprintf(p->error, p->error_size, "bridgert%s%s: ", *command ? " " : "", command);
  if (used < 0 || (size_t)used >= p->error_size) return CLI_EXIT_USAGE;
  va_list args;
  va_start(args, format);
  int more = vsnprintf(p->error + used, p->error_size - (size_t)used, format, args);
  va_end(args);
  if (more >= 0 && (size_t)(used + more) < p->error_size)
    snprintf(p->error + used + more, p->error_size - (size_t)(used + more),
             "; see 'bridgert%s%s --help'", *command ? " " : "", command);
  return CLI_EXIT_USAGE;
}

/* Splits "--name=value": returns the length of the name part. */
static size_t option_name_length(const char *arg) {
  const char *equals = strchr(arg, '=');
  return equals ? (size_t)(equals - arg) : strlen(arg);
}

static bool option_is(const char *arg, size_t length, const char *name) {
  return strlen(name) == length && strncmp(arg, name, length) == 0;
}

/* The value of the option at p->index ("--x=v" or "--x v"); NULL after
 * recording a usage error. */
static const char *option_value(parser *p, const char *arg, size_t name_length, int *status) {
  if (arg[name_length] == '=') return arg + name_length + 1;
  if (p->index + 1 >= p->argc) {
    *status = usage_error(p, "option '%.*s' needs a value", (int)name_length, arg);
    return NULL;
  }
  return p->argv[++p->index];
}

static bool command_accepts(cli_command command, const char *option) {
  static const struct {
    cli_command command;
    const char *option;
  } accepted[] = {
      {CLI_HEALTH, "--json"},  {CLI_LIST, "--json"},          {CLI_CALL, "--params"},
      {CLI_CALL, "--params-file"}, {CLI_METRICS, "--format"}, {CLI_SERVE, "--listen"},
      {CLI_SERVE, "--max-connections"}, {CLI_SERVE, "--max-connections-per-address"},
      {CLI_SERVE, "--header-timeout-ms"}, {CLI_SERVE, "--max-body-bytes"},
      {CLI_SERVE, "--token-file"}, {CLI_SERVE, "--watch"},
  };
  for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++)
    if (accepted[i].command == command && strcmp(accepted[i].option, option) == 0) return true;
  return false;
}

static int parse_option(parser *p, const char *arg) {
  cli_options *o = p->options;
  size_t length = option_name_length(arg);
  int status = 0;
  bool takes_value = option_is(arg, length, "--config") || option_is(arg, length, "--plugin-dir") ||
                     option_is(arg, length, "--isolation") ||
                     option_is(arg, length, "--params") || option_is(arg, length, "--params-file") ||
                     option_is(arg, length, "--format") || option_is(arg, length, "--listen") ||
                     option_is(arg, length, "--max-connections") ||
                     option_is(arg, length, "--max-connections-per-address") ||
                     option_is(arg, length, "--header-timeout-ms") ||
                     option_is(arg, length, "--max-body-bytes") ||
                     option_is(arg, length, "--token-file");
  if (!takes_value && arg[length] == '=')
    return usage_error(p, "option '%.*s' takes no value", (int)length, arg);
  if (option_is(arg, length, "--help") || option_is(arg, length, "-h")) {
    o->help = true;
  } else if (option_is(arg, length, "--version") || option_is(arg, length, "-V")) {
    o->version = true;
  } else if (option_is(arg, length, "--keep-going")) {
    o->keep_going = true;
  } else if (option_is(arg, length, "--config")) {
    const char *value = option_value(p, arg, length, &status);
    if (!value) return status;
    if (!*value) return usage_error(p, "option '--config' needs a file name, got ''");
    o->config_path = value;
  } else if (option_is(arg, length, "--isolation")) {
    const char *value = option_value(p, arg, length, &status);
    if (!value) return status;
    static const char *const modes[] = {"none", "process", "sandbox"};
    o->isolation = -1;
    for (int i = 0; i < 3; i++)
      if (strcmp(value, modes[i]) == 0) o->isolation = i;
    if (o->isolation < 0)
      return usage_error(p, "option '--isolation' is 'none', 'process' or 'sandbox', got '%s'",
                         value);
  } else if (option_is(arg, length, "--plugin-dir")) {
    const char *value = option_value(p, arg, length, &status);
    if (!value) return status;
    if (!*value) return usage_error(p, "option '--plugin-dir' needs a directory, got ''");
    if (o->plugin_dir_count == CLI_MAX_PLUGIN_DIRS)
      return usage_error(p, "at most %d '--plugin-dir' options", CLI_MAX_PLUGIN_DIRS);
    o->plugin_dirs[o->plugin_dir_count++] = value;
  } else {
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(length < 31 ? length : 31), arg);
    if (o->command == CLI_NONE || !command_accepts(o->command, name)) {
      if (o->command == CLI_NONE)
        return usage_error(p, "unknown option '%.*s' (options of a command come after it)",
                           (int)length, arg);
      return usage_error(p, "unknown option '%.*s' for '%s'", (int)length, arg,
                         cli_command_name(o->command));
    }
    if (strcmp(name, "--json") == 0) {
      o->json = true;
      return 0;
    }
    if (strcmp(name, "--watch") == 0) {
      o->watch = true;
      return 0;
    }
    const char *value = option_value(p, arg, length, &status);
    if (!value) return status;
    if (strcmp(name, "--params") == 0 || strcmp(name, "--params-file") == 0) {
      if (o->params || o->params_file)
        return usage_error(p, "give the parameters once: '--params' and '--params-file' exclude each other");
      if (!*value) return usage_error(p, "option '%s' needs a value, got ''", name);
      *(strcmp(name, "--params") == 0 ? &o->params : &o->params_file) = value;
    } else if (strcmp(name, "--format") == 0) {
      if (strcmp(value, "prometheus") == 0) o->format = BRT_FORMAT_PROMETHEUS;
      else if (strcmp(value, "json") == 0) o->format = BRT_FORMAT_JSON;
      else if (strcmp(value, "summary") == 0) o->format = CLI_FORMAT_SUMMARY;
      else return usage_error(p, "option '--format' is 'prometheus', 'json' or 'summary', got '%s'", value);
    } else if (strcmp(name, "--listen") == 0) {
      struct sockaddr_in address;
      if (!cli_parse_listen(value, &address))
        return usage_error(p, "--listen '%s' is not ADDRESS:PORT with an IPv4 address and a port "
                              "0..65535, e.g. %s", value, CLI_DEFAULT_LISTEN);
      o->listen = value;
    } else if (strcmp(name, "--token-file") == 0) {
      if (!*value) return usage_error(p, "option '--token-file' needs a file name, got ''");
      o->token_file = value;
    } else {
      /* serve's limits: a decimal count in range, nothing else. */
      bool timeout = strcmp(name, "--header-timeout-ms") == 0;
      bool body = strcmp(name, "--max-body-bytes") == 0;
      unsigned long low = timeout ? CLI_SERVE_HEADER_TIMEOUT_MIN_MS : body ? CLI_SERVE_MAX_BODY_BYTES_MIN : 1;
      unsigned long high = timeout ? CLI_SERVE_HEADER_TIMEOUT_MAX_MS
                           : body  ? CLI_SERVE_MAX_BODY_BYTES_MAX
                                   : CLI_SERVE_CONNECTIONS_CEILING;
      unsigned long number = 0;
      bool valid = *value != '\0' && strlen(value) <= 10;
      for (const char *c = value; valid && *c; c++) {
        if (*c < '0' || *c > '9') valid = false;
        else number = number * 10 + (unsigned long)(*c - '0');
      }
      if (!valid || number < low || number > high)
        return usage_error(p, "option '%s' is a whole number in %lu..%lu, got '%s'", name, low, high,
                           value);
      if (timeout) o->header_timeout_ms = (unsigned)number;
      else if (body) o->max_body_bytes = number;
      else if (strcmp(name, "--max-connections") == 0) o->max_connections = (unsigned)number;
      else o->max_per_address = (unsigned)number;
    }
  }
  return 0;
}

static int parse_word(parser *p, const char *word) {
  cli_options *o = p->options;
  if (o->command == CLI_NONE) {
    for (unsigned c = CLI_HEALTH; c <= CLI_DEMO; c++)
      if (strcmp(word, command_names[c]) == 0) {
        o->command = (cli_command)c;
        return 0;
      }
    if (strcmp(word, "help") == 0) {
      o->help = true;
      return 0;
    }
    return usage_error(p, "unknown command '%s' (commands: health, list, call, metrics, serve, demo)",
                       word);
  }
  if (o->command == CLI_CALL && !o->name) {
    o->name = word;
    return 0;
  }
  return usage_error(p, "unexpected argument '%s'", word);
}

int cli_parse(int argc, char **argv, cli_options *options, char *error, size_t error_size) {
  memset(options, 0, sizeof *options);
  options->format = BRT_FORMAT_PROMETHEUS;
  options->isolation = -1;
  if (error_size) error[0] = '\0';
  parser p = {argc, argv, 1, options, error, error_size};
  bool options_ended = false;
  for (; p.index < argc; p.index++) {
    const char *arg = argv[p.index];
    int status;
    if (!arg) break;
    if (!options_ended && strcmp(arg, "--") == 0) {
      options_ended = true;
      continue;
    }
    if (!options_ended && arg[0] == '-' && arg[1] != '\0' && !(strcmp(arg, "-") == 0))
      status = parse_option(&p, arg);
    else
      status = parse_word(&p, arg);
    if (status) return status;
  }
  if (options->help || options->version) return 0;
  if (options->command == CLI_NONE) return usage_error(&p, "missing the command");
  if (options->command == CLI_CALL && !options->name)
    return usage_error(&p, "missing the algorithm NAME");
  if (options->command == CLI_SERVE && !options->token_file) {
    struct sockaddr_in address;
    if (cli_parse_listen(options->listen ? options->listen : CLI_DEFAULT_LISTEN, &address) &&
        !cli_listen_is_loopback(&address))
      return usage_error(&p, "--listen %s is not a loopback address: anyone who reaches it could "
                             "call the algorithms, so '--token-file FILE' is required",
                         options->listen);
  }
  return 0;
}
