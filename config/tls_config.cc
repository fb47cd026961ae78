#include "config/tls_config.h"

#include <optional>
#include <vector>

#include <fmt/format.h>

#include "server/socket_transport.h"
#include "server/tls_server.h"

namespace srv {
namespace {

using namespace std::chrono_literals;

// A list of names given as one string or as a YAML list.
std::vector<std::string> names(Section& section, std::string_view key) {
  YAML::Node node = section.raw(key);
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) section.fail(key, "must be a name or a list of names");
      out.push_back(item.Scalar());
    }
  } else {
    section.fail(key, "must be a name or a list of names");
  }
  return out;
}

ClientVerify read_verify(Section& tls) {
  std::string value = tls.string("verify_client", "off");
  if (value == "off" || value == "false" || value == "no") return ClientVerify::kOff;
  if (value == "optional") return ClientVerify::kOptional;
  if (value == "on" || value == "true" || value == "yes" || value == "required") {
    return ClientVerify::kRequired;
  }
  tls.fail("verify_client", fmt::format("must be off, optional or on, got '{}'", value));
}

bool read_tls13_only(Section& tls) {
  std::string value = tls.string("min_version", "TLSv1.2");
  if (value == "TLSv1.2" || value == "1.2") return false;
  if (value == "TLSv1.3" || value == "1.3") return true;
  if (value == "TLSv1" || value == "TLSv1.0" || value == "TLSv1.1" || value == "1.0" ||
      value == "1.1") {
    tls.fail("min_version",
             "TLS 1.0 and 1.1 are not supported (RFC 8996 deprecates them); use "
             "TLSv1.2 or TLSv1.3");
  }
  tls.fail("min_version", fmt::format("must be TLSv1.2 or TLSv1.3, got '{}'", value));
}

TlsCertificate read_certificate(Section& entry, bool with_sni) {
  TlsCertificate out;
  out.cert = resolve_config_path(entry, entry.string("cert", ""));
  out.key = resolve_config_path(entry, entry.string("key", ""));
  if (with_sni) out.sni = names(entry, "sni");
  if (out.cert.empty()) entry.fail("cert", "needs cert: PATH (a PEM certificate chain)");
  if (out.key.empty()) entry.fail("key", "needs key: PATH (the PEM private key of cert)");
  return out;
}

}  // namespace

std::shared_ptr<TransportFactory> read_transport(Section& listener, std::string_view default_alpn) {
  YAML::Node node = listener.raw("tls");
  if (!node || node.IsNull()) return std::make_shared<SocketTransportFactory>();
  Section tls(listener.file(), node, listener.key_path("tls"));
  TlsSettings settings;
  // Where each certificate was written, to point at the right line when OpenSSL refuses it.
  std::vector<Section> places;
  if (tls.node()["cert"] || tls.node()["key"] || !tls.node()["certificates"]) {
    settings.certificates.push_back(read_certificate(tls, false));
    places.push_back(tls);
  }
  YAML::Node more = tls.raw("certificates");
  if (more && !more.IsSequence()) tls.fail("certificates", "must be a list of {cert, key, sni}");
  for (std::size_t i = 0; more && i < more.size(); ++i) {
    Section entry(tls.file(), more[i], tls.key_path(fmt::format("certificates[{}]", i)));
    settings.certificates.push_back(read_certificate(entry, true));
    entry.finish();
    places.push_back(entry);
  }
  settings.client_ca = resolve_config_path(tls, tls.string("client_ca", ""));
  settings.verify_client = read_verify(tls);
  if (settings.verify_client != ClientVerify::kOff && settings.client_ca.empty()) {
    tls.fail("verify_client", "needs client_ca: PATH, the CA that signs client certificates");
  }
  settings.tls13_only = read_tls13_only(tls);
  settings.ciphers = tls.string("ciphers", settings.ciphers);
  settings.ciphersuites = tls.string("ciphersuites", settings.ciphersuites);
  settings.groups = tls.string("groups", settings.groups);
  settings.alpn = tls.node()["alpn"] ? names(tls, "alpn") : std::vector<std::string>{};
  if (!tls.node()["alpn"] && !default_alpn.empty()) settings.alpn.emplace_back(default_alpn);
  settings.session_tickets = tls.boolean("session_tickets", true);
  settings.session_cache =
      static_cast<long>(tls.integer("session_cache", settings.session_cache, 0, 10'000'000));
  settings.handshake_timeout =
      tls.duration("handshake_timeout", settings.handshake_timeout, 100ms, 1h);
  tls.finish();
  try {
    return std::make_shared<TlsServer>(std::move(settings));
  } catch (const TlsSetupError& e) {
    if (e.certificate() >= 0 && static_cast<std::size_t>(e.certificate()) < places.size()) {
      places[static_cast<std::size_t>(e.certificate())].fail(e.key(), e.what());
    }
    tls.fail(e.key(), e.what());
  }
}

}  // namespace srv
