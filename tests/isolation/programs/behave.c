/* The external program of tests/isolation/test_programs.c: one behaviour
 * per mode (argv[1]), each a way a program can succeed or misbehave.
 *
 *   files-ok        {"protocol":"files","params":<input.json>} to output/result.json
 *   stdio-ok        {"protocol":"stdio","params":<stdin>} to standard output
 *   env             the environment, working directory and open descriptors, as the result
 *   exit            two lines on standard error, then exit status 3
 *   segv            a real segmentation fault
 *   abort           abort()
 *   no-result       exit 0 without writing a result
 *   malformed       a result that is not JSON (line 3), files or stdio (argv[2])
 *   symlink PATH    output/result.json as a symbolic link to PATH
 *   hardlink PATH   output/result.json as a hard link to PATH
 *   fifo            output/result.json as a FIFO
 *   sleep-fork      starts a child, and both sleep for a minute
 *   big             65 MiB of JSON to output/result.json or standard output (argv[2])
 *   litter          files-ok, after leaving a tree 40 directories deep, a symbolic link
 *                   to /etc, a FIFO and a read-only directory in output/
 *   hog             allocates and touches 256 MiB; exit status 5 when it cannot
 *
 * Built without sanitizers: a sanitizer's runtime would intercept the
 * signals these modes raise, and LeakSanitizer cannot work in the sandbox
 * (ptrace is refused there). No JSON library: it copies the params as text. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char text[1 << 20];

static void die(const char *what) {
  fprintf(stderr, "behave: %s: %s\n", what, strerror(errno));
  exit(99);
}

/* $BRT_OUTPUT_DIR/<name> */
static const char *output_path(const char *name, char *buf, size_t size) {
  const char *dir = getenv("BRT_OUTPUT_DIR");
  if (!dir) die("BRT_OUTPUT_DIR is not set");
  snprintf(buf, size, "%s/%s", dir, name);
  return buf;
}

static size_t read_all(FILE *in) {
  size_t len = fread(text, 1, sizeof text - 1, in);
  text[len] = '\0';
  return len;
}

static void write_result(FILE *out, const char *protocol, size_t len) {
  while (len && (text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
  fprintf(out, "{\"protocol\":\"%s\",\"params\":%.*s}\n", protocol, (int)len, text);
}

static FILE *open_result(void) {
  char path[PATH_MAX];
  FILE *out = fopen(output_path("result.json", path, sizeof path), "w");
  if (!out) die("cannot create result.json");
  return out;
}

static void files_ok(void) {
  char path[PATH_MAX];
  const char *dir = getenv("BRT_INPUT_DIR");
  if (!dir) die("BRT_INPUT_DIR is not set");
  snprintf(path, sizeof path, "%s/input.json", dir);
  FILE *in = fopen(path, "r");
  if (!in) die("cannot open input.json");
  size_t len = read_all(in);
  fclose(in);
  FILE *out = open_result();
  write_result(out, "files", len);
  if (fclose(out) != 0) die("cannot write result.json");
}

static int open_descriptors(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int count = 0;
  for (struct dirent *item; (item = readdir(dir)) != NULL;)
    if (item->d_name[0] != '.') count++;
  closedir(dir);
  return count - 1; /* opendir's own */
}

static void environment(void) {
  extern char **environ;
  int count = 0;
  while (environ[count]) count++;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) die("getcwd");
  int descriptors = open_descriptors(); /* before the result's own */
  FILE *out = open_result();
  fprintf(out,
          "{\"PATH\":\"%s\",\"LANG\":\"%s\",\"HOME\":\"%s\",\"BRT_INPUT_DIR\":\"%s\","
          "\"BRT_OUTPUT_DIR\":\"%s\",\"variables\":%d,\"cwd\":\"%s\",\"descriptors\":%d}\n",
          getenv("PATH"), getenv("LANG"), getenv("HOME"), getenv("BRT_INPUT_DIR"),
          getenv("BRT_OUTPUT_DIR"), count, cwd, descriptors);
  if (fclose(out) != 0) die("cannot write result.json");
}

static void segfault(void) {
  signal(SIGSEGV, SIG_DFL);
  volatile char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) die("mmap");
  page[0] = 1; /* a write to a read-only page */
}

static void big(int to_stdout) {
  FILE *out = to_stdout ? stdout : open_result();
  fputs("[\"", out);
  static char chunk[65536];
  memset(chunk, 'x', sizeof chunk);
  for (int i = 0; i < 65 * 16; i++) fwrite(chunk, 1, sizeof chunk, out);
  fputs("\"]\n", out);
  fclose(out);
}

static void litter(void) {
  char path[PATH_MAX];
  if (chdir(output_path(".", path, sizeof path)) != 0) die("chdir");
  for (int depth = 0; depth < 40; depth++)
    if (mkdir("d", 0700) != 0 || chdir("d") != 0) die("mkdir");
  if (symlink("/etc", "etc") != 0 || mkfifo("fifo", 0600) != 0) die("symlink");
  if (mkdir("locked", 0700) != 0 || mkdir("locked/inner", 0700) != 0 || chmod("locked", 0500) != 0)
    die("locked");
  files_ok();
}

static void hog(void) {
  size_t size = (size_t)256 << 20;
  char *block = malloc(size);
  if (!block) {
    fputs("behave: out of memory: 256 MiB could not be allocated\n", stderr);
    exit(5);
  }
  memset(block, 1, size);
  free(block);
  fputs("behave: 256 MiB allocated\n", stderr);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  const char *arg = argc > 2 ? argv[2] : "";
  char path[PATH_MAX];
  if (strcmp(mode, "files-ok") == 0) {
    files_ok();
  } else if (strcmp(mode, "stdio-ok") == 0) {
    write_result(stdout, "stdio", read_all(stdin));
  } else if (strcmp(mode, "env") == 0) {
    environment();
  } else if (strcmp(mode, "exit") == 0) {
    fputs("behave: first complaint\nbehave: the input is wrong\n", stderr);
    return 3;
  } else if (strcmp(mode, "segv") == 0) {
    segfault();
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  } else if (strcmp(mode, "no-result") == 0) {
    return 0;
  } else if (strcmp(mode, "malformed") == 0) {
    FILE *out = strcmp(arg, "stdio") == 0 ? stdout : open_result();
    fputs("{\n  \"rows\": [1, 2],\n  \"oops\": [3,, 4]\n}\n", out);
    fclose(out);
  } else if (strcmp(mode, "symlink") == 0) {
    if (symlink(arg, output_path("result.json", path, sizeof path)) != 0) die("symlink");
  } else if (strcmp(mode, "hardlink") == 0) {
    if (link(arg, output_path("result.json", path, sizeof path)) != 0) die("link");
  } else if (strcmp(mode, "fifo") == 0) {
    if (mkfifo(output_path("result.json", path, sizeof path), 0600) != 0) die("mkfifo");
  } else if (strcmp(mode, "sleep-fork") == 0) {
    if (fork() < 0) die("fork");
    sleep(60);
  } else if (strcmp(mode, "big") == 0) {
    big(strcmp(arg, "stdio") == 0);
  } else if (strcmp(mode, "litter") == 0) {
    litter();
  } else if (strcmp(mode, "hog") == 0) {
    hog();
  } else {
    fprintf(stderr, "behave: unknown mode \"%s\"\n", mode);
    return 64;
  }
  return 0;
}
