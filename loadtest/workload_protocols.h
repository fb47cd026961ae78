// Workloads whose replies need parsing; declared for workload.cc's factory only.
#pragma once

#include <memory>

#include "loadtest/workload.h"

namespace srv::loadtest {

/// GET options.http_path when size is 0, else POST /echo with a `size`-byte body that must
/// come back. Every reply must be a 200 with a Content-Length.
std::unique_ptr<Workload> make_http_workload(const WorkloadOptions& options, std::size_t size);

/// RESP2 PING/SET/GET in the proportions of options.mix over options.keys keys.
std::unique_ptr<Workload> make_resp_workload(const WorkloadOptions& options, std::size_t size);

}  // namespace srv::loadtest
