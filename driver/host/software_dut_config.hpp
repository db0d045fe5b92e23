// The aes67-dut configuration file (JSON) and the stream entries it shares with the control
// endpoint's POST /streams. Every error names the file, the key and the fix, e.g.
//
//   dut.json: tx[0].ptimeUs: 1500 µs is not a whole number of frames at 48000 Hz; use 125, 250, 333, 1000 or 4000
//
// The schema (channels are 1-based, as Core Audio and the stream maps number them):
//
//   {
//     "interface": "eth0",                        required: RTP, PTP and SAP use it
//     "device": { "name", "uid", "inputChannels": 8, "outputChannels": 8, "sampleRate": 48000,
//                 "ioBufferFrames": 256, "linkOffsetFrames": 48 },
//     "ptp": { "enabled": true, "domain": 0, "transmitStamp": "kernel", "resyncThresholdNs": 0 },
//     "loopback": [1, 2, 0, ...],                  output o plays input loopback[o-1] (0: silent); absent: identity
//     "rx": [ { "id": "gst", "sdpFile": "gst.sdp" | "sdp": "v=0..." | "sap": "session name"
//               | "rtsp": "rtsp://10.0.0.5:554/by-name/Session%201" (RAVENNA: DESCRIBE, ANNOUNCE followed),
//               "channels": [1, 2], "timing": "sender" | "media-clock" } ],
//     "tx": [ { "id": "out", "name": "DUT out", "destination": "239.69.1.2:5004", "encoding": "L24",
//               "channels": 2, "ptimeUs": 1000 | "framesPerPacket": 48, "channelMap": [1, 2],
//               "payloadType": 96, "mediaclkOffset": 0, "ttl": 32, "dscp": 34, "ssrc": 0,
//               "labels": ["L", "R"], "direction": "recvonly", "announce": true } ],
//     "sap": { "listen": false, "announce": true, "group": "239.255.255.255:9875", "intervalSeconds": 30,
//              "timeoutSeconds": 3600 },
//     "control": { "listen": "127.0.0.1:8067" | "unix:/run/aes67-dut.sock", "maxConnections": 16,
//                  "maxRequestBytes": 65536 },
//     "stateDir": "."                              where the streams are saved (relative: to the file)
//   }
//
// Paths in the file (sdpFile, stateDir) are relative to the file's folder.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <variant>

#include "driver/host/emulated_dut.hpp"

namespace aes67 {

// A person's mistake in a configuration: file (or "request"), key path, and the message
// (which carries the fix).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, const std::string& key, const std::string& message)
      : std::runtime_error(file + (key.empty() ? "" : ": " + key) + ": " + message), file_(file), key_(key) {}
  const std::string& file() const { return file_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  std::string key_;
};

struct SoftwareDutConfig {
  std::string file;           // the configuration file, for messages
  std::string interfaceName;
  EmulatedDutConfig dut;      // device, loopback, PTP, SAP, and the file's streams
  bool sapAnnounceDefault = true;
  std::string controlListen;  // "" = no control endpoint
  std::size_t maxConnections = 16;
  std::size_t maxRequestBytes = 65536;
  std::string stateDir;       // "" = do not save the streams
  std::string stateFile = "aes67-dut.streams.json";
};

// What the stream parsers need to know about the device.
struct StreamContext {
  std::string file;           // "request" for the control endpoint
  std::string baseDir;        // sdpFile paths are relative to it
  std::uint32_t sampleRate = 48000;
  bool sapAnnounceDefault = true;
};

// Reads and checks the file; throws ConfigError.
SoftwareDutConfig loadSoftwareDutConfig(const std::string& path);
// The same from text (`file` names it in messages, `baseDir` resolves relative paths).
SoftwareDutConfig parseSoftwareDutConfig(const std::string& text, const std::string& file, const std::string& baseDir);

// A POST /streams body: {"kind": "rx", ...} or {"kind": "tx", ...} with the keys of the
// file's rx[] and tx[] entries. Throws ConfigError (file "request").
std::variant<DutReceiveStream, DutTransmitStream> parseStreamRequest(const std::string& json, const StreamContext& context);

// The streams a saved configuration (StreamConfigStore) holds, as the DUT takes them.
DutReceiveStream receiveStreamOf(const RxStreamConfig& saved);
DutTransmitStream transmitStreamOf(const TxStreamConfig& saved);

}  // namespace aes67
