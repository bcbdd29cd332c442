#include "gateway/store/keys.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace switchboard::gateway::store {
namespace {

using ::testing::Optional;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// RocksDB's default comparator: unsigned bytewise, shorter prefix first.
bool BytewiseLess(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c != 0 ? c < 0 : a.size() < b.size();
}

// Values around every byte boundary that matters, in increasing numeric order.
const std::vector<uint64_t>& OrderedSeqs() {
  static const auto* const kSeqs = new std::vector<uint64_t>{0,          1,
                                                             2,          127,
                                                             128,        255,
                                                             256,        257,
                                                             511,        65535,
                                                             65536,      (1ULL << 24) - 1,
                                                             1ULL << 24, (1ULL << 32) - 1,
                                                             1ULL << 32, (1ULL << 32) + 1,
                                                             1ULL << 56, (1ULL << 63) - 1,
                                                             1ULL << 63, kMax - 1,
                                                             kMax};
  return *kSeqs;
}

TEST(KeysTest, EncodeSeqIsEightBytesAndDecodesToTheSameValue) {
  for (uint64_t seq : OrderedSeqs()) {
    const std::string bytes = EncodeSeq(seq);
    EXPECT_EQ(bytes.size(), 8u) << seq;
    EXPECT_THAT(DecodeSeq(bytes), Optional(seq)) << seq;
  }
}

TEST(KeysTest, EncodedByteOrderIsNumericOrder) {
  const std::vector<uint64_t>& seqs = OrderedSeqs();
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (size_t j = 0; j < seqs.size(); ++j) {
      EXPECT_EQ(BytewiseLess(EncodeSeq(seqs[i]), EncodeSeq(seqs[j])), seqs[i] < seqs[j])
          << seqs[i] << " vs " << seqs[j];
    }
  }
}

TEST(KeysTest, EncodeSeqIsBigEndian) {
  // 256 must not sort before 255, which a little-endian encoding would do.
  EXPECT_EQ(EncodeSeq(1), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(EncodeSeq(256), std::string("\0\0\0\0\0\0\x01\0", 8));
  EXPECT_EQ(EncodeSeq(kMax), std::string(8, '\xff'));
}

TEST(KeysTest, DecodeSeqRejectsAnythingButEightBytes) {
  for (const std::string& bytes : {std::string(), std::string(1, '\x01'), std::string(7, '\0'),
                                   std::string(9, '\0'), EncodeSeq(5) + "x"}) {
    EXPECT_EQ(DecodeSeq(bytes), std::nullopt) << "size " << bytes.size();
  }
}

TEST(KeysTest, RecipientKeysOfOneRecipientAreContiguousAmongPrefixSharingRecipients) {
  // "a" is a prefix of "ab" and "a-b"; with a naive encoding ("a" + seq) the keys
  // of the three recipients would interleave.
  const std::vector<std::string> recipients = {"a", "ab", "a-b", "a0", "b"};
  std::vector<std::pair<std::string, std::string>> keyed;  // key, recipient
  for (const std::string& r : recipients) {
    for (uint64_t seq : OrderedSeqs()) keyed.emplace_back(keys::RecipientSeq(r, seq), r);
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& x, const auto& y) { return BytewiseLess(x.first, y.first); });
  for (const std::string& r : recipients) {
    auto first =
        std::find_if(keyed.begin(), keyed.end(), [&](const auto& k) { return k.second == r; });
    ASSERT_NE(first, keyed.end());
    auto run_end = std::find_if(first, keyed.end(), [&](const auto& k) { return k.second != r; });
    EXPECT_EQ(run_end - first, static_cast<long>(OrderedSeqs().size()))
        << "keys of '" << r << "' are interleaved with another recipient's";
    // Within the run, numeric order.
    std::vector<uint64_t> seqs;
    for (auto it = first; it != run_end; ++it) seqs.push_back(*keys::SeqOfRecipientKey(it->first));
    EXPECT_EQ(seqs, OrderedSeqs()) << r;
  }
}

TEST(KeysTest, RecipientPrefixBoundsExactlyThatRecipientsKeys) {
  const std::string prefix = keys::RecipientPrefix("a");
  const std::string bound = PrefixUpperBound(prefix);
  for (uint64_t seq : OrderedSeqs()) {
    const std::string own = keys::RecipientSeq("a", seq);
    EXPECT_EQ(own.compare(0, prefix.size(), prefix), 0);
    EXPECT_FALSE(BytewiseLess(own, prefix));
    EXPECT_TRUE(BytewiseLess(own, bound)) << seq;
    for (const char* other : {"ab", "a-b", "a0", "b", ""}) {
      const std::string key = keys::RecipientSeq(other, seq);
      const bool inside = !BytewiseLess(key, prefix) && BytewiseLess(key, bound);
      EXPECT_FALSE(inside) << "'" << other << "' seq " << seq << " falls in the range of 'a'";
    }
  }
}

