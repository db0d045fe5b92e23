// The lab's busiest actors in C++, and a scheduler that runs them without crossing into
// JavaScript per packet (bench/virtual-speed.ts: the per-packet N-API object was the floor).
//
// - NativeAes67Sender: what lab/peers/aes67-sender.ts Aes67Sender sends for a sender whose
//   channels are periodic tables (sine, probe, silence: lab/scenario/sender-signal.ts) on a
//   linear PTP timescale (lab/net/ptp-timescale.ts linearTimescale): the same datagrams,
//   byte for byte, at the same due times (virtual-actors.test.ts sends both and compares).
// - NativeAes67Receiver: what lab/peers/rtp-subscription.ts RtpSubscription.take does with
//   each datagram (drops with the same reasons, the same RTP metrics, the payload bytes
//   placed by media time in one-second blocks) for a fixed SDP; TypeScript reads the
//   metrics and the blocks once, at the end, and decodes them as RtpSubscription.audio does.
// - VirtualScheduler: lab/net/lab-transport.ts runVirtual's step loop: the clock moves to
//   the next due time, due datagrams are delivered, actors are polled in list order. Native
//   actors are polled here; at a TypeScript actor that has something to do the call returns
//   its index, TypeScript polls it and calls again to finish the step. A TypeScript actor
//   that waits for datagrams is woken only when one of the sockets TypeScript opened got
//   one (VirtualNetwork::watch), not on every delivery to the device or native receivers.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "native/src/base_binding.hpp"
#include "native/src/native_actor.hpp"
#include "native/src/periodic_payloads.hpp"
#include "native/src/chunked_recording.hpp"
#include "native/src/recorded_channel.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// ECMAScript Math.round: the nearest integer, ties toward +infinity.
double jsRound(double x) {
  double r = std::floor(x);
  if (x - r >= 0.5) r += 1;
  return r;
}

// lab/net/ptp-timescale.ts linearTimescale(epoch, ppm), with the same double arithmetic.
struct LinearTimescale {
  std::int64_t epoch = 0;
  double scale = 1;
  std::int64_t ptpTimeAt(double local) const { return epoch + static_cast<std::int64_t>(jsRound(local * scale)); }
  double localTimeOf(std::int64_t ptp) const { return static_cast<double>(ptp - epoch) / scale; }
};

// mediaTimeOf / ptpTimeOfSample of lab/net/ptp-timescale.ts (positive times).
std::int64_t mediaTimeOf(std::int64_t ptp, std::int64_t rate) { return static_cast<std::int64_t>(static_cast<Int128>(ptp) * rate / kNsPerSecond); }
std::int64_t ptpTimeOfSample(std::int64_t sample, std::int64_t rate) {
  return static_cast<std::int64_t>((static_cast<Int128>(sample) * kNsPerSecond + rate - 1) / rate);
}

LinearTimescale timescaleOf(const Napi::Object& o) {
  LinearTimescale t;
  t.epoch = toInt64(o.Get("epochNs"), "epochNs");
  const double ppm = o.Has("ppm") ? o.Get("ppm").ToNumber().DoubleValue() : 0.0;
  t.scale = 1 + ppm / 1e6;
  return t;
}

int widthOf(const Napi::Value& v) {
  const std::string e = v.ToString().Utf8Value();
  if (e == "L16") return 2;
  if (e == "L24") return 3;
  if (e == "L32") return 4;
  throw Napi::TypeError::New(v.Env(), "encoding must be 'L16', 'L24' or 'L32', not '" + e + "'");
}

