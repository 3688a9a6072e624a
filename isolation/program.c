/* External programs as algorithms: a loaded manifest's program, and one
 * call of it (docs/isolation.md, "External programs").
 *
 * A call writes the params where the protocol wants them (input.json in a
 * private per-call directory, or standard input), runs the program once in
 * its own process group, and in "sandbox" mode in the sandbox
 * (program_run.c), then judges what came back: the worker's report, the
 * deadline, the exit status or signal, and the result, which is read
 * without trusting anything the program left (program_dir.c). A call
 * shares nothing mutable with another, so any number of threads may call
 * the same program at once. */
#include "program.h"
#include "protocol.h"
#include "core/clock.h"
#include "core/utf8.h"

#include <bridgert/memory.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How much of standard error goes into an error message. */
#define STDERR_EXCERPT 480

/* --- Creating and freeing ------------------------------------------------------ */

void _brt_isolation_program_free(void *ctx) {
  brt_program *program = ctx;
  if (!program) return;
  if (program->program_fd >= 0) close(program->program_fd);
  free(program->program_path);
  free(program->program_dir);
  for (size_t i = 0; program->args && i < program->arg_count; i++) free(program->args[i]);
  free(program->args);
  free(program);
}

static brt_status spec_check(const brt_program_spec *spec) {
  if (spec->program_fd < 0 || !spec->program_path || spec->program_path[0] != '/')
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_create: the program's descriptor (%d) or "
                         "absolute path is missing",
                         spec->program_fd);
  if ((spec->arg_count && !spec->args) || spec->arg_count >= BRT_MANIFEST_ARGS_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_create: %zu arguments for \"%s\" (at most %d)",
                         spec->arg_count, spec->program_path, BRT_MANIFEST_ARGS_MAX - 1);
  for (size_t i = 0; i < spec->arg_count; i++)
    if (!spec->args[i])
      return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "_brt_isolation_program_create: argument %zu of \"%s\" is NULL", i + 1,
                           spec->program_path);
  if (spec->protocol != BRT_PROGRAM_FILES && spec->protocol != BRT_PROGRAM_STDIO)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_create: protocol %d of \"%s\" is neither files "
                         "nor stdio",
                         (int)spec->protocol, spec->program_path);
  if (spec->isolation != BRT_ISOLATION_PROCESS && spec->isolation != BRT_ISOLATION_SANDBOX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_create: program \"%s\" must run with isolation "
                         "PROCESS or SANDBOX (a program always has its own process)",
                         spec->program_path);
  return BRT_OK;
}

brt_status _brt_isolation_program_create(const brt_program_spec *spec, brt_program **out) {
  if (!spec || !out) {
    if (spec && spec->program_fd >= 0) close(spec->program_fd);
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_create: spec or out is NULL");
  }
  *out = NULL;
  brt_status status = spec_check(spec);
  if (status != BRT_OK) {
    if (spec->program_fd >= 0) close(spec->program_fd);
    return status;
  }
  brt_program *program = calloc(1, sizeof *program);
  if (!program) {
    close(spec->program_fd);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory preparing program \"%s\"", spec->program_path);
  }
  program->program_fd = spec->program_fd;
  program->protocol = spec->protocol;
  program->isolation = spec->isolation;
  program->memory_limit = spec->memory_limit;
  program->timeout_ms = spec->timeout_ms;
  program->call_deadline = spec->call_deadline;
  program->program_path = strdup(spec->program_path);
  program->program_dir = strdup(spec->program_path);
  program->args = calloc(spec->arg_count + 1, sizeof *program->args);
  bool copied = program->program_path && program->program_dir && program->args;
  for (size_t i = 0; copied && i < spec->arg_count; i++) {
    program->args[i] = strdup(spec->args[i]);
    copied = program->args[i] != NULL;
    program->arg_count = i + 1;
  }
  if (!copied) {
    _brt_isolation_program_free(program);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory preparing program \"%s\"", spec->program_path);
  }
  char *slash = strrchr(program->program_dir, '/');
  slash[slash == program->program_dir ? 1 : 0] = '\0';
  program->program_name = strrchr(program->program_path, '/') + 1;
  status = _brt_isolation_exec_path(program->worker, sizeof program->worker);
  if (status != BRT_OK) {
    _brt_isolation_program_free(program);
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                          "program \"%s\" cannot be run without the worker program: %s",
                          spec->program_path, brt_error_message(brt_last_error()));
  }
  *out = program;
  return BRT_OK;
}

/* --- Judging the outcome ------------------------------------------------------------ */

