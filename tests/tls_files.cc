#include "tests/tls_files.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace srv::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls_files: ") + what);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  require(key != nullptr, "EVP_EC_gen failed");
  return key;
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  require(extension != nullptr && X509_add_ext(cert, extension, -1) == 1, "an extension");
  X509_EXTENSION_free(extension);
}

// Self-signed, valid from an hour ago for two days.
Cert self_signed(EVP_PKEY* key) {
  Cert cert(X509_new());
  require(cert != nullptr, "X509_new failed");
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2 * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  require(X509_sign(cert.get(), key, EVP_sha256()) > 0, "X509_sign failed");
  return cert;
}

void write_key(const std::string& path, EVP_PKEY* key) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  require(file != nullptr, "cannot write a key file");
  bool ok = PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(file);
  require(ok, "PEM_write_PrivateKey failed");
}

void write_cert(const std::string& path, X509* cert) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  require(file != nullptr, "cannot write a certificate file");
  bool ok = PEM_write_X509(file, cert) == 1;
  std::fclose(file);
  require(ok, "PEM_write_X509 failed");
}

pid_t g_owner = 0;  // the process that made the folder: a forked child must not remove it
std::string g_dir;

void remove_folder() {
  if (::getpid() == g_owner) {
    std::error_code ignored;
    std::filesystem::remove_all(g_dir, ignored);
  }
}

TlsFiles make() {
  std::string pattern = (std::filesystem::temp_directory_path() / "srv-tls-files.XXXXXX").string();
  require(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
  g_dir = pattern;
  g_owner = ::getpid();
  std::atexit(remove_folder);

  TlsFiles files;
  files.dir = pattern;
  files.cert = pattern + "/cert.pem";
  files.key = pattern + "/key.pem";
  files.stray_key = pattern + "/stray.pem";
  files.junk = pattern + "/junk.pem";
  Key key = new_key();
  write_key(files.key, key.get());
  write_cert(files.cert, self_signed(key.get()).get());
  write_key(files.stray_key, new_key().get());
  std::ofstream(files.junk) << "not PEM\n";
  return files;
}

}  // namespace

const TlsFiles& tls_files() {
  static const TlsFiles files = make();
  return files;
}

}  // namespace srv::test
