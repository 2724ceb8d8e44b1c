#pragma once
// Runs a shell command for a test and captures its exit code and output (stdout and stderr
// together), plus the lookup of the headless browser the web tests drive.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace dte::testing {

struct ShellOutput {
  int code = -1;
  std::string text;
};

inline ShellOutput Shell(const std::string& command) {
  ShellOutput out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.text.append(buf.data(), n);
  int status = pclose(p);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The path of a Chromium (or Chrome) binary, or "" when none is installed; node is needed too.
inline std::string ChromiumForTests() {
  if (Shell("command -v node").code != 0) return "";
  ShellOutput r = Shell("command -v chromium || command -v chromium-browser || command -v google-chrome");
  return r.code == 0 ? r.text.substr(0, r.text.find('\n')) : "";
}

}  // namespace dte::testing
