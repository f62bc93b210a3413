#include "tests/resilience/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kosapo::resilience {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int upstream_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  if (fd < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return absl::InternalError(absl::StrCat("proxy listen: errno ", errno));
  }
  std::unique_ptr<TcpProxy> proxy(
      new TcpProxy(fd, ntohs(address.sin_port), upstream_port));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  acceptor_.join();
  close(listen_fd_);
  CloseAll();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (int fd : open_fds_) {
    close(fd);
  }
}

void TcpProxy::SetResponseDelay(absl::Duration delay) {
  delay_us_ = absl::ToInt64Microseconds(delay);
}

void TcpProxy::SetDropping(bool dropping) {
  dropping_ = dropping;
  if (dropping) {
    CloseAll();
  }
}

void TcpProxy::CloseAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  // shutdown (not close) wakes the pumps blocked on these sockets; the fds
  // are closed at destruction so no number is reused under a pump.
  for (int fd : open_fds_) {
    shutdown(fd, SHUT_RDWR);
  }
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (poll(&waiting, 1, 100) <= 0) {
      continue;
    }
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    ++accepted_;
    if (dropping_) {
      close(client);
      continue;
    }
    const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = Loopback(upstream_port_);
    if (upstream < 0 ||
        connect(upstream, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
      close(client);
      if (upstream >= 0) {
        close(upstream);
      }
      continue;
    }
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.insert(client);
    open_fds_.insert(upstream);
    threads_.emplace_back([this, client, upstream] {
      Pump(client, upstream, /*delayed=*/false);
    });
    threads_.emplace_back(
        [this, client, upstream] { Pump(upstream, client, /*delayed=*/true); });
  }
}

void TcpProxy::Pump(int from, int to, bool delayed) {
  char buffer[16384];
  while (!stopping_) {
    pollfd readable{from, POLLIN, 0};
    const int ready = poll(&readable, 1, 100);
    if (ready == 0) {
      continue;
    }
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    const ssize_t n = ready < 0 ? -1 : recv(from, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    if (delayed && delay_us_ > 0) {
      absl::SleepFor(absl::Microseconds(delay_us_.load()));
    }
    if (stopping_ || !WriteAll(to, buffer, static_cast<size_t>(n))) {
      break;
    }
  }
  // Either side ending ends both directions.
  shutdown(from, SHUT_RDWR);
  shutdown(to, SHUT_RDWR);
}

}  // namespace kosapo::resilience
