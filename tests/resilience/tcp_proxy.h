// A small user-space TCP proxy on 127.0.0.1 for slow-peer tests (this
// kernel has no netem): one thread per direction of each connection, with a
// delay added before every chunk sent back to the client, and a switch that
// drops connections (closes the open ones and refuses new ones by closing
// them as soon as they are accepted).
#ifndef KOSAPO_TESTS_RESILIENCE_TCP_PROXY_H_
#define KOSAPO_TESTS_RESILIENCE_TCP_PROXY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kosapo::resilience {

class TcpProxy {
 public:
  // Listens on a free loopback port and forwards to 127.0.0.1:upstream_port.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int upstream_port);
  ~TcpProxy();

  int port() const { return port_; }
  // Delay before each chunk from the upstream reaches the client (the
  // client's requests pass at once, so the upstream does the work and the
  // answer comes late).
  void SetResponseDelay(absl::Duration delay);
  // While on, open connections are closed and new ones closed on accept.
  void SetDropping(bool dropping);
  // Connections accepted so far.
  int64_t accepted() const { return accepted_; }

 private:
  TcpProxy(int listen_fd, int port, int upstream_port)
      : listen_fd_(listen_fd), port_(port), upstream_port_(upstream_port) {}
  void AcceptLoop();
  void Pump(int from, int to, bool delayed);
  void CloseAll();

  const int listen_fd_;
  const int port_;
  const int upstream_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> dropping_{false};
  std::atomic<int64_t> delay_us_{0};
  std::atomic<int64_t> accepted_{0};
  std::mutex mutex_;
  std::set<int> open_fds_;            // guarded by mutex_
  std::vector<std::thread> threads_;  // guarded by mutex_
  std::thread acceptor_;
};

}  // namespace kosapo::resilience

#endif  // KOSAPO_TESTS_RESILIENCE_TCP_PROXY_H_