double numberOr(const Napi::Object& o, const char* key, double fallback) {
  const Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

Napi::Object objectArg(const Napi::CallbackInfo& info, std::size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsObject()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::Object>();
}

// ---------------------------------------------------------------------------------------
// The sender.

class Aes67SenderActor final : public NativeActor {
 public:
  Aes67SenderActor(VirtualNetwork& network, const Napi::Object& o) : network_(network) {
    Napi::Env env = o.Env();
    timescale_ = timescaleOf(o);
    rate_ = toInt64(o.Get("sampleRate"), "sampleRate");
    channels_ = static_cast<int>(toInt64(o.Get("channels"), "channels"));
    frames_ = toInt64(o.Get("framesPerPacket"), "framesPerPacket");
    width_ = widthOf(o.Get("encoding"));
    payloadType_ = static_cast<int>(toInt64(o.Get("payloadType"), "payloadType"));
    ssrc_ = static_cast<std::uint32_t>(toInt64(o.Get("ssrc"), "ssrc"));
    sequence_ = static_cast<std::uint16_t>(toInt64(o.Get("sequence"), "sequence"));
    mediaclkOffset_ = toInt64(o.Get("mediaclkOffset"), "mediaclkOffset");
    sendDelay_ = numberOr(o, "sendDelayNs", 0);
    nextDue_ = numberOr(o, "startAtNs", -INFINITY);
    destination_ = toEndpoint(o.Get("destination"), "destination");
    if (rate_ <= 0 || channels_ < 1 || channels_ > 64 || frames_ < 1) throw Napi::RangeError::New(env, "NativeAes67Sender: rate, channels (1-64) and framesPerPacket must be positive");
    // Per channel: one period of its signal, encoded by lab/net/pcm.ts encodePcm (which works
    // sample by sample, so a packet's payload is these bytes interleaved).
    const Napi::Value tables = o.Get("encoded");
    if (!tables.IsArray() || tables.As<Napi::Array>().Length() != static_cast<std::uint32_t>(channels_)) {
      throw Napi::TypeError::New(env, "NativeAes67Sender: encoded must be one Uint8Array per channel");
    }
    std::vector<std::shared_ptr<const EncodedTable>> encoded;
    for (int c = 0; c < channels_; ++c) {
      const Napi::Value t = tables.As<Napi::Array>().Get(static_cast<std::uint32_t>(c));
      if (!t.IsTypedArray() || t.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || t.As<Napi::Uint8Array>().ElementLength() == 0 ||
          t.As<Napi::Uint8Array>().ElementLength() % static_cast<std::size_t>(width_) != 0) {
        throw Napi::TypeError::New(env, "NativeAes67Sender: encoded[" + std::to_string(c) + "] must be a non-empty Uint8Array of whole samples (one period)");
      }
      Napi::Uint8Array u = t.As<Napi::Uint8Array>();
      encoded.push_back(internTable(u.Data(), u.ElementLength(), width_));
    }
    // Shared with every sender of the same tables and packet shape (periodic_payloads.hpp).
    payloads_ = PeriodicPayloads::of(encoded, width_, frames_);
    datagram_.assign(12 + payloads_->bytes() + 1, 0);  // header, then a scratch payload (+1: render's slack)
    socket_ = network.host(toAddress(o.Get("host"), "host")).open(toSocketOptions(o.Get("socket")));
  }

  double poll(Nanoseconds now) override {
    const double t = static_cast<double>(now);
    if (firstSample_ < 0) {
      if (t < nextDue_) return nextDue_;
      start(std::max(t, nextDue_));
    }
    if (t - nextDue_ > 1e9) skipAhead(t);
    while (nextDue_ <= t) {
      sendPacket();
      nextDue_ = dueOf(packetIndex_);
    }
    return nextDue_;
  }
  PollOn pollOn() const override { return PollOn::kDue; }

  std::int64_t firstSample() const { return firstSample_; }
  std::uint64_t packets() const { return packets_; }
  std::uint64_t skipped() const { return skipped_; }
  const PeriodicPayloads& payloads() const { return *payloads_; }
  long payloadSharers() const { return payloads_.use_count(); }

 private:
  void start(double at) {
    const std::int64_t startMedia = mediaTimeOf(timescale_.ptpTimeAt(at), rate_);
    firstSample_ = (startMedia + frames_ - 1) / frames_ * frames_;  // packet boundaries on multiples of F
    nextDue_ = dueOf(0);
  }
  double dueOf(std::int64_t packet) const {
    return timescale_.localTimeOf(ptpTimeOfSample(firstSample_ + (packet + 1) * frames_, rate_)) + sendDelay_;
  }
  void skipAhead(double now) {
    const std::int64_t media = mediaTimeOf(timescale_.ptpTimeAt(now - sendDelay_), rate_);
    const std::int64_t target = (media - firstSample_) / frames_ - 1;
    if (target > packetIndex_) {
      skipped_ += static_cast<std::uint64_t>(target - packetIndex_);
      packetIndex_ = target;
      nextDue_ = dueOf(packetIndex_);
    }
  }
  void sendPacket() {
    const std::int64_t first = firstSample_ + packetIndex_ * frames_;
    const std::uint32_t ts = static_cast<std::uint32_t>(first + mediaclkOffset_);
    std::uint8_t* d = datagram_.data();
    d[0] = 0x80;
    d[1] = static_cast<std::uint8_t>((marker_ ? 0x80 : 0) | (payloadType_ & 0x7f));
    d[2] = static_cast<std::uint8_t>(sequence_ >> 8);
    d[3] = static_cast<std::uint8_t>(sequence_ & 0xff);
    d[4] = static_cast<std::uint8_t>(ts >> 24);
    d[5] = static_cast<std::uint8_t>(ts >> 16);
    d[6] = static_cast<std::uint8_t>(ts >> 8);
    d[7] = static_cast<std::uint8_t>(ts);
    d[8] = static_cast<std::uint8_t>(ssrc_ >> 24);
    d[9] = static_cast<std::uint8_t>(ssrc_ >> 16);
    d[10] = static_cast<std::uint8_t>(ssrc_ >> 8);
    d[11] = static_cast<std::uint8_t>(ssrc_);
    // The header and the (cached or rendered) payload go straight into the network's buffer.
    const std::uint8_t* payload = payloads_->payload(first, d + 12);
    network_.sendGather(*socket_, destination_, d, 12, payload, payloads_->bytes());
    sequence_ = static_cast<std::uint16_t>(sequence_ + 1);
    ++packetIndex_;
    marker_ = false;
    ++packets_;
  }

  VirtualNetwork& network_;
  LinearTimescale timescale_;
  std::int64_t rate_ = 48000;
  int channels_ = 2;
  std::int64_t frames_ = 48;
  int width_ = 3;
  int payloadType_ = 96;
  std::uint32_t ssrc_ = 0;
  std::uint16_t sequence_ = 0;
  std::int64_t mediaclkOffset_ = 0;
  double sendDelay_ = 0;
  double nextDue_ = -INFINITY;
  Ipv4Endpoint destination_;
  std::shared_ptr<PeriodicPayloads> payloads_;
  std::vector<std::uint8_t> datagram_;
  std::unique_ptr<DatagramSocket> socket_;
  std::int64_t firstSample_ = -1;
  std::int64_t packetIndex_ = 0;
  bool marker_ = true;
  std::uint64_t packets_ = 0;
  std::uint64_t skipped_ = 0;
};

// new NativeAes67Sender(network, config): see native/virtual-actors.ts.
class JsAes67Sender : public Napi::ObjectWrap<JsAes67Sender> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeAes67Sender",
                       {InstanceMethod("poll", &JsAes67Sender::poll), InstanceMethod("nativeActor", &JsAes67Sender::nativeActor),
                        InstanceMethod("stats", &JsAes67Sender::stats)});
  }
  explicit JsAes67Sender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsAes67Sender>(info) {
    JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    const Napi::Object o = objectArg(info, 1, "new NativeAes67Sender(network, config)");
    try {
      actor_ = std::make_unique<Aes67SenderActor>(network->network(), o);
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(info.Env(), std::string("NativeAes67Sender: ") + e.what());
    }
  }

 private:
  Napi::Value poll(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), actor_->poll(toInt64(info[0], "now")));
  }
  Napi::Value nativeActor(const Napi::CallbackInfo& info) { return nativeActorHandle(info.Env(), actor_.get()); }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("packets", static_cast<double>(actor_->packets()));
    o.Set("skipped", static_cast<double>(actor_->skipped()));
    o.Set("payloadsCached", actor_->payloads().cached());
    o.Set("payloadsPartlyCached", actor_->payloads().partlyCached());
    o.Set("payloadSharers", static_cast<double>(actor_->payloadSharers()));
    o.Set("firstSample", actor_->firstSample() < 0 ? Napi::BigInt::New(info.Env(), static_cast<std::int64_t>(-1)) : Napi::BigInt::New(info.Env(), actor_->firstSample()));
    return o;
  }
  Napi::ObjectReference networkRef_;
  std::unique_ptr<Aes67SenderActor> actor_;
};

