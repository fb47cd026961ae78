// `srv-loadtest compare`: the same scenario matrix against srv under each strategy, a fresh
// server process per point, with the server's process tree sampled from /proc, written out as
// a report (see report.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace srv::loadtest {

struct CompareOptions {
  std::string srv;                      ///< the srv binary
  std::filesystem::path out;            ///< report folder
  std::vector<std::string> strategies;  ///< empty: every one `srv --list-strategies` prints
  std::string protocol = "http";
  std::vector<int> connections{1, 64, 1000, 10000};
  std::vector<int> pipelines{1, 16};
  std::vector<long> sizes{-1};      ///< -1: the protocol's default payload
  std::string mix;                  ///< resp command mix
  int requests_per_connection = 0;  ///< 0: keep-alive
  int threads = 1;                  ///< load threads
  double duration = 5;
  double warmup = 1;
  double ramp = -1;                   ///< -1: 0.2 s per 1000 connections, at most 2 s
  std::vector<std::string> srv_args;  ///< more arguments for every srv
  /// Empty: no TLS (the report has no TLS columns). Otherwise each point runs in each mode:
  /// "plain" (srv without TLS), "keepalive" (TLS, connections kept open), "full" (TLS, a new
  /// connection and a full handshake every requests_per_connection replies, 1 by default),
  /// "resumed" (as full, each new connection resuming its thread's previous session).
  std::vector<std::string> tls_modes;
};

/// Checks the TLS modes (known names, no repeats, keepalive without requests_per_connection);
/// throws std::invalid_argument.
void validate_tls_modes(const CompareOptions& options);

/// The srv configuration of a TLS listener on 127.0.0.1:port serving `protocol`, with the
/// certificate and key srv must load:
///   listeners: [{listen: 127.0.0.1:PORT, protocol: P, tls: {cert: C, key: K}}]
std::string tls_listener_config(int port, const std::string& protocol,
                                const std::filesystem::path& cert,
                                const std::filesystem::path& key);

/// Runs the matrix and writes the report. Returns the exit status: 0 when every point that
/// could run did, 1 when a server failed to start or the report could not be written.
/// `command` is recorded in the report. Prints progress to stderr.
int run_compare(const CompareOptions& options, const std::string& command);

}  // namespace srv::loadtest
