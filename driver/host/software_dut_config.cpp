#include "driver/host/software_dut_config.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/base/endpoint.hpp"
#include "engine/rtsp/rtsp_url.hpp"
#include "engine/sdp/sdp_session.hpp"
#include "engine/stream/stream_sdp.hpp"

namespace aes67 {

using nlohmann::json;

namespace {

// Reads one JSON object's keys, remembering where it is, refusing keys it does not know.
class Reader {
 public:
  Reader(const json& j, std::string file, std::string path) : j_(j), file_(std::move(file)), path_(std::move(path)) {
    if (!j_.is_object()) fail("", "must be an object { ... }, not " + typeName(j_));
  }

  [[noreturn]] void fail(const std::string& key, const std::string& message) const { throw ConfigError(file_, at(key), message); }
  std::string at(const std::string& key) const { return path_.empty() ? key : (key.empty() ? path_ : path_ + "." + key); }
  const std::string& file() const { return file_; }

  bool has(const std::string& key) {
    known_.insert(key);
    return j_.contains(key) && !j_.at(key).is_null();
  }
  const json& get(const std::string& key) {
    known_.insert(key);
    return j_.at(key);
  }

  std::string string(const std::string& key, const std::string& fallback) {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_string()) fail(key, "must be a string, not " + typeName(v));
    return v.get<std::string>();
  }
  std::string requiredString(const std::string& key, const std::string& fix) {
    if (!has(key)) fail(key, "is missing; " + fix);
    return string(key, "");
  }
  bool boolean(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_boolean()) fail(key, "must be true or false, not " + typeName(v));
    return v.get<bool>();
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_number_integer()) fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", not " + typeName(v));
    const std::int64_t x = v.get<std::int64_t>();
    if (x < min || x > max) fail(key, std::to_string(x) + " is out of range: use " + std::to_string(min) + "-" + std::to_string(max));
    return x;
  }
  double number(const std::string& key, double fallback, double min, double max) {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_number()) fail(key, "must be a number, not " + typeName(v));
    const double x = v.get<double>();
    if (!(x >= min && x <= max)) fail(key, std::to_string(x) + " is out of range: use " + std::to_string(min) + "-" + std::to_string(max));
    return x;
  }
  std::vector<std::int64_t> integers(const std::string& key, std::int64_t min, std::int64_t max) {
    const json& v = get(key);
    if (!v.is_array()) fail(key, "must be an array of whole numbers, not " + typeName(v));
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string k = key + "[" + std::to_string(i) + "]";
      if (!v[i].is_number_integer()) fail(k, "must be a whole number, not " + typeName(v[i]));
      const std::int64_t x = v[i].get<std::int64_t>();
      if (x < min || x > max) fail(k, std::to_string(x) + " is out of range: use " + std::to_string(min) + "-" + std::to_string(max));
      out.push_back(x);
    }
    return out;
  }
  std::vector<std::string> strings(const std::string& key) {
    const json& v = get(key);
    if (!v.is_array()) fail(key, "must be an array of strings, not " + typeName(v));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) fail(key + "[" + std::to_string(i) + "]", "must be a string, not " + typeName(v[i]));
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  Reader object(const std::string& key) { return Reader(get(key), file_, at(key)); }
  const json& array(const std::string& key) {
    const json& v = get(key);
    if (!v.is_array()) fail(key, "must be an array [ ... ], not " + typeName(v));
    return v;
  }

  // Call last: a key nobody asked for is a typo or an option this build does not have.
  void done() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (known_.count(it.key())) continue;
      std::string list;
      for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
      fail(it.key(), "is not a key aes67-dut knows here; the keys are: " + list);
    }
  }

  static std::string typeName(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    return "an object";
  }

 private:
  const json& j_;
  std::string file_;
  std::string path_;
  std::set<std::string> known_;
};

std::string resolve(const std::string& baseDir, const std::string& path) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

