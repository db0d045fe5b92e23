#include "engine/ptp/master_rate_fit.hpp"

#include <cmath>

namespace aes67 {

void MasterRateFit::add(Nanoseconds localT2, Nanoseconds originTime) {
  // The master's time less ours: large numbers, so relative to the first sample, in integers.
  const Nanoseconds y = originTime - localT2;
  if (empty_) {
    t0_ = localT2;
    y0_ = y;
    lastT_ = localT2;
    empty_ = false;
  }
  if (localT2 < lastT_) return;  // out of order: a stamp that went backwards is not a sample
  const double fade = std::exp(-static_cast<double>(localT2 - lastT_) * 1e-9 / kTimeConstantS);
  w_ *= fade;
  t_ *= fade;
  y_ *= fade;
  tt_ *= fade;
  ty_ *= fade;
  const double t = static_cast<double>(localT2 - t0_) * 1e-9;
  const double v = static_cast<double>(y - y0_);
  w_ += 1;
  t_ += t;
  y_ += v;
  tt_ += t * t;
  ty_ += t * v;
  lastT_ = localT2;
  spanS_ = t;
}

void MasterRateFit::restart() { *this = MasterRateFit{}; }

bool MasterRateFit::frequencyPpb(double& out) const {
  if (spanS_ < kMinSpanS) return false;
  const double d = w_ * tt_ - t_ * t_;
  if (!(d > 0)) return false;
  const double ppb = (w_ * ty_ - t_ * y_) / d;  // ns per s
  if (!std::isfinite(ppb)) return false;
  out = ppb;
  return true;
}

}  // namespace aes67
