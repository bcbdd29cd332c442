#include "tests/integration/test_pki.h"

#include <stdio.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace switchboard::testing {

std::string SourceDir() {
  const char* dir = std::getenv("SB_SOURCE_DIR");
  return dir != nullptr ? dir : SB_DEFAULT_SOURCE_DIR;
}

std::string BinaryDir() {
  const char* dir = std::getenv("SB_BINARY_DIR");
  return dir != nullptr ? dir : SB_DEFAULT_BINARY_DIR;
}

std::string ReadSource(const std::string& relative) {
  std::ifstream in(SourceDir() + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    if (output != nullptr) output->append(buf, n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

void MustRun(const std::string& command) {
  std::string out;
  if (RunCommand(command + " 2>&1", &out) != 0) {
    throw std::runtime_error(absl::StrCat("failed: ", command, "\n", out));
  }
}

}  // namespace

const TestPki& TestPki::Get() {
  static const TestPki* const kPki = new TestPki();
  return *kPki;
}

TestPki::TestPki() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sbpki-XXXXXX").string();
  dir_ = mkdtemp(tmpl.data());
  const std::string ca = SourceDir() + "/tools/dev-ca";
  MustRun(absl::StrCat(ca, " demo ", dir_, " ", absl::StrJoin(TestMembers(), " "), " stranger"));
  MustRun(absl::StrCat("mkdir -p ", dir_, "/expired && cp ", dir_, "/ca.pem ", dir_, "/ca.key ",
                       dir_, "/expired/ && ", ca, " member ", dir_, "/expired st-marys --expired"));
  MustRun(absl::StrCat(ca, " demo ", dir_, "/other st-marys"));
  // Removed when the test binary exits.
  static std::string cleanup;
  cleanup = dir_;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(cleanup, ec);
  });
}

CertFiles TestPki::Member(const std::string& org) const {
  return CertFiles{ca(), absl::StrCat(dir_, "/", org, ".pem"), absl::StrCat(dir_, "/", org, ".key")};
}

CertFiles TestPki::Stranger() const { return Member("stranger"); }

CertFiles TestPki::Expired() const {
  return CertFiles{ca(), dir_ + "/expired/st-marys.pem", dir_ + "/expired/st-marys.key"};
}

CertFiles TestPki::OtherCa() const {
  // The client still trusts our CA for the gateway; only its own cert is foreign.
  return CertFiles{ca(), dir_ + "/other/st-marys.pem", dir_ + "/other/st-marys.key"};
}

std::string TestPki::San(const std::string& org) {
  return "spiffe://switchboard.example/org/" + org;
}

}  // namespace switchboard::testing
