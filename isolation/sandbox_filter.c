/* The last step of entering the sandbox (sandbox.h): no capabilities, no new
 * privileges, and a seccomp filter.
 *
 * The two layers cover each other. Without capabilities, the sandbox's root
 * cannot mount, remount its read-only file system writable, or configure its
 * network namespace, even through a system call newer than this filter
 * (open_tree_attr, say). The filter refuses what needs no capability at all
 * (unshare of a user namespace, ptrace of a sibling, keyrings, io_uring) and,
 * for clarity, the mount family too. */
#include "sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Refused with EPERM. */
static const char *const refused[] = {
    /* reading or steering other processes */
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    /* changing the file system's shape */
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr", "open_by_handle_at",
    /* leaving or making namespaces (clone is handled by its flags below) */
    "unshare", "setns",
    /* the kernel's own facilities */
    "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "keyctl", "add_key", "request_key", "userfaultfd",
    /* io_uring performs socket and file operations that this filter never sees */
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

/* The namespace flags of clone(2); CLONE_NEWTIME shares its bit with the
 * exit signal there and exists only for clone3 and unshare, both refused. */
static const unsigned long namespace_flags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                                CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};

/* Empties the bounding and ambient sets (so no exec'd program regains a
 * capability, even as uid 0) and then the process's own sets. */
static int drop_capabilities(char *why, size_t size) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return _brt_sandbox_fail(why, size, "dropping capability %d from the bounding set: %s", cap, strerror(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return _brt_sandbox_fail(why, size, "clearing the ambient capabilities: %s", strerror(errno));
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {{0}};
  if (syscall(SYS_capset, &header, none) != 0)
    return _brt_sandbox_fail(why, size, "dropping the capabilities: %s", strerror(errno));
  return 0;
}

/* Adds the rules; returns 0 or a negative errno (libseccomp's convention). */
static int add_rules(scmp_filter_ctx ctx, const char **failed) {
  int rc;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    *failed = refused[i];
    int nr = seccomp_syscall_resolve_name(refused[i]);
    if (nr == __NR_SCMP_ERROR) return -ENOENT;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0) return rc;
  }
  *failed = "clone";
  for (size_t i = 0; i < sizeof namespace_flags / sizeof *namespace_flags; i++) {
    unsigned long flag = namespace_flags[i];
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) < 0)
      return rc;
  }
  /* clone3 passes its flags in memory, out of the filter's sight; ENOSYS
   * makes the C library fall back to clone, whose flags the rules above see. */
  *failed = "clone3";
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0) return rc;
  /* Only local sockets: the network namespace is empty, and this also keeps
   * netlink and other families' kernel code out of reach. The comparison is
   * on 64 bits: the C library passes the int family sign-extended, and
   * anything else in the upper bits is refused, the safe side. */
  *failed = "socket";
  struct scmp_arg_cmp not_unix = {.arg = 0, .op = SCMP_CMP_NE, .datum_a = AF_UNIX, .datum_b = 0};
  return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &not_unix);
}

static int load_filter(char *why, size_t size) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return _brt_sandbox_fail(why, size, "seccomp_init failed (out of memory?)");
  const char *failed = "";
  /* A system call of another ABI (int 0x80 on x86-64) would bypass the
   * rules, which are written for the native one: it kills the process. */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc == 0) rc = add_rules(ctx, &failed);
  if (rc < 0) {
    seccomp_release(ctx);
    return _brt_sandbox_fail(why, size, "building the seccomp filter (rule for %s): %s", failed,
                             rc == -ENOENT ? "libseccomp does not know this system call" : strerror(-rc));
  }
  rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc < 0) return _brt_sandbox_fail(why, size, "loading the seccomp filter: %s", strerror(-rc));
  return 0;
}

int _brt_sandbox_restrict(char *why, size_t why_size) {
  if (drop_capabilities(why, why_size) != 0) return -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return _brt_sandbox_fail(why, why_size, "setting no_new_privs: %s", strerror(errno));
  return load_filter(why, why_size);
}
