/* MemoryMapper: zero-copy sharing of a block, copies into another type,
 * file and memfd mappings (MAPPED) and memfd-backed blocks (SHARED).
 * SHARED blocks up to 64 KiB come from the shared arena (shared.c); larger
 * ones, and MAPPED blocks, are single-block segments, so brt_release,
 * brt_owns and brt_block_info_get treat them like every other block. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *brt_map_share(const void *p) {
  block_ref ref;
  if (_brt_mem_resolve(p, "brt_map_share", &ref) != BRT_OK) return NULL;
  heap *h = _brt_mem_heap_get();
  if (!h) return NULL;
  uint32_t word;
  if (_brt_mem_retain_word(p, &ref, META_SHARED, "brt_map_share", &word) != BRT_OK) return NULL;
  stat_add_u(&h->stats.shares, 1);
  if (!(word & META_SHARED)) stat_add_i(&h->stats.active_shares, 1);
  return (void *)p;
}

void *brt_map_copy(const void *p, brt_mem_type to) {
  block_ref ref;
  if (_brt_mem_resolve(p, "brt_map_copy", &ref) != BRT_OK) return NULL;
  if ((unsigned)to >= BRT_MEM_TYPE_COUNT || to == BRT_MEM_MAPPED) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_map_copy: target type %u must be BRT_MEM_C_HEAP, BRT_MEM_RUST_HEAP, "
                  "BRT_MEM_CPP_HEAP or BRT_MEM_SHARED", (unsigned)to);
    return NULL;
  }
  size_t size = _brt_mem_block_requested(&ref);
  size = asan_live_bytes(p, size); /* ASan: the exact request, even untracked */
  size_t align = ref.pg->block_align < OS_PAGE ? ref.pg->block_align : OS_PAGE;
  void *copy = to == BRT_MEM_SHARED ? brt_alloc_shared(size) : brt_alloc(size, align, to, 0);
  if (!copy) return NULL;
  memcpy(copy, p, size);
  return copy;
}

/* A SHARED block: from the shared arena when its class fits a page, else
 * its own memfd, mapped shared after a single-block segment's header. */
