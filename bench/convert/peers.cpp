/* The C++ peers of bench/run convert, behind a C interface (peers.h):
 * simdjson 3 (Debian's libsimdjson-dev) and C++17 std::to_chars.
 *
 * Each does the same work as the bridgert subject it is compared with:
 * parse_matrix's peer reads every number into a double array (on-demand
 * API), parse_records' peer builds simdjson's DOM and walks every field of
 * every record, print_matrix's peer writes the matrix's text with one
 * std::to_chars per element. The parser is kept between calls, as a
 * program that parses many texts would; the padded copy of the input is
 * made once, outside the clock. */
#include "peers.h"

#include <charconv>
#include <cstring>

#if BENCH_HAVE_SIMDJSON
#include <simdjson.h>

namespace {
simdjson::ondemand::parser &ondemand_parser() {
  static simdjson::ondemand::parser parser;
  return parser;
}
simdjson::dom::parser &dom_parser() {
  static simdjson::dom::parser parser;
  return parser;
}
} // namespace

extern "C" void *peer_padded(const char *text, size_t len) {
  return new simdjson::padded_string(text, len);
}

extern "C" void peer_padded_free(void *padded) { delete static_cast<simdjson::padded_string *>(padded); }

extern "C" size_t peer_simdjson_matrix(void *padded, double *out, size_t capacity) {
  size_t count = 0;
  simdjson::ondemand::document doc;
  if (ondemand_parser().iterate(*static_cast<simdjson::padded_string *>(padded)).get(doc)) return 0;
  simdjson::ondemand::array rows;
  if (doc.get_array().get(rows)) return 0;
  for (auto row : rows) {
    simdjson::ondemand::array cols;
    if (row.get_array().get(cols)) return 0;
    for (auto element : cols) {
      double number;
      if (element.get_double().get(number) || count == capacity) return 0;
      out[count++] = number;
    }
  }
  return count;
}

extern "C" size_t peer_simdjson_records(void *padded, uint64_t *checksum) {
  simdjson::dom::element root;
  if (dom_parser().parse(*static_cast<simdjson::padded_string *>(padded)).get(root)) return 0;
  simdjson::dom::array records;
  if (root.get_array().get(records)) return 0;
  size_t count = 0;
  uint64_t sum = 0;
  for (simdjson::dom::object record : records) {
    int64_t id;
    std::string_view name;
    double score;
    simdjson::dom::array tags;
    if (record["id"].get_int64().get(id) || record["name"].get_string().get(name) ||
        record["score"].get_double().get(score) || record["tags"].get_array().get(tags))
      return 0;
    sum += (uint64_t)id + name.size() + (score > 0);
    for (auto tag : tags) {
      std::string_view text;
      if (tag.get_string().get(text)) return 0;
      sum += text.size();
    }
    count++;
  }
  *checksum = sum;
  return count;
}
#endif

extern "C" size_t peer_to_chars_matrix(const double *data, size_t rows, size_t cols, char *out, size_t capacity) {
  char *at = out, *end = out + capacity;
  *at++ = '[';
  for (size_t r = 0; r < rows; r++) {
    if (r) *at++ = ',';
    *at++ = '[';
    for (size_t c = 0; c < cols; c++) {
      if (c) *at++ = ',';
      if (end - at < 40) return 0;
      at = std::to_chars(at, end, data[r * cols + c]).ptr;
    }
    *at++ = ']';
  }
  *at++ = ']';
  return (size_t)(at - out);
}
