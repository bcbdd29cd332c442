// Sessions (idle and absolute timeouts, tokens, ending a person's sessions,
// flash messages) and the form, query and cookie readers of the web view.
#include "gateway/web/sessions.h"

#include "absl/strings/str_cat.h"
#include "gateway/web/forms.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::gateway::web {
namespace {

using ::switchboard::testing::StatusIs;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

TEST(SessionStoreTest, IdleAndAbsoluteTimeoutsEndASession) {
  SessionStore store(SessionLimits{.idle = absl::Minutes(30), .absolute = absl::Hours(12)});
  Session s = store.Create("care-coord", "jrivera", "J. Rivera", false, kStart);
  EXPECT_NE(s.id, s.csrf);
  EXPECT_GE(s.id.size(), 43u);  // 256 bits, base64url
  // Used every 20 minutes: alive until the absolute limit.
  absl::Time t = kStart;
  for (int i = 0; i < 35; ++i) {
    t += absl::Minutes(20);
    ASSERT_TRUE(store.Find(s.id, t).has_value()) << i;
  }
  t += absl::Minutes(21);  // 12 h 1 min since creation
  EXPECT_FALSE(store.Find(s.id, t).has_value());
  EXPECT_FALSE(store.Find(s.id, kStart).has_value());  // removed for good

  Session idle = store.Create("care-coord", "jrivera", "J. Rivera", false, kStart);
  EXPECT_TRUE(store.Find(idle.id, kStart + absl::Minutes(29)).has_value());
  EXPECT_FALSE(store.Find(idle.id, kStart + absl::Minutes(60)).has_value());
}

TEST(SessionStoreTest, UnknownOrAlteredIdsFindNothing) {
  SessionStore store;
  Session s = store.Create("care-coord", "jrivera", "J. Rivera", false, kStart);
  std::string altered = s.id;
  altered[0] = altered[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(store.Find(altered, kStart).has_value());
  EXPECT_FALSE(store.Find("", kStart).has_value());
  EXPECT_FALSE(SameToken("", ""));
  EXPECT_TRUE(SameToken(s.csrf, s.csrf));
  EXPECT_FALSE(SameToken(s.csrf, s.csrf.substr(1)));
}

TEST(SessionStoreTest, PasswordChangeFlashAndEndingAPersonsSessions) {
  SessionStore store;
  Session a = store.Create("harbour-housing", "kmensah", "K. Mensah", true, kStart);
  Session b = store.Create("harbour-housing", "kmensah", "K. Mensah", true, kStart);
  Session other = store.Create("care-coord", "jrivera", "J. Rivera", false, kStart);
  store.PasswordChanged(a.id);
  EXPECT_FALSE(store.Find(a.id, kStart)->must_change_password);
  EXPECT_TRUE(store.Find(b.id, kStart)->must_change_password);
  store.SetFlash(a.id, 2, "Saved.");
  auto flash = store.TakeFlash(a.id);
  EXPECT_EQ(flash.first, 2);
  EXPECT_TRUE(flash.second == "Saved.");
  flash = store.TakeFlash(a.id);  // once only
  EXPECT_EQ(flash.first, 0);
  EXPECT_TRUE(flash.second.empty());
  store.RemovePerson("harbour-housing", "kmensah");
  EXPECT_FALSE(store.Find(a.id, kStart).has_value());
  EXPECT_FALSE(store.Find(b.id, kStart).has_value());
  EXPECT_TRUE(store.Find(other.id, kStart).has_value());
}

TEST(SessionStoreTest, TheOldestSessionGoesBeyondTheCap) {
  SessionStore store(SessionLimits{.max_sessions = 2});
  Session first = store.Create("o", "a", "A", false, kStart);
  Session second = store.Create("o", "b", "B", false, kStart + absl::Seconds(1));
  Session third = store.Create("o", "c", "C", false, kStart + absl::Seconds(2));
  EXPECT_FALSE(store.Find(first.id, kStart + absl::Seconds(3)).has_value());
  EXPECT_TRUE(store.Find(second.id, kStart + absl::Seconds(3)).has_value());
  EXPECT_TRUE(store.Find(third.id, kStart + absl::Seconds(3)).has_value());
}

TEST(FormsTest, FormsQueriesAndCookies) {
  auto form = ParseForm("csrf=a%2Bb&note=Moved+in%21&empty=&csrf=second");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(Field(*form, "csrf"), "a+b");  // the first of a name given twice
  EXPECT_EQ(Field(*form, "note"), "Moved in!");
  EXPECT_EQ(Field(*form, "empty"), "");
  EXPECT_EQ(Field(*form, "absent"), "");
  EXPECT_THAT(ParseForm("a=%zz").status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(ParseForm("a=%2").status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  std::string many;
  for (int i = 0; i < 65; ++i) absl::StrAppend(&many, "f", i, "=1&");
  EXPECT_THAT(ParseForm(many).status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));

  EXPECT_EQ(PathOf("/clients/client-0004?org=st-marys"), "/clients/client-0004");
  auto query = QueryOf("/clients?q=sam%20t");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(Field(*query, "q"), "sam t");
  EXPECT_TRUE(CookieValue("a=1; sb_session=xyz; sb_signin=t", "sb_session") == "xyz");
  EXPECT_FALSE(CookieValue("xsb_session=1", "sb_session").has_value());
  EXPECT_EQ(UrlEncode("/clients/a b?x"), "%2Fclients%2Fa%20b%3Fx");
}

}  // namespace
}  // namespace switchboard::gateway::web
