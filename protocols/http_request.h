#pragma once

// What a request head means: its framing (Content-Length or chunked, with the request-smuggling
// defenses of RFC 9112 §6), its connection persistence, and which resource and method it asks
// for. Turns the parser's views into plain values the handler keeps after the head's bytes are
// gone, or into the error status that answers it.

#include <cstdint>
#include <optional>

#include "protocols/http_parser.h"

namespace srv::http {

/// The error answers srv gives; every one closes the connection.
enum class Error {
  k400BadRequest,
  k404NotFound,
  k405GetHeadOnly,  // Allow: GET, HEAD
  k405PostOnly,     // Allow: POST
  k408Timeout,
  k413TooLarge,
  k417Expectation,
  k431HeadTooLarge,
  k501NotImplemented,
  k505Version,
  kCount,  ///< how many there are; not an error
};

enum class Method { kGet, kHead, kPost };
enum class Route { kRoot, kHealthz, kEcho };
enum class BodyKind { kNone, kLength, kChunked };

/// A request head reduced to values (no views into the input).
struct RequestPlan {
  std::optional<Error> error;  ///< set: answer it and close; the other fields may be partial
  bool head_method = false;    ///< HEAD: an answer without a body (also for an error)
  bool http10 = false;
  bool keep_alive = true;        ///< the connection persists after the answer
  bool expect_continue = false;  ///< send 100 Continue before reading the body
  Method method = Method::kGet;
  Route route = Route::kRoot;
  BodyKind body = BodyKind::kNone;
  std::uint64_t content_length = 0;  ///< for BodyKind::kLength
};

/// Decides what `head` asks for. Checks, in order: version (505), framing and Host (400, or 501
/// for a transfer coding srv lacks), method (501), target (400), resource (404), method on the
/// resource (405), Content-Length over `max_body_bytes` (413), Expect (417). Pure function.
RequestPlan analyze_request(const RequestHead& head, std::uint64_t max_body_bytes);

}  // namespace srv::http
