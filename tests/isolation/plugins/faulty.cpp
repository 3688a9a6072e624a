// A plugin that fails in every way a worker must survive, for the isolation
// tests. Each algorithm does one thing:
//   echo      value   returns its params
//   pid       value   the worker's process id (tells a restart apart)
//   segv      value   writes through a null pointer (a real SIGSEGV)
//   abort     value   std::abort()
//   exit      value   std::exit(3) in the middle of a call
//   hang      value   loops until it is killed
//   oom       value   allocates 1 MiB blocks until std::bad_alloc
//   throws    value   throws std::out_of_range nested in a std::runtime_error
//   sum       value   the sum of an f64 tensor's elements ({"t": tensor})
//   fill      value   a new SHARED f64 tensor of n elements set to 1.5
//   add       native  i64(i64,i64)
//   dot       native  f64(ptr,ptr,u64)
//   scale     native  void(ptr,u64,f64): multiplies in place (the host sees it)
//   length    native  u64(str)
//   fork_bomb value   forks until fork fails; returns how many it made
//   probe     value   what the sandbox allows: {"inet": errno of socket(AF_INET),
//                     "write_root": errno of creating a file in /, "write_plugin_dir":
//                     errno of creating one beside the plugin ({"dir": path}),
//                     "tmp": errno of creating one in /tmp (0: it worked)}
#include <bridgert/plugin.hpp>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/mman.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

brt_value *echo(const brt_value *params) {
  brt_value_retain(params);
  return const_cast<brt_value *>(params);
}

brt_value *pid(const brt_value *) { return brt_value_int(getpid()); }

brt_value *segv(const brt_value *) {
  // A page mapped without access: the store faults in the hardware (a real
  // SIGSEGV), where a store through a null pointer would be undefined
  // behaviour that a compiler or a sanitizer may handle first.
  void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int *>(page) = 1;
  return brt_value_null();
}

brt_value *do_abort(const brt_value *) { std::abort(); }

brt_value *do_exit(const brt_value *) { std::exit(3); }

brt_value *hang(const brt_value *) {
  volatile uint64_t spins = 0;
  for (;;) spins = spins + 1;
}

brt_value *oom(const brt_value *) {
  std::vector<char *> blocks;
  for (;;) {
    char *block = new char[1u << 20];
    std::memset(block, 1, 1u << 20);
    blocks.push_back(block);
  }
}

brt_value *throws(const brt_value *) {
  try {
    throw std::out_of_range("index 7 is past the end (size 3)");
  } catch (...) {
    std::throw_with_nested(std::runtime_error("faulty: the lookup failed"));
  }
}

brt_value *sum(const brt_value *params) {
  const brt_value *t = brt::check(brt_value_object_get(params, "t", 1));
  brt_tensor_info info{};
  info.struct_size = sizeof info;
  brt::check(brt_tensor_info_get(t, &info));
  const double *data = static_cast<const double *>(brt_tensor_data(t));
  size_t count = 1;
  for (size_t i = 0; i < info.ndim; i++) count *= info.shape[i];
  double total = 0;
  for (size_t i = 0; i < count; i++) total += data[i];
  return brt_value_float(total);
}

brt_value *fill(const brt_value *params) {
  int64_t n = 0;
  brt::check(brt_value_get_int(brt::check(brt_value_object_get(params, "n", 1)), &n));
  void *block = brt::check(brt_alloc_shared(static_cast<size_t>(n) * sizeof(double)));
  double *data = static_cast<double *>(block);
  for (int64_t i = 0; i < n; i++) data[i] = 1.5;
  size_t shape[1] = {static_cast<size_t>(n)};
  brt_value *tensor = brt_tensor_wrap(block, BRT_DTYPE_F64, 1, shape, nullptr);
  brt_release(block); /* the tensor holds its own reference */
  return brt::check(tensor);
}

int64_t add(int64_t a, int64_t b) { return a + b; }

double dot(const double *a, const double *b, uint64_t n) {
  double total = 0;
  for (uint64_t i = 0; i < n; i++) total += a[i] * b[i];
  return total;
}

void scale(double *a, uint64_t n, double by) {
  for (uint64_t i = 0; i < n; i++) a[i] *= by;
}

uint64_t length(const char *text) { return std::strlen(text); }

brt_value *fork_bomb(const brt_value *) {
  int64_t made = 0;
  for (int i = 0; i < 100000; i++) {
    pid_t child = fork();
    if (child < 0) break;
    if (child == 0) {
      pause();
      _exit(0);
    }
    made++;
  }
  return brt_value_int(made);
}

// 0 when `attempt` (a descriptor or -1) worked, else its errno.
int outcome(int fd) {
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

int create_in(const std::string &dir) {
  std::string path = dir + "/faulty-probe-" + std::to_string(getpid());
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  int result = outcome(fd);
  if (result == 0) unlink(path.c_str());
  return result;
}

brt_value *probe(const brt_value *params) {
  const brt_value *dir = brt_value_object_get(params, "dir", 3);
  const char *text = nullptr;
  size_t len = 0;
  std::string plugin_dir = dir && brt_value_get_string(dir, &text, &len) == BRT_OK
                               ? std::string(text, len) : std::string("/nonexistent");
  brt_value *out = brt::check(brt_value_object(4));
  auto put = [&](const char *key, int value) {
    brt_value *number = brt_value_int(value);
    brt_value_object_set(out, key, std::strlen(key), number);
    brt_value_release(number);
  };
  put("inet", outcome(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)));
  put("write_root", create_in(""));
  put("write_plugin_dir", create_in(plugin_dir));
  put("tmp", create_in("/tmp"));
  return out;
}

}  // namespace

BRT_PLUGIN(rt) {
  rt.value("echo", "1.0.0", nullptr, &echo);
  rt.value("pid", "1.0.0", nullptr, &pid);
  rt.value("segv", "1.0.0", nullptr, &segv);
  rt.value("abort", "1.0.0", nullptr, &do_abort);
  rt.value("exit", "1.0.0", nullptr, &do_exit);
  rt.value("hang", "1.0.0", nullptr, &hang);
  rt.value("oom", "1.0.0", nullptr, &oom);
  rt.value("throws", "1.0.0", nullptr, &throws);
  rt.value("sum", "1.0.0", R"({"type": "object", "required": ["t"]})", &sum);
  rt.value("fill", "1.0.0", R"({"type": "object", "required": ["n"]})", &fill);
  rt.value("fork_bomb", "1.0.0", nullptr, &fork_bomb);
  rt.value("probe", "1.0.0", nullptr, &probe);
  rt.native<&add>("add", "1.0.0", "i64(i64,i64)");
  rt.native<&dot>("dot", "1.0.0", "f64(ptr,ptr,u64)");
  rt.native<&scale>("scale", "1.0.0", "void(ptr,u64,f64)");
  rt.native<&length>("length", "1.0.0", "u64(str)");
}
