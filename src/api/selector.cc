// Label selectors: a port of the lexer and recursive-descent parser of
// k8s.io/apimachinery/pkg/labels/selector.go, including its error texts, and of
// metav1.LabelSelectorAsSelector (pkg/apis/meta/v1/helpers.go).

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "api/selector.h"
#include "api/selector_validation.h"

namespace nanokube::api {

namespace {

using Op = Requirement::Op;

enum class Tok {
  kError, kEnd, kClosedPar, kComma, kDoesNotExist, kDoubleEquals, kEquals, kGreaterThan,
  kIdentifier, kIn, kLessThan, kNotEquals, kNotIn, kOpenPar,
};

struct Item {
  Tok tok;
  std::string lit;
};

std::optional<Tok> keyword(std::string_view s) {
  static const std::pair<std::string_view, Tok> kTokens[] = {
      {")", Tok::kClosedPar},  {",", Tok::kComma},     {"!", Tok::kDoesNotExist},
      {"==", Tok::kDoubleEquals}, {"=", Tok::kEquals}, {">", Tok::kGreaterThan},
      {"in", Tok::kIn},        {"<", Tok::kLessThan},  {"!=", Tok::kNotEquals},
      {"notin", Tok::kNotIn},  {"(", Tok::kOpenPar},
  };
  for (const auto& [text, tok] : kTokens) {
    if (text == s) return tok;
  }
  return std::nullopt;
}

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool isSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

// Lexer.Lex over the whole input; the last item is always kEnd.
std::vector<Item> scan(std::string_view s) {
  std::vector<Item> items;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && isWhitespace(s[pos])) ++pos;
    if (pos >= s.size()) {
      items.push_back({Tok::kEnd, ""});
      return items;
    }
    if (isSpecial(s[pos])) {
      // scanSpecialSymbol: the longest run of special characters that is a token.
      std::string buf;
      std::optional<Item> last;
      while (pos < s.size() && isSpecial(s[pos])) {
        buf += s[pos];
        if (auto t = keyword(buf)) {
          last = Item{*t, buf};
        } else if (last) {
          break;
        }
        ++pos;
      }
      items.push_back(last ? *last : Item{Tok::kError, "error expected: keyword found '" + buf + "'"});
      continue;
    }
    size_t start = pos;
    while (pos < s.size() && !isSpecial(s[pos]) && !isWhitespace(s[pos])) ++pos;
    std::string lit(s.substr(start, pos - start));
    auto t = keyword(lit);
    items.push_back({t ? *t : Tok::kIdentifier, lit});
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : items_(scan(s)) {}
  Result<std::vector<Requirement>> parse();

 private:
  enum class Context { kKeyAndOperator, kValues };
  // In the values context "in" and "notin" are plain identifiers ("x in (in)").
  Item lookahead(Context c) const { return adjust(items_[pos_], c); }
  Item consume(Context c) { return adjust(items_[pos_++], c); }
  static Item adjust(Item it, Context c) {
    if (c == Context::kValues && (it.tok == Tok::kIn || it.tok == Tok::kNotIn)) it.tok = Tok::kIdentifier;
    return it;
  }
  Result<Requirement> parseRequirement();
  Result<std::set<std::string>> parseValues();
  Result<std::set<std::string>> parseIdentifiersList();
  Result<std::set<std::string>> parseExactValue();

