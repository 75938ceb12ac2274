// nanokube-pause: the process of a pod's infra container. It holds the pod's
// network, IPC and UTS namespaces open while the app containers come and go:
// it sleeps, reaps the zombies of processes re-parented to it (it is PID 1 when
// the pod shares a PID namespace), and exits on SIGINT/SIGTERM.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t stop = 0;

void onStop(int) { stop = 1; }

void onChild(int) {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

int main() {
  struct sigaction sa {};
  sa.sa_handler = onStop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = onChild;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);
  while (!stop) pause();
  return 0;
}