bool readText(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

json parseJson(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann counts bytes; people count lines and columns.
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    if (const auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    throw ConfigError(file + ":" + std::to_string(line) + ":" + std::to_string(column), "",
                      "not valid JSON (" + what + "); fix the syntax there");
  }
}

Ipv4Endpoint endpoint(Reader& r, const std::string& key, const std::string& example) {
  const std::string text = r.requiredString(key, "give it as \"" + example + "\"");
  try {
    const Ipv4Endpoint e = parseEndpoint(text);
    if (e.port == 0) r.fail(key, "\"" + text + "\" has port 0; give a port, e.g. \"" + example + "\"");
    return e;
  } catch (const std::invalid_argument&) {
    r.fail(key, "\"" + text + "\" is not an IPv4 address and port; write it as \"" + example + "\"");
  }
}

DutReceiveStream receiveStream(Reader& r, const StreamContext& c) {
  DutReceiveStream s;
  s.id = r.string("id", "");
  const bool hasFile = r.has("sdpFile"), hasSdp = r.has("sdp"), hasSap = r.has("sap"), hasRtsp = r.has("rtsp");
  if (hasFile + hasSdp + hasSap + hasRtsp != 1) {
    r.fail("", "an RX stream needs exactly one of \"sdpFile\" (a path), \"sdp\" (the SDP text), \"sap\" (a SAP session name) "
               "or \"rtsp\" (a RAVENNA session's rtsp:// URL)");
  }
  if (hasRtsp) {
    s.rtspUrl = r.string("rtsp", "");
    RtspUrl u;
    try {
      u = parseRtspUrl(s.rtspUrl);
    } catch (const std::invalid_argument& e) {
      r.fail("rtsp", e.what());
    }
    try {
      parseIpv4(u.host);
    } catch (const std::invalid_argument&) {
      r.fail("rtsp", "the host of \"" + s.rtspUrl + "\" must be an IPv4 address (resolve a .local name first, e.g. with avahi-resolve)");
    }
  }
  if (hasFile) {
    const std::string path = resolve(c.baseDir, r.string("sdpFile", ""));
    if (!readText(path, s.sdp)) r.fail("sdpFile", "cannot read '" + path + "'; give the path of an SDP file (relative paths start at the configuration file's folder)");
    if (s.sdp.empty()) r.fail("sdpFile", "'" + path + "' is empty; it must hold the stream's SDP");
  }
  if (hasSdp) s.sdp = r.string("sdp", "");
  if (hasSap) {
    s.sapSessionName = r.string("sap", "");
    if (s.sapSessionName.empty()) r.fail("sap", "is empty; give the SAP session's name (its SDP s= line)");
  }
  if (r.has("channels")) {
    for (std::int64_t ch : r.integers("channels", 1, kMaxDeviceChannels)) s.deviceChannels.push_back(static_cast<std::uint32_t>(ch - 1));
  }
  s.timing = r.string("timing", "");
  if (!s.timing.empty() && s.timing != "sender" && s.timing != "media-clock") {
    r.fail("timing", "\"" + s.timing + "\" is not a timing; use \"sender\" (the sender's own clock, RFC 7273 mediaclk:sender) or \"media-clock\" (PTP media time)");
  }
  if (!s.sdp.empty()) {
    // The SDP is checked now, so a mistake names the file rather than failing at start.
    try {
      const RxStreamDescription d = describeRxStream(s.sdp, s.timing);
      if (d.stream.format.sampleRate != c.sampleRate) {
        r.fail(hasFile ? "sdpFile" : "sdp", "the stream runs at " + std::to_string(d.stream.format.sampleRate) + " Hz and the device at " +
                                                 std::to_string(c.sampleRate) + " Hz; set device.sampleRate to match or receive another stream");
      }
    } catch (const SdpError& e) {
      r.fail(hasFile ? "sdpFile" : "sdp", std::string("the SDP cannot be received: ") + e.what());
    }
  }
  r.done();
  return s;
}

PcmEncoding encoding(Reader& r) {
  const std::string e = r.string("encoding", "L24");
  const auto p = parsePcmEncoding(e);
  if (!p) r.fail("encoding", "\"" + e + "\" is not an encoding the device sends; use \"L16\", \"L24\" or \"L32\"");
  return *p;
}

DutTransmitStream transmitStream(Reader& r, const StreamContext& c) {
  DutTransmitStream t;
  t.id = r.string("id", "");
  RtpStreamDescription& s = t.stream;
  s.name = r.string("name", t.id.empty() ? std::string("aes67-dut") : t.id);
  s.destination = endpoint(r, "destination", "239.69.1.2:5004");
  s.format.encoding = encoding(r);
  s.format.sampleRate = static_cast<std::uint32_t>(r.integer("sampleRate", c.sampleRate, 8000, 384000));
  if (s.format.sampleRate != c.sampleRate) {
    r.fail("sampleRate", std::to_string(s.format.sampleRate) + " Hz differs from the device's " + std::to_string(c.sampleRate) +
                             " Hz; a stream runs at the device's rate (leave the key out)");
  }
  std::vector<std::int64_t> map;
  if (r.has("channelMap")) map = r.integers("channelMap", 1, kMaxDeviceChannels);
  const std::int64_t channels = r.integer("channels", map.empty() ? 2 : static_cast<std::int64_t>(map.size()), 1, kMaxStreamChannels);
  if (map.empty()) {
    for (std::int64_t i = 1; i <= channels; ++i) map.push_back(i);
  }
  if (static_cast<std::int64_t>(map.size()) != channels) {
    r.fail("channelMap", "has " + std::to_string(map.size()) + " entries for " + std::to_string(channels) +
                             " channels; give one device output channel (1-based) per stream channel");
  }
  s.format.channels = static_cast<std::uint32_t>(channels);
  for (std::int64_t ch : map) t.deviceChannels.push_back(static_cast<std::uint32_t>(ch - 1));
  if (r.has("ptimeUs") && r.has("framesPerPacket")) r.fail("ptimeUs", "give \"ptimeUs\" or \"framesPerPacket\", not both");
  if (r.has("framesPerPacket")) {
    s.framesPerPacket = static_cast<std::uint32_t>(r.integer("framesPerPacket", 48, 1, 8192));
  } else {
    const double us = r.number("ptimeUs", 1000, 1, 1e6);
    const double frames = us * c.sampleRate / 1e6;
    // 333 µs stands for 1/3 ms (16 frames at 48 kHz), as AES67 and Dante write it.
    const double rounded = std::round(frames);
    if (rounded < 1 || std::fabs(rounded - frames) * 1e6 / c.sampleRate >= 1.0) {
      std::ostringstream m;
      m << us << " µs is not a whole number of frames at " << c.sampleRate << " Hz; use 125, 250, 333, 1000 or 4000";
      r.fail("ptimeUs", m.str());
    }
    s.framesPerPacket = static_cast<std::uint32_t>(rounded);
  }
  s.format.payloadType = static_cast<std::uint8_t>(r.integer("payloadType", 96, 0, 127));
  s.format.mediaclkOffset = static_cast<std::uint32_t>(r.integer("mediaclkOffset", 0, 0, 0xFFFFFFFFll));
  s.ttl = static_cast<int>(r.integer("ttl", 32, 0, 255));
  t.dscp = static_cast<int>(r.integer("dscp", 34, 0, 63));
  t.ssrc = static_cast<std::uint32_t>(r.integer("ssrc", 0, 0, 0xFFFFFFFFll));
  if (t.ssrc == 0) {
    // Distinct streams, distinct SSRCs: derived from the id (FNV-1a), never 0.
    std::uint32_t h = 2166136261u;
    for (unsigned char ch : "ssrc:" + (t.id.empty() ? s.name : t.id)) h = (h ^ ch) * 16777619u;
    t.ssrc = h | 1u;
  }
  if (r.has("labels")) s.channelLabels = r.strings("labels");
  t.direction = r.string("direction", "recvonly");
  if (!t.direction.empty() && t.direction != "recvonly" && t.direction != "sendonly" && t.direction != "sendrecv" && t.direction != "inactive") {
    r.fail("direction", "\"" + t.direction + "\" is not an SDP direction; use \"recvonly\" (what Dante expects), \"sendonly\", \"sendrecv\", \"inactive\" or \"\"");
  }
  t.announce = r.boolean("announce", c.sapAnnounceDefault);
  try {
    validate(s);
  } catch (const std::invalid_argument& e) {
    r.fail("", e.what());
  }
  r.done();
  return t;
}

}  // namespace