struct UpperBoundCase {
  std::string prefix;
  std::string bound;
};

TEST(KeysTest, PrefixUpperBoundIncrementsTheLastByteThatCanBe) {
  const std::vector<UpperBoundCase> cases = {
      {"abc", "abd"},     {std::string("a\0", 2), "a\x01"},
      {"a\x7f", "a\x80"}, {"a\xfe", "a\xff"},
      {"a\xff", "b"},     {"a\xff\xff", "b"},
      {"\xff", ""},       {"\xff\xff\xff", ""},
      {"", ""},
  };
  for (const UpperBoundCase& c : cases) {
    EXPECT_EQ(PrefixUpperBound(c.prefix), c.bound) << "prefix of size " << c.prefix.size();
  }
}

TEST(KeysTest, PrefixUpperBoundIsAboveEveryKeyWithThePrefixAndBelowTheNextOne) {
  for (const std::string& prefix :
       {std::string("org\0", 4), std::string("a\xff"), keys::RecipientPrefix("st-marys")}) {
    const std::string bound = PrefixUpperBound(prefix);
    ASSERT_FALSE(bound.empty());
    EXPECT_TRUE(BytewiseLess(prefix, bound));
    EXPECT_TRUE(BytewiseLess(prefix + std::string(16, '\xff'), bound));
    EXPECT_NE(bound.compare(0, prefix.size(), prefix), 0) << "the bound starts with the prefix";
  }
}

TEST(KeysTest, SeqOfRecipientKeyReadsBackTheSequence) {
  for (const char* recipient : {"a", "st-marys", "x-1", ""}) {
    for (uint64_t seq : OrderedSeqs()) {
      EXPECT_THAT(keys::SeqOfRecipientKey(keys::RecipientSeq(recipient, seq)), Optional(seq))
          << recipient << " " << seq;
    }
  }
}

TEST(KeysTest, SeqOfRecipientKeyRejectsKeysOfOtherShapes) {
  const std::vector<std::string> not_keys = {
      "",
      "a",
      EncodeSeq(7),                           // a plain sequence key (messages, audit)
      "abcdefghijkl",                         // long enough, no separator
      std::string("a").append(EncodeSeq(7)),  // separator missing
      keys::RecipientSeq("a", 7).substr(0, 8),
  };
  for (const std::string& key : not_keys) {
    EXPECT_EQ(keys::SeqOfRecipientKey(key), std::nullopt) << "key of size " << key.size();
  }
}

TEST(KeysTest, DeliveryIdRoundTrips) {
  for (uint64_t seq : OrderedSeqs()) {
    const std::string id = DeliveryId(seq);
    EXPECT_EQ(id.size(), 20u) << id;
    EXPECT_THAT(ParseDeliveryId(id), Optional(seq)) << id;
  }
}

TEST(KeysTest, DeliveryIdsAreLowerCaseHexOfTheSequence) {
  EXPECT_EQ(DeliveryId(0xa1), "dlv-00000000000000a1");
  EXPECT_EQ(GatewayMessageId(0xa1), "msg-00000000000000a1");
  EXPECT_EQ(DeliveryId(kMax), "dlv-ffffffffffffffff");
}

TEST(KeysTest, ParseDeliveryIdRejectsMalformedIds) {
  const std::vector<std::string> malformed = {
      "",
      "dlv-",
      "dlv-00000000000000a",    // 15 digits
      "dlv-000000000000000a1",  // 17 digits
      "msg-00000000000000a1",   // a message id
      "DLV-00000000000000a1",
      "dlv_00000000000000a1",
      "dlv-00000000000000A1",  // DeliveryId never writes upper case
      "dlv-00000000000000g1",
      "dlv-0000000000000 a1",
      "dlv--0000000000000a1",
      "dlv-+0000000000000a1",
      " dlv-00000000000000a1",
      "dlv-00000000000000a1 ",
      std::string("dlv-00000000000000a\0", 20),
  };
  for (const std::string& id : malformed) {
    EXPECT_EQ(ParseDeliveryId(id), std::nullopt) << "'" << id << "'";
  }
}

}  // namespace
}  // namespace switchboard::gateway::store