// ---------------------------------------------------------------------------------------
// The receiver.

class Aes67ReceiverActor final : public NativeActor {
 public:
  struct Metrics {
    double packets = 0, bytes = 0, ssrcChanges = 0, expected = 0, lost = 0, duplicates = 0, reordered = 0;
    bool hasSsrc = false;
    std::uint32_t ssrc = 0;
    double jitterNs = 0, jitterMaxNs = 0;
    double arrivalMinNs = INFINITY, arrivalMeanNs = 0, arrivalMaxNs = -INFINITY;
    double late = 0, worstMarginNs = INFINITY;
    std::map<std::string, double> dropped;
    bool hasArrival = false;
    double firstArrivalNs = 0, lastArrivalNs = 0;
  };

  Aes67ReceiverActor(VirtualNetwork& network, const Napi::Object& o) : network_(network) {
    timescale_ = timescaleOf(o);
    rate_ = toInt64(o.Get("sampleRate"), "sampleRate");
    channels_ = static_cast<int>(toInt64(o.Get("channels"), "channels"));
    width_ = widthOf(o.Get("encoding"));
    payloadType_ = static_cast<int>(toInt64(o.Get("payloadType"), "payloadType"));
    mediaclkOffset_ = toInt64(o.Get("mediaclkOffset"), "mediaclkOffset");
    const Napi::Value delay = o.Get("playoutDelayNs");
    hasPlayoutDelay_ = delay.IsNumber();
    if (hasPlayoutDelay_) playoutDelay_ = delay.As<Napi::Number>().DoubleValue();
    recordSeconds_ = numberOr(o, "recordSeconds", 60);
    if (rate_ <= 0 || channels_ < 1) throw Napi::RangeError::New(o.Env(), "NativeAes67Receiver: sampleRate and channels must be positive");
    if (!(recordSeconds_ >= 0 && recordSeconds_ <= 86400)) throw Napi::RangeError::New(o.Env(), "NativeAes67Receiver: recordSeconds must be 0 to 86400");
    frameBytes_ = static_cast<std::size_t>(channels_) * width_;
    const Ipv4Address destination = toAddress(o.Get("destination"), "destination");
    const std::string filter = o.Has("sourceFilter") && o.Get("sourceFilter").IsString() ? o.Get("sourceFilter").ToString().Utf8Value() : "";
    if (!filter.empty()) sourceFilter_ = toAddress(o.Get("sourceFilter"), "sourceFilter");
    SocketOptions options;
    options.localPort = static_cast<std::uint16_t>(toInt64(o.Get("port"), "port"));
    options.receiveQueueLimit = 1 << 14;
    if (isMulticast(destination)) {
      group_ = destination;
      options.bindAddress = destination;
    }
    Transport& host = network.host(toAddress(o.Get("host"), "host"));
    socket_ = host.open(options);
    hostDeliveries_ = &network.deliveriesTo(host);
    if (group_ != 0) socket_->joinMulticast(group_, sourceFilter_);
    std::fill(recent_, recent_ + kRecent, -1);
  }

  double poll(Nanoseconds) override {
    if (!socket_) return INFINITY;
    seen_ = *hostDeliveries_;  // before: what peek delivers while it drains counts as new
    for (;;) {
      // In place (no copy); truncated as a receive into kReceiveCapacity bytes would be.
      std::optional<DatagramInfo> d = network_.peek(*socket_, data_);
      if (!d) break;
      d->truncated = d->size > kReceiveCapacity;
      take(*d);
    }
    return INFINITY;
  }
  // Polled when a datagram reached its host (it reads nothing else), not on every delivery.
  PollOn pollOn() const override { return PollOn::kDueOrPending; }
  bool pending() const override { return socket_ && *hostDeliveries_ != seen_; }

  const Metrics& metrics() const { return m_; }
  std::int64_t firstSample() const { return firstSample_; }
  std::int64_t lastFrameEnd() const { return lastFrameEnd_; }
  // The recording by one-second block (bytes: rate x frame bytes; filled: a byte per frame).
  std::size_t blockCount() const { return present_.size(); }
  bool blockPresent(std::size_t i) const { return present_[i] != 0; }
  void readBlock(std::size_t i, std::uint8_t* bytes, std::uint8_t* filled) const { recording_.read(static_cast<std::int64_t>(i) * rate_, rate_, bytes, filled); }
  std::size_t blockSize() const { return static_cast<std::size_t>(rate_) * frameBytes_; }
  std::int64_t rate() const { return rate_; }
  const ChunkedRecording& store() const { return recording_; }
  RecordedAudio recorded() const { return {recording_, lastFrameEnd_, width_}; }
  int channels() const { return channels_; }
  // Flips bits of a recorded byte (tests of the measurement): false outside what was recorded.
  bool alterRecording(std::int64_t frame, std::int64_t byte, std::uint8_t mask) {
    if (frame < 0 || frame >= lastFrameEnd_ || byte < 0 || byte >= static_cast<std::int64_t>(frameBytes_) || !present_[static_cast<std::size_t>(frame / rate_)]) return false;
    recording_.alter(frame, static_cast<std::size_t>(byte), mask);
    return true;
  }
  // What the socket's queue limit dropped (RtpSubscription's socketOverflows), kept past close.
  std::uint64_t socketOverflows() const { return socket_ ? socket_->receiveOverflows() : overflowsAtClose_; }
  void close() {
    overflowsAtClose_ = socketOverflows();
    socket_.reset();
  }
  bool closed() const { return !socket_; }

 private:
  static constexpr int kRecent = 1024;
  static constexpr std::size_t kReceiveCapacity = 65536;

  void drop(const char* reason) { m_.dropped[reason] += 1; }

