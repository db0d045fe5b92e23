// Every branch of the data set comparison, IEEE 1588-2008 figures 27 and 28.
#include "engine/ptp/bmca.hpp"

#include <gtest/gtest.h>

namespace aes67 {
namespace {

ClockIdentity id(std::uint64_t v) { return ClockIdentity::fromValue(v); }

PtpMasterDataset base() {
  PtpMasterDataset d;
  d.priority1 = 128;
  d.quality = {6, 0x21, 0x4E5D};
  d.priority2 = 128;
  d.grandmasterIdentity = id(0x0000000000000100);
  d.stepsRemoved = 0;
  d.sender = {id(0x0000000000000100), 1};
  d.receiver = {id(0x0000000000009999), 1};
  return d;
}

// Checks the pair both ways round: the comparison must be antisymmetric.
void expectOrder(const PtpMasterDataset& a, const PtpMasterDataset& b, BmcaOrder ab, BmcaOrder ba) {
  EXPECT_EQ(compareDatasets(a, b), ab) << toString(compareDatasets(a, b));
  EXPECT_EQ(compareDatasets(b, a), ba) << toString(compareDatasets(b, a));
}

TEST(Bmca, Figure27EachAttributeDecidesInTurn) {
  PtpMasterDataset a = base(), b = base();
  b.grandmasterIdentity = id(0x0000000000000200);
  b.sender = {b.grandmasterIdentity, 1};

  // Everything equal but the identity: the lower identity wins (the final tie-break).
  expectOrder(a, b, BmcaOrder::kABetter, BmcaOrder::kBBetter);
  // priority2 decides before the identity.
  b.priority2 = 127;
  expectOrder(a, b, BmcaOrder::kBBetter, BmcaOrder::kABetter);
  // offsetScaledLogVariance decides before priority2.
  a.quality.offsetScaledLogVariance = 0x4000;
  expectOrder(a, b, BmcaOrder::kABetter, BmcaOrder::kBBetter);
  // clockAccuracy decides before the variance.
  b.quality.clockAccuracy = 0x20;
  expectOrder(a, b, BmcaOrder::kBBetter, BmcaOrder::kABetter);
  // clockClass decides before the accuracy.
  a.quality.clockClass = 5;
  expectOrder(a, b, BmcaOrder::kABetter, BmcaOrder::kBBetter);
  // priority1 decides before everything.
  b.priority1 = 127;
  expectOrder(a, b, BmcaOrder::kBBetter, BmcaOrder::kABetter);
}

TEST(Bmca, Figure27SingleAttributes) {
  struct Case {
    const char* name;
    void (*worsen)(PtpMasterDataset&);
  };
  const Case cases[] = {
      {"priority1", [](PtpMasterDataset& d) { d.priority1 = 129; }},
      {"clockClass", [](PtpMasterDataset& d) { d.quality.clockClass = 7; }},
      {"clockAccuracy", [](PtpMasterDataset& d) { d.quality.clockAccuracy = 0x22; }},
      {"offsetScaledLogVariance", [](PtpMasterDataset& d) { d.quality.offsetScaledLogVariance = 0x4E5E; }},
      {"priority2", [](PtpMasterDataset& d) { d.priority2 = 129; }},
  };
  for (const auto& c : cases) {
    PtpMasterDataset a = base(), b = base();
    // B has the lower identity, so only the attribute can make A win.
    a.grandmasterIdentity = id(0x0000000000000300);
    a.sender = {a.grandmasterIdentity, 1};
    c.worsen(b);
    expectOrder(a, b, BmcaOrder::kABetter, BmcaOrder::kBBetter);
    SCOPED_TRACE(c.name);
  }
}

// Figure 28: the same grandmaster heard along two paths.
TEST(Bmca, Figure28StepsRemovedMoreThanOneApart) {
  PtpMasterDataset a = base(), b = base();
  b.sender = {id(0x0000000000000500), 1};
  a.stepsRemoved = 3;
  b.stepsRemoved = 1;
  expectOrder(a, b, BmcaOrder::kBBetter, BmcaOrder::kABetter);
}

TEST(Bmca, Figure28OneStepApartDecidedByReceiverAgainstSender) {
  PtpMasterDataset a = base(), b = base();
  b.sender = {id(0x0000000000000500), 1};
  a.stepsRemoved = 2;
  b.stepsRemoved = 1;
  // A is one step further; its receiver identity below its sender: B better.
  a.receiver = {id(0x0000000000000050), 1};
  a.sender = {id(0x0000000000000600), 1};
  EXPECT_EQ(compareDatasets(a, b), BmcaOrder::kBBetter);
  // Receiver above sender: B better by topology.
  a.receiver = {id(0x0000000000000700), 1};
  EXPECT_EQ(compareDatasets(a, b), BmcaOrder::kBBetterByTopology);
  // Receiver equal to sender: our own message came back (error-1).
  a.receiver = a.sender;
  EXPECT_EQ(compareDatasets(a, b), BmcaOrder::kError1);

  // Mirror image: B is one step further.
  PtpMasterDataset c = base(), d = base();
  c.stepsRemoved = 1;
  d.stepsRemoved = 2;
  d.sender = {id(0x0000000000000600), 1};
  d.receiver = {id(0x0000000000000050), 1};
  EXPECT_EQ(compareDatasets(c, d), BmcaOrder::kABetter);
  d.receiver = {id(0x0000000000000700), 1};
  EXPECT_EQ(compareDatasets(c, d), BmcaOrder::kABetterByTopology);
  d.receiver = d.sender;
  EXPECT_EQ(compareDatasets(c, d), BmcaOrder::kError1);
}

TEST(Bmca, Figure28EqualStepsDecidedBySenderThenReceiverPort) {
  PtpMasterDataset a = base(), b = base();
  a.stepsRemoved = b.stepsRemoved = 1;
  a.sender = {id(0x0000000000000400), 1};
  b.sender = {id(0x0000000000000500), 1};
  expectOrder(a, b, BmcaOrder::kABetterByTopology, BmcaOrder::kBBetterByTopology);
  // Same sender clock: its port number decides (port identities compare as a whole).
  b.sender = {id(0x0000000000000400), 2};
  expectOrder(a, b, BmcaOrder::kABetterByTopology, BmcaOrder::kBBetterByTopology);
  // Same sender port: the receiving port numbers decide.
  b.sender = a.sender;
  a.receiver.portNumber = 1;
  b.receiver.portNumber = 2;
  expectOrder(a, b, BmcaOrder::kABetterByTopology, BmcaOrder::kBBetterByTopology);
  // Everything the same: error-2.
  b.receiver = a.receiver;
  EXPECT_EQ(compareDatasets(a, b), BmcaOrder::kError2);
}

TEST(Bmca, PortIdentityOrder) {
  EXPECT_LT(compare({id(1), 9}, {id(2), 1}), 0) << "clock identity first";
  EXPECT_GT(compare({id(2), 1}, {id(1), 9}), 0);
  EXPECT_LT(compare({id(1), 1}, {id(1), 2}), 0) << "then the port number";
  EXPECT_EQ(compare({id(1), 1}, {id(1), 1}), 0);
  // Octets compare as unsigned, most significant first.
  EXPECT_LT(compare({id(0x00FF000000000000), 1}, {id(0x0100000000000000), 1}), 0);
}

}  // namespace
}  // namespace aes67
