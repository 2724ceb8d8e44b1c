#pragma once
// Runs the built `dte` binary (or any command) and captures its exit code, stdout and stderr.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dte::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// In a forked child: replaces it with `DTE_BINARY args...` (exit code 127 if that fails).
[[noreturn]] inline void ExecDte(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {DTE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execv(cargv[0], cargv.data());
  _exit(127);
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `DTE_BINARY args...` with a shell; each arg is quoted.
inline CommandResult RunDte(std::initializer_list<std::string> args) {
  static int counter = 0;
  std::string base = "/tmp/dte_system_test." + std::to_string(getpid()) + "." + std::to_string(counter++);
  std::string cmd = ShellQuote(DTE_BINARY);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " >" + base + ".out 2>" + base + ".err </dev/null";
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(base + ".out");
  r.err = Slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

}  // namespace dte::testing