  // RtpSubscription.take, step for step.
  void take(const DatagramInfo& d) {
    if (d.truncated) return drop("truncated");
    if (group_ != 0 && d.destination.address != group_) return drop("other-destination");
    if (sourceFilter_ != 0 && d.source.address != sourceFilter_) return drop("source-filter");
    // lab/net/rtp.ts parseRtp's checks, in its order.
    const std::uint8_t* b = data_;
    const std::size_t size = d.size;
    if (size < 12) return drop("rtp-truncated");
    if ((b[0] >> 6) != 2) return drop("rtp-bad-version");
    const bool padding = (b[0] & 0x20) != 0;
    const bool extension = (b[0] & 0x10) != 0;
    std::size_t offset = 12 + 4 * static_cast<std::size_t>(b[0] & 0x0f);
    if (offset > size) return drop("rtp-csrc-overflow");
    if (extension) {
      if (offset + 4 > size) return drop("rtp-extension-overflow");
      const std::size_t words = (static_cast<std::size_t>(b[offset + 2]) << 8) | b[offset + 3];
      const std::size_t end = offset + 4 + 4 * words;
      if (end > size) return drop("rtp-extension-overflow");
      offset = end;
    }
    std::size_t end = size;
    if (padding) {
      const std::size_t pad = b[size - 1];
      if (pad == 0 || offset + pad > size) return drop("rtp-padding");
      end -= pad;
    }
    const int payloadType = b[1] & 0x7f;
    const std::uint16_t seq = static_cast<std::uint16_t>((b[2] << 8) | b[3]);
    const std::uint32_t timestamp = (static_cast<std::uint32_t>(b[4]) << 24) | (static_cast<std::uint32_t>(b[5]) << 16) | (static_cast<std::uint32_t>(b[6]) << 8) | b[7];
    const std::uint32_t ssrc = (static_cast<std::uint32_t>(b[8]) << 24) | (static_cast<std::uint32_t>(b[9]) << 16) | (static_cast<std::uint32_t>(b[10]) << 8) | b[11];
    const std::uint8_t* payload = b + offset;
    const std::size_t payloadSize = end - offset;
    if (payloadType != payloadType_) return drop("payload-type");
    if (payloadSize == 0 || payloadSize % frameBytes_ != 0) return drop("payload-length");
    const std::int64_t frames = static_cast<std::int64_t>(payloadSize / frameBytes_);
    const double arrival = static_cast<double>(d.receivedAt);

    if (m_.hasSsrc && ssrc != m_.ssrc) {
      m_.ssrcChanges++;
      expectedBefore_ += highestSeq_ - baseSeq_ + 1;
      receivedBefore_ += uniqueThisRun_;
      uniqueThisRun_ = 0;
      baseSeq_ = -1;
      std::fill(recent_, recent_ + kRecent, -1);
      hasLastTransit_ = false;
    }
    m_.hasSsrc = true;
    m_.ssrc = ssrc;

    std::int64_t ext = seq;
    if (baseSeq_ < 0) {
      baseSeq_ = ext;
      highestSeq_ = ext;
    } else {
      const std::int64_t cycle = highestSeq_ - (highestSeq_ & 0xffff);
      ext = cycle + seq;
      if (ext - highestSeq_ > 0x8000) ext -= 0x10000;
      else if (highestSeq_ - ext > 0x8000) ext += 0x10000;
    }
    const std::int64_t slot = ((ext % kRecent) + kRecent) % kRecent;
    if (recent_[slot] == ext) {
      m_.duplicates++;
      return;
    }
    recent_[slot] = ext;
    if (ext < highestSeq_) m_.reordered++;
    else highestSeq_ = ext;
    if (ext < baseSeq_) baseSeq_ = ext;
    uniqueThisRun_++;
    m_.packets++;
    m_.bytes += static_cast<double>(size);
    if (!m_.hasArrival) m_.firstArrivalNs = arrival;
    m_.hasArrival = true;
    m_.lastArrivalNs = arrival;
    m_.expected = static_cast<double>(expectedBefore_ + highestSeq_ - baseSeq_ + 1);
    m_.lost = m_.expected - static_cast<double>(receivedBefore_ + uniqueThisRun_);

    const std::int64_t ptpArrival = timescale_.ptpTimeAt(arrival);
    const std::int64_t mediaNow = mediaTimeOf(ptpArrival, rate_);
    const std::uint32_t media32 = static_cast<std::uint32_t>(static_cast<std::int64_t>(timestamp) - mediaclkOffset_);
    std::int64_t diff = static_cast<std::uint32_t>(media32 - static_cast<std::uint32_t>(mediaNow));
    if (diff >= 0x80000000LL) diff -= 0x100000000LL;
    const std::int64_t sample = mediaNow + diff;
    const double delta = static_cast<double>(ptpArrival - ptpTimeOfSample(sample, rate_));
    m_.arrivalMinNs = std::min(m_.arrivalMinNs, delta);
    m_.arrivalMaxNs = std::max(m_.arrivalMaxNs, delta);
    arrivalSum_ += delta;
    m_.arrivalMeanNs = arrivalSum_ / m_.packets;

    const double transit = (arrival * static_cast<double>(rate_)) / 1e9 - static_cast<double>(timestamp);
    if (hasLastTransit_) {
      double dTransit = std::fabs(transit - lastTransit_);
      if (dTransit > 2147483648.0) dTransit = std::fabs(dTransit - 4294967296.0);
      jitter_ += (dTransit - jitter_) / 16;
      m_.jitterNs = (jitter_ * 1e9) / static_cast<double>(rate_);
      if (m_.jitterNs > m_.jitterMaxNs) m_.jitterMaxNs = m_.jitterNs;
    }
    lastTransit_ = transit;
    hasLastTransit_ = true;

    if (hasPlayoutDelay_) {
      const double margin = playoutDelay_ - delta;
      if (margin < m_.worstMarginNs) m_.worstMarginNs = margin;
      if (margin < 0) {
        m_.late++;
        return;
      }
    }
    place(sample, payload, frames);
  }