void *_brt_mem_alloc_shared_block(size_t size, size_t align, size_t request) {
  heap *h = _brt_mem_heap_get();
  if (!h) return NULL;
  size_t bin = _brt_mem_bin_for(size, align);
  if (bin < BIN_COUNT) return _brt_mem_shared_arena_alloc(h, bin, request);
  /* Sealable: whoever hands the fd to another process can seal it against
   * shrinking (F_SEAL_SHRINK), and the allocator never shrinks it. */
  int fd = memfd_create("bridgert-shared", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  size_t length = (size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  if (fd < 0 || ftruncate(fd, (off_t)length) != 0) {
    int saved = errno;
    if (fd >= 0) close(fd);
    brt_error_set_os(BRT_E_OUT_OF_MEMORY, saved, "brt_alloc_shared: memfd of %zu bytes failed: %s",
                     length, strerror(saved));
    return NULL;
  }
  segment *s = _brt_mem_single_segment_new(SEGMENT_SHARED, size, align, fd, request);
  if (!s) {
    close(fd);
    return NULL;
  }
  MEM_CHECK1_SINGLE(s, size);
  page *pg = &s->pages[0];
  _brt_mem_page_apply_flags(pg);
  _brt_mem_block_start(h, pg, (void *)pg->block_start, request, BRT_MEM_SHARED);
  return (void *)pg->block_start;
}

void *brt_alloc_shared(size_t size) {
  if (size == 0 || size > BRT_ALLOC_SIZE_MAX) {
    brt_error_set(size ? BRT_E_OUT_OF_MEMORY : BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_alloc_shared: size %zu is not between 1 and %zu", size,
                  (size_t)BRT_ALLOC_SIZE_MAX);
    return NULL;
  }
  _brt_mem_init();
  /* A block of a page or more is page aligned, so its fd offset is a
   * multiple of the page size and it can be mapped exactly; a smaller one
   * is aligned to a cache line. */
  return _brt_mem_alloc_shared_block(size, size >= OS_PAGE ? OS_PAGE : SHARED_MIN_BLOCK, size);
}

brt_status brt_shared_fd(const void *p, int *fd, uint64_t *offset) {
  if (!fd || !offset)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_shared_fd: %s is NULL", !fd ? "fd" : "offset");
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, "brt_shared_fd", &ref);
  if (status != BRT_OK) return status;
  if (ref.seg->kind != SEGMENT_SHARED && ref.seg->kind != SEGMENT_SHARED_ARENA)
    return brt_error_set(BRT_E_TYPE_MISMATCH, BRT_ORIGIN_C, NULL,
                         "brt_shared_fd: the block at %p is not a SHARED block (allocate it with "
                         "brt_alloc_shared)", p);
  *fd = ref.seg->fd;
  /* An arena segment's memfd starts at SHARED_AREA_OFFSET in the segment;
   * a single-block segment's memfd holds just the block. */
  *offset = ref.seg->kind == SEGMENT_SHARED_ARENA
                ? (uint64_t)((uintptr_t)p - (uintptr_t)ref.seg - SHARED_AREA_OFFSET)
                : 0;
  return BRT_OK;
}

/* What kind of file a non-regular fd is, for messages. */
static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a pipe or FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

/* An IO error of brt_map_file naming the path (in the message and as the
 * error's path), with `cause` (adopted, may be NULL) under it. */
static void *file_error_caused(brt_status code, int err, const char *path, const char *what,
                               brt_error *cause) {
  brt_error_info info = {.struct_size = sizeof info, .code = code,
                         .origin = err ? BRT_ORIGIN_OS : BRT_ORIGIN_C, .os_code = err,
                         .os_category = err ? "generic" : NULL, .path1 = path, .cause = cause};
  char message[BRT_ERROR_MESSAGE_MAX];
  snprintf(message, sizeof message, "brt_map_file: \"%s\": %s%s%s", path, what,
           err ? ": " : "", err ? strerror(err) : "");
  info.message = message;
  brt_error_record(&info);
  return NULL;
}

static void *file_error(int err, const char *path, const char *what) {
  return file_error_caused(BRT_E_IO, err, path, what, NULL);
}

/* The allocator refused (no heap, the limit, the OS refused the mapping —
 * a /sys attribute cannot be mapped): its error, which does not know the
 * path, becomes the cause of one that names it, with the same code. */
static void *map_failed(const char *path) {
  brt_error *cause = brt_error_take();
  int err = cause ? brt_error_os_code(cause) : 0;
  brt_status code = cause ? brt_error_code(cause) : BRT_E_IO;
  brt_error_info info = {.struct_size = sizeof info, .code = code,
                         .origin = err ? BRT_ORIGIN_OS : BRT_ORIGIN_C, .os_code = err,
                         .os_category = err ? "generic" : NULL, .path1 = path, .cause = cause};
  /* The cause's message says what failed, errno text included. */
  char message[BRT_ERROR_MESSAGE_MAX];
  snprintf(message, sizeof message, "brt_map_file: \"%s\": cannot map it: %s", path,
           cause ? brt_error_message(cause) : "the allocator refused");
  info.message = message;
  brt_error_record(&info);
  return NULL;
}

void *brt_map_file(const char *path, size_t *len, unsigned flags) {
  if (!path || !*path || !len || flags) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_map_file: %s", !path ? "path is NULL" : !*path ? "path is empty"
                                      : !len ? "len is NULL" : "flags must be 0");
    return NULL;
  }
  _brt_mem_init();
  heap *h = _brt_mem_heap_get();
  if (!h) return map_failed(path);
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer, for
   * ever; O_NOCTTY: a terminal does not become the process's. Both change
   * nothing for the regular files that are mapped; everything else is
   * refused after fstat, before any read or mmap. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return file_error(errno, path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return file_error(err, path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return file_error(EISDIR, path, "is a directory, not a file");
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    char what[96];
    snprintf(what, sizeof what, "is %s, not a regular file; only regular files can be mapped",
             file_kind(st.st_mode));
    return file_error(EINVAL, path, what);
  }
  if (st.st_size == 0) {
    close(fd);
    return file_error(EINVAL, path, "is empty; an empty file cannot be mapped");
  }
  segment *s = _brt_mem_single_segment_new(SEGMENT_MAPPED, (size_t)st.st_size, OS_PAGE, fd,
                                           (size_t)st.st_size);
  close(fd); /* the mapping keeps the file */
  if (!s) return map_failed(path);
  MEM_CHECK1_SINGLE(s, (size_t)st.st_size);
  page *pg = &s->pages[0];
  _brt_mem_page_apply_flags(pg);
  _brt_mem_block_start(h, pg, (void *)pg->block_start, (size_t)st.st_size, BRT_MEM_MAPPED);
  atomic_fetch_add(&_brt_mem.mapped_files, 1);
  *len = (size_t)st.st_size;
  return (void *)pg->block_start;
}

