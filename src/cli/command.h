#pragma once
// Subcommands of the `dte` binary register themselves here; main() dispatches on argv[1].
// Each subcommand lives in its own cmd_<name>.cc and stays thin: parse flags, call the layers.

#include <functional>
#include <string>
#include <vector>

namespace dte::cli {

struct Command {
  std::string name;
  std::string summary;
  std::function<int(int argc, char** argv)> run;  // argv[0] is "dte <name>"
};

std::vector<Command>& Registry();

struct RegisterCommand {
  RegisterCommand(std::string name, std::string summary, std::function<int(int, char**)> run) {
    Registry().push_back({std::move(name), std::move(summary), std::move(run)});
  }
};

}  // namespace dte::cli