  void place(std::int64_t sample, const std::uint8_t* payload, std::int64_t frames) {
    if (firstSample_ < 0) firstSample_ = sample;
    const std::int64_t offset = sample - firstSample_;
    const double limit = recordSeconds_ * static_cast<double>(rate_);
    if (offset < 0) return drop("before-recording");
    if (static_cast<double>(offset + frames) > limit) return drop("recording-full");
    if (!recording_.configured()) {
      // Whole one-second blocks, in chunks of this first packet's size (chunked_recording.hpp).
      const std::int64_t maxBlocks = static_cast<std::int64_t>(std::ceil(recordSeconds_));
      recording_.configure(&network_, maxBlocks * rate_, frameBytes_, frames);
    }
    recording_.write(offset, payload, frames);
    const std::size_t lastBlock = static_cast<std::size_t>((offset + frames - 1) / rate_);
    if (present_.size() <= lastBlock) present_.resize(lastBlock + 1, 0);
    for (std::size_t bi = static_cast<std::size_t>(offset / rate_); bi <= lastBlock; ++bi) present_[bi] = 1;
    lastFrameEnd_ = std::max(lastFrameEnd_, offset + frames);
  }

  LinearTimescale timescale_;
  std::int64_t rate_ = 48000;
  int channels_ = 2;
  int width_ = 3;
  int payloadType_ = 96;
  std::int64_t mediaclkOffset_ = 0;
  bool hasPlayoutDelay_ = false;
  double playoutDelay_ = 0;
  double recordSeconds_ = 60;
  std::size_t frameBytes_ = 6;
  Ipv4Address group_ = 0;
  Ipv4Address sourceFilter_ = 0;
  std::unique_ptr<DatagramSocket> socket_;
  VirtualNetwork& network_;
  const std::uint64_t* hostDeliveries_ = nullptr;  // VirtualNetwork::deliveriesTo its host
  std::uint64_t seen_ = 0;
  const std::uint8_t* data_ = nullptr;  // the datagram being taken, in the network's buffer
  Metrics m_;
  std::uint64_t overflowsAtClose_ = 0;
  std::int64_t baseSeq_ = -1;
  std::int64_t highestSeq_ = -1;
  std::int64_t uniqueThisRun_ = 0;
  std::int64_t recent_[kRecent] = {};
  std::int64_t expectedBefore_ = 0;
  std::int64_t receivedBefore_ = 0;
  double jitter_ = 0;
  bool hasLastTransit_ = false;
  double lastTransit_ = 0;
  double arrivalSum_ = 0;
  std::int64_t firstSample_ = -1;
  ChunkedRecording recording_;
  std::vector<std::uint8_t> present_;  // per block: written to
  std::int64_t lastFrameEnd_ = 0;
};