void *brt_map_fd(int fd, uint64_t offset, size_t len, unsigned flags) {
  static const char fn[] = "brt_map_fd";
  if (fd < 0 || len == 0 || (flags & ~(unsigned)BRT_MAP_WRITABLE)) {
    if (fd < 0)
      brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: fd %d is not a descriptor",
                    fn, fd);
    else if (len == 0)
      brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                    "%s: len is 0; map at least 1 byte", fn);
    else
      brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                    "%s: flags 0x%x has unknown bits 0x%x (known: BRT_MAP_WRITABLE)", fn, flags,
                    flags & ~(unsigned)BRT_MAP_WRITABLE);
    return NULL;
  }
  /* off_t is signed: the range must end at or below INT64_MAX, which also
   * keeps the page-rounded span far from overflowing size_t. */
  if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - offset) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: offset %llu + len %zu overflows a file offset", fn,
                  (unsigned long long)offset, len);
    return NULL;
  }
  int access_mode = fcntl(fd, F_GETFL);
  if (access_mode < 0) {
    int err = errno;
    brt_error_set_os(BRT_E_INVALID_ARGUMENT, err, "%s: fd %d is not an open descriptor: %s", fn,
                     fd, strerror(err));
    return NULL;
  }
  access_mode &= O_ACCMODE;
  bool writable = (flags & BRT_MAP_WRITABLE) != 0;
  if (access_mode == O_WRONLY || (writable && access_mode != O_RDWR)) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: fd %d is open %s, but a %s mapping needs it open %s", fn, fd,
                  access_mode == O_WRONLY ? "write-only" : "read-only",
                  writable ? "writable (BRT_MAP_WRITABLE)" : "read-only",
                  writable ? "read-write (O_RDWR)" : "for reading");
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    brt_error_set_os(BRT_E_IO, err, "%s: cannot stat fd %d: %s", fn, fd, strerror(err));
    return NULL;
  }
  /* A memfd is a regular file (of tmpfs); pipes, sockets, directories and
   * devices are refused rather than mapped or faulted on. */
  if (!S_ISREG(st.st_mode)) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: fd %d is %s; only regular files and memfds can be mapped", fn, fd,
                  file_kind(st.st_mode));
    return NULL;
  }
  /* Touching a mapped page beyond the end of the file raises SIGBUS, so the
   * whole range must lie inside the file now. */
  if (offset + len > (uint64_t)st.st_size) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: the range [%llu, %llu) lies beyond the end of fd %d, which holds %lld "
                  "bytes", fn, (unsigned long long)offset, (unsigned long long)(offset + len), fd,
                  (long long)st.st_size);
    return NULL;
  }
  _brt_mem_init();
  heap *h = _brt_mem_heap_get();
  if (!h) return NULL;
  segment *s = _brt_mem_fd_segment_new(fd, offset, len, writable);
  if (!s) return NULL;
  MEM_CHECK1_SINGLE(s, len);
  page *pg = &s->pages[0];
  _brt_mem_page_apply_flags(pg);
  _brt_mem_block_start(h, pg, (void *)pg->block_start, len, BRT_MEM_MAPPED);
  atomic_fetch_add(&_brt_mem.mapped_files, 1);
  return (void *)pg->block_start;
}