  std::vector<Item> items_;
  size_t pos_ = 0;
};

std::unexpected<Error> badRequest(std::string msg) { return fail(Code::kBadRequest, std::move(msg)); }

Result<std::vector<Requirement>> Parser::parse() {
  std::vector<Requirement> reqs;
  while (true) {
    Item it = lookahead(Context::kValues);
    if (it.tok == Tok::kEnd) return reqs;
    if (it.tok != Tok::kIdentifier && it.tok != Tok::kDoesNotExist) {
      return badRequest("found '" + it.lit + "', expected: !, identifier, or 'end of string'");
    }
    auto r = parseRequirement();
    if (!r) return badRequest("unable to parse requirement: " + r.error().message);
    reqs.push_back(std::move(*r));
    Item next = consume(Context::kValues);
    if (next.tok == Tok::kEnd) return reqs;
    if (next.tok != Tok::kComma) {
      return badRequest("found '" + next.lit + "', expected: ',' or 'end of string'");
    }
    Item after = lookahead(Context::kValues);
    if (after.tok != Tok::kIdentifier && after.tok != Tok::kDoesNotExist) {
      return badRequest("found '" + after.lit + "', expected: identifier after ','");
    }
  }
}

Result<Requirement> Parser::parseRequirement() {
  // parseKeyAndInferOperator.
  Requirement r;
  Item it = consume(Context::kValues);
  bool negated = it.tok == Tok::kDoesNotExist;
  if (negated) it = consume(Context::kValues);
  if (it.tok != Tok::kIdentifier) return badRequest("found '" + it.lit + "', expected: identifier");
  if (auto errs = selector::labelKeyErrors(it.lit); !errs.empty()) {
    std::string joined;
    for (const auto& e : errs) joined += (joined.empty() ? "" : "; ") + e;
    // The parser validates with a nil field path, which Go prints as "<nil>".
    return badRequest(selector::invalid("<nil>", selector::goQuote(it.lit), joined));
  }
  r.key = it.lit;
  Tok next = lookahead(Context::kValues).tok;
  if (negated || next == Tok::kEnd || next == Tok::kComma) {
    r.op = negated ? Op::kDoesNotExist : Op::kExists;
    // A "!key" followed by an operator still ends here, as in Go: the caller then
    // reports the operator as an unexpected token.
  } else {
    Item opItem = consume(Context::kKeyAndOperator);
    switch (opItem.tok) {
      case Tok::kIn: r.op = Op::kIn; break;
      case Tok::kNotIn: r.op = Op::kNotIn; break;
      case Tok::kEquals:
      case Tok::kDoubleEquals: r.op = Op::kEquals; break;
      case Tok::kNotEquals: r.op = Op::kNotEquals; break;
      case Tok::kGreaterThan: r.op = Op::kGreaterThan; break;
      case Tok::kLessThan: r.op = Op::kLessThan; break;
      default:
        return badRequest("found '" + opItem.lit + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    auto values = (r.op == Op::kIn || r.op == Op::kNotIn) ? parseValues() : parseExactValue();
    if (!values) return std::unexpected(values.error());
    r.values.assign(values->begin(), values->end());  // sets.String.List(): sorted
  }
  if (auto err = selector::requirementError(r, false)) return badRequest(*err);
  return r;
}

Result<std::set<std::string>> Parser::parseValues() {
  Item open = consume(Context::kValues);
  if (open.tok != Tok::kOpenPar) return badRequest("found '" + open.lit + "' expected: '('");
  Item it = lookahead(Context::kValues);
  if (it.tok == Tok::kIdentifier || it.tok == Tok::kComma) {
    auto s = parseIdentifiersList();
    if (!s) return s;
    if (consume(Context::kValues).tok != Tok::kClosedPar) {
      return badRequest("found '" + it.lit + "', expected: ')'");
    }
    return s;
  }
  if (it.tok == Tok::kClosedPar) {  // "()" is the set of the empty string
    consume(Context::kValues);
    return std::set<std::string>{""};
  }
  return badRequest("found '" + it.lit + "', expected: ',', ')' or identifier");
}

Result<std::set<std::string>> Parser::parseIdentifiersList() {
  std::set<std::string> s;
  while (true) {
    Item it = consume(Context::kValues);
    if (it.tok == Tok::kIdentifier) {
      s.insert(it.lit);
      Item next = lookahead(Context::kValues);
      if (next.tok == Tok::kComma) continue;
      if (next.tok == Tok::kClosedPar) return s;
      return badRequest("found '" + next.lit + "', expected: ',' or ')'");
    }
    if (it.tok != Tok::kComma) return badRequest("found '" + it.lit + "', expected: ',', or identifier");
    // "(,", ",)" and ",," each stand for an empty value.
    if (s.empty()) s.insert("");
    Tok next = lookahead(Context::kValues).tok;
    if (next == Tok::kClosedPar) {
      s.insert("");
      return s;
    }
    if (next == Tok::kComma) s.insert("");
  }
}

Result<std::set<std::string>> Parser::parseExactValue() {
  Tok next = lookahead(Context::kValues).tok;
  if (next == Tok::kEnd || next == Tok::kComma) return std::set<std::string>{""};
  Item it = consume(Context::kValues);
  if (it.tok == Tok::kIdentifier) return std::set<std::string>{it.lit};
  return badRequest("found '" + it.lit + "', expected: identifier");
}

void sortByKey(std::vector<Requirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

std::optional<std::string> lookup(const Json& labels, const std::string& key) {
  if (!labels.is_object()) return std::nullopt;
  auto it = labels.find(key);
  if (it == labels.end()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::optional<long long> parseInt64(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size() || s[0] == ' ') return std::nullopt;
  return v;
}

bool requirementMatches(const Requirement& r, const Json& labels) {
  auto val = lookup(labels, r.key);
  auto has = [&](const std::string& v) {
    return std::find(r.values.begin(), r.values.end(), v) != r.values.end();
  };
  switch (r.op) {
    case Op::kIn:
    case Op::kEquals: return val && has(*val);
    case Op::kNotIn:
    case Op::kNotEquals: return !val || !has(*val);
    case Op::kExists: return val.has_value();
    case Op::kDoesNotExist: return !val.has_value();
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (!val || r.values.size() != 1) return false;
      auto lhs = parseInt64(*val);
      auto rhs = parseInt64(r.values[0]);
      if (!lhs || !rhs) return false;
      return r.op == Op::kGreaterThan ? *lhs > *rhs : *lhs < *rhs;
    }
  }
  return false;
}

// Requirement.String() of labels/selector.go.
std::string requirementString(const Requirement& r) {
  std::string s = r.op == Op::kDoesNotExist ? "!" + r.key : r.key;
  switch (r.op) {
    case Op::kExists:
    case Op::kDoesNotExist: return s;
    case Op::kEquals: s += "="; break;
    case Op::kNotEquals: s += "!="; break;
    case Op::kIn: s += " in ("; break;
    case Op::kNotIn: s += " notin ("; break;
    case Op::kGreaterThan: s += ">"; break;
    case Op::kLessThan: s += "<"; break;
  }
  std::vector<std::string> vals = r.values;
  std::sort(vals.begin(), vals.end());
  for (size_t i = 0; i < vals.size(); ++i) s += (i ? "," : "") + vals[i];
  if (r.op == Op::kIn || r.op == Op::kNotIn) s += ")";
  return s;
}

}  // namespace

bool LabelSelector::matches(const Json& labels) const {
  if (nothing_) return false;
  return std::all_of(reqs_.begin(), reqs_.end(),
                     [&](const Requirement& r) { return requirementMatches(r, labels); });
}

std::string LabelSelector::str() const {
  std::string out;
  for (const auto& r : reqs_) out += (out.empty() ? "" : ",") + requirementString(r);
  return out;
}

Result<LabelSelector> parseLabelSelector(std::string_view text) {
  auto reqs = Parser(text).parse();
  if (!reqs) return std::unexpected(reqs.error());
  sortByKey(*reqs);
  return LabelSelector(std::move(*reqs));
}

Result<LabelSelector> labelSelectorFromJson(const Json& sel) {
  if (sel.is_null()) return LabelSelector::nothing();
  if (!sel.is_object()) return fail(Code::kBadRequest, "label selector must be an object");
  std::vector<Requirement> reqs;
  if (const auto it = sel.find("matchLabels"); it != sel.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      Requirement r{k, Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}};
      if (auto err = selector::requirementError(r, false)) return fail(Code::kBadRequest, *err);
      reqs.push_back(std::move(r));
    }
  }
  if (const auto it = sel.find("matchExpressions"); it != sel.end() && it->is_array()) {
    for (const auto& e : *it) {
      std::string op = e.value("operator", std::string());
      Requirement r;
      r.key = e.value("key", std::string());
      if (op == "In") r.op = Op::kIn;
      else if (op == "NotIn") r.op = Op::kNotIn;
      else if (op == "Exists") r.op = Op::kExists;
      else if (op == "DoesNotExist") r.op = Op::kDoesNotExist;
      else return fail(Code::kBadRequest, selector::goQuote(op) + " is not a valid label selector operator");
      if (const auto v = e.find("values"); v != e.end() && v->is_array()) {
        for (const auto& s : *v) r.values.push_back(s.is_string() ? s.get<std::string>() : s.dump());
      }
      // LabelSelectorAsSelector copies the values into a nil slice, so an empty
      // list is reported as "null".
      if (auto err = selector::requirementError(r, true)) return fail(Code::kBadRequest, *err);
      reqs.push_back(std::move(r));
    }
  }
  sortByKey(reqs);
  return LabelSelector(std::move(reqs));
}

LabelSelector labelSelectorFromMap(const Json& map) {
  std::vector<Requirement> reqs;
  if (map.is_object()) {
    for (const auto& [k, v] : map.items()) {
      reqs.push_back({k, Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}});
    }
  }
  return LabelSelector(std::move(reqs));  // nlohmann keeps keys sorted already
}

}  // namespace nanokube::api
