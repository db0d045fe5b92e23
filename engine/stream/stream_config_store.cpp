#include "engine/stream/stream_config_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace aes67 {

using nlohmann::json;

namespace {

json formatToJson(const RtpStreamFormat& f) {
  return json{{"encoding", toString(f.encoding)}, {"channels", f.channels}, {"sampleRate", f.sampleRate},
              {"payloadType", f.payloadType}, {"mediaclkOffset", f.mediaclkOffset}};
}

RtpStreamFormat formatFromJson(const json& j) {
  RtpStreamFormat f;
  const auto e = parsePcmEncoding(j.at("encoding").get<std::string>());
  if (!e) throw std::invalid_argument("encoding must be L16, L24 or L32");
  f.encoding = *e;
  f.channels = j.at("channels").get<std::uint32_t>();
  f.sampleRate = j.at("sampleRate").get<std::uint32_t>();
  f.payloadType = j.at("payloadType").get<std::uint8_t>();
  f.mediaclkOffset = j.value("mediaclkOffset", std::uint32_t{0});
  return f;
}

std::string systemError(const std::string& what, const std::string& file) {
  return what + " '" + file + "': " + std::strerror(errno);
}

void writeAll(int fd, const std::string& data, const std::string& file) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(systemError("cannot write", file));
    }
    done += static_cast<std::size_t>(n);
  }
}

