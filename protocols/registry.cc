#include "protocols/registry.h"

#include <array>

#include "server/registry_util.h"

#include "protocols/echo.h"
#include "protocols/http.h"
#include "protocols/resp.h"

namespace srv {
namespace {

const std::array kProtocols = {
    ProtocolInfo{"echo", "every byte comes back unchanged, in order", "", make_echo_protocol},
    ProtocolInfo{"http", "HTTP/1.1: / /healthz /echo, keep-alive, pipelining", "http/1.1",
                 make_http_protocol},
    ProtocolInfo{"resp", "Redis protocol (RESP2): strings, lists, expiry; one shared keyspace", "",
                 make_resp_protocol},
};

}  // namespace

std::span<const ProtocolInfo> protocol_registry() {
  return kProtocols;
}

const ProtocolInfo* find_protocol(std::string_view name) {
  return find_by_name<ProtocolInfo>(kProtocols, name);
}

std::string protocol_names() {
  return names_of<ProtocolInfo>(kProtocols);
}

}  // namespace srv
