#pragma once
// Test helpers for `dte route` / `dte up`: the process helpers of server_process.h (DteProcess
// runs any `dte` subcommand that prints a "listening on http://host:port" line), plus process-tree
// checks.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

#include "server_process.h"

namespace dte::testing {

// The child processes of `pid` (from /proc/<pid>/task/*/children).
inline std::set<pid_t> ChildPids(pid_t pid) {
  std::set<pid_t> out;
  {
    std::string cmd = "cat /proc/" + std::to_string(pid) + "/task/*/children 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::string text;
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
    pclose(p);
    std::istringstream in(text);
    pid_t child;
    while (in >> child) out.insert(child);
  }
  return out;
}

// True while a process with this pid exists (a zombie counts).
inline bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace dte::testing
