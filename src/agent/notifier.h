// Delivers the agent's notifications (alerts.h) to [[alert.notify]]: a webhook gets each as a
// JSON POST (retried three times, 1 s and 2 s apart, 10 s per attempt), a command gets it as
// JSON on stdin. Delivery runs on a thread of its own, in order, so a slow receiver never
// holds up the agent's jobs; what could not be delivered is logged.
//
// Thread safety: Send may be called from any thread; the destructor delivers what is queued
// (with the retries) and joins the thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/alerts.h"
#include "config/config.h"

namespace lifeboat::agent {

class Notifier {
 public:
  // Each notification carries `contacts` ([[contacts]]).
  Notifier(std::vector<AlertNotifyConfig> targets, std::vector<ContactConfig> contacts,
           std::function<void(const std::string&)> log);
  ~Notifier();
  void Send(const Notification& n);

 private:
  void Loop();
  Status Deliver(const AlertNotifyConfig& target, const std::string& body);

  std::vector<AlertNotifyConfig> targets_;
  std::vector<ContactConfig> contacts_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Notification> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lifeboat::agent