// Temporary file, fsync, rename, fsync of the folder: the file is either the old or the
// new content, never half of one.
void atomicWrite(const std::string& folder, const std::string& file, const std::string& data) {
  const std::string tmp = file + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(systemError("cannot create", tmp));
  try {
    writeAll(fd, data, tmp);
    if (::fsync(fd) != 0) throw std::runtime_error(systemError("cannot fsync", tmp));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string err = systemError("cannot rename into", file);
    ::unlink(tmp.c_str());
    throw std::runtime_error(err);
  }
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

bool readFile(const std::string& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

std::string utcStamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string streamConfigToJson(const StreamConfig& c) {
  json rx = json::array();
  for (const auto& r : c.rx) {
    json entry{{"id", r.id}, {"sdp", r.sdp}, {"channelMap", r.channelMap}, {"linkOffset", r.linkOffset},
               {"playoutCapacityFrames", r.playoutCapacityFrames}};
    // Optional keys, written only when set: files without them read the same as before.
    if (!r.sapSessionName.empty()) entry["sapSessionName"] = r.sapSessionName;
    if (!r.rtspUrl.empty()) entry["rtspUrl"] = r.rtspUrl;
    if (!r.timing.empty()) entry["timing"] = r.timing;
    rx.push_back(std::move(entry));
  }
  json tx = json::array();
  for (const auto& t : c.tx) {
    tx.push_back(json{{"id", t.id}, {"name", t.name}, {"destination", formatEndpoint(t.destination)}, {"ttl", t.ttl},
                      {"format", formatToJson(t.format)}, {"framesPerPacket", t.framesPerPacket},
                      {"channelMap", t.channelMap}, {"ssrc", t.ssrc}, {"dscp", t.dscp}, {"sessionId", t.sessionId},
                      {"sessionVersion", t.sessionVersion}, {"direction", t.direction}, {"channelLabels", t.channelLabels}});
    if (t.announce) tx.back()["announce"] = true;  // optional: files without it read as before
  }
  return json{{"schemaVersion", kStreamConfigSchemaVersion}, {"rx", rx}, {"tx", tx}}.dump(2) + "\n";
}

StreamConfig streamConfigFromJson(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("the top level must be an object");
  if (!j.contains("schemaVersion") || !j["schemaVersion"].is_number_integer()) {
    throw std::invalid_argument("no integer \"schemaVersion\"");
  }
  const int version = j["schemaVersion"].get<int>();
  if (version != kStreamConfigSchemaVersion) {
    throw std::invalid_argument("schema version " + std::to_string(version) + " is not the one this build reads (" +
                                std::to_string(kStreamConfigSchemaVersion) + ")" +
                                (version > kStreamConfigSchemaVersion ? ": it was written by a newer version" : ""));
  }
  StreamConfig c;
  std::string where = "";
  try {
    std::size_t i = 0;
    for (const auto& r : j.value("rx", json::array())) {
      where = "rx[" + std::to_string(i++) + "]";
      RxStreamConfig x;
      x.id = r.at("id").get<std::string>();
      x.sdp = r.at("sdp").get<std::string>();
      x.channelMap = r.value("channelMap", std::vector<std::uint32_t>{});
      x.linkOffset = r.value("linkOffset", SampleTime{48});
      x.playoutCapacityFrames = r.value("playoutCapacityFrames", std::uint32_t{8192});
      x.sapSessionName = r.value("sapSessionName", std::string());
      x.rtspUrl = r.value("rtspUrl", std::string());
      x.timing = r.value("timing", std::string());
      if (!x.timing.empty() && x.timing != "media-clock" && x.timing != "sender") {
        throw std::invalid_argument("timing must be \"media-clock\", \"sender\" or absent, not \"" + x.timing + "\"");
      }
      c.rx.push_back(std::move(x));
    }
    i = 0;
    for (const auto& t : j.value("tx", json::array())) {
      where = "tx[" + std::to_string(i++) + "]";
      TxStreamConfig x;
      x.id = t.at("id").get<std::string>();
      x.name = t.value("name", std::string());
      x.destination = parseEndpoint(t.at("destination").get<std::string>());
      x.ttl = t.value("ttl", std::uint32_t{32});
      x.format = formatFromJson(t.at("format"));
      x.framesPerPacket = t.value("framesPerPacket", std::uint32_t{48});
      x.channelMap = t.value("channelMap", std::vector<std::uint32_t>{});
      x.ssrc = t.value("ssrc", std::uint32_t{0});
      x.dscp = t.value("dscp", 34);
      x.sessionId = t.value("sessionId", std::string());
      x.sessionVersion = t.value("sessionVersion", std::uint64_t{1});
      x.direction = t.value("direction", std::string("recvonly"));
      x.channelLabels = t.value("channelLabels", std::vector<std::string>{});
      x.announce = t.value("announce", false);
      c.tx.push_back(std::move(x));
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(where + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  return c;
}

StreamConfigStore::StreamConfigStore(std::string folder, std::string fileName)
    : folder_(std::move(folder)), fileName_(std::move(fileName)) {
  if (folder_.empty()) throw std::invalid_argument("StreamConfigStore: no configuration folder");
}

std::string StreamConfigStore::path() const { return folder_ + "/" + fileName_; }

StreamConfigLoad StreamConfigStore::load() const {
  StreamConfigLoad out;
  std::string text;
  const std::string file = path();
  if (!readFile(file, text)) {
    // No file (first run, or someone removed it): the last good copy, if any.
    std::string prev;
    if (readFile(previousPath(), prev)) {
      try {
        out.config = streamConfigFromJson(prev);
        out.source = StreamConfigLoad::Source::kPrevious;
      } catch (const std::invalid_argument&) {
      }
    }
    return out;
  }
  try {
    out.config = streamConfigFromJson(text);
    out.source = StreamConfigLoad::Source::kFile;
    return out;
  } catch (const std::invalid_argument& e) {
    out.movedAside = file + ".corrupt-" + utcStamp();
    if (::rename(file.c_str(), out.movedAside.c_str()) != 0) out.movedAside.clear();
    std::string prev;
    bool havePrevious = false;
    if (readFile(previousPath(), prev)) {
      try {
        out.config = streamConfigFromJson(prev);
        havePrevious = true;
      } catch (const std::invalid_argument&) {
      }
    }
    out.source = havePrevious ? StreamConfigLoad::Source::kPrevious : StreamConfigLoad::Source::kEmpty;
    out.problem = "stream configuration '" + file + "' is unusable: " + e.what() + ". " +
                  (out.movedAside.empty() ? "It could not be moved aside. " : "It was moved to '" + out.movedAside + "'. ") +
                  (havePrevious ? "Using the previous good configuration from '" + previousPath() + "'. "
                                : "No previous good configuration: starting with no streams. ") +
                  "Fix: correct the file and move it back, or configure the streams again (the next save writes a new file).";
    return out;
  }
}

void StreamConfigStore::save(const StreamConfig& config) const {
  struct stat st{};
  if (::stat(folder_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("configuration folder '" + folder_ + "' does not exist or is not a folder");
  }
  // The file, then the same text as the last good copy: a later corruption of the file
  // (a crash elsewhere, a tool writing it badly) falls back to exactly what was saved.
  const std::string text = streamConfigToJson(config);
  atomicWrite(folder_, path(), text);
  atomicWrite(folder_, previousPath(), text);
}

}  // namespace aes67
