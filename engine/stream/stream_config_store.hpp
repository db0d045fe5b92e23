// Saves and loads the stream configuration as JSON in a configuration folder.
//
// Writes are atomic: a temporary file in the same folder, fsync, rename over the old one,
// fsync of the folder; the same text is also kept as `<name>.last-good`. A file
// that is not JSON, does not match the schema, or carries a schema version this build
// does not know is never overwritten in place and never silently ignored: it is moved
// aside as `<name>.corrupt-<UTC time>`, the problem is reported (file, what is wrong, the
// fix), and the previous good configuration is used — nothing already saved is lost.
#pragma once

#include <optional>
#include <string>

#include "engine/stream/stream_config.hpp"

namespace aes67 {

struct StreamConfigLoad {
  StreamConfig config;
  enum class Source { kFile, kPrevious, kEmpty } source = Source::kEmpty;
  std::string problem;      // empty when the file loaded cleanly
  std::string movedAside;   // where a bad file went
};

class StreamConfigStore {
 public:
  explicit StreamConfigStore(std::string folder, std::string fileName = "streams.json");

  StreamConfigLoad load() const;
  // Throws std::runtime_error naming the file and the system error.
  void save(const StreamConfig& config) const;

  std::string path() const;
  std::string previousPath() const { return path() + ".last-good"; }

 private:
  std::string folder_;
  std::string fileName_;
};

// JSON text of a configuration (schema version kStreamConfigSchemaVersion), and back.
// fromJson throws std::invalid_argument naming what is wrong and where.
std::string streamConfigToJson(const StreamConfig& config);
StreamConfig streamConfigFromJson(const std::string& text);

}  // namespace aes67
