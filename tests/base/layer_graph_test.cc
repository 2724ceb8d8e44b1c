// Keeps the layer graph of DESIGN.md true: every `#include "<layer>/..."` in src/<layer>/ must
// follow an allowed arrow. A layer may include itself, the layers it depends on, and their
// dependencies in turn (the table is closed transitively below). `cli` may include anything.
// A new directory under src/ fails the test until it is added to the table.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace dte {
namespace {

namespace fs = std::filesystem;

using LayerSet = std::set<std::string>;

// Direct arrows, as DESIGN.md draws them (model -> tokenizer: GGUF files embed the vocabulary).
const std::map<std::string, LayerSet>& DirectArrows() {
  static const auto* arrows = new std::map<std::string, LayerSet>{
      {"base", {}},
      {"kernels", {"base"}},
      {"tokenizer", {"base"}},
      {"telemetry", {"base"}},
      {"model", {"kernels", "tokenizer", "base"}},
      {"cache", {"model"}},
      {"engine", {"model", "tokenizer", "cache", "telemetry"}},
      {"http", {"base"}},
      {"server", {"engine", "http"}},
      {"router", {"http", "telemetry", "base"}},
      {"autoscale", {"http", "telemetry", "base"}},
      {"bench", {"http", "telemetry", "base"}},
      {"cli", {}},  // anything: see kAnything
  };
  return *arrows;
}

constexpr const char* kAnything = "cli";

// Layers that talk to workers over HTTP only and must never reach engine or model.
const LayerSet kHttpOnlyLayers = {"router", "autoscale", "bench"};

// The transitive closure of DirectArrows(), each layer including itself.
std::map<std::string, LayerSet> AllowedTable() {
  std::map<std::string, LayerSet> allowed;
  for (const auto& [layer, deps] : DirectArrows()) {
    LayerSet reach = {layer};
    std::vector<std::string> todo(deps.begin(), deps.end());
    while (!todo.empty()) {
      std::string next = todo.back();
      todo.pop_back();
      if (!reach.insert(next).second) continue;
      auto it = DirectArrows().find(next);
      if (it != DirectArrows().end()) todo.insert(todo.end(), it->second.begin(), it->second.end());
    }
    allowed[layer] = reach;
  }
  return allowed;
}

fs::path SourceRoot() { return fs::path(DTE_SOURCE_DIR) / "src"; }

bool IsSourceFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".h" || ext == ".cc" || ext == ".cpp" || ext == ".hpp" || ext == ".inc";
}

struct Include {
  fs::path file;
  int line = 0;
  std::string target;  // the quoted path, e.g. "model/model.h"
};

// Quoted includes of every source file under src/<layer>/ (subdirectories too).
std::vector<Include> IncludesOf(const std::string& layer) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<Include> out;
  for (const auto& entry : fs::recursive_directory_iterator(SourceRoot() / layer)) {
    if (!entry.is_regular_file() || !IsSourceFile(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string text;
    int line_no = 0;
    while (std::getline(in, text)) {
      ++line_no;
      std::smatch m;
      if (std::regex_search(text, m, kInclude)) out.push_back({entry.path(), line_no, m[1].str()});
    }
  }
  return out;
}

std::vector<std::string> LayerDirectories() {
  std::vector<std::string> layers;
  for (const auto& entry : fs::directory_iterator(SourceRoot()))
    if (entry.is_directory()) layers.push_back(entry.path().filename().string());
  std::sort(layers.begin(), layers.end());
  return layers;
}

// The layer an include names ("model/x.h" -> "model"), or "" when its first component is not a
// layer (a third-party header included with quotes, a same-directory include).
std::string LayerOfInclude(const std::string& target) {
  size_t slash = target.find('/');
  if (slash == std::string::npos) return "";
  std::string first = target.substr(0, slash);
  return DirectArrows().count(first) ? first : "";
}

TEST(LayerGraphTest, SourceTreeIsFound) {
  ASSERT_TRUE(fs::is_directory(SourceRoot())) << SourceRoot();
  ASSERT_TRUE(fs::is_directory(SourceRoot() / "base")) << SourceRoot();
  EXPECT_FALSE(IncludesOf("model").empty())
      << "no includes found under src/model: is the regex broken?";
}

TEST(LayerGraphTest, EveryLayerDirectoryIsInTheTable) {
  for (const std::string& layer : LayerDirectories()) {
    EXPECT_TRUE(DirectArrows().count(layer))
        << "src/" << layer << "/ is not a layer of DESIGN.md; add it and its arrows to "
        << "tests/base/layer_graph_test.cc";
  }
}

TEST(LayerGraphTest, TableKeepsHttpOnlyLayersAwayFromEngineAndModel) {
  const auto allowed = AllowedTable();
  for (const std::string& layer : kHttpOnlyLayers) {
    for (const char* forbidden : {"engine", "model", "cache", "kernels", "tokenizer", "server"})
      EXPECT_FALSE(allowed.at(layer).count(forbidden)) << layer << " may reach " << forbidden;
  }
  EXPECT_EQ(allowed.at("base"), LayerSet{"base"});
  EXPECT_TRUE(allowed.at("server").count("model"));   // transitive: server -> engine -> model
  EXPECT_TRUE(allowed.at("cache").count("kernels"));  // cache -> model -> kernels
}

TEST(LayerGraphTest, IncludesFollowTheAllowedArrows) {
  const auto allowed = AllowedTable();
  int violations = 0;
  for (const std::string& layer : LayerDirectories()) {
    if (layer == kAnything || !allowed.count(layer)) continue;
    for (const Include& inc : IncludesOf(layer)) {
      const std::string to = LayerOfInclude(inc.target);
      if (to.empty() || allowed.at(layer).count(to)) continue;
      ++violations;
      ADD_FAILURE_AT(inc.file.c_str(), inc.line)
          << fs::relative(inc.file, DTE_SOURCE_DIR).string() << ":" << inc.line << ": #include \""
          << inc.target << "\": layer '" << layer << "' may not include layer '" << to
          << "' (see the allowed arrows in DESIGN.md)";
    }
  }
  EXPECT_EQ(violations, 0);
}

TEST(LayerGraphTest, QuotedIncludesNameTheirLayer) {
  // `#include "foo.h"` or "../x/foo.h" from src/<layer>/ resolves relative to the file and would
  // slip past the arrow check; the project spells every include from src/.
  for (const std::string& layer : LayerDirectories()) {
    for (const Include& inc : IncludesOf(layer)) {
      const bool bare = inc.target.find('/') == std::string::npos;
      const bool relative = inc.target.starts_with("./") || inc.target.starts_with("../");
      if (!bare && !relative) continue;
      ADD_FAILURE_AT(inc.file.c_str(), inc.line)
          << fs::relative(inc.file, DTE_SOURCE_DIR).string() << ":" << inc.line << ": #include \""
          << inc.target << "\": spell includes from src/ (e.g. \"" << layer << "/...\")";
    }
  }
}

}  // namespace
}  // namespace dte
