// dte: one binary, subcommands (see command.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/command.h"

namespace dte::cli {
std::vector<Command>& Registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace dte::cli

namespace {
void PrintUsage() {
  auto commands = dte::cli::Registry();
  std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::fprintf(stderr, "Deep Tree Echo: serves RWKV language models.\n\nusage: dte <command> [options]\n\ncommands:\n");
  for (const auto& c : commands) std::fprintf(stderr, "  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::fprintf(stderr, "\n`dte <command> --help` describes a command's options.\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    PrintUsage();
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : dte::cli::Registry()) {
    if (c.name == argv[1]) {
      std::string name = std::string("dte ") + argv[1];
      argv[1] = name.data();
      return c.run(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "dte: unknown command '%s'\n\n", argv[1]);
  PrintUsage();
  return 2;
}
