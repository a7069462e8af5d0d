// shop-load: places orders continuously through the shop's HTTP API and logs ground truth.
//
//   shop-load --url U [--rate R] [--duration SECONDS] --log FILE [--tenant T]
//
// Each order is one request (POST /orders with its items), so that it is one transaction on one
// replica even while a cutover points replicas at different databases. The log has one JSON
// object per line, flushed as it is written:
//   {"event":"order","order_id":N,"identifier":"...","tenant":"...","sent":S,"committed":C}
//       the order's transaction committed between S and C (seconds since the epoch)
//   {"event":"failed","time":T,"request":"POST /orders","status":N,"error":"..."}
// --duration 0 runs until SIGTERM or SIGINT. The summary line goes to stdout at the end.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "shop_db.h"

namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct Outcome {
  bool ok = false;
  int status = 0;
  std::string error;
  json body;
};

Outcome Post(httplib::Client& client, const std::string& path, const json& body) {
  Outcome o;
  auto res = client.Post(path.c_str(), body.dump(), "application/json");
  if (!res) {
    o.error = httplib::to_string(res.error());
    return o;
  }
  o.status = res->status;
  o.body = json::parse(res->body, nullptr, false);
  o.ok = res->status / 100 == 2 && !o.body.is_discarded();
  if (!o.ok) o.error = res->body.substr(0, 200);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, log_path, tenant;
  double rate = 20, duration = 0;
  const char* usage =
      "usage: shop-load --url U [--rate R] [--duration SECONDS] --log FILE [--tenant T]\n";
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "error: %s needs a value\n%s", flag.c_str(), usage);
      return 1;
    }
    std::string value = argv[i + 1];
    if (flag == "--url") url = value;
    else if (flag == "--rate") rate = std::atof(value.c_str());
    else if (flag == "--duration") duration = std::atof(value.c_str());
    else if (flag == "--log") log_path = value;
    else if (flag == "--tenant") tenant = value;
    else {
      std::fprintf(stderr, "error: unknown option %s\n%s", flag.c_str(), usage);
      return 1;
    }
  }
  if (url.empty() || log_path.empty() || rate <= 0) {
    std::fprintf(stderr, "error: --url and --log are required and --rate must be positive\n%s", usage);
    return 1;
  }
  FILE* log = std::fopen(log_path.c_str(), "a");
  if (log == nullptr) {
    std::fprintf(stderr, "error: cannot open %s\n", log_path.c_str());
    return 2;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  std::string prefix = tenant.empty() ? "" : "/t/" + tenant;
  httplib::Client client(url);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);

  // SKUs to order, from the catalogue; the first SKU when the catalogue cannot be read yet.
  std::vector<long long> skus;
  if (auto res = client.Get((prefix + "/order/products").c_str()); res && res->status == 200) {
    json products = json::parse(res->body, nullptr, false);
    if (products.is_array()) {
      for (const auto& p : products) {
        for (const auto& s : p["skus"]) skus.push_back(s["id"].get<long long>());
      }
    }
  }
  if (skus.empty()) skus.push_back(1);

  auto failed = [&](const std::string& request, const Outcome& o) {
    json line = {{"event", "failed"}, {"time", shop::NowSeconds()}, {"request", request},
                 {"status", o.status}, {"error", o.error}};
    std::fprintf(log, "%s\n", line.dump().c_str());
    std::fflush(log);
  };

  long long committed = 0, failures = 0;
  double start = shop::NowSeconds();
  double next = start;
  for (uint64_t n = 0; !g_stop; ++n) {
    double now = shop::NowSeconds();
    if (duration > 0 && now - start >= duration) break;
    if (next > now) {
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>((next - now) * 1e6)));
      continue;
    }
    next += 1.0 / rate;
    if (next < now - 1.0) next = now;  // far behind (an outage): do not burst afterwards

    json item = {{"sku_id", skus[n % skus.size()]}, {"quantity", 1 + static_cast<int>(n % 3)}};
    double sent = shop::NowSeconds();
    Outcome order = Post(client, prefix + "/orders", {{"items", json::array({item})}});
    double done = shop::NowSeconds();
    if (!order.ok) {
      failed("POST /orders", order);
      ++failures;
      continue;
    }
    json line = {{"event", "order"}, {"order_id", order.body["order_id"]},
                 {"identifier", order.body["identifier"]},
                 {"tenant", tenant.empty() ? "default" : tenant}, {"sent", sent}, {"committed", done}};
    std::fprintf(log, "%s\n", line.dump().c_str());
    std::fflush(log);
    ++committed;
  }
  std::fclose(log);
  std::printf("shop-load: %lld orders committed, %lld requests failed in %.1f s\n", committed,
              failures, shop::NowSeconds() - start);
  return 0;
}
