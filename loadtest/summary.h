// What srv-loadtest prints for people: the line each second and the summary at the end.
#pragma once

#include <string>

#include "loadtest/load_engine.h"
#include "loadtest/results.h"

namespace srv::loadtest {

/// "[  3s] 123456 req/s  p99 812.0us  errors 0  connections 64" ("warm-up" before measuring).
std::string format_live(const LiveTick& tick);

/// A wrk-like report of one run, several lines, ending with a newline.
std::string format_summary(const RunResult& run);

/// 812.0us, 12.35ms, 1.20s: a latency in microseconds, in the unit that reads best.
std::string format_latency(double us);

}  // namespace srv::loadtest
