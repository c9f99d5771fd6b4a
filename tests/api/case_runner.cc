// Runs the API conformance cases in tests/api/cases/**/*.test against the real server: one fresh
// server (and data directory) per file, the cases of a file in order. The format is described in
// tests/api/README.md.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "harness.h"

namespace allmende::testing {
namespace {

struct Case {
  std::string title;
  int line = 0;
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int expectStatus = 0;
  std::vector<std::pair<std::string, std::string>> expectHeaders;
  std::vector<std::string> absentHeaders;  // "!Name" lines
  std::string expectBody;
  bool hasExpectBody = false;
};

std::string trimRight(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Case> parseFile(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(trimRight(l));
  std::vector<Case> cases;
  size_t i = 0;
  auto atCaseStart = [&](size_t k) { return k < lines.size() && lines[k].rfind("###", 0) == 0; };
  while (i < lines.size() && !atCaseStart(i)) ++i;
  while (i < lines.size()) {
    Case c;
    c.title = lines[i].substr(3);
    c.line = static_cast<int>(i + 1);
    ++i;
    std::istringstream reqLine(lines[i++]);
    reqLine >> c.method >> c.target;
    for (; i < lines.size() && !lines[i].empty() && lines[i].rfind("---", 0) != 0; ++i) {
      size_t colon = lines[i].find(':');
      c.headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 2));
    }
    if (i < lines.size() && lines[i].empty()) ++i;
    for (; i < lines.size() && lines[i].rfind("---", 0) != 0; ++i) c.body += lines[i] + "\n";
    c.body = trimRight(c.body);
    if (i >= lines.size()) break;
    c.expectStatus = std::atoi(lines[i].c_str() + 3);
    ++i;
    for (; i < lines.size() && !lines[i].empty() && !atCaseStart(i); ++i) {
      if (lines[i][0] == '!') {
        c.absentHeaders.push_back(lower(lines[i].substr(1)));
        continue;
      }
      size_t colon = lines[i].find(':');
      c.expectHeaders.emplace_back(lower(lines[i].substr(0, colon)), lines[i].substr(colon + 2));
    }
    for (; i < lines.size() && !atCaseStart(i); ++i) c.expectBody += lines[i] + "\n";
    c.expectBody = trimRight(c.expectBody);
    while (!c.expectBody.empty() && c.expectBody.front() == '\n') c.expectBody.erase(0, 1);
    c.hasExpectBody = !c.expectBody.empty();
    cases.push_back(std::move(c));
  }
  return cases;
}

// Lines before the first case: "#! serve <args>" adds arguments to `allmende serve`,
// "#! env NAME=VALUE" sets an environment variable of the server (tests/api/README.md).
std::vector<std::string> serverDirectives(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> args;
  for (std::string l; std::getline(in, l) && l.rfind("###", 0) != 0;) {
    l = trimRight(l);
    if (l.rfind("#! serve ", 0) == 0) {
      std::istringstream words(l.substr(9));
      for (std::string w; words >> w;) args.push_back(w);
    } else if (l.rfind("#! env ", 0) == 0) {
      std::string kv = l.substr(7);
      size_t eq = kv.find('=');
      setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
  }
  return args;
}

// Variables captured from answers (<$name>) and substituted in later cases (${name}).
using Vars = std::map<std::string, std::string>;

std::string substitute(std::string s, const Vars& vars) {
  for (const auto& [k, v] : vars) {
    std::string key = "${" + k + "}";
    for (size_t p; (p = s.find(key)) != std::string::npos;) s.replace(p, key.size(), v);
  }
  return s;
}

// Glob match with '<*>' as the wildcard and '<$name>' capturing what it matches.
bool globMatch(const std::string& pattern, const std::string& text, Vars& vars) {
  size_t star = pattern.find("<*>");
  size_t cap = pattern.find("<$");
  size_t w = std::min(star, cap);
  if (w == std::string::npos) return pattern == text;
  if (text.compare(0, w, pattern, 0, w) != 0) return false;
  size_t wEnd = w == star ? w + 3 : pattern.find('>', w) + 1;
  std::string rest = pattern.substr(wEnd);
  // Try the shortest match first; the rest must match the remaining text.
  for (size_t k = w; k <= text.size(); ++k) {
    Vars trial = vars;
    if (globMatch(rest, text.substr(k), trial)) {
      if (w == cap) trial[pattern.substr(w + 2, wEnd - w - 3)] = text.substr(w, k - w);
      vars = std::move(trial);
      return true;
    }
  }
  return false;
}

bool jsonMatch(const rapidjson::Value& exp, const rapidjson::Value& act, Vars& vars, std::string& where) {
  if (exp.IsString()) {
    std::string e(exp.GetString(), exp.GetStringLength());
    if (e == "<*>") return true;
    if (e.find("<*>") != std::string::npos || e.find("<$") != std::string::npos) {
      if (!act.IsString()) return false;
      return globMatch(e, std::string(act.GetString(), act.GetStringLength()), vars);
    }
    return act.IsString() && e == act.GetString();
  }
  if (exp.IsNumber()) return act.IsNumber() && exp.GetDouble() == act.GetDouble();
  if (exp.IsObject()) {
    if (!act.IsObject()) return false;
    bool open = exp.HasMember("<...>");
    for (auto& m : exp.GetObject()) {
      std::string name = m.name.GetString();
      if (name == "<...>") continue;
      if (m.value.IsString() && std::string(m.value.GetString()) == "<absent>") {
        if (act.HasMember(m.name)) {
          where = "/" + name + " should be absent";
          return false;
        }
        continue;
      }
      if (!act.HasMember(m.name)) {
        where = "/" + name + " missing";
        return false;
      }
      if (!jsonMatch(m.value, act[m.name], vars, where)) {
        where = "/" + name + where;
        return false;
      }
    }
    if (!open) {
      for (auto& m : act.GetObject()) {
        if (!exp.HasMember(m.name)) {
          where = "/" + std::string(m.name.GetString()) + " unexpected";
          return false;
        }
      }
    }
    return true;
  }
  if (exp.IsArray()) {
    if (!act.IsArray()) return false;
    auto ea = exp.GetArray();
    bool unordered = ea.Size() > 0 && ea[0].IsString() && std::string(ea[0].GetString()) == "<unordered>";
    size_t start = unordered ? 1 : 0;
    if (act.Size() != ea.Size() - start) {
      where = " array size " + std::to_string(act.Size()) + " != " + std::to_string(ea.Size() - start);
      return false;
    }
    if (!unordered) {
      for (rapidjson::SizeType i = 0; i < act.Size(); ++i) {
        if (!jsonMatch(ea[i], act[i], vars, where)) {
          where = "[" + std::to_string(i) + "]" + where;
          return false;
        }
      }
      return true;
    }
    std::vector<bool> used(act.Size(), false);
    for (size_t i = start; i < ea.Size(); ++i) {
      bool found = false;
      for (rapidjson::SizeType j = 0; j < act.Size() && !found; ++j) {
        std::string ignored;
        if (!used[j] && jsonMatch(ea[i], act[j], vars, ignored)) used[j] = found = true;
      }
      if (!found) {
        where = "[unordered] element " + std::to_string(i - start) + " not found";
        return false;
      }
    }
    return true;
  }
  return exp == act;
}

std::string pretty(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) return text;
  rapidjson::StringBuffer b;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  return b.GetString();
}

class ApiCases : public ::testing::TestWithParam<std::string> {};

TEST_P(ApiCases, Run) {
  const std::string file = GetParam();
  auto cases = parseFile(file);
  ASSERT_FALSE(cases.empty()) << file << " has no cases";
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), serverDirectives(file));
  ASSERT_TRUE(server.ok()) << "server did not start";
  HttpClient client(server.port());
  Vars vars;
  vars["PORT"] = std::to_string(server.port());
  for (const auto& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [k, v] : c.headers) headers.emplace_back(k, substitute(v, vars));
    std::string body = substitute(c.body, vars);
    HttpResult r = client.request(c.method, substitute(c.target, vars), headers, body);
    std::ostringstream report;
    report << file << ":" << c.line << " «" << c.title << "»\n  " << c.method << " " << substitute(c.target, vars)
           << "\n" << (body.empty() ? "" : "  body: " + body + "\n") << "  expected " << c.expectStatus << "\n"
           << (c.hasExpectBody ? pretty(substitute(c.expectBody, vars)) + "\n" : "") << "  actual " << r.status
           << " " << r.error << "\n";
    for (const auto& [k, v] : r.headers) report << "  " << k << ": " << v << "\n";
    report << pretty(r.body) << "\n";
    ASSERT_EQ(r.status, c.expectStatus) << report.str();
    for (const auto& [name, pattern] : c.expectHeaders) {
      bool any = false;
      for (const auto& value : r.headersNamed(name)) any = any || globMatch(substitute(pattern, vars), value, vars);
      ASSERT_TRUE(any) << "header " << name << " does not match '" << pattern << "'\n" << report.str();
    }
    for (const auto& name : c.absentHeaders) {
      ASSERT_TRUE(r.headersNamed(name).empty()) << "header " << name << " should be absent\n" << report.str();
    }
    if (c.hasExpectBody) {
      std::string expected = substitute(c.expectBody, vars);
      rapidjson::Document e, a;
      e.Parse(expected.c_str());
      if (!e.HasParseError()) {
        a.Parse(r.body.c_str());
        ASSERT_FALSE(a.HasParseError()) << "answer is not JSON\n" << report.str();
        std::string where;
        ASSERT_TRUE(jsonMatch(e, a, vars, where)) << "body differs at " << where << "\n" << report.str();
      } else {
        ASSERT_TRUE(globMatch(expected, r.body, vars)) << "body differs\n" << report.str();
      }
    }
  }
}

std::vector<std::string> caseFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(ALLMENDE_API_CASES)) {
    if (e.is_regular_file() && e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string caseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string rel = std::filesystem::relative(info.param, ALLMENDE_API_CASES).replace_extension("").string();
  for (auto& c : rel) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return rel;
}

INSTANTIATE_TEST_SUITE_P(Cases, ApiCases, ::testing::ValuesIn(caseFiles()), caseName);

}  // namespace
}  // namespace allmende::testing
