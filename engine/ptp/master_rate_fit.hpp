// The master's rate against our clock, fitted from the Syncs themselves: a weighted
// least-squares line through (t2, t1 + corrections - t2), whose slope is the
// frequency (ppb) our PTP time must run at to keep the master's. Unlike the servo's
// integral it does not depend on what the servo did: the integral leaves the acquisition
// fit's error (a ppm or two on software stamps) for tens of seconds while it pulls it in, and
// a holdover at it drifts by tens of us before a grandmaster restart is relocked to. The
// fit measures the rate to a few tenths of a ppm within seconds of noisy stamps.
// Old samples fade with a time constant (an oscillator's rate wanders with temperature).
#pragma once

#include <cstddef>

#include "engine/base/time.hpp"

namespace aes67 {

class MasterRateFit {
 public:
  // Samples older than this weigh 1/e.
  static constexpr double kTimeConstantS = 64.0;
  // A fit over less than this is not trusted (the integral is as good below ~2-4 s of noisy stamps).
  static constexpr double kMinSpanS = 4.0;

  // One Sync: its local receive time and its origin time (t1 + corrections; the path delay,
  // constant on a path, leaves the slope alone).
  void add(Nanoseconds localT2, Nanoseconds originTime);
  // Starts over (the master's time line moved, or it is another master).
  void restart();
  // The fitted frequency in ppb, when the samples span at least kMinSpanS; `out` is left
  // alone otherwise.
  bool frequencyPpb(double& out) const;
  double spanS() const { return spanS_; }

 private:
  bool empty_ = true;
  Nanoseconds t0_ = 0, y0_ = 0, lastT_ = 0;
  double spanS_ = 0;
  // Weighted sums of t (s since t0_), y (ns since y0_), and their products.
  double w_ = 0, t_ = 0, y_ = 0, tt_ = 0, ty_ = 0;
};

}  // namespace aes67
