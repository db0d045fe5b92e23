// The software DUT at run time: the emulated DUT (engine + device core + HAL host
// emulator) on real UDP sockets on one interface, in real time — a real-time IO thread
// for the HAL's cycles, and one network thread (the caller of run()) for RTP, PTP, SAP and
// the control endpoint — with the stream configuration saved by StreamConfigStore.
//
// Control endpoint (JSON over HTTP/1.1, see control_server.hpp):
//   GET    /status                device properties and counters, streams with counters,
//                                 PTP state and grandmaster, SAP sessions heard, resyncs
//   GET    /streams               the streams (same entries as in /status)
//   GET    /streams/<id>/sdp      a TX stream's SDP (application/sdp); an RX stream's SDP as received
//   POST   /streams               add a stream: {"kind": "rx" | "tx", ...the configuration file's keys}
//   DELETE /streams/<id>          remove a stream
// A change is applied (a configuration change of the device: IO restarts), then saved;
// the response says if saving failed.
//
// Saved streams: when the state file exists it is the device's stream configuration (the
// configuration file's rx/tx seed it on the first run, and every change through the
// control endpoint is saved there); a corrupt state file is reported, moved aside and the
// last good copy used (StreamConfigStore), so nothing saved is lost.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "driver/host/control_server.hpp"
#include "driver/host/emulated_dut.hpp"
#include "driver/host/software_dut_config.hpp"
#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/rtsp/rtsp_tcp_client.hpp"
#include "engine/stream/stream_config_store.hpp"

namespace aes67 {

class SoftwareDut {
 public:
  // Opens everything; throws ConfigError for a configuration that cannot run (naming the
  // file and key), std::runtime_error for what the system refused (a socket, a port).
  SoftwareDut(const SoftwareDutConfig& config, std::ostream& log);
  ~SoftwareDut();

  // Runs until `stop` is set (checked at least every millisecond).
  void run(const std::atomic<bool>& stop);
  // Stops IO and sends SAP deletions for every announced stream.
  void shutdown();

  // --check: the configuration as the DUT would take it — the interface, the device and
  // every stream of the file — built on a virtual network, so nothing is opened or sent.
  // Returns a summary; throws ConfigError like the constructor.
  static std::string check(const SoftwareDutConfig& config);

  std::string controlAddress() const { return control_ ? control_->address() : ""; }
  HttpResponse handle(const HttpRequest& request);
  EmulatedDut& dut() { return *dut_; }

 private:
  void addStartupStreams();
  // RX streams that follow a RAVENNA session over RTSP: one client each, polled by the
  // network thread; its DESCRIBE and ANNOUNCE go to EmulatedDut::provideSdp.
  void addRtspClient(const std::string& id, const std::string& url);
  Nanoseconds pollRtsp();
  std::string status() const;
  std::string save();
  void log(const std::string& line);

  SoftwareDutConfig config_;
  std::ostream& log_;
  RealClock clock_;
  std::unique_ptr<UdpTransport> transport_;
  std::unique_ptr<EmulatedDut> dut_;
  std::unique_ptr<StreamConfigStore> store_;
  std::unique_ptr<ControlServer> control_;
  std::map<std::string, std::unique_ptr<RtspTcpClient>> rtsp_;
  std::string streamsFrom_;   // where the streams at start came from
  std::string storeProblem_;  // a corrupt state file, as reported
  std::string lastSaveError_;
  Nanoseconds startedAt_ = 0;
  bool shutDown_ = false;
  bool networkRealTime_ = false;
};

}  // namespace aes67
