#pragma once

// Encoding RESP2 replies. Every function appends one complete reply (or, for array_header, the
// header of one) to a connection's output Buffer; none keeps state, so they are safe from any
// thread or process.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/buffer.h"

namespace srv::resp {

/// `+text\r\n`. `text` must not hold CR or LF (simple strings cannot carry them).
void simple(Buffer& out, std::string_view text);

/// `-text\r\n`. CR and LF in `text` become spaces, as Redis does, so a message that quotes
/// client bytes cannot break the reply stream. `text` starts with the error code ("ERR ...").
void error(Buffer& out, std::string_view text);

/// `:n\r\n`.
void integer(Buffer& out, std::int64_t n);

/// `$len\r\nbytes\r\n`; any bytes.
void bulk(Buffer& out, std::string_view bytes);

/// `$-1\r\n`: the RESP2 null (GET of a missing key).
void null_bulk(Buffer& out);

/// `*-1\r\n`: the RESP2 null array (LPOP key count on a missing key).
void null_array(Buffer& out);

/// `*n\r\n`; the caller appends the `n` elements after it.
void array_header(Buffer& out, std::size_t n);

/// `+OK\r\n`, the most common reply.
void ok(Buffer& out);

}  // namespace srv::resp
