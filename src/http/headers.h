#pragma once
// Plain data shared by requests, responses and the client: header fields with case-insensitive
// lookup, query strings, percent-decoding. No Boost here, so handler code can include it cheaply.
// All types are values; they are not synchronized (one owner at a time).

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dte::http {

// ASCII case-insensitive equality (header names, methods, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// An ordered list of header fields. Names compare case-insensitively; duplicates are kept in
// the order they were added (Set replaces them all).
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Removes every field called `name`, then adds one.
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);

  // The first field called `name`, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  // The first field called `name`, or `fallback`.
  std::string_view GetOr(std::string_view name, std::string_view fallback = {}) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// name=value pairs, percent-decoded, in their original order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// {name} segments of a route pattern and the (percent-decoded) path pieces they matched.
using PathParams = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings).
// Returns nullopt for a malformed escape such as "%4" or "%zz".
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=two%20words&flag" into pairs; a name without '=' gets an empty value and
// malformed escapes are kept as written.
QueryParams ParseQuery(std::string_view query);

// The value of the first pair named `name` (exact, case-sensitive), if any.
std::optional<std::string_view> FindParam(
    const std::vector<std::pair<std::string, std::string>>& params, std::string_view name);

}  // namespace dte::http