// new NativeAes67Receiver(network, config): see native/virtual-actors.ts.
class JsAes67Receiver : public Napi::ObjectWrap<JsAes67Receiver> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeAes67Receiver",
                       {InstanceMethod("poll", &JsAes67Receiver::poll), InstanceMethod("nativeActor", &JsAes67Receiver::nativeActor),
                        InstanceMethod("metrics", &JsAes67Receiver::metrics), InstanceMethod("recording", &JsAes67Receiver::recording),
                        InstanceMethod("recordingSpan", &JsAes67Receiver::recordingSpan), InstanceMethod("recordingBlock", &JsAes67Receiver::recordingBlock),
                        InstanceMethod("countDifferingInRecording", &JsAes67Receiver::countDifferingInRecording),
                        InstanceMethod("readRecordedChannel", &JsAes67Receiver::readRecordedChannel), InstanceMethod("alterRecording", &JsAes67Receiver::alterRecording),
                        InstanceMethod("close", &JsAes67Receiver::close)});
  }
  explicit JsAes67Receiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsAes67Receiver>(info) {
    JsVirtualNetwork* network = JsVirtualNetwork::from(info[0]);
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    const Napi::Object o = objectArg(info, 1, "new NativeAes67Receiver(network, config)");
    try {
      actor_ = std::make_unique<Aes67ReceiverActor>(network->network(), o);
    } catch (const std::invalid_argument& e) {
      throw Napi::Error::New(info.Env(), std::string("NativeAes67Receiver: ") + e.what());
    }
  }

 private:
  Napi::Value poll(const Napi::CallbackInfo& info) {
    if (actor_->closed()) return Napi::Number::New(info.Env(), INFINITY);
    return Napi::Number::New(info.Env(), actor_->poll(toInt64(info[0], "now")));
  }
  Napi::Value nativeActor(const Napi::CallbackInfo& info) {
    if (actor_->closed()) throw Napi::Error::New(info.Env(), "NativeAes67Receiver: closed");
    return nativeActorHandle(info.Env(), actor_.get());
  }
  void close(const Napi::CallbackInfo&) { actor_->close(); }
  // The RtpMetrics object of lab/peers/rtp-subscription.ts.
  Napi::Value metrics(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Aes67ReceiverActor::Metrics& m = actor_->metrics();
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", m.packets);
    o.Set("bytes", m.bytes);
    if (m.hasSsrc) o.Set("ssrc", static_cast<double>(m.ssrc));
    o.Set("ssrcChanges", m.ssrcChanges);
    o.Set("expected", m.expected);
    o.Set("lost", m.lost);
    o.Set("duplicates", m.duplicates);
    o.Set("reordered", m.reordered);
    o.Set("jitterNs", m.jitterNs);
    o.Set("jitterMaxNs", m.jitterMaxNs);
    o.Set("arrivalMinNs", m.arrivalMinNs);
    o.Set("arrivalMeanNs", m.arrivalMeanNs);
    o.Set("arrivalMaxNs", m.arrivalMaxNs);
    o.Set("late", m.late);
    o.Set("worstMarginNs", m.worstMarginNs);
    Napi::Object dropped = Napi::Object::New(env);
    for (const auto& [reason, n] : m.dropped) dropped.Set(reason, n);
    o.Set("dropped", dropped);
    o.Set("socketOverflows", static_cast<double>(actor_->socketOverflows()));
    if (m.hasArrival) {
      o.Set("firstArrivalNs", m.firstArrivalNs);
      o.Set("lastArrivalNs", m.lastArrivalNs);
    }
    return o;
  }
  // {firstSample: bigint, lastFrameEnd, blocks, storedChunks, privateChunks, hashedLookups}: the recording
  // without its blocks, which recordingBlock copies out one at a time (a measurement reads
  // them in turn: copying all at once was ~90 MB a bench run, 1.1 GB for a 16-stream soak).
  Napi::Value recordingSpan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Aes67ReceiverActor& r = *actor_;
    Napi::Object o = Napi::Object::New(env);
    o.Set("firstSample", Napi::BigInt::New(env, r.firstSample()));
    o.Set("lastFrameEnd", static_cast<double>(r.lastFrameEnd()));
    o.Set("blocks", static_cast<double>(r.blockCount()));
    o.Set("storedChunks", static_cast<double>(r.store().storedChunks()));
    o.Set("privateChunks", static_cast<double>(r.store().privateChunks()));
    o.Set("hashedLookups", static_cast<double>(r.store().hashedLookups()));
    return o;
  }
  // Block i of the recording as {bytes, filled}, or null when nothing was written in it.
  Napi::Value recordingBlock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Aes67ReceiverActor& r = *actor_;
    const std::int64_t i = toInt64(info[0], "block");
    if (i < 0 || static_cast<std::size_t>(i) >= r.blockCount() || !r.blockPresent(static_cast<std::size_t>(i))) return env.Null();
    Napi::Object b = Napi::Object::New(env);
    Napi::Uint8Array bytes = Napi::Uint8Array::New(env, r.blockSize());
    Napi::Uint8Array filled = Napi::Uint8Array::New(env, static_cast<std::size_t>(r.rate()));
    r.readBlock(static_cast<std::size_t>(i), bytes.Data(), filled.Data());
    b.Set("bytes", bytes);
    b.Set("filled", filled);
    return b;
  }
  // countDifferingInRecording(comparisons: {channel, table: Float32Array, origin, phase, ranges: Float64Array}[])
  //   -> number[]: per comparison, how many frames of its ranges ([from, to) pairs, sorted
  //   and apart, frames of the recording) differ from table[(phase + f - origin) mod
  //   table.length], read where the recording holds them (recorded_channel.hpp).
  Napi::Value countDifferingInRecording(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* usage = "countDifferingInRecording(comparisons: {channel, table: Float32Array, origin, phase, ranges: Float64Array}[])";
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, usage);
    const auto list = info[0].As<Napi::Array>();
    std::vector<ChannelComparison> cs(list.Length());
    std::vector<std::vector<std::int64_t>> ranges(list.Length());
    for (std::uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value v = list.Get(i);
      if (!v.IsObject()) throw Napi::TypeError::New(env, usage);
      const auto o = v.As<Napi::Object>();
      const Napi::Value table = o.Get("table");
      const Napi::Value rs = o.Get("ranges");
      if (!table.IsTypedArray() || table.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !rs.IsTypedArray() || rs.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, usage);
      ChannelComparison& c = cs[i];
      const auto t = table.As<Napi::Float32Array>();
      c.channel = static_cast<int>(toInt64(o.Get("channel"), "channel"));
      c.table = t.Data();
      c.period = static_cast<std::int64_t>(t.ElementLength());
      c.origin = toInt64(o.Get("origin"), "origin");
      c.phase = toInt64(o.Get("phase"), "phase");
      const auto r = rs.As<Napi::Float64Array>();
      if (c.channel < 0 || c.channel >= actor_->channels()) throw Napi::RangeError::New(env, "countDifferingInRecording: channel " + std::to_string(c.channel) + " is not one of the stream's " + std::to_string(actor_->channels()));
      if (c.period == 0 || c.phase < 0 || c.phase >= c.period) throw Napi::RangeError::New(env, "countDifferingInRecording: phase must lie inside a non-empty table");
      if (r.ElementLength() % 2 != 0) throw Napi::RangeError::New(env, "countDifferingInRecording: ranges must be [from, to) pairs");
      for (std::size_t j = 0; j < r.ElementLength(); ++j) {
        const double x = r[j];
        if (!(std::fabs(x) <= 9007199254740991.0) || x != std::floor(x)) throw Napi::RangeError::New(env, "countDifferingInRecording: ranges must be whole frames");
        if (j > 0 && x < r[j - 1]) throw Napi::RangeError::New(env, "countDifferingInRecording: ranges must be sorted and apart");
        ranges[i].push_back(static_cast<std::int64_t>(x));
      }
      c.ranges = ranges[i].data();
      c.rangeCount = ranges[i].size() / 2;
    }
    countDiffering(actor_->recorded(), cs.data(), cs.size());
    Napi::Array out = Napi::Array::New(env, cs.size());
    for (std::uint32_t i = 0; i < cs.size(); ++i) out.Set(i, static_cast<double>(cs[i].wrong));
    return out;
  }
  // readRecordedChannel(channel, from, len, out: Float32Array, at): channel's frames [from,
  // from + len) of the recording, decoded, into out[at...]; 0 outside what was recorded.
  void readRecordedChannel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, "readRecordedChannel(channel, from, len, out: Float32Array, at)");
    }
    const std::int64_t channel = toInt64(info[0], "channel");
    const std::int64_t from = toInt64(info[1], "from");
    const std::int64_t len = toInt64(info[2], "len");
    auto out = info[3].As<Napi::Float32Array>();
    const std::int64_t at = toInt64(info[4], "at");
    if (channel < 0 || channel >= actor_->channels()) throw Napi::RangeError::New(env, "readRecordedChannel: channel " + std::to_string(channel) + " is not one of the stream's " + std::to_string(actor_->channels()));
    if (len < 0 || at < 0 || at + len > static_cast<std::int64_t>(out.ElementLength())) throw Napi::RangeError::New(env, "readRecordedChannel: out[at, at + len) must lie inside out");
    readChannel(actor_->recorded(), static_cast<int>(channel), from, len, out.Data() + at);
  }
  // alterRecording(frame, byte, mask) -> boolean: flips bits `mask` of byte `byte` of a
  // recorded frame (tests: returned audio that differs from what was sent); false where
  // nothing was recorded.
  Napi::Value alterRecording(const Napi::CallbackInfo& info) {
    const std::int64_t mask = toInt64(info[2], "mask");
    if (mask < 0 || mask > 255) throw Napi::RangeError::New(info.Env(), "alterRecording: mask must be a byte");
    return Napi::Boolean::New(info.Env(), actor_->alterRecording(toInt64(info[0], "frame"), toInt64(info[1], "byte"), static_cast<std::uint8_t>(mask)));
  }
  // {firstSample: bigint, lastFrameEnd, blocks: ({bytes, filled} | null)[]}: the recorded
  // payload bytes by one-second block, copied out once (RtpSubscription's blocks).
  Napi::Value recording(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("firstSample", Napi::BigInt::New(env, actor_->firstSample()));
    o.Set("lastFrameEnd", static_cast<double>(actor_->lastFrameEnd()));
    const Aes67ReceiverActor& r = *actor_;
    Napi::Array a = Napi::Array::New(env, r.blockCount());
    for (std::size_t i = 0; i < r.blockCount(); ++i) {
      if (!r.blockPresent(i)) {
        a.Set(static_cast<std::uint32_t>(i), env.Null());
        continue;
      }
      Napi::Object b = Napi::Object::New(env);
      Napi::Uint8Array bytes = Napi::Uint8Array::New(env, r.blockSize());
      Napi::Uint8Array filled = Napi::Uint8Array::New(env, static_cast<std::size_t>(r.rate()));
      r.readBlock(i, bytes.Data(), filled.Data());
      b.Set("bytes", bytes);
      b.Set("filled", filled);
      a.Set(static_cast<std::uint32_t>(i), b);
    }
    o.Set("blocks", a);
    o.Set("storedChunks", static_cast<double>(r.store().storedChunks()));
    o.Set("privateChunks", static_cast<double>(r.store().privateChunks()));
    o.Set("hashedLookups", static_cast<double>(r.store().hashedLookups()));
    return o;
  }
  Napi::ObjectReference networkRef_;
  std::unique_ptr<Aes67ReceiverActor> actor_;
};

