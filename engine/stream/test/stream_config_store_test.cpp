#include "engine/stream/stream_config_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace aes67 {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/a67cfg-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

StreamConfig sample() {
  StreamConfig c;
  c.rx.push_back({"dante", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=x\r\n", {3, 4}, 96, 4096});
  TxStreamConfig t;
  t.id = "out";
  t.name = "Main \"mix\"";
  t.destination = parseEndpoint("239.69.1.1:5004");
  t.format.encoding = PcmEncoding::kL16;
  t.format.channels = 8;
  t.format.sampleRate = 96000;
  t.format.payloadType = 98;
  t.format.mediaclkOffset = 4000000000u;
  t.framesPerPacket = 12;
  t.channelMap = {1, 2, 3, 4, 5, 6, 7, 8};
  t.ssrc = 0xDEADBEEF;
  t.sessionId = "123456789012345678901234567890";
  t.sessionVersion = 7;
  t.direction = "";
  t.channelLabels = {"a", "b"};
  c.tx.push_back(t);
  return c;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(StreamConfigStore, SavesAndLoadsEveryField) {
  TempDir dir;
  StreamConfigStore store(dir.path.string());
  EXPECT_EQ(store.load().source, StreamConfigLoad::Source::kEmpty);
  store.save(sample());
  const StreamConfigLoad l = store.load();
  EXPECT_EQ(l.source, StreamConfigLoad::Source::kFile);
  EXPECT_TRUE(l.problem.empty());
  EXPECT_EQ(streamConfigToJson(l.config), streamConfigToJson(sample()));
  const auto& t = l.config.tx.at(0);
  EXPECT_EQ(t.format.mediaclkOffset, 4000000000u);
  EXPECT_EQ(t.sessionId, "123456789012345678901234567890");
  EXPECT_EQ(t.name, "Main \"mix\"");
  EXPECT_EQ(l.config.rx.at(0).channelMap, (std::vector<std::uint32_t>{3, 4}));
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, 2);  // streams.json and streams.json.last-good
}

TEST(StreamConfigStore, CorruptFileIsMovedAsideReportedAndTheLastGoodOneUsed) {
  TempDir dir;
  StreamConfigStore store(dir.path.string());
  store.save(sample());
  write(store.path(), "{\"schemaVersion\": 1, \"rx\": [ {\"id\": ");  // cut short, as a crash of another writer leaves it
  const StreamConfigLoad l = store.load();
  EXPECT_EQ(l.source, StreamConfigLoad::Source::kPrevious);
  EXPECT_EQ(streamConfigToJson(l.config), streamConfigToJson(sample()));
  EXPECT_NE(l.problem.find(store.path()), std::string::npos) << l.problem;
  EXPECT_NE(l.problem.find("not valid JSON"), std::string::npos) << l.problem;
  EXPECT_NE(l.problem.find("Fix:"), std::string::npos) << l.problem;
  ASSERT_FALSE(l.movedAside.empty());
  EXPECT_NE(l.movedAside.find("streams.json.corrupt-"), std::string::npos);
  EXPECT_TRUE(fs::exists(l.movedAside));
  EXPECT_EQ(read(l.movedAside), "{\"schemaVersion\": 1, \"rx\": [ {\"id\": ");  // nothing lost
  EXPECT_FALSE(fs::exists(store.path()));
}

TEST(StreamConfigStore, UnknownSchemaVersionAndSchemaErrorsAreReported) {
  TempDir dir;
  StreamConfigStore store(dir.path.string());
  write(store.path(), "{\"schemaVersion\": 2, \"rx\": []}");
  StreamConfigLoad l = store.load();
  EXPECT_EQ(l.source, StreamConfigLoad::Source::kEmpty);
  EXPECT_NE(l.problem.find("schema version 2"), std::string::npos) << l.problem;
  EXPECT_NE(l.problem.find("newer version"), std::string::npos) << l.problem;
  EXPECT_NE(l.problem.find("No previous good configuration"), std::string::npos) << l.problem;

  const std::pair<std::string, std::string> cases[] = {
      {"[]", "top level must be an object"},
      {"{}", "no integer \"schemaVersion\""},
      {"{\"schemaVersion\": 1, \"rx\": [{\"sdp\": \"v=0\"}]}", "rx[0]"},
      {"{\"schemaVersion\": 1, \"tx\": [{\"id\": \"t\", \"destination\": \"nowhere\", \"format\": {}}]}", "tx[0]"},
      {"{\"schemaVersion\": 1, \"tx\": [{\"id\": \"t\", \"destination\": \"239.1.1.1:5004\", \"format\": "
       "{\"encoding\": \"opus\", \"channels\": 2, \"sampleRate\": 48000, \"payloadType\": 97}}]}",
       "encoding must be"},
      {"{\"schemaVersion\": 1, \"rx\": [{\"id\": 5, \"sdp\": \"\"}]}", "rx[0]"},
  };
  for (const auto& [text, part] : cases) {
    try {
      streamConfigFromJson(text);
      ADD_FAILURE() << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " / " << part;
    }
  }
}

TEST(StreamConfigStore, MissingFileFallsBackToTheLastGoodCopyAndSaveErrorsNameTheFolder) {
  TempDir dir;
  StreamConfigStore store(dir.path.string());
  store.save(sample());
  fs::remove(store.path());
  EXPECT_EQ(store.load().source, StreamConfigLoad::Source::kPrevious);
  StreamConfigStore nowhere((dir.path / "missing").string());
  try {
    nowhere.save(sample());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  EXPECT_THROW(StreamConfigStore(""), std::invalid_argument);
  if (::geteuid() != 0) {  // root ignores permissions
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(store.save(sample()), std::runtime_error);
    fs::permissions(dir.path, fs::perms::owner_all);
  }
  // A file in the way of the temporary name's folder: the rename target is a folder.
  fs::remove(store.path());
  fs::create_directory(store.path());
  EXPECT_THROW(store.save(sample()), std::runtime_error);
}

}  // namespace
}  // namespace aes67
