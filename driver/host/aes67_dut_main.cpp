// aes67-dut: the software device under test. Runs the engine, the device core and the HAL
// host emulator in real time on a named interface, configured by a JSON file
// (software_dut_config.hpp), with a control endpoint (software_dut.hpp).
//
//   aes67-dut --config dut.json [--control 127.0.0.1:8067 | --control unix:/run/dut.sock]
//             [--state-dir DIR] [--check]
//
// Exit status: 0 after SIGINT/SIGTERM (IO stopped, SAP deletions sent), 2 for a bad flag or
// configuration (the message names the flag, or the file and key, and the fix), 1 when the
// system refused something (a socket, a port) or the DUT failed while running.
#include <signal.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <string>

#include "driver/host/software_dut.hpp"
#include "driver/host/software_dut_config.hpp"

namespace {

std::atomic<bool> gStop{false};

void onSignal(int) { gStop.store(true); }

const char* kUsage =
    "usage: aes67-dut --config FILE [--control 127.0.0.1:PORT | --control unix:/path] [--state-dir DIR] [--check]\n"
    "  --config FILE     the JSON configuration (interface, device, ptp, loopback, rx, tx, sap, control, stateDir)\n"
    "  --control ADDR    the control endpoint (overrides control.listen): loopback TCP or a Unix socket\n"
    "  --state-dir DIR   where the streams are saved (overrides stateDir)\n"
    "  --check           check the configuration and the interface, print a summary, exit\n"
    "  --help            this text\n";

int usageError(const std::string& message) {
  std::cerr << "aes67-dut: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath, control, stateDir;
  bool check = false, haveControl = false, haveStateDir = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= argc || std::strncmp(argv[i + 1], "--", 2) == 0) return false;
      out = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--config") {
      if (!value(configPath)) return usageError("--config needs a file: --config dut.json");
    } else if (a == "--control") {
      if (!value(control)) return usageError("--control needs an address: --control 127.0.0.1:8067 or --control unix:/run/aes67-dut.sock");
      haveControl = true;
    } else if (a == "--state-dir") {
      if (!value(stateDir)) return usageError("--state-dir needs a folder: --state-dir /var/lib/aes67-dut");
      haveStateDir = true;
    } else if (a == "--check") {
      check = true;
    } else {
      return usageError("unknown flag '" + a + "'");
    }
  }
  if (configPath.empty()) return usageError("--config FILE is required");

  aes67::SoftwareDutConfig config;
  try {
    config = aes67::loadSoftwareDutConfig(configPath);
    if (haveControl) {
      // The flag goes through the same checks as the file's control.listen.
      const std::string text = "{\"interface\":\"lo\",\"control\":{\"listen\":\"" + control + "\"}}";
      try {
        config.controlListen = aes67::parseSoftwareDutConfig(text, "--control", "").controlListen;
      } catch (const aes67::ConfigError& e) {
        return usageError("--control " + control + ": " + std::string(e.what()).substr(std::string("--control: control.listen: ").size()));
      }
    }
    if (haveStateDir) config.stateDir = stateDir;
  } catch (const aes67::ConfigError& e) {
    std::cerr << "aes67-dut: " << e.what() << "\n";
    return 2;
  }

  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    if (check) {
      std::cout << "aes67-dut: " << aes67::SoftwareDut::check(config) << "\n";
      return 0;
    }
    aes67::SoftwareDut dut(config, std::cerr);
    if (!dut.controlAddress().empty()) std::cout << "aes67-dut: control on " << dut.controlAddress() << std::endl;
    std::cout << "aes67-dut: ready" << std::endl;
    dut.run(gStop);
    dut.shutdown();
    std::cerr << "aes67-dut: stopped (IO stopped, SAP deletions sent)" << std::endl;
    return 0;
  } catch (const aes67::ConfigError& e) {
    std::cerr << "aes67-dut: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aes67-dut: " << e.what() << "\n";
    return 1;
  }
}