/* The last lines of standard error as one line of text a message can
 * hold: whole lines only when it was cut, " | " between lines, and
 * anything that is not printable UTF-8 (terminal escapes, invalid bytes)
 * shown as '?'. */
static void stderr_excerpt(const brt_program_run *r, char *out, size_t size) {
  size_t kept = r->tail_total < sizeof r->tail ? (size_t)r->tail_total : sizeof r->tail;
  unsigned char text[BRT_PROGRAM_STDERR_KEEP];
  for (size_t i = 0; i < kept; i++)
    text[i] = (unsigned char)r->tail[(r->tail_total - kept + i) % sizeof r->tail];
  while (kept && (text[kept - 1] == '\n' || text[kept - 1] == '\r')) kept--;
  size_t start = kept > STDERR_EXCERPT ? kept - STDERR_EXCERPT : 0;
  if (start > 0 || r->tail_total > sizeof r->tail) {
    const unsigned char *newline = memchr(text + start, '\n', kept - start);
    if (newline) start = (size_t)(newline - text) + 1;
  }
  size_t used = 0;
  for (size_t i = start; i < kept && used + 5 < size;) {
    size_t len = _brt_utf8_printable(text + i, kept - i);
    if (text[i] == '\n') {
      memcpy(out + used, " | ", 3);
      used += 3;
      i++;
    } else if (len) {
      memcpy(out + used, text + i, len);
      used += len;
      i += len;
    } else {
      out[used++] = text[i] == '\t' || text[i] == '\r' ? ' ' : '?';
      i++;
    }
  }
  out[used] = '\0';
}

/* What precedes the excerpt of standard error in a message. */
static const char *excerpt_lead(const char *excerpt) {
  return excerpt[0] ? "; the last lines of its standard error: \""
                    : "; it wrote nothing to standard error";
}

static const char *signal_name(int sig, char *buf, size_t size) {
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(buf, size, "SIG%s", abbrev);
  else
    snprintf(buf, size, "signal %d", sig);
  return buf;
}

/* The worker's report: it could not start the program. */
static brt_status report_failure(const brt_program_run *r) {
  /* The report is NUL-terminated: the run keeps room for it. */
  const char *colon = strchr(r->report, ':');
  int err = atoi(r->report + 1);
  const char *why = colon ? colon + 1 : r->report + 1;
  if (r->report[0] == BRT_STATUS_UNSUPPORTED)
    return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                         "program \"%s\" needs a sandbox, which cannot be built here (it was not "
                         "run; no weaker isolation is used instead): %s",
                         r->program->program_name, why);
  brt_status code = err == ENOEXEC || err == EACCES || err == ENOENT ? BRT_E_PLUGIN : BRT_E_IO;
  return brt_error_set(code, BRT_ORIGIN_C, NULL, "program \"%s\" could not be started: %s",
                       r->program->program_name, why);
}

/* Judges how the program ended; BRT_OK when it exited with status 0. */
static brt_status judge_exit(const brt_program_run *r, uint64_t started_ns, uint64_t deadline_ns) {
  const char *name = r->program->program_name;
  if (r->report_len && r->report[0] != BRT_STATUS_KILLED) return report_failure(r);
  if (r->poll_error)
    return brt_error_set_os(BRT_E_IO, r->poll_error,
                            "watching program \"%s\" failed (%s); it was "
                            "killed",
                            name, strerror(r->poll_error));
  if (r->timed_out)
    return brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL,
                         "program \"%s\" was still running at the call's deadline, %.1f ms after "
                         "the call began; it was killed with its process group",
                         name, (double)(deadline_ns - started_ns) / 1e6);
  if (r->out_of_memory)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory reading the standard output of program \"%s\" after %zu "
                         "bytes; it was killed",
                         name, r->out_len);
  if (r->out_too_large)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_PLUGIN, NULL,
                         "program \"%s\" wrote more than %zu bytes to standard output, the largest "
                         "result accepted; it was killed",
                         name, BRT_PROGRAM_RESULT_MAX);
  if (r->lost)
    return brt_error_set(BRT_E_IO, BRT_ORIGIN_C, NULL,
                         "the exit status of program \"%s\" is unknown: this process ignores "
                         "SIGCHLD, so the kernel reaped the program before it could be read; "
                         "restore SIGCHLD's default action",
                         name);
  char excerpt[STDERR_EXCERPT + 64];
  stderr_excerpt(r, excerpt, sizeof excerpt);
  int status = r->wait_status;
  /* In the sandbox, the program's death by a signal comes as a report. */
  int killed_by = r->report_len ? atoi(r->report + 1) : WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (killed_by) {
    char sig[32];
    return brt_error_set(BRT_E_CRASHED, BRT_ORIGIN_PLUGIN, signal_name(killed_by, sig, sizeof sig),
                         "program \"%s\" was killed by %s (%s)%s%s%s", name, sig,
                         strsignal(killed_by), excerpt_lead(excerpt), excerpt,
                         excerpt[0] ? "\"" : "");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                         "program \"%s\" exited with status %d%s%s%s", name,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, excerpt_lead(excerpt),
                         excerpt, excerpt[0] ? "\"" : "");
  return BRT_OK;
}