// ---------------------------------------------------------------------------------------
// The scheduler.

// new VirtualScheduler(network, clock, actors: (NativeActorHandle | null)[], pollOn: number[])
//   begin(): a new run; run's first calls poll every actor once at the clock's time
//   run(untilNs, dues: Float64Array, state: Float64Array(2), stopEachStep) -> number
// dues[i] is actor i's next due time (TypeScript writes its actors', the scheduler its own).
// Returns the index of a TypeScript actor to poll at state[0] (then call run again), -2 at
// the end of a step when stopEachStep (for onStep), -1 when the next moment is after
// untilNs. state[1] counts the steps taken.
class JsVirtualScheduler : public Napi::ObjectWrap<JsVirtualScheduler> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "VirtualScheduler",
                       {InstanceMethod("run", &JsVirtualScheduler::run), InstanceMethod("begin", &JsVirtualScheduler::begin),
                        InstanceMethod("resume", &JsVirtualScheduler::resume),
                        InstanceMethod("setTimed", &JsVirtualScheduler::setTimed), InstanceMethod("timings", &JsVirtualScheduler::timings)});
  }
  explicit JsVirtualScheduler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsVirtualScheduler>(info) {
    Napi::Env env = info.Env();
    network_ = &JsVirtualNetwork::from(info[0])->network();
    clock_ = &JsVirtualClock::from(info[1])->clock();
    networkRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    if (info.Length() < 4 || !info[2].IsArray() || !info[3].IsArray() || info[2].As<Napi::Array>().Length() != info[3].As<Napi::Array>().Length()) {
      throw Napi::TypeError::New(env, "new VirtualScheduler(network, clock, actors: (NativeActorHandle | null)[], pollOn: number[])");
    }
    const Napi::Array actors = info[2].As<Napi::Array>();
    const Napi::Array when = info[3].As<Napi::Array>();
    for (std::uint32_t i = 0; i < actors.Length(); ++i) {
      const Napi::Value a = actors.Get(i);
      Slot s;
      if (a.IsExternal()) {
        s.native = a.As<Napi::External<NativeActor>>().Data();
        s.when = s.native->pollOn();
      } else {
        // A TypeScript actor is 'due' (1), 'due-or-delivery' (2) or polled at every step.
        const int w = when.Get(i).ToNumber().Int32Value();
        s.when = w == 1 || w == 2 ? static_cast<NativeActor::PollOn>(w) : NativeActor::PollOn::kEveryStep;
      }
      slots_.push_back(s);
    }
  }

 private:
  struct Slot {
    NativeActor* native = nullptr;
    NativeActor::PollOn when = NativeActor::PollOn::kEveryStep;
  };

  // setTimed(on): from now on each native actor's polls and the network's deliveries are
  // counted and timed (steady clock; bench/virtual-speed.ts's breakdown). timings() ->
  // {polls: Float64Array, ns: Float64Array (per actor; TypeScript actors' stay 0),
  // deliverNs, steps}.
  void setTimed(const Napi::CallbackInfo& info) {
    timed_ = info.Length() > 0 && info[0].ToBoolean().Value();
    polls_.assign(slots_.size(), 0);
    pollNs_.assign(slots_.size(), 0);
    deliverNs_ = 0;
    steps_ = 0;
  }
  Napi::Value timings(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    Napi::Float64Array polls = Napi::Float64Array::New(env, slots_.size());
    Napi::Float64Array ns = Napi::Float64Array::New(env, slots_.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      polls[i] = i < polls_.size() ? polls_[i] : 0;
      ns[i] = i < pollNs_.size() ? pollNs_[i] : 0;
    }
    o.Set("polls", polls);
    o.Set("ns", ns);
    o.Set("deliverNs", deliverNs_);
    o.Set("steps", steps_);
    return o;
  }
  static double sinceNs(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  }
  double pollNative(std::size_t i, Nanoseconds now) {
    if (!timed_) return slots_[i].native->poll(now);
    const auto t0 = std::chrono::steady_clock::now();
    const double due = slots_[i].native->poll(now);
    pollNs_[i] += sinceNs(t0);
    polls_[i] += 1;
    return due;
  }

  // A new run (VirtualRun.until's start): every actor is polled once at the clock's time, in
  // list order (the native ones here, TypeScript's when run returns their index), then the
  // steps. One scheduler serves a whole run of many slices: an object made per slice would
  // stay in native memory until the event loop ran its finalizer, which a synchronous run
  // never lets it do (measured: 1.4 KB a slice, 100 slices a virtual second).
  void begin(const Napi::CallbackInfo&) {
    initialPos_ = 0;
    initialPendingOnly_ = false;
    initialReturned_ = false;
    pos_ = -1;
    first_ = true;
  }
  // The run carries on (VirtualRun.until with resume): of the opening round only the native
  // actors that say something is pending for them are polled at the clock's time (the emulated
  // DUT counts a TX packet waiting for audio at every poll: begin's round polled it there).
  void resume(const Napi::CallbackInfo&) {
    initialPos_ = 0;
    initialPendingOnly_ = true;
    initialReturned_ = false;
    pos_ = -1;
  }

  Napi::Value run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
      throw Napi::TypeError::New(env, "run(untilNs, dues: Float64Array, state: Float64Array(2), stopEachStep)");
    }
    const double until = info[0].As<Napi::Number>().DoubleValue();
    Napi::Float64Array duesArray = info[1].As<Napi::Float64Array>();
    Napi::Float64Array stateArray = info[2].As<Napi::Float64Array>();
    if (duesArray.TypedArrayType() != napi_float64_array || duesArray.ElementLength() != slots_.size() ||
        stateArray.TypedArrayType() != napi_float64_array || stateArray.ElementLength() < 2) {
      throw Napi::TypeError::New(env, "run: dues must be a Float64Array of one entry per actor, state a Float64Array(2)");
    }
    const bool stopEachStep = info[3].ToBoolean().Value();
    double* dues = duesArray.Data();
    double* state = stateArray.Data();
    try {
      if (initialPos_ >= 0) {
        if (initialReturned_) ++initialPos_;  // TypeScript polled the actor at initialPos_
        initialReturned_ = false;
        const Nanoseconds t = clock_->now();
        for (; initialPos_ < static_cast<std::ptrdiff_t>(slots_.size()); ++initialPos_) {
          const Slot& s = slots_[static_cast<std::size_t>(initialPos_)];
          if (initialPendingOnly_ && !(s.native && s.when == NativeActor::PollOn::kDueOrPending && s.native->pending())) continue;
          if (!s.native) {
            initialReturned_ = true;
            state[0] = static_cast<double>(t);
            return Napi::Number::New(env, static_cast<double>(initialPos_));
          }
          dues[initialPos_] = pollNative(static_cast<std::size_t>(initialPos_), t);
        }
        initialPos_ = -1;
      }
      for (;;) {
        if (pos_ < 0) {
          // A new step: lab-transport.ts runVirtual / virtual_step_binding.cc.
          const std::uint64_t deliveredBefore = network_->stats().delivered;
          const std::uint64_t watchedBefore = network_->watchedDeliveries();
          const bool anyBetween = first_ || deliveredBefore != delivered_;
          const bool watchedBetween = first_ || watchedBefore != watched_;
          const Nanoseconds inFlight = network_->nextDeliveryTime();
          double next = inFlight == std::numeric_limits<Nanoseconds>::max() ? INFINITY : static_cast<double>(inFlight);
          for (std::size_t i = 0; i < slots_.size(); ++i) next = std::min(next, dues[i]);
          if (!(next <= until)) return Napi::Number::New(env, -1);
          if (next > static_cast<double>(clock_->now())) clock_->advanceTo(static_cast<Nanoseconds>(std::ceil(next)));
          if (timed_) {
            const auto t0 = std::chrono::steady_clock::now();
            network_->deliverDue();
            deliverNs_ += sinceNs(t0);
            steps_ += 1;
          } else {
            network_->deliverDue();
          }
          delivered_ = network_->stats().delivered;
          watched_ = network_->watchedDeliveries();
          anyDelivered_ = anyBetween || delivered_ != deliveredBefore;
          jsDelivered_ = watchedBetween || watched_ != watchedBefore;
          first_ = false;
          now_ = clock_->now();
          state[1] += 1;
          pos_ = 0;
        } else {
          ++pos_;  // TypeScript polled the actor at pos_
        }
        const double now = static_cast<double>(now_);
        for (; pos_ < static_cast<std::ptrdiff_t>(slots_.size()); ++pos_) {
          const Slot& s = slots_[static_cast<std::size_t>(pos_)];
          const double due = dues[pos_];
          const bool delivered = s.native ? anyDelivered_ : jsDelivered_;
          if (!(s.when == NativeActor::PollOn::kEveryStep || due <= now || (s.when == NativeActor::PollOn::kDueOrDelivery && delivered) ||
                (s.when == NativeActor::PollOn::kDueOrPending && s.native && s.native->pending()))) {
            continue;
          }
          if (!s.native) {
            state[0] = now;
            return Napi::Number::New(env, static_cast<double>(pos_));
          }
          dues[pos_] = pollNative(static_cast<std::size_t>(pos_), now_);
        }
        pos_ = -1;
        if (stopEachStep) {
          state[0] = now;
          return Napi::Number::New(env, -2);
        }
      }
    } catch (const std::exception& e) {
      pos_ = -1;
      initialPos_ = -1;
      throw Napi::Error::New(env, std::string("VirtualScheduler: ") + e.what());
    }
  }

  Napi::ObjectReference networkRef_;
  VirtualNetwork* network_ = nullptr;
  VirtualClock* clock_ = nullptr;
  std::vector<Slot> slots_;
  std::ptrdiff_t pos_ = -1;
  std::ptrdiff_t initialPos_ = -1;  // in begin's round of polls
  bool initialPendingOnly_ = false;  // resume's round: only native actors with something pending
  bool initialReturned_ = false;
  bool first_ = true;
  std::uint64_t delivered_ = 0;
  std::uint64_t watched_ = 0;
  bool anyDelivered_ = false;
  bool jsDelivered_ = false;
  Nanoseconds now_ = 0;
  bool timed_ = false;
  std::vector<double> polls_;
  std::vector<double> pollNs_;
  double deliverNs_ = 0;
  double steps_ = 0;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeAes67Sender", JsAes67Sender::define(env));
  exports.Set("NativeAes67Receiver", JsAes67Receiver::define(env));
  exports.Set("VirtualScheduler", JsVirtualScheduler::define(env));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
