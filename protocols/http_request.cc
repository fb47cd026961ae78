#include "protocols/http_request.h"

#include <charconv>
#include <optional>
#include <string_view>

namespace srv::http {
namespace {

std::optional<Method> method_of(std::string_view name) {
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is an unknown method.
  if (name == "GET") return Method::kGet;
  if (name == "HEAD") return Method::kHead;
  if (name == "POST") return Method::kPost;
  return std::nullopt;
}

// The path of origin-form ("/p?q") or absolute-form ("http://host/p?q") targets; nullopt for
// anything else ("*", authority-form, garbage). The query plays no part in routing.
std::optional<std::string_view> path_of(std::string_view target) {
  if (!target.starts_with('/')) {
    std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    std::string_view scheme = target.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
    target.remove_prefix(scheme_end + 3);
    std::size_t path_start = target.find_first_of("/?");
    target = path_start == std::string_view::npos ? std::string_view() : target.substr(path_start);
    if (!target.starts_with('/')) return std::string_view("/");
  }
  return target.substr(0, target.find('?'));
}

// Content-Length, possibly repeated or a list ("5, 5"): every value must be the same number.
bool read_content_length(std::string_view value, std::optional<std::uint64_t>& length) {
  return for_each_element(value, [&](std::string_view element) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(element.data(), element.data() + element.size(), n);
    // Digits only: no sign, no spaces inside, not empty ("Content-Length: ," is malformed).
    if (element.empty() || ec != std::errc() || end != element.data() + element.size())
      return false;
    if (length && *length != n) return false;
    length = n;
    return true;
  });
}

// Transfer-Encoding codings in order, across repeated fields.
struct Codings {
  int count = 0;
  int chunked = 0;
  bool last_is_chunked = false;
  bool malformed = false;
};

void read_transfer_encoding(std::string_view value, Codings& codings) {
  for_each_element(value, [&](std::string_view element) {
    if (element.empty()) return true;  // empty list elements are ignored (RFC 9110 §5.6.1)
    std::string_view name = element.substr(0, element.find(';'));
    if (!is_token(trim_ows(name))) {
      codings.malformed = true;
      return false;
    }
    // "chunked" takes no parameters, so "chunked;x=1" is some other, unknown coding.
    bool chunked = iequals(element, "chunked");
    ++codings.count;
    codings.chunked += chunked ? 1 : 0;
    codings.last_is_chunked = chunked;
    return true;
  });
}

std::optional<Route> route_of(std::string_view path) {
  if (path == "/") return Route::kRoot;
  if (path == "/healthz") return Route::kHealthz;
  if (path == "/echo") return Route::kEcho;
  return std::nullopt;
}

}  // namespace

RequestPlan analyze_request(const RequestHead& head, std::uint64_t max_body_bytes) {
  RequestPlan plan;
  std::optional<Method> method = method_of(head.method);
  plan.head_method = method == Method::kHead;
  if (head.version_major != 1) {
    plan.error = Error::k505Version;
    return plan;
  }
  plan.http10 = head.version_minor == 0;

  int hosts = 0;
  bool has_te = false;
  bool bad_length = false;
  std::optional<std::uint64_t> length;
  Codings codings;
  std::string_view expect;
  bool close = false;
  bool keep_alive = false;
  for (const Header& h : head.headers()) {
    if (iequals(h.name, "Host")) {
      ++hosts;
    } else if (iequals(h.name, "Content-Length")) {
      bad_length = bad_length || !read_content_length(h.value, length);
    } else if (iequals(h.name, "Transfer-Encoding")) {
      has_te = true;
      read_transfer_encoding(h.value, codings);
    } else if (iequals(h.name, "Connection")) {
      for_each_element(h.value, [&](std::string_view option) {
        close = close || iequals(option, "close");
        keep_alive = keep_alive || iequals(option, "keep-alive");
        return true;
      });
    } else if (iequals(h.name, "Expect")) {
      expect = h.value;
    }
  }
  // HTTP/1.1 persists unless told otherwise; HTTP/1.0 only when asked. `close` always wins.
  plan.keep_alive = !close && (!plan.http10 || keep_alive);

  // Framing first: a request whose length is ambiguous is a smuggling attempt or a broken
  // client, and nothing after it on the connection can be trusted.
  if (bad_length || (has_te && length) || (has_te && plan.http10) || codings.malformed ||
      (has_te && codings.count == 0) || hosts > 1 || (hosts == 0 && !plan.http10)) {
    plan.error = Error::k400BadRequest;
    return plan;
  }
  if (has_te) {
    // RFC 9112 §6.3: chunked not last means the length cannot be known: 400, MUST. Chunked
    // twice is forbidden. Chunked last after other codings (gzip, chunked) is well-formed but
    // uses a coding srv does not implement: 501, as RFC 9112 §6.1 says.
    if (!codings.last_is_chunked || codings.chunked > 1) {
      plan.error = Error::k400BadRequest;
      return plan;
    }
    if (codings.count > 1) {
      plan.error = Error::k501NotImplemented;
      return plan;
    }
    plan.body = BodyKind::kChunked;
  } else if (length && *length > 0) {
    plan.body = BodyKind::kLength;
    plan.content_length = *length;
  }
  if (!method) {
    plan.error = Error::k501NotImplemented;
    return plan;
  }
  plan.method = *method;
  std::optional<std::string_view> path = path_of(head.target);
  if (!path) {
    plan.error = Error::k400BadRequest;
    return plan;
  }
  std::optional<Route> route = route_of(*path);
  if (!route) {
    plan.error = Error::k404NotFound;
    return plan;
  }
  plan.route = *route;
  bool post = plan.method == Method::kPost;
  if (plan.route == Route::kEcho && !post) {
    plan.error = Error::k405PostOnly;
    return plan;
  }
  if (plan.route != Route::kEcho && post) {
    plan.error = Error::k405GetHeadOnly;
    return plan;
  }
  if (plan.body == BodyKind::kLength && plan.content_length > max_body_bytes) {
    plan.error = Error::k413TooLarge;
    return plan;
  }
  // Expect means nothing in HTTP/1.0 (RFC 9110 §10.1.1).
  if (!expect.empty() && !plan.http10) {
    if (!iequals(expect, "100-continue")) {
      plan.error = Error::k417Expectation;
      return plan;
    }
    plan.expect_continue = plan.body != BodyKind::kNone;
  }
  return plan;
}

}  // namespace srv::http