SoftwareDutConfig parseSoftwareDutConfig(const std::string& text, const std::string& file, const std::string& baseDir) {
  const json j = parseJson(text, file);
  Reader top(j, file, "");
  SoftwareDutConfig c;
  c.file = file;
  c.interfaceName = top.requiredString("interface", "name the network interface the DUT uses, e.g. \"eth0\"");
  EmulatedDutConfig& d = c.dut;
  d.realTimePriority = true;
  if (top.has("device")) {
    Reader r = top.object("device");
    d.device.name = r.string("name", "aes67-dut");
    d.device.uid = r.string("uid", "org.aes67-lab.software-dut");
    d.device.inputChannels = static_cast<std::uint32_t>(r.integer("inputChannels", 8, 1, kMaxDeviceChannels));
    d.device.outputChannels = static_cast<std::uint32_t>(r.integer("outputChannels", 8, 1, kMaxDeviceChannels));
    d.device.sampleRate = static_cast<std::uint32_t>(r.integer("sampleRate", 48000, 1, 384000));
    if (!isSupportedSampleRate(d.device.sampleRate)) {
      r.fail("sampleRate", std::to_string(d.device.sampleRate) + " Hz is not a rate the device runs at; use 44100, 48000, 88200, 96000, 176400, 192000, 352800 or 384000");
    }
    d.ioBufferFrames = static_cast<std::uint32_t>(r.integer("ioBufferFrames", 256, kMinIoBufferFrames, kMaxIoBufferFrames));
    d.linkOffsetFrames = static_cast<std::uint32_t>(r.integer("linkOffsetFrames", d.device.sampleRate / 1000, 1, 1 << 20));
    d.device.zeroTimeStampPeriod = static_cast<std::uint32_t>(r.integer("zeroTimeStampPeriod", 16384, kMaxIoBufferFrames, 1 << 20));
    r.done();
  } else {
    d.device.name = "aes67-dut";
    d.device.uid = "org.aes67-lab.software-dut";
    d.device.inputChannels = d.device.outputChannels = 8;
    d.linkOffsetFrames = 48;
  }
  if (top.has("ptp")) {
    Reader r = top.object("ptp");
    d.ptp.enabled = r.boolean("enabled", true);
    d.ptp.slave.port.domainNumber = static_cast<std::uint8_t>(r.integer("domain", 0, 0, 127));
    d.ptp.slave.port.announceReceiptTimeout = static_cast<int>(r.integer("announceReceiptTimeout", 3, 2, 255));
    d.ptp.resyncThresholdNs = r.integer("resyncThresholdNs", 0, 0, 1'000'000'000);
    const std::string stamp = r.string("transmitStamp", "kernel");
    if (stamp == "kernel") d.ptp.slave.transmitStamp = PtpTransmitStamp::kKernel;
    else if (stamp == "loopback") d.ptp.slave.transmitStamp = PtpTransmitStamp::kMulticastLoopback;
    else if (stamp == "before") d.ptp.slave.transmitStamp = PtpTransmitStamp::kClockBeforeSend;
    else if (stamp == "after") d.ptp.slave.transmitStamp = PtpTransmitStamp::kClockAfterSend;
    else r.fail("transmitStamp", "\"" + stamp + "\" is not a transmit stamp source; use \"kernel\" (best), \"loopback\", \"before\" or \"after\"");
    r.done();
  }
  d.ptp.slave.interfaceName = c.interfaceName;
  if (top.has("loopback")) {
    const std::vector<std::int64_t> map = top.integers("loopback", 0, d.device.inputChannels);
    if (map.size() > d.device.outputChannels) {
      top.fail("loopback", "has " + std::to_string(map.size()) + " entries but the device has " + std::to_string(d.device.outputChannels) +
                               " outputs; give one input channel (1-based, 0 = silent) per output");
    }
    for (std::size_t o = 0; o < d.device.outputChannels; ++o) {
      d.loopbackMap.push_back(o < map.size() ? static_cast<std::int32_t>(map[o]) - 1 : LoopbackClient::kSilent);
    }
  }
  if (top.has("sap")) {
    Reader r = top.object("sap");
    d.sap.listen = r.boolean("listen", false);
    c.sapAnnounceDefault = r.boolean("announce", true);
    if (r.has("group")) {
      const Ipv4Endpoint g = endpoint(r, "group", "239.255.255.255:9875");
      d.sap.announcer.group = g;
      d.sap.listener.groups = {g};
    }
    d.sap.announcer.interval = static_cast<Nanoseconds>(r.number("intervalSeconds", 30, 0.1, 3600) * 1e9);
    d.sap.listener.minimumTimeout = static_cast<Nanoseconds>(r.number("timeoutSeconds", 3600, 1, 86400) * 1e9);
    r.done();
  }
  d.sap.announcer.interfaceName = c.interfaceName;
  d.sap.listener.interfaceName = c.interfaceName;
  StreamContext sc{file, baseDir, d.device.sampleRate, c.sapAnnounceDefault};
  if (top.has("rx")) {
    const json& a = top.array("rx");
    for (std::size_t i = 0; i < a.size(); ++i) {
      Reader r(a[i], file, "rx[" + std::to_string(i) + "]");
      d.receive.push_back(receiveStream(r, sc));
    }
  }
  if (top.has("tx")) {
    const json& a = top.array("tx");
    for (std::size_t i = 0; i < a.size(); ++i) {
      Reader r(a[i], file, "tx[" + std::to_string(i) + "]");
      d.transmit.push_back(transmitStream(r, sc));
    }
  }
  if (top.has("control")) {
    Reader r = top.object("control");
    c.controlListen = r.string("listen", "");
    const bool unixSocket = c.controlListen.rfind("unix:", 0) == 0;
    if (!c.controlListen.empty() && !unixSocket) {
      try {
        const Ipv4Endpoint e = parseEndpoint(c.controlListen);
        if ((e.address >> 24) != 127) {
          r.fail("listen", "\"" + c.controlListen + "\" is not on loopback; the control endpoint has no authentication, so it listens on 127.x.x.x:PORT or a Unix socket (\"unix:/path\")");
        }
      } catch (const std::invalid_argument&) {
        r.fail("listen", "\"" + c.controlListen + "\" is neither \"127.0.0.1:PORT\" nor \"unix:/path/to/socket\"");
      }
    }
    if (unixSocket && c.controlListen.size() <= 5) r.fail("listen", "\"unix:\" needs a path, e.g. \"unix:/run/aes67-dut.sock\"");
    c.maxConnections = static_cast<std::size_t>(r.integer("maxConnections", 16, 1, 1024));
    c.maxRequestBytes = static_cast<std::size_t>(r.integer("maxRequestBytes", 65536, 1024, 16 << 20));
    r.done();
  }
  if (top.has("stateDir")) {
    c.stateDir = resolve(baseDir, top.string("stateDir", ""));
  } else {
    c.stateDir = baseDir.empty() ? "." : baseDir;
  }
  // The saved streams are named after the configuration file (dut.json -> dut.streams.json).
  std::string base = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  c.stateFile = (base.empty() ? std::string("aes67-dut") : base) + ".streams.json";
  top.done();
  // Streams that follow a SAP session need the listener.
  for (const DutReceiveStream& r : d.receive) {
    if (!r.sapSessionName.empty()) d.sap.listen = true;
  }
  return c;
}

SoftwareDutConfig loadSoftwareDutConfig(const std::string& path) {
  std::string text;
  if (!readText(path, text)) {
    throw ConfigError(path, "", "cannot read the configuration file; check the path (--config FILE)");
  }
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return parseSoftwareDutConfig(text, path, dir);
}

std::variant<DutReceiveStream, DutTransmitStream> parseStreamRequest(const std::string& text, const StreamContext& c) {
  const json j = parseJson(text, c.file);
  Reader r(j, c.file, "");
  const std::string kind = r.requiredString("kind", "say \"rx\" (receive) or \"tx\" (send)");
  if (kind == "rx") return receiveStream(r, c);
  if (kind == "tx") return transmitStream(r, c);
  r.fail("kind", "\"" + kind + "\" is not a stream kind; use \"rx\" or \"tx\"");
}

DutReceiveStream receiveStreamOf(const RxStreamConfig& saved) {
  DutReceiveStream r;
  r.id = saved.id;
  if (saved.sapSessionName.empty() && saved.rtspUrl.empty()) r.sdp = saved.sdp;
  r.sapSessionName = saved.sapSessionName;
  r.rtspUrl = saved.rtspUrl;
  r.timing = saved.timing;
  for (std::uint32_t ch : saved.channelMap) r.deviceChannels.push_back(ch - 1);
  return r;
}

DutTransmitStream transmitStreamOf(const TxStreamConfig& saved) {
  DutTransmitStream t;
  t.id = saved.id;
  RtpStreamDescription& s = t.stream;
  s.name = saved.name.empty() ? saved.id : saved.name;
  s.destination = saved.destination;
  s.format = saved.format;
  s.framesPerPacket = saved.framesPerPacket;
  s.channelLabels = saved.channelLabels;
  s.ttl = static_cast<int>(saved.ttl);
  for (std::uint32_t ch : saved.channelMap) t.deviceChannels.push_back(ch - 1);
  t.ssrc = saved.ssrc;
  t.dscp = saved.dscp;
  t.announce = saved.announce;
  t.direction = saved.direction;
  // A restarted device announces a newer version of the same session.
  t.sessionVersion = saved.sessionVersion + 1;
  return t;
}

}  // namespace aes67
