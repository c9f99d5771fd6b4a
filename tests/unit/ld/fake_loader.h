// A ContextLoader serving documents from a map, counting calls.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "ld/context_loader.h"

namespace allmende::ld::testing {

class FakeLoader : public ContextLoader {
 public:
  void put(const std::string& url, const std::string& body) {
    std::lock_guard lock(mu_);
    docs_[url] = body;
  }
  Result<std::string> load(const std::string& url) override {
    ++calls;
    std::lock_guard lock(mu_);
    auto it = docs_.find(url);
    if (it == docs_.end()) return Status(ErrorType::kLdContextNotAvailable, "unreachable: " + url);
    return it->second;
  }
  std::atomic<int> calls{0};

 private:
  std::mutex mu_;
  std::map<std::string, std::string> docs_;
};

}  // namespace allmende::ld::testing
