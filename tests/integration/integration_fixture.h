// A fixture that starts a fresh gateway (own temp dir, RocksDB, port) per test.
#ifndef SWITCHBOARD_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
#define SWITCHBOARD_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/gateway_process.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_pki.h"

namespace switchboard::testing {

class GatewayTest : public ::testing::Test {
 protected:
  // Override to change the gateway's options before it starts.
  virtual GatewayOptions Options() { return GatewayOptions(); }

  void SetUp() override {
    gateway_ = std::make_unique<GatewayProcess>(dir_.path(), Options());
    absl::Status started = gateway_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  void TearDown() override {
    if (gateway_ && gateway_->running()) {
      absl::Status stopped = gateway_->Stop();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  // Stubs acting as `org` (one of TestMembers()).
  std::unique_ptr<Member> As(const std::string& org) {
    return std::make_unique<Member>(gateway_->address(), TestPki::Get().Member(org));
  }
  std::unique_ptr<Subscriber> Subscribe(const std::string& org, uint32_t window = 0) {
    return std::make_unique<Subscriber>(MakeChannel(gateway_->address(), TestPki::Get().Member(org)),
                                        window);
  }
  // Restarts the gateway on the same directory (cleanly).
  void Restart() {
    absl::Status stopped = gateway_->Stop();
    ASSERT_TRUE(stopped.ok()) << stopped;
    absl::Status started = gateway_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  TempDir dir_;
  std::unique_ptr<GatewayProcess> gateway_;
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
