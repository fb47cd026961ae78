#pragma once

// Redis's glob-style patterns (PSUBSCRIBE, PUBSUB CHANNELS; KEYS and SCAN MATCH later): `*` any
// run of bytes, `?` any one byte, `[abc]`, `[^abc]`, `[a-z]` a set, `\x` a literal x. Matched
// byte-wise, like Redis's stringmatchlen, including its tolerance of a malformed pattern (an
// unclosed `[` takes the rest as the set).

#include <string_view>

namespace srv {

/// True if `text` matches `pattern`. Pure; any thread. Bounded work: a pattern of many `*`s does
/// not backtrack exponentially.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace srv
