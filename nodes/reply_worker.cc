#include "nodes/reply_worker.h"

#include <atomic>

namespace nemesyst::nodes {
namespace {

std::atomic<uint64_t> g_reply_worker_counter{0};

}  // namespace

ReplyWorker::ReplyWorker(zmq::context_t& context)
    : wake_in_(context, zmq::socket_type::pair), wake_out_(context, zmq::socket_type::pair) {
  const std::string wake = "inproc://nemesyst-worker-" + std::to_string(++g_reply_worker_counter);
  wake_in_.set(zmq::sockopt::linger, 0);
  wake_out_.set(zmq::sockopt::linger, 0);
  wake_in_.bind(wake);
  wake_out_.connect(wake);
  thread_ = std::thread([this] { Run(); });
}

ReplyWorker::~ReplyWorker() { Stop(); }

void ReplyWorker::Post(std::string routing_id, Job job) {
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(std::move(routing_id), std::move(job));
  }
  cv_.notify_one();
}

std::deque<std::pair<std::string, std::string>> ReplyWorker::TakeDone() {
  zmq::message_t ignored;
  while (wake_in_.recv(ignored, zmq::recv_flags::dontwait)) {
  }
  std::deque<std::pair<std::string, std::string>> done;
  std::lock_guard lock(mu_);
  done.swap(done_);
  return done;
}

size_t ReplyWorker::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size() + running_;
}

void ReplyWorker::Kick() {
  std::lock_guard lock(mu_);
  try {
    wake_out_.send(zmq::str_buffer("w"), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

void ReplyWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplyWorker::Run() {
  while (true) {
    std::pair<std::string, Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and every posted job has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    std::string reply = job.second();  // jobs catch their own exceptions (their callers' rules)
    {
      std::lock_guard lock(mu_);
      --running_;
      if (job.first.empty()) continue;
      done_.emplace_back(std::move(job.first), std::move(reply));
    }
    Kick();
  }
}

}  // namespace nemesyst::nodes
