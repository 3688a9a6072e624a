/* Wire messages built by hand in the codec's tests, with the primitives:
 *   MESSAGE(m, TAG(ARRAY), U64(1), TAG(NULL));  then use m, free it.
 * Inside MESSAGE the arguments are comma-separated appends. */
#ifndef BRT_TEST_WIRE_MESSAGES_H
#define BRT_TEST_WIRE_MESSAGES_H

#include "wire.h"

#define MESSAGE(name, ...)                                                                      \
  brt_wire_buf name = {0};                                                                      \
  do {                                                                                          \
    brt_wire_buf *m_ = &name;                                                                   \
    __VA_ARGS__;                                                                                \
    assert_false(m_->failed);                                                                   \
  } while (0)
#define U8(v) _brt_isolation_wire_put_u8(m_, (v))
#define TAG(name) U8(BRT_WIRE_TAG_##name)
#define U32(v) _brt_isolation_wire_put_u32(m_, (v))
#define U64(v) _brt_isolation_wire_put_u64(m_, (v))
#define BYTES(d, n) _brt_isolation_wire_put_bytes(m_, (d), (n))
#define STR(s) _brt_isolation_wire_put_str(m_, (s))

#endif /* BRT_TEST_WIRE_MESSAGES_H */
