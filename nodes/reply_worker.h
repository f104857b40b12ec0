// A worker thread behind a network thread's ROUTER: it runs jobs one at a time in the order they
// were posted, and hands each job's reply back to the network thread, which sends it (a socket
// belongs to one thread). The client endpoint (appends) and the control endpoint (train, deploy)
// each keep one, so slow work never holds up the network thread.
//
// Thread-safety: Post, TakeDone, queued and Stop may be called from any thread; the wake socket
// belongs to the network thread (poll it; on POLLIN call TakeDone and send the replies).
#ifndef NEMESYST_NODES_REPLY_WORKER_H_
#define NEMESYST_NODES_REPLY_WORKER_H_

#include <zmq.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace nemesyst::nodes {

class ReplyWorker {
 public:
  // Runs on the worker thread; returns the reply (a job posted with no routing id has none).
  using Job = std::function<std::string()>;

  explicit ReplyWorker(zmq::context_t& context);
  ~ReplyWorker();  // Stop()
  ReplyWorker(const ReplyWorker&) = delete;
  ReplyWorker& operator=(const ReplyWorker&) = delete;

  // `routing_id` empty: the job's reply is dropped (nobody to answer, e.g. a pushed message).
  void Post(std::string routing_id, Job job);
  // Readable when replies are waiting.
  zmq::socket_t& wake() { return wake_in_; }
  // Network thread: drains the wake socket and returns the finished jobs' (routing id, reply).
  std::deque<std::pair<std::string, std::string>> TakeDone();
  // Jobs posted and not yet finished.
  size_t queued() const;
  // Wakes the network thread now (e.g. a job made something else to send before it ended).
  void Kick();
  // Runs the jobs already posted, then joins the thread (a node stopping answers what it took).
  // Idempotent.
  void Stop();

 private:
  void Run();

  zmq::socket_t wake_in_, wake_out_;  // PAIR: worker → network thread (wake_out_ under mu_)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, Job>> jobs_;
  std::deque<std::pair<std::string, std::string>> done_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_REPLY_WORKER_H_
