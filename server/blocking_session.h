#pragma once

#include "server/connection.h"

namespace srv {

/// The session loop shared by every blocking strategy (fork, prefork, thread, threadpool): the
/// calling thread is dedicated to one connection and blocks in poll(2) on that socket until the
/// connection ends, its idle/linger timeout passes, or `stop_fd` (-1 for none; typically
/// Lifecycle::stop_fd()) becomes readable. Does not destroy the connection.
void serve_blocking(Connection& connection, int stop_fd);

}  // namespace srv
