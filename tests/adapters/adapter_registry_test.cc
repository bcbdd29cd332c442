#include "adapters/adapter_registry.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/v1/adapters/canonical_json.pb.h"
#include "switchboard/v1/config.pb.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCanonicalJson[] = "switchboard.adapters.canonical_json";

// A factory type for registry tests: only its name and config type matter.
class NamedFactory final : public AdapterFactory {
 public:
  NamedFactory(std::string name, std::string config_type)
      : name_(std::move(name)), config_type_(std::move(config_type)) {}
  std::string name() const override { return name_; }
  std::string config_type() const override { return config_type_; }
  absl::StatusOr<std::unique_ptr<Adapter>> Create(const google::protobuf::Any&) const override {
    return absl::UnimplementedError("test factory");
  }

 private:
  const std::string name_;
  const std::string config_type_;
};

std::unique_ptr<AdapterFactory> Factory(std::string name, std::string config_type) {
  return std::make_unique<NamedFactory>(std::move(name), std::move(config_type));
}

TEST(AdapterRegistryTest, BuiltinsIncludeCanonicalJson) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  EXPECT_THAT(registry.Names(), Contains(kCanonicalJson));
  const AdapterFactory* by_name = registry.FindByName(kCanonicalJson);
  ASSERT_NE(by_name, nullptr);
  EXPECT_EQ(registry.FindByConfigType(v1::adapters::CanonicalJsonConfig::descriptor()->full_name()),
            by_name);
}

TEST(AdapterRegistryTest, CreateChoosesTheFactoryByConfigType) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  google::protobuf::Any any;
  any.PackFrom(v1::adapters::CanonicalJsonConfig());
  ASSERT_OK_AND_ASSIGN(auto adapter, registry.Create(any));
  EXPECT_NE(adapter, nullptr);

  any.PackFrom(v1::Limits());
  EXPECT_THAT(registry.Create(any),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("switchboard.v1.Limits")));
}

TEST(AdapterRegistryTest, DuplicateNameIsAlreadyExists) {
  AdapterRegistry registry;
  ASSERT_THAT(registry.Register(Factory("example.a", "example.ConfigA")), IsOk());
  EXPECT_THAT(registry.Register(Factory("example.a", "example.ConfigB")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("'example.a'")));
  EXPECT_EQ(registry.FindByConfigType("example.ConfigB"), nullptr);
  EXPECT_THAT(registry.Names(), ElementsAre("example.a"));
}

TEST(AdapterRegistryTest, DuplicateConfigTypeIsAlreadyExists) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  EXPECT_THAT(
      registry.Register(Factory("example.impostor", "switchboard.v1.adapters.CanonicalJsonConfig")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(kCanonicalJson)));
  EXPECT_EQ(registry.FindByName("example.impostor"), nullptr);
  EXPECT_EQ(registry.FindByConfigType("switchboard.v1.adapters.CanonicalJsonConfig"),
            registry.FindByName(kCanonicalJson));
}

TEST(AdapterRegistryTest, FactoryWithoutNameOrConfigTypeIsInvalidArgument) {
  AdapterRegistry registry;
  EXPECT_THAT(registry.Register(Factory("", "example.Config")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(registry.Register(Factory("example.a", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_TRUE(registry.Names().empty());
}

TEST(AdapterRegistryTest, NamesAreSorted) {
  AdapterRegistry registry;
  ASSERT_THAT(registry.Register(Factory("example.c", "example.C")), IsOk());
  ASSERT_THAT(registry.Register(Factory("example.a", "example.A")), IsOk());
  ASSERT_THAT(registry.Register(Factory("example.b", "example.B")), IsOk());
  EXPECT_THAT(registry.Names(), ElementsAre("example.a", "example.b", "example.c"));
}

TEST(AdapterRegistryTest, UnknownLookupsAreNull) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  EXPECT_EQ(registry.FindByName("switchboard.adapters.nope"), nullptr);
  EXPECT_EQ(registry.FindByConfigType("switchboard.v1.adapters.Nope"), nullptr);
}

}  // namespace
}  // namespace switchboard::adapters
