// shop-server: the shop's HTTP service.
//
//   shop-server --port P [--host 127.0.0.1]
//
// Connects with libpq's environment variables. The tenant comes from a path prefix
// (/t/<tenant>/...) or from the Host header (<tenant>.anything); otherwise it is the tenant of
// $PGDATABASE. SIGTERM stops accepting connections and lets requests in flight finish.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "shop_db.h"

namespace {

using nlohmann::json;

std::string g_default_db;

// Each server thread keeps its own connection per tenant database.
shop::Db& DbFor(const std::string& dbname) {
  thread_local std::map<std::string, std::unique_ptr<shop::Db>> dbs;
  auto& slot = dbs[dbname];
  if (!slot) slot = std::make_unique<shop::Db>(dbname);
  return *slot;
}

// "" when the tenant is unknown.
std::string DatabaseOf(const httplib::Request& req) {
  std::string tenant;
  if (req.matches.size() > 1 && req.matches[1].length() > 0) {
    tenant = req.matches[1].str();
  } else {
    std::string host = req.get_header_value("Host");
    size_t dot = host.find('.');
    if (dot != std::string::npos) tenant = host.substr(0, dot);
  }
  if (tenant.empty()) return g_default_db;
  for (const auto& t : shop::kTenants) {
    if (t == tenant) return shop::TenantDatabase(t);
  }
  return g_default_db;  // a host such as 127.0.0.1 or localhost names no tenant
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void DbError(httplib::Response& res, const shop::Db& db) {
  Reply(res, 503, {{"error", "database unavailable"}, {"detail", db.error()}});
}

// Registers `handler` for `path` with and without the /t/<tenant> prefix.
template <typename Register>
void Route(Register reg, const std::string& path) {
  reg("(?:/t/([a-z0-9_]+))?" + path);
}

bool g_broken_health = false;  // $SHOP_BROKEN_HEALTH: a build whose health check always fails

void Health(const httplib::Request& req, httplib::Response& res) {
  if (g_broken_health) return Reply(res, 503, {{"error", "this build is broken (SHOP_BROKEN_HEALTH)"}});
  shop::Db& db = DbFor(DatabaseOf(req));
  auto r = db.Exec("SELECT 1");
  if (!r) return DbError(res, db);
  Reply(res, 200, {{"status", "ok"}, {"database", db.dbname()}});
}

void Products(const httplib::Request& req, httplib::Response& res) {
  shop::Db& db = DbFor(DatabaseOf(req));
  auto r = db.Exec(
      "SELECT p.id, p.title, p.identifier, s.id, s.color, s.size, s.price::text, s.inventory "
      "FROM order_product p JOIN order_sku s ON s.product_id = p.id ORDER BY p.id, s.id");
  if (!r) return DbError(res, db);
  json products = json::array();
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    long long pid = std::atoll(PQgetvalue(r.get(), i, 0));
    if (products.empty() || products.back()["id"] != pid) {
      products.push_back({{"id", pid},
                          {"title", PQgetvalue(r.get(), i, 1)},
                          {"identifier", PQgetvalue(r.get(), i, 2)},
                          {"skus", json::array()}});
    }
    products.back()["skus"].push_back({{"id", std::atoll(PQgetvalue(r.get(), i, 3))},
                                       {"color", PQgetvalue(r.get(), i, 4)},
                                       {"size", PQgetvalue(r.get(), i, 5)},
                                       {"price", PQgetvalue(r.get(), i, 6)},
                                       {"inventory", std::atoi(PQgetvalue(r.get(), i, 7))}});
  }
  Reply(res, 200, products);
}

// Body {"cart_id": optional, "sku_id": N, "quantity": N}; creates the cart when none is given.
void AddCartItem(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("sku_id")) {
    return Reply(res, 400, {{"error", "body must be JSON with sku_id"}});
  }
  shop::Db& db = DbFor(DatabaseOf(req));
  std::string sku = std::to_string(body["sku_id"].get<long long>());
  std::string qty = std::to_string(body.value("quantity", 1));
  std::string cart = body.contains("cart_id") ? std::to_string(body["cart_id"].get<long long>()) : "";
  auto r = db.Exec(
      "WITH c AS (INSERT INTO order_cart (anonymous_id) SELECT 'load' WHERE $1 = '' RETURNING id), "
      "target AS (SELECT id FROM c UNION ALL SELECT NULLIF($1, '')::bigint WHERE $1 <> '') "
      "INSERT INTO order_cart_sku (cart_id, sku_id, quantity) SELECT id, $2::bigint, $3::int "
      "FROM target RETURNING cart_id",
      {cart, sku, qty});
  if (!r) {
    if (db.error().find("violates foreign key") != std::string::npos) {
      return Reply(res, 404, {{"error", "no such cart or sku"}});
    }
    return DbError(res, db);
  }
  Reply(res, 201, {{"cart_id", std::atoll(PQgetvalue(r.get(), 0, 0))}});
}