/* Parses the result text; `where` names it ("output/result.json",
 * "standard output"). */
static brt_status parse_result(const char *name, const char *where, const char *text, size_t len,
                               brt_value **result) {
  brt_json_options options;
  brt_json_options_default(&options);
  options.max_input = BRT_PROGRAM_RESULT_MAX;
  *result = brt_value_from_json_ex(text ? text : "", len, &options, NULL);
  if (*result) return BRT_OK;
  /* The reader's message gives the line, the column and an excerpt. */
  return brt_error_wrap(BRT_E_CONVERSION, BRT_ORIGIN_PLUGIN, NULL,
                        "program \"%s\" wrote %s to %s: %s", name,
                        len ? "a result that is not valid JSON" : "an empty result", where,
                        brt_error_message(brt_last_error()));
}

/* Runs the program once in `dir` and reads its result. */
static brt_status run_once(const brt_program *program, const brt_call_dir *dir, const char *json,
                           size_t json_len, uint64_t started_ns, uint64_t deadline_ns,
                           brt_value **result) {
  bool stdio = program->protocol == BRT_PROGRAM_STDIO;
  brt_status status = BRT_OK;
  if (!stdio) status = _brt_isolation_call_dir_write_input(dir, json, json_len);
  if (status != BRT_OK) return status;
  brt_program_run r;
  status = _brt_isolation_program_run(&r, program, dir, json, stdio ? json_len : 0, deadline_ns);
  if (status == BRT_OK) status = judge_exit(&r, started_ns, deadline_ns);
  if (status == BRT_OK && stdio) {
    status = parse_result(program->program_name, "standard output", r.out, r.out_len, result);
  } else if (status == BRT_OK) {
    char *text = NULL;
    size_t len = 0;
    status = _brt_isolation_call_dir_read_result(dir, program->program_name, &text, &len);
    if (status == BRT_OK)
      status = parse_result(program->program_name, "output/result.json", text, len, result);
    free(text);
  }
  _brt_isolation_program_run_dispose(&r);
  return status;
}

brt_status _brt_isolation_program_call(void *ctx, const brt_value *params, brt_value **result) {
  if (!ctx || !params || !result) {
    if (result) *result = NULL;
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_call: the program, params or result is NULL");
  }
  *result = NULL;
  const brt_program *program = ctx;
  /* The call must always reap its process and remove its directory: a
   * thread cancellation takes effect only after it returned. */
  int cancel_state;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
  uint64_t started = _brt_now_ns();
  uint64_t deadline = program->call_deadline ? program->call_deadline() : 0;
  if (program->timeout_ms) {
    uint64_t hard = started + (uint64_t)program->timeout_ms * 1000000u;
    if (!deadline || hard < deadline) deadline = hard;
  }
  brt_status status = BRT_OK;
  char *json = brt_value_to_json(params, 0);
  if (!json) {
    brt_status code = _brt_null_status("brt_value_to_json");
    status = brt_error_wrap(code, BRT_ORIGIN_C, NULL,
                            "the params of program \"%s\" cannot be written as JSON: %s",
                            program->program_name, brt_error_message(brt_last_error()));
  }
  brt_call_dir dir;
  bool sandbox_as_root = program->isolation == BRT_ISOLATION_SANDBOX && geteuid() == 0;
  bool have_dir = false;
  if (status == BRT_OK) {
    status = _brt_isolation_call_dir_create(&dir, sandbox_as_root);
    have_dir = status == BRT_OK;
  }
  if (status == BRT_OK)
    status = run_once(program, &dir, json, strlen(json), started, deadline, result);
  if (have_dir) {
    /* The call's own error comes first; a directory left behind is
     * reported only when the call succeeded. */
    brt_error *error = status != BRT_OK ? brt_error_take() : NULL;
    brt_status removed = _brt_isolation_call_dir_remove(&dir);
    if (error) {
      brt_error_restore(error);
    } else if (removed != BRT_OK) {
      brt_value_release(*result);
      *result = NULL;
      status = removed;
    }
  }
  if (json) brt_release(json);
  pthread_setcancelstate(cancel_state, NULL);
  return status;
}
