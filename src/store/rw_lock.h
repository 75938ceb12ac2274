#pragma once
// A reader-writer lock that prefers writers.
//
// std::shared_mutex on glibc is a pthread_rwlock with the default kind, which
// prefers readers: while reads overlap without pause, a writer never gets in. In
// the store that starved creates for tens of milliseconds under a steady stream of
// GETs from two threads. With PREFER_WRITER_NONRECURSIVE a waiting writer blocks
// new readers, so a write waits at most for the reads already in progress. The
// class meets the SharedMutex requirements, so std::unique_lock and
// std::shared_lock work with it. Readers must not take it recursively (a waiting
// writer would then deadlock them); the store never does.

#include <pthread.h>

namespace nanokube::store {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;
  ~RwLock() { pthread_rwlock_destroy(&lock_); }

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace nanokube::store
