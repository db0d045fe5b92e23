// Runs one libFuzzer target's LLVMFuzzerTestOneInput, in the ordinary (gcc, -Werror) build,
// over every input kept in fuzz/regression/<target>/ (each crash a fuzz run found, copied
// there by ci/fuzz.ts) and over edge inputs (empty, one byte, all-zero and all-0xff
// datagrams of the sizes parsers check against). The target aborts on a broken invariant,
// so a regression fails the ctest; under ci/sanitizers the same test runs with ASan/UBSan.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <folder of regression inputs>\n", argv[0]);
    return 2;
  }
  std::size_t runs = 0;
  for (std::size_t size : {0, 1, 2, 11, 12, 13, 16, 44, 64, 1500, 9000, 65535}) {
    for (std::uint8_t fill : {0x00, 0xff, 0x80}) {
      std::vector<std::uint8_t> input(size, fill);
      LLVMFuzzerTestOneInput(input.data(), input.size());
      ++runs;
    }
  }
  const std::filesystem::path dir = argv[1];
  std::size_t kept = 0;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<std::uint8_t> input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "regression input %s (%zu bytes)\n", entry.path().filename().c_str(), input.size());
      LLVMFuzzerTestOneInput(input.data(), input.size());
      ++kept;
      ++runs;
    }
  }
  std::printf("%zu inputs ran clean (%zu kept regressions from %s)\n", runs, kept, dir.c_str());
  return 0;
}
