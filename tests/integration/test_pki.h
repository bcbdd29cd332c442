// Certificates for integration tests, made by the real tools/dev-ca (OpenSSL) once
// per test binary: the gateway's, one per member, plus the odd ones the security
// tests need (an unregistered member, an expired certificate, another CA's).
#ifndef SWITCHBOARD_TESTS_INTEGRATION_TEST_PKI_H_
#define SWITCHBOARD_TESTS_INTEGRATION_TEST_PKI_H_

#include <string>
#include <vector>

namespace switchboard::testing {

// Members every test gateway knows (their certificates exist).
inline const std::vector<std::string>& TestMembers() {
  static const auto* const kMembers = new std::vector<std::string>{
      "st-marys", "harbour-housing", "northside-family", "care-coord", "admin", "eastside-mh"};
  return *kMembers;
}

struct CertFiles {
  std::string ca;    // CA that signed the gateway's certificate (for the client to trust)
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  // Made on first use, shared by every test of the binary, removed at exit.
  static const TestPki& Get();

  const std::string& dir() const { return dir_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string gateway_cert() const { return dir_ + "/gateway.pem"; }
  std::string gateway_key() const { return dir_ + "/gateway.key"; }
  // A registered member's certificate (any of TestMembers()).
  CertFiles Member(const std::string& org) const;
  // Signed by our CA, SAN spiffe://switchboard.example/org/stranger: registered nowhere.
  CertFiles Stranger() const;
  // st-marys' SAN, but expired (2020-01-01..02).
  CertFiles Expired() const;
  // st-marys' SAN, signed by a different CA.
  CertFiles OtherCa() const;
  // The SAN a member's certificate carries.
  static std::string San(const std::string& org);

 private:
  TestPki();
  std::string dir_;
};

// Repository and build directories (ctest sets SB_SOURCE_DIR and SB_BINARY_DIR).
std::string SourceDir();
std::string BinaryDir();
// The contents of a file of the repository (`relative` to SourceDir()); "" when unreadable.
std::string ReadSource(const std::string& relative);

// Runs a shell command; returns its exit status and (when `output` is set) stdout.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_TEST_PKI_H_