void GetCart(const httplib::Request& req, httplib::Response& res) {
  std::string cart = req.get_param_value("cart_id");
  if (cart.empty() || cart.find_first_not_of("0123456789") != std::string::npos) {
    return Reply(res, 400, {{"error", "cart_id query parameter required"}});
  }
  shop::Db& db = DbFor(DatabaseOf(req));
  auto r = db.Exec(
      "SELECT cs.sku_id, cs.quantity, s.price::text FROM order_cart_sku cs "
      "JOIN order_sku s ON s.id = cs.sku_id WHERE cs.cart_id = $1::bigint ORDER BY cs.id",
      {cart});
  if (!r) return DbError(res, db);
  json items = json::array();
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    items.push_back({{"sku_id", std::atoll(PQgetvalue(r.get(), i, 0))},
                     {"quantity", std::atoi(PQgetvalue(r.get(), i, 1))},
                     {"price", PQgetvalue(r.get(), i, 2)}});
  }
  Reply(res, 200, {{"cart_id", std::atoll(cart.c_str())}, {"items", items}});
}

// Body {"cart_id": N} turns the cart into an order; {"items": [{"sku_id": N, "quantity": N}]}
// places an order without a cart (one request, so it never spans two replicas). Either way the
// order is one transaction.
void PlaceOrder(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || (!body.contains("cart_id") && !body.contains("items"))) {
    return Reply(res, 400, {{"error", "body must be JSON with cart_id or items"}});
  }
  shop::Db& db = DbFor(DatabaseOf(req));
  bool direct = body.contains("items");
  std::string source;
  if (direct) {
    json items = json::array();
    for (const auto& i : body["items"]) {
      items.push_back({{"sku_id", i.value("sku_id", 0LL)}, {"quantity", i.value("quantity", 1)}});
    }
    source = items.dump();
  } else {
    source = std::to_string(body["cart_id"].get<long long>());
  }
  std::string items_sql =
      direct ? "SELECT i.sku_id, i.quantity, s.price FROM jsonb_to_recordset($1::jsonb) "
               "  AS i(sku_id bigint, quantity int) JOIN order_sku s ON s.id = i.sku_id"
             : "SELECT cs.sku_id, cs.quantity, s.price FROM order_cart_sku cs "
               "  JOIN order_sku s ON s.id = cs.sku_id WHERE cs.cart_id = $1::bigint";
  auto r = db.Exec(
      "WITH items AS (" + items_sql + "), "
      "o AS (INSERT INTO order_order (identifier, order_status_id, sales_tax_amt, order_total) "
      "  SELECT md5(random()::text || clock_timestamp()::text), 1, "
      "    round(sum(price * quantity) * 0.08, 2), round(sum(price * quantity) * 1.08, 2) "
      "  FROM items HAVING count(*) > 0 RETURNING id, identifier, created_date_time), "
      "l AS (INSERT INTO order_order_sku (order_id, sku_id, quantity, price_each) "
      "  SELECT o.id, i.sku_id, i.quantity, i.price FROM o, items i) "
      "SELECT id, identifier, to_char(created_date_time AT TIME ZONE 'UTC', "
      "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM o",
      {source});
  if (!r) return DbError(res, db);
  if (PQntuples(r.get()) == 0) return Reply(res, 404, {{"error", "cart is empty or unknown"}});
  Reply(res, 201, {{"order_id", std::atoll(PQgetvalue(r.get(), 0, 0))},
                   {"identifier", PQgetvalue(r.get(), 0, 1)},
                   {"created_date_time", PQgetvalue(r.get(), 0, 2)}});
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string host = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") {
      port = std::atoi(argv[i + 1]);
    } else if (flag == "--host") {
      host = argv[i + 1];
    } else {
      std::fprintf(stderr, "error: unknown option %s\nusage: shop-server --port P [--host H]\n",
                   flag.c_str());
      return 1;
    }
  }
  if (port <= 0) {
    std::fprintf(stderr, "error: --port is required\nusage: shop-server --port P [--host H]\n");
    return 1;
  }
  const char* broken = std::getenv("SHOP_BROKEN_HEALTH");
  g_broken_health = broken != nullptr && *broken != '\0';
  const char* pgdb = std::getenv("PGDATABASE");
  g_default_db = pgdb != nullptr && *pgdb != '\0' ? pgdb : shop::TenantDatabase(shop::kTenants[0]);

  // SIGTERM and SIGINT are taken by a thread that stops the server; blocked before any thread
  // starts so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  httplib::Server server;
  auto get = [&](auto handler) { return [&, handler](const std::string& p) { server.Get(p, handler); }; };
  auto post = [&](auto handler) { return [&, handler](const std::string& p) { server.Post(p, handler); }; };
  Route(get(Health), "/health");
  Route(get(Products), "/order/products");
  Route(post(AddCartItem), "/cart/items");
  Route(get(GetCart), "/cart");
  Route(post(PlaceOrder), "/orders");

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  std::fprintf(stderr, "shop-server listening on %s:%d (default database %s)\n", host.c_str(), port,
               g_default_db.c_str());
  bool ok = server.listen(host, port);
  if (!ok) {
    std::fprintf(stderr, "error: cannot listen on %s:%d\n", host.c_str(), port);
    std::_Exit(2);
  }
  stopper.join();
  std::fprintf(stderr, "shop-server stopped\n");
  return 0;
}
