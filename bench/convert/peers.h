/* The C++ peers of bench/run convert (peers.cpp): simdjson and
 * std::to_chars. BENCH_HAVE_SIMDJSON is 0 when the build found no
 * simdjson; the simdjson subjects are then left out of the run. */
#ifndef BENCH_CONVERT_PEERS_H
#define BENCH_CONVERT_PEERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if BENCH_HAVE_SIMDJSON
/* A copy of the text with simdjson's padding, made outside the clock. */
void *peer_padded(const char *text, size_t len);
void peer_padded_free(void *padded);
/* On-demand: the matrix's numbers into out[]; returns how many (0 on an error). */
size_t peer_simdjson_matrix(void *padded, double *out, size_t capacity);
/* DOM, then every field of every record read; returns the records (0 on
 * an error) and a checksum of what was read, so nothing is skipped. */
size_t peer_simdjson_records(void *padded, uint64_t *checksum);
#endif

/* The matrix as compact JSON text, one std::to_chars (shortest round trip)
 * per element; returns the length (0 when `capacity` is too small). */
size_t peer_to_chars_matrix(const double *data, size_t rows, size_t cols, char *out, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
