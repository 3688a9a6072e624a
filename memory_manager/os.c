/* The OS layer: every mmap, munmap, madvise and clock call of the memory
 * manager. Error contract: a function returns NULL or false with errno set
 * and records nothing; the caller records a brt_error that names what it
 * was doing. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Maps `size` bytes of private anonymous memory aligned to `align` (a power
 * of two >= OS_PAGE), lazily committed. Over-maps by `align` and trims. */
void *_brt_os_map_aligned(size_t size, size_t align) { return _brt_os_map_aligned_at(size, align, 0); }

/* The same, but it is the address `skew` bytes into the mapping (a
 * multiple of OS_PAGE below `align`) that is aligned to `align`. */
void *_brt_os_map_aligned_at(size_t size, size_t align, size_t skew) {
  if (size > SIZE_MAX - align) {
    errno = ENOMEM;
    return NULL;
  }
  size_t reserve = size + align;
  char *raw = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (raw == MAP_FAILED) return NULL;
  /* The first address at or above raw whose skewed address is aligned. */
  uintptr_t start = (((uintptr_t)raw + skew + align - 1) & ~(uintptr_t)(align - 1)) - skew;
  size_t head = start - (uintptr_t)raw, tail = reserve - head - size;
  if (head) munmap(raw, head);
  if (tail) munmap((char *)start + size, tail);
  if (start >> ADDRESS_BITS) { /* beyond the segment map: unusable */
    munmap((void *)start, size);
    errno = ENOMEM;
    return NULL;
  }
  return (void *)start;
}

/* Replaces [addr, addr + len) of one of our mappings by the fd from
 * `offset` (a multiple of the page size): private and read-only (a file
 * brt_map_file maps), or shared, read-only or writable (a memfd, whose
 * bytes other processes see). */
bool _brt_os_map_fd_fixed(void *addr, size_t len, int fd, uint64_t offset, os_fd_map how) {
  int prot = how == OS_FD_SHARED_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;
  int flags = (how == OS_FD_PRIVATE_READ ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED;
  void *got = mmap(addr, len, prot, flags, fd, (off_t)offset);
  return got != MAP_FAILED;
}

bool _brt_os_unmap(void *p, size_t size) { return munmap(p, size) == 0; }

/* Gives the physical pages back; the range stays mapped and reads as zero. */
bool _brt_os_decommit(void *p, size_t size) { return madvise(p, size, MADV_DONTNEED) == 0; }

/* Frees the memory behind [offset, offset + len) of a memfd: the range
 * reads as zero afterwards in every process that maps it. MADV_DONTNEED
 * would only drop this process's page-table entries of a shared mapping,
 * not the memory. */
bool _brt_os_punch_hole(int fd, uint64_t offset, size_t len) {
  return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) == 0;
}

