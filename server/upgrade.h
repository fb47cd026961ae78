#pragma once

// Binary upgrade (SIGUSR2), as nginx and gunicorn do it: the running master starts the binary it
// was started from (the file may have been replaced since) with the same command line and its
// listening sockets inherited across exec, named in the environment. The new master adopts them
// instead of binding, starts its generation, and once that generation has settled tells the old
// master to drain (SIGTERM). Until then both serve the same sockets, so no connection is refused;
// a new binary that fails to start leaves the old master serving.

#include <sys/types.h>

#include <map>
#include <string>

namespace srv {

/// The command line srv was started with, to run again on an upgrade. Call once from main()
/// before anything changes the working directory.
void remember_command_line(int argc, char** argv);

/// What the master that started this one in an upgrade passed on.
struct Inheritance {
  std::map<std::string, int> sockets;  ///< socket key (as the master files it) -> descriptor
  pid_t old_master = 0;                ///< 0: not started by an upgrade
};

/// Reads and removes the inheritance from the environment (so that this master's own upgrades
/// and its generations do not see it). Malformed entries are logged and skipped. Call once, in
/// the master, before it binds anything.
Inheritance take_inheritance();

/// Forks a child that execs the remembered command line with `sockets` (key -> descriptor)
/// inherited and this process named as the old master. Returns the child's pid, or -1 if it
/// could not fork (logged). An exec that fails ends the child with status 127, logged by it.
/// Called by the master's thread; the descriptors stay owned by the caller.
pid_t start_new_binary(const std::map<std::string, int>& sockets);

}  // namespace srv
