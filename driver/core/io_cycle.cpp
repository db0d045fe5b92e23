#include "driver/core/io_cycle.hpp"

namespace aes67 {

const char* toString(IoOperation op) {
  switch (op) {
    case IoOperation::kThread: return "Thread";
    case IoOperation::kCycle: return "Cycle";
    case IoOperation::kReadInput: return "ReadInput";
    case IoOperation::kConvertInput: return "ConvertInput";
    case IoOperation::kProcessInput: return "ProcessInput";
    case IoOperation::kProcessOutput: return "ProcessOutput";
    case IoOperation::kMixOutput: return "MixOutput";
    case IoOperation::kProcessMix: return "ProcessMix";
    case IoOperation::kConvertMix: return "ConvertMix";
    case IoOperation::kWriteMix: return "WriteMix";
  }
  return "unknown";
}

const char* toString(IoResult result) {
  switch (result) {
    case IoResult::kOk: return "ok";
    case IoResult::kNotRunning: return "not-running";
    case IoResult::kUnsupportedOperation: return "unsupported-operation";
    case IoResult::kOversize: return "oversize";
  }
  return "unknown";
}

}  // namespace aes67
