// The output of `srv-loadtest compare` (results.json, results.md, gnuplot plots as SVG and PNG,
// index.html) and the one JSON schema of a run that `srv-loadtest --json` also prints.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "loadtest/results.h"

namespace srv::loadtest {

/// The JSON of one run; `srv-loadtest --json` prints exactly this.
nlohmann::json to_json(const RunResult& run);
nlohmann::json to_json(const ServerUsage& usage);

/// CPU model and count, kernel release: the line a report starts with.
std::string describe_machine();

/// Writes results.json, results.md, plots/*.svg, plots/*.png and index.html into `dir`
/// (created if missing). Runs gnuplot; throws std::runtime_error naming what failed.
void write_compare_report(const std::filesystem::path& dir, const CompareReport& report);

}  // namespace srv::loadtest
